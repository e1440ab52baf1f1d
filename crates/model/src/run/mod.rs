//! `clearsim run`: a scenario's city, streams and channels, over one or many
//! business days, with the cheque life cycle, the nights between days and
//! per-flow measurements.
//!
//! The stream is generated on the fly and fed through the one driver,
//! [`Scheduler`], in time order; returned cheques come back as its
//! follow-ups; the scenario's shocks are its controls. Memory is
//! O(participants + payments held), independent of the number of payments
//! in a day.

pub mod behaviour;
mod carry;
mod cheques;
mod day;
pub mod feed;
mod flows;
pub mod layout;
pub mod overnight;
pub mod setup;
pub mod sink;
mod totals;

use crate::config::Scenario;
use crate::metrics::flow::{FlowReport, FlowStats};
use crate::workload::city::City;
use clearsim_core::engine::{Engine, EngineError, EventCounts, Scheduler};
use clearsim_core::ledger::{Ledger, Payment};
use clearsim_core::strategy::ChannelSpec;
use clearsim_core::time::SimTime;
use day::Today;
use layout::Layout;
use overnight::Overnight;
pub use setup::{
    channel_specs, controls, held_by_bank, opening_of_day_fen, openings_shift_exactly,
    stream_model, struck,
};
use sink::{KnockOn, RunSink, Untouched};
use totals::Totals;

pub use crate::config::Replication;

/// Sees every customer payment and every settlement of a run, by the key
/// the scheduler gave it that day (`run --settlements` writes them; tests
/// compare them with `replay`).
pub trait Observer {
    /// The next payment of day `day`'s stream (in the order `generate`
    /// writes them) was taken with `key`.
    fn ordered(&mut self, _day: u32, _key: u64, _submit: SimTime) {}
    fn settled(&mut self, _day: u32, _key: u64, _at: SimTime) {}
}

/// Observes nothing.
pub struct NoObserver;
impl Observer for NoObserver {}

/// One business day (fen).
///
/// Of the value due today, `settled_value_fen` settled, `unsettled_value_fen`
/// failed and `carried_value_fen` waits for a later session.
#[derive(Clone, Debug, PartialEq)]
pub struct DayReport {
    /// 1-based.
    pub day: u32,
    pub payments: u64,
    pub value_fen: i64,
    pub settled_value_fen: i64,
    pub unsettled_value_fen: i64,
    /// Pending at the day end with no session left for it today: presented
    /// at the next business day's first session (or, on the last day,
    /// carried past the end of the run).
    pub carried_value_fen: i64,
    pub opening_total_fen: i64,
    pub liquidity_used_fen: i64,
    pub lower_bound_fen: i64,
    pub upper_bound_fen: i64,
    /// City banks whose opening + intraday credit was below their own part
    /// of the upper bound: only then can payments wait or be unwound, and
    /// liquidity used exceed the bound (docs/semantics.md).
    pub banks_short_of_need: u32,
    /// Per channel, in declaration order.
    pub channel_lower_bound_fen: Vec<i64>,
    pub channel_upper_bound_fen: Vec<i64>,
    /// Taken out by liquidity shocks; paid in by guarantee funds.
    pub withdrawn_fen: i64,
    pub injected_fen: i64,
    /// The night after the day: standing facility and restoring flows.
    pub overnight: Overnight,
}

impl DayReport {
    /// Share of the value settled among the value whose fate was decided
    /// today (settled or failed; what waits for a later session is not).
    pub fn settled_share(&self) -> f64 {
        let decided = self.settled_value_fen + self.unsettled_value_fen;
        if decided == 0 {
            1.0
        } else {
            self.settled_value_fen as f64 / decided as f64
        }
    }
}

/// What a run measured.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub channels: Vec<FlowReport>,
    /// Instruments, then the returned cheques of each instrument.
    pub instruments: Vec<FlowReport>,
    pub days: Vec<DayReport>,
    pub closing_fen: Vec<i64>,
    pub payments: u64,
    /// Value that moved between accounts over the run (Σ of debits).
    pub moved_fen: i128,
    /// Per participant: the most liquidity it used on any day.
    pub liquidity_used_fen: Vec<i64>,
    /// Per participant, over the run: borrowed overnight, and its cost.
    pub overnight_borrowed_fen: Vec<i64>,
    pub overnight_cost_fen: Vec<i64>,
    /// Per channel, over the run: what its scheduled runs did.
    pub events: Vec<EventCounts>,
    /// Left unsettled between participants no shock struck.
    pub untouched: Untouched,
    /// Per participant, the value of those payments it was to pay or be
    /// paid (summed over days; empty when no participant is struck).
    pub untouched_by_participant_fen: Vec<i64>,
    /// Paid by guarantee funds; taken by liquidity shocks.
    pub guarantee_fund_used_fen: i64,
    pub withdrawn_fen: i64,
    /// Per participant, on day 1, over the payments as they entered the
    /// channels: max(0, sent − received), and the opening balance that
    /// would settle each on entry in processing order (no credit).
    pub day1_lower_fen: Vec<i64>,
    pub day1_need_fen: Vec<i64>,
    /// With `[costs]`: per day, each bank's costs by component, and the
    /// measured day they price.
    pub costs: Vec<Vec<crate::bank::costs::CostBreakdown>>,
    pub bank_days: Vec<Vec<crate::bank::costs::BankDay>>,
    /// With policies or costs: per flow, settled payments' bank delay and
    /// system delay (empty otherwise).
    pub delay_split: Vec<behaviour::SplitDelay>,
}

/// Runs the scenario over its days, shocks included.
pub fn run<O: Observer>(
    scenario: &Scenario,
    city: &City,
    replication: Replication,
    observer: &mut O,
) -> Result<RunResult, EngineError> {
    run_from(scenario, city, replication, observer, true, None)
}

/// The paired baseline of a shocked run: the same scenario, seed and
/// stream, with no shock applied. It counts the payments between the
/// participants the shocks would strike exactly as the shocked run does.
pub fn baseline(
    scenario: &Scenario,
    city: &City,
    replication: Replication,
) -> Result<RunResult, EngineError> {
    run_from(scenario, city, replication, &mut NoObserver, false, None)
}

/// Each day's customer orders of a scenario's stream (seed and volumes as
/// the replication says), kept: a study that runs the same seed many times
/// (`optimise`) generates it once. The stream does not depend on the
/// design or the banks' choices (common random numbers).
pub fn record_days(
    scenario: &Scenario,
    city: &City,
    replication: Replication,
) -> Vec<Vec<Payment>> {
    let model = stream_model(scenario, city);
    (0..replication.days)
        .map(|day| {
            model
                .day(replication.seed, day, scenario.volume_of_day(day))
                .collect()
        })
        .collect()
}

/// [`run`] on days recorded by [`record_days`] for the same scenario and
/// seed (a shockless run: what `optimise` needs).
pub fn run_recorded(
    scenario: &Scenario,
    city: &City,
    days: &[Vec<Payment>],
) -> Result<RunResult, EngineError> {
    let replication = Replication {
        // The stream is recorded: no seed draws anything.
        seed: 0,
        days: u32::try_from(days.len())
            .map_err(|_| EngineError::Invariant("more recorded days than a u32 counts".into()))?,
    };
    run_from(
        scenario,
        city,
        replication,
        &mut NoObserver,
        false,
        Some(days),
    )
}

/// A run: its fixed parts, then day after day and night after night.
fn run_from<O: Observer>(
    scenario: &Scenario,
    city: &City,
    replication: Replication,
    observer: &mut O,
    apply_shocks: bool,
    recorded: Option<&[Vec<Payment>]>,
) -> Result<RunResult, EngineError> {
    let specs = channel_specs(scenario, city)?;
    let layout = Layout::new(
        &specs,
        &scenario.instruments,
        &scenario.channel_of,
        scenario.day_end,
        city.banks,
    );
    let struck = struck(&scenario.shocks, &city.ids);
    let knock_on = KnockOn {
        struck: &struck,
        untouched: Untouched::default(),
        // Kept for a shocked run and for its baseline, which strikes the
        // same participants (without the shock): never otherwise.
        by_participant_fen: if struck.contains(&true) {
            vec![0; city.len()]
        } else {
            Vec::new()
        },
    };
    let bank = behaviour::BankSide::new(
        setup::desk(scenario, city),
        scenario.costs.clone().map(|model| {
            behaviour::CostMeter::new(model, scenario.liquidity.overnight_rate_bp, city.banks)
        }),
        2 * scenario.instruments.len(),
    );
    let mut sink = RunSink::new(&layout, knock_on, bank, observer, city.len());
    let mut days = Days::new(scenario, city, replication, &specs, apply_shocks, recorded);
    let mut totals = Totals::new(city.len(), specs.len());
    for day in 0..replication.days {
        let report = days.business_day(day, &mut sink, &mut totals)?;
        days.night(day, report, &mut totals)?;
    }
    Ok(result(sink, totals))
}

/// The days of a run, one after another: each opens on the night before's
/// balances.
struct Days<'a> {
    scenario: &'a Scenario,
    city: &'a City,
    replication: Replication,
    specs: &'a [ChannelSpec],
    apply_shocks: bool,
    recorded: Option<&'a [Vec<Payment>]>,
    /// Built on first use: recorded days need no generator (its tables cost).
    model: Option<crate::workload::stream::StreamModel>,
    expected_fen: Vec<i64>,
    opening: Vec<i64>,
}

impl<'a> Days<'a> {
    fn new(
        scenario: &'a Scenario,
        city: &'a City,
        replication: Replication,
        specs: &'a [ChannelSpec],
        apply_shocks: bool,
        recorded: Option<&'a [Vec<Payment>]>,
    ) -> Days<'a> {
        Days {
            scenario,
            city,
            replication,
            specs,
            apply_shocks,
            recorded,
            model: None,
            expected_fen: setup::expected_held_fen(scenario, city),
            opening: city.opening_fen.clone(),
        }
    }

    /// Day `day` (0-based): its accounts and engine, its orders, its report.
    fn business_day<O: Observer>(
        &mut self,
        day: u32,
        sink: &mut RunSink<'_, O>,
        totals: &mut Totals,
    ) -> Result<DayReport, EngineError> {
        let volume = self.scenario.volume_of_day(day);
        let credit = setup::policy_fen(&self.city.credit_limit_fen, volume);
        let ledger = Ledger::new(&self.opening, &credit);
        let engine = Engine::new(ledger, self.specs, self.scenario.day_end, 1 << 12)?;
        let shocks = if self.apply_shocks {
            &self.scenario.shocks[..]
        } else {
            &[]
        };
        if let Some(desk) = &mut sink.bank.desk {
            desk.new_day(&setup::policy_fen(&self.expected_fen, volume));
        }
        let scheduler = Scheduler::new(engine, controls(shocks, &self.city.ids, day)?)?;
        let today = Today {
            day,
            last: day + 1 == self.replication.days,
            opening: &self.opening,
        };
        let orders = match self.recorded {
            Some(days) => DayOrders::Recorded(days[day as usize].iter()),
            None => {
                let model = self
                    .model
                    .get_or_insert_with(|| stream_model(self.scenario, self.city));
                DayOrders::Stream(model.day(self.replication.seed, day, volume))
            }
        };
        day::business_day(
            self.scenario,
            orders,
            self.specs,
            scheduler,
            sink,
            totals,
            &today,
        )
    }

    /// The night after day `day`: the standing facility and the flows that
    /// open the next day at the liquidity policy's balances.
    fn night(
        &mut self,
        day: u32,
        report: DayReport,
        totals: &mut Totals,
    ) -> Result<(), EngineError> {
        let next: Vec<i64> = self
            .city
            .opening_fen
            .iter()
            .map(|&base| opening_of_day_fen(self.scenario, base, day + 1))
            .collect();
        let closing = std::mem::take(&mut totals.closing_fen);
        let night = overnight::settle_night(
            &closing,
            &next,
            self.scenario.liquidity.overnight_rate_bp,
            self.city.banks,
            &mut totals.overnight_borrowed_fen,
            &mut totals.overnight_cost_fen,
        )
        .ok_or(EngineError::AmountsOverflow)?;
        totals.days.push(DayReport {
            overnight: night,
            ..report
        });
        totals.closing_fen = closing;
        self.opening = next;
        Ok(())
    }
}

/// Today's orders: drawn from the stream, or recorded beforehand (an enum,
/// not a trait object: the per-payment path stays a direct call).
enum DayOrders<'a> {
    Stream(crate::workload::stream::DayStream<'a>),
    Recorded(std::slice::Iter<'a, Payment>),
}

impl Iterator for DayOrders<'_> {
    type Item = Payment;

    #[inline]
    fn next(&mut self) -> Option<Payment> {
        match self {
            DayOrders::Stream(stream) => stream.next(),
            DayOrders::Recorded(days) => days.next().copied(),
        }
    }
}

/// What the collectors and totals hold when the last night is over.
fn result<O: Observer>(sink: RunSink<'_, O>, totals: Totals) -> RunResult {
    RunResult {
        channels: sink.flows.channels.iter().map(FlowStats::report).collect(),
        instruments: sink.flows.flows.iter().map(FlowStats::report).collect(),
        days: totals.days,
        closing_fen: totals.closing_fen,
        payments: totals.payments,
        moved_fen: totals.moved_fen,
        liquidity_used_fen: totals.liquidity_used_fen,
        overnight_borrowed_fen: totals.overnight_borrowed_fen,
        overnight_cost_fen: totals.overnight_cost_fen,
        events: totals.events,
        untouched: sink.knock_on.untouched,
        untouched_by_participant_fen: sink.knock_on.by_participant_fen,
        guarantee_fund_used_fen: totals.injected_fen,
        withdrawn_fen: totals.withdrawn_fen,
        day1_lower_fen: totals.day1_lower_fen,
        day1_need_fen: totals.day1_need_fen,
        costs: totals.costs,
        bank_days: totals.bank_days,
        delay_split: if sink.bank.active() {
            sink.bank.split
        } else {
            Vec::new()
        },
    }
}
