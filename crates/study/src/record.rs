//! One replication's results, as saved: everything a summary is derived
//! from. Summaries keep their records, so that shards and separate runs
//! merge into exactly what one machine would have written.

use clearsim_model::bank::costs::CostBreakdown;
use clearsim_model::run::behaviour::SplitDelay;

use clearsim_core::engine::EventCounts;
use clearsim_model::metrics::flow::{FlowReport, PoolError};
use clearsim_model::run::sink::Untouched;
use clearsim_model::run::{DayReport, RunResult};

/// One seed of one design.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    pub seed: u64,
    /// Per channel, in declaration order.
    pub channels: Vec<FlowReport>,
    /// Per instrument, then the returned cheques of each instrument.
    pub instruments: Vec<FlowReport>,
    pub days: Vec<DayReport>,
    /// Per channel, over the run.
    pub events: Vec<EventCounts>,
    /// Per participant: the most liquidity it used on a day.
    pub liquidity_used_fen: Vec<i64>,
    pub closing_fen: Vec<i64>,
    pub overnight_borrowed_fen: Vec<i64>,
    pub overnight_cost_fen: Vec<i64>,
    /// Value that moved between accounts (Σ of debits).
    pub moved_fen: i128,
    pub guarantee_fund_used_fen: i64,
    pub withdrawn_fen: i64,
    /// With shocks: this run against the same seed and design without them.
    pub shock: Option<ShockEffect>,
    /// With `[costs]`: per bank, its costs summed over the run's days
    /// (fen; the days' count is `days.len()`).
    pub costs: Vec<CostBreakdown>,
    /// With policies or costs: per flow, the settled payments' time split
    /// into bank delay and system delay.
    pub delay_split: Vec<SplitDelay>,
}

/// A shocked run minus its paired baseline (same seed, same design, the
/// same stream): the knock-on and the other costs of the shock.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShockEffect {
    /// Left unsettled between participants no shock struck, in each run.
    pub untouched_shocked: Untouched,
    pub untouched_baseline: Untouched,
    /// Unsettled value over all payments, in each run.
    pub unsettled_value_shocked_fen: i64,
    pub unsettled_value_baseline_fen: i64,
    /// The delay indicator over all payments, in each run.
    pub delay_indicator_shocked: f64,
    pub delay_indicator_baseline: f64,
    /// Participants no shock struck that were left more value unsettled
    /// with the others (to pay or to be paid) than in the baseline
    /// (`None` in a summary written before it was counted).
    pub participants_touched: Option<u32>,
}

impl ShockEffect {
    /// The knock-on: extra value left unsettled between the others.
    pub fn knock_on_value_fen(&self) -> i64 {
        self.untouched_shocked.unsettled_value_fen - self.untouched_baseline.unsettled_value_fen
    }

    pub fn knock_on_payments(&self) -> i64 {
        self.untouched_shocked.unsettled as i64 - self.untouched_baseline.unsettled as i64
    }
}

/// Per bank, its costs summed over the days.
fn summed_costs(days: &[Vec<CostBreakdown>]) -> Vec<CostBreakdown> {
    let mut out = days.first().cloned().unwrap_or_default();
    for day in days.iter().skip(1) {
        for (sum, cost) in out.iter_mut().zip(day) {
            sum.add(cost);
        }
    }
    out
}

/// How many participants were left more value unsettled in the shocked
/// run than in its baseline (those struck count 0 in both).
fn touched(shocked_fen: &[i64], baseline_fen: &[i64]) -> u32 {
    let more = shocked_fen
        .iter()
        .zip(baseline_fen)
        .filter(|(shocked, baseline)| shocked > baseline)
        .count();
    u32::try_from(more).unwrap_or(u32::MAX)
}

/// Every channel of a record pooled into one flow.
pub fn pooled(flows: &[FlowReport]) -> Result<FlowReport, PoolError> {
    let mut iter = flows.iter();
    let first = iter.next().ok_or(PoolError::Nothing)?.clone();
    iter.try_fold(first, |acc, flow| acc.pool(flow))
}

impl RunRecord {
    pub fn new(
        seed: u64,
        result: RunResult,
        baseline: Option<&RunResult>,
    ) -> Result<RunRecord, PoolError> {
        let shock = match baseline {
            None => None,
            Some(base) => {
                let all = pooled(&result.channels)?;
                let all_base = pooled(&base.channels)?;
                Some(ShockEffect {
                    untouched_shocked: result.untouched,
                    untouched_baseline: base.untouched,
                    unsettled_value_shocked_fen: all.counts.unsettled_value_fen,
                    unsettled_value_baseline_fen: all_base.counts.unsettled_value_fen,
                    delay_indicator_shocked: all.delay_indicator,
                    delay_indicator_baseline: all_base.delay_indicator,
                    participants_touched: Some(touched(
                        &result.untouched_by_participant_fen,
                        &base.untouched_by_participant_fen,
                    )),
                })
            }
        };
        Ok(RunRecord {
            seed,
            channels: result.channels,
            instruments: result.instruments,
            days: result.days,
            events: result.events,
            liquidity_used_fen: result.liquidity_used_fen,
            closing_fen: result.closing_fen,
            overnight_borrowed_fen: result.overnight_borrowed_fen,
            overnight_cost_fen: result.overnight_cost_fen,
            moved_fen: result.moved_fen,
            guarantee_fund_used_fen: result.guarantee_fund_used_fen,
            withdrawn_fen: result.withdrawn_fen,
            shock,
            costs: summed_costs(&result.costs),
            delay_split: result.delay_split,
        })
    }

    /// The banks' total cost per business day (fen), with `[costs]`.
    pub fn cost_per_day_fen(&self) -> Option<f64> {
        if self.costs.is_empty() {
            return None;
        }
        let total: f64 = self.costs.iter().map(CostBreakdown::total_fen).sum();
        Some(total / self.days.len().max(1) as f64)
    }

    /// Σ of the flows' delay splits (instruments and returns).
    pub fn split_total(&self) -> Option<SplitDelay> {
        if self.delay_split.is_empty() {
            return None;
        }
        Some(SplitDelay::total(&self.delay_split))
    }

    /// Every channel pooled: the design as a whole.
    pub fn all(&self) -> Result<FlowReport, PoolError> {
        pooled(&self.channels)
    }

    /// Value moved between accounts / value settled (1 under gross).
    pub fn netting_ratio(&self) -> Result<f64, PoolError> {
        let settled = self.all()?.counts.settled_value_fen;
        Ok(if settled == 0 {
            0.0
        } else {
            self.moved_fen as f64 / settled as f64
        })
    }

    /// The largest of the days' figures.
    pub fn largest(&self, figure: fn(&DayReport) -> i64) -> i64 {
        self.days.iter().map(figure).max().unwrap_or(0)
    }

    pub fn overnight_borrowed_total_fen(&self) -> i64 {
        self.days.iter().map(|d| d.overnight.borrowed_fen).sum()
    }
}

/// One seed of a compare: every design, in the order listed.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareRecord {
    pub seed: u64,
    pub designs: Vec<RunRecord>,
}

/// One seed of a sweep: per design its bounds, and per level its point.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepRecord {
    pub seed: u64,
    /// Per design: Σ over participants of their lower bound and of their
    /// need to settle on entry (levels 0 and 1), fen.
    pub lower_fen: Vec<i64>,
    pub upper_fen: Vec<i64>,
    /// Per design: Σ the scenario's own openings under its liquidity
    /// policy (what a run of it opens with), fen; empty in older files.
    pub own_opening_fen: Vec<i64>,
    /// `[level][design]`.
    pub points: Vec<Vec<SweepCell>>,
}

/// One design at one liquidity level of one seed.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepCell {
    /// Σ opening balances at this level (no credit).
    pub liquidity_fen: i64,
    pub payments: u64,
    pub settled: u64,
    pub value_fen: i64,
    pub unsettled_value_fen: i64,
    /// 0 exactly when every payment settled the instant it was ordered.
    pub delay_indicator: f64,
    pub liquidity_used_fen: i64,
}
