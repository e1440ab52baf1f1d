//! `clearsim plan`: the plan's question, answered side by side. How much
//! did funds-in-transit time fall, by instrument and overall, between the
//! design before the plan and the one it aims at? Both run on the same
//! seeds, so differences are paired by seed. The figures are a pure
//! function of the two designs' records.

use std::borrow::Cow;

use clearsim_model::config::Scenario;
use clearsim_model::metrics::estimate::{Estimate, estimate};
use clearsim_model::metrics::flow::FlowReport;
use clearsim_model::workload::city::City;

use crate::StudyError;
use crate::record::{RunRecord, pooled};
use crate::replicate::RunExperiment;
use crate::runner::{Experiment, Runner};
use crate::summary::Partial;

/// The plan's two designs, each its scenario and city, run for `days` on
/// the same seeds.
pub struct PlanExperiment<'a> {
    sides: [RunExperiment<'a>; 2],
    names: [&'a str; 2],
    instruments: [Vec<String>; 2],
    /// Instruments either config marks `assumed`.
    assumed: Vec<String>,
}

impl<'a> PlanExperiment<'a> {
    pub fn new(
        before: (&'a Scenario, &'a City),
        after: (&'a Scenario, &'a City),
        days: u32,
    ) -> PlanExperiment<'a> {
        let instruments = |s: &Scenario| s.instruments.iter().map(|i| i.name.clone()).collect();
        let mut assumed: Vec<String> = Vec::new();
        for i in before.0.instruments.iter().chain(&after.0.instruments) {
            if i.assumed.is_some() && !assumed.contains(&i.name) {
                assumed.push(i.name.clone());
            }
        }
        PlanExperiment {
            assumed,
            sides: [
                RunExperiment::new(before.0, before.1, days),
                RunExperiment::new(after.0, after.1, days),
            ],
            names: [&before.0.name, &after.0.name],
            instruments: [instruments(before.0), instruments(after.0)],
        }
    }
}

/// The plan pairs two designs of one city: the same participants (its
/// banks, in order) and the same customer instruments. Two configs that
/// differ there are two cities, and their difference is not paired: the
/// error names the first difference.
pub fn check_same_city(
    before: (&Scenario, &City),
    after: (&Scenario, &City),
) -> Result<(), StudyError> {
    let (b, a) = (&before.1.ids, &after.1.ids);
    if b != a {
        let only = |x: &[String], y: &[String]| x.iter().find(|id| !y.contains(id)).cloned();
        let what = match (only(b, a), only(a, b)) {
            (Some(id), _) => format!("participant `{id}` is only in {}", before.0.name),
            (None, Some(id)) => format!("participant `{id}` is only in {}", after.0.name),
            (None, None) => "the same participants are in another order".to_string(),
        };
        return Err(StudyError::Request(format!(
            "{} and {} are not one city ({what}): plan pairs two designs of one city's banks on the same seeds",
            before.0.name, after.0.name
        )));
    }
    let names = |s: &Scenario| {
        s.instruments
            .iter()
            .map(|i| i.name.clone())
            .collect::<Vec<_>>()
    };
    let (b, a) = (names(before.0), names(after.0));
    let missing = b
        .iter()
        .find(|n| !a.contains(n))
        .map(|n| (n, before.0, after.0));
    let added = a
        .iter()
        .find(|n| !b.contains(n))
        .map(|n| (n, after.0, before.0));
    if let Some((name, has, lacks)) = missing.or(added) {
        return Err(StudyError::Request(format!(
            "{} and {} are not one city: instrument `{name}` is in {} but not in {} (plan pairs the same customer instruments under two designs)",
            before.0.name, after.0.name, has.name, lacks.name
        )));
    }
    Ok(())
}

/// One seed of the plan: its run under each design.
pub struct PlanRecord {
    pub before: RunRecord,
    pub after: RunRecord,
}

impl Experiment for PlanExperiment<'_> {
    type Record = PlanRecord;
    type Summary = PlanReport;

    fn jobs(&self, seeds: usize) -> usize {
        self.sides.iter().map(|s| s.jobs(seeds)).sum()
    }

    fn shards(&self) -> Result<(), &'static str> {
        Err(
            "the plan's report keeps no per-seed records (schema clearsim.plan.v1), so its shards could not be merged",
        )
    }

    fn records(&self, seeds: &[u64], runner: &Runner<'_>) -> Result<Vec<PlanRecord>, StudyError> {
        let before = self.sides[0].records(seeds, runner)?;
        let after = self.sides[1].records(seeds, runner)?;
        Ok(before
            .into_iter()
            .zip(after)
            .map(|(before, after)| PlanRecord { before, after })
            .collect())
    }

    fn summarise(
        &self,
        records: Vec<PlanRecord>,
        _: Option<Partial>,
    ) -> Result<PlanReport, StudyError> {
        let (before, after): (Vec<RunRecord>, Vec<RunRecord>) =
            records.into_iter().map(|r| (r.before, r.after)).unzip();
        let side = |k: usize, records| Side {
            name: self.names[k],
            instruments: &self.instruments[k],
            assumed: &self.assumed,
            records,
        };
        plan_report(&side(0, &before), &side(1, &after))
    }
}

const MS_PER_HOUR: f64 = 3_600_000.0;

/// One design of the plan: its name and its records, one per seed.
pub struct Side<'a> {
    pub name: &'a str,
    /// The customer instruments' names, in the scenario's order (records
    /// hold them first, then their returned cheques).
    pub instruments: &'a [String],
    /// Instruments whose time in transit rests on a modelling choice.
    pub assumed: &'a [String],
    pub records: &'a [RunRecord],
}

/// A figure of both designs, and the paired change (after − before).
#[derive(Clone, Debug, PartialEq)]
pub struct Pair {
    pub before: Estimate,
    pub after: Estimate,
    pub change: Estimate,
}

/// In-transit figures of one instrument (or of every customer payment).
#[derive(Clone, Debug, PartialEq)]
pub struct TransitRow {
    pub flow: String,
    pub value_weighted_mean_h: Pair,
    /// Count-weighted 99th percentile of the payments' times in transit.
    pub p99_h: Pair,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PlanReport {
    pub schema: String,
    pub before: String,
    pub after: String,
    pub seeds: Vec<u64>,
    /// Every customer payment, then each instrument either design has (an
    /// instrument one design lacks counts as 0 there and has no change).
    pub transit: Vec<TransitRow>,
    /// The largest day's figures of each design.
    pub liquidity_used_fen: Pair,
    pub lower_bound_fen: Pair,
    pub upper_bound_fen: Pair,
    /// "funds-in-transit time, value-weighted: X h in 2005 → Y h in 2010 (−Z %)".
    pub headline: String,
    /// The change in the value-weighted mean, split (shift-share).
    pub decomposition: Option<Decomposition>,
}

/// The paired change in every customer payment's value-weighted mean time
/// in transit, T = Σᵢ wᵢ·tᵢ (wᵢ instrument i's share of the value made
/// available, tᵢ its value-weighted mean), split per seed by the symmetric
/// shift-share identity ΔT = Σᵢ w̄ᵢ·Δtᵢ + Σᵢ t̄ᵢ·Δwᵢ (bars: the mean of the
/// two designs), so the parts add up to the change exactly:
/// (a) `speed_h`: instruments getting faster, Σ w̄ᵢ·Δtᵢ over instruments
/// not marked `assumed`; (b) `mix_h`: the change of value mix, Σ t̄ᵢ·Δwᵢ
/// over every instrument; (c) `assumed_h`: Σ w̄ᵢ·Δtᵢ over instruments
/// whose time rests on a modelling choice. Each with its 95 % interval
/// over the seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct Decomposition {
    pub change_h: Estimate,
    pub speed_h: Estimate,
    pub mix_h: Estimate,
    pub assumed_h: Estimate,
    /// Per instrument: its own speed-up part and its mix part.
    pub instruments: Vec<InstrumentShare>,
}

/// One instrument's parts of the change.
#[derive(Clone, Debug, PartialEq)]
pub struct InstrumentShare {
    pub flow: String,
    pub assumed: bool,
    /// w̄ᵢ·Δtᵢ.
    pub speed_h: Estimate,
    /// t̄ᵢ·Δwᵢ.
    pub mix_h: Estimate,
}

pub use crate::schema::plan_v1::SCHEMA as PLAN_SCHEMA;

/// Per seed, the flow named `flow` ("all": every customer payment, pooled
/// once per seed), or `None` when the design has no such instrument.
fn per_seed<'r>(
    side: &Side<'r>,
    flow: &str,
) -> Result<Option<Vec<Cow<'r, FlowReport>>>, StudyError> {
    if flow == "all" {
        let customer = side.instruments.len();
        return side
            .records
            .iter()
            .map(|record| pooled(&record.instruments[..customer]).map(Cow::Owned))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StudyError::Bug(e.to_string()))
            .map(Some);
    }
    let Some(at) = side.instruments.iter().position(|n| n == flow) else {
        return Ok(None);
    };
    Ok(Some(
        side.records
            .iter()
            .map(|record| Cow::Borrowed(&record.instruments[at]))
            .collect(),
    ))
}

fn pair(before: &[f64], after: &[f64]) -> Pair {
    let change: Vec<f64> = before.iter().zip(after).map(|(b, a)| a - b).collect();
    Pair {
        before: estimate(before),
        after: estimate(after),
        change: estimate(&change),
    }
}

fn transit_row(before: &Side<'_>, after: &Side<'_>, flow: &str) -> Result<TransitRow, StudyError> {
    let (before_flows, after_flows) = (per_seed(before, flow)?, per_seed(after, flow)?);
    let seeds = before.records.len();
    // An instrument a design lacks counts as 0 there.
    let values = |flows: &Option<Vec<Cow<'_, FlowReport>>>, figure: fn(&FlowReport) -> u64| {
        flows.as_ref().map_or_else(
            || vec![0.0; seeds],
            |flows| {
                flows
                    .iter()
                    .map(|f| figure(f) as f64 / MS_PER_HOUR)
                    .collect()
            },
        )
    };
    let mean = |f: &FlowReport| f.in_transit_ms.value_weighted_mean;
    let p99 = |f: &FlowReport| f.in_transit_ms.stats.p99;
    Ok(TransitRow {
        flow: flow.to_string(),
        value_weighted_mean_h: pair(&values(&before_flows, mean), &values(&after_flows, mean)),
        p99_h: pair(&values(&before_flows, p99), &values(&after_flows, p99)),
    })
}

fn largest(side: &Side<'_>, figure: fn(&clearsim_model::run::DayReport) -> i64) -> Vec<f64> {
    side.records
        .iter()
        .map(|record| record.largest(figure) as f64)
        .collect()
}

/// The plan report of two designs run on the same seeds.
pub fn plan_report(before: &Side<'_>, after: &Side<'_>) -> Result<PlanReport, StudyError> {
    let seeds: Vec<u64> = before.records.iter().map(|r| r.seed).collect();
    let after_seeds: Vec<u64> = after.records.iter().map(|r| r.seed).collect();
    if seeds != after_seeds || seeds.is_empty() {
        return Err(StudyError::Bug(format!(
            "the designs must share their seeds: {seeds:?} and {after_seeds:?}"
        )));
    }
    let mut flows = vec!["all".to_string()];
    for name in before.instruments.iter().chain(after.instruments) {
        if !flows.contains(name) {
            flows.push(name.clone());
        }
    }
    let transit = flows
        .iter()
        .map(|f| transit_row(before, after, f))
        .collect::<Result<Vec<TransitRow>, StudyError>>()?;
    let all = &transit[0].value_weighted_mean_h;
    let cut_pct = if all.before.mean > 0.0 {
        100.0 * (all.before.mean - all.after.mean) / all.before.mean
    } else {
        0.0
    };
    let decomposition = decompose(before, after, &flows[1..])?;
    let headline = headline(before.name, after.name, all, cut_pct, &decomposition);
    Ok(PlanReport {
        schema: PLAN_SCHEMA.to_string(),
        before: before.name.to_string(),
        after: after.name.to_string(),
        seeds,
        transit,
        liquidity_used_fen: pair(
            &largest(before, |d| d.liquidity_used_fen),
            &largest(after, |d| d.liquidity_used_fen),
        ),
        lower_bound_fen: pair(
            &largest(before, |d| d.lower_bound_fen),
            &largest(after, |d| d.lower_bound_fen),
        ),
        upper_bound_fen: pair(
            &largest(before, |d| d.upper_bound_fen),
            &largest(after, |d| d.upper_bound_fen),
        ),
        headline,
        decomposition: Some(decomposition),
    })
}

/// "funds-in-transit time, value-weighted: 1.88 h in A → 28 min in B
/// (−75.0 %); paired change …, 95 % CI …; of it: instruments' own
/// speed-up …, value mix …, assumed legs …".
fn headline(before: &str, after: &str, all: &Pair, cut_pct: f64, parts: &Decomposition) -> String {
    let d = duration_h;
    let mut text = format!(
        "funds-in-transit time, value-weighted: {} in {before} → {} in {after} ({}{:.1} %)",
        d(all.before.mean),
        d(all.after.mean),
        if cut_pct >= 0.0 { "−" } else { "+" },
        cut_pct.abs()
    );
    if let Some([low, high]) = all.change.ci95 {
        text += &format!(
            "; paired change {}, 95 % CI {} … {}",
            d(all.change.mean),
            d(low),
            d(high)
        );
    }
    text += &format!(
        "; of it: instruments' own speed-up {}, value mix {}, legs whose times are assumptions {}",
        d(parts.speed_h.mean),
        d(parts.mix_h.mean),
        d(parts.assumed_h.mean)
    );
    text
}

/// Per seed, each of `flows`' (value made available, Σ value × time in
/// transit) on `side`; (0, 0) for an instrument it lacks.
fn shares(side: &Side<'_>, flows: &[String]) -> Result<Vec<Vec<(f64, f64)>>, StudyError> {
    let per_flow = flows
        .iter()
        .map(|f| per_seed(side, f))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((0..side.records.len())
        .map(|seed| {
            per_flow
                .iter()
                .map(|flows| {
                    flows.as_ref().map_or((0.0, 0.0), |flows| {
                        let sums = &flows[seed].sums;
                        (sums.transit_value as f64, sums.transit_weighted as f64)
                    })
                })
                .collect()
        })
        .collect())
}

/// The shift-share split of the change in the value-weighted mean (see
/// [`Decomposition`]).
fn decompose(
    before: &Side<'_>,
    after: &Side<'_>,
    flows: &[String],
) -> Result<Decomposition, StudyError> {
    let (b, a) = (shares(before, flows)?, shares(after, flows)?);
    // Per seed: shares w and mean times t (hours) of each flow.
    let wt = |side: &[(f64, f64)]| -> Vec<(f64, f64)> {
        let total: f64 = side.iter().map(|s| s.0).sum();
        side.iter()
            .map(|&(value, weighted)| {
                let w = if total > 0.0 { value / total } else { 0.0 };
                let t = if value > 0.0 {
                    weighted / value / MS_PER_HOUR
                } else {
                    0.0
                };
                (w, t)
            })
            .collect()
    };
    let mut speed = vec![vec![0.0; b.len()]; flows.len()];
    let mut mix = speed.clone();
    for seed in 0..b.len() {
        let (wb, wa) = (wt(&b[seed]), wt(&a[seed]));
        for i in 0..flows.len() {
            let ((w0, t0), (w1, t1)) = (wb[i], wa[i]);
            speed[i][seed] = (w0 + w1) / 2.0 * (t1 - t0);
            mix[i][seed] = (t0 + t1) / 2.0 * (w1 - w0);
        }
    }
    let assumed = |i: usize| before.assumed.contains(&flows[i]);
    let sum_over = |parts: &[Vec<f64>], keep: &dyn Fn(usize) -> bool| -> Vec<f64> {
        (0..b.len())
            .map(|seed| {
                (0..flows.len())
                    .filter(|&i| keep(i))
                    .map(|i| parts[i][seed])
                    .sum()
            })
            .collect()
    };
    let speed_own = sum_over(&speed, &|i| !assumed(i));
    let speed_assumed = sum_over(&speed, &assumed);
    let mix_all = sum_over(&mix, &|_| true);
    let change: Vec<f64> = (0..b.len())
        .map(|s| speed_own[s] + speed_assumed[s] + mix_all[s])
        .collect();
    Ok(Decomposition {
        change_h: estimate(&change),
        speed_h: estimate(&speed_own),
        mix_h: estimate(&mix_all),
        assumed_h: estimate(&speed_assumed),
        instruments: flows
            .iter()
            .enumerate()
            .map(|(i, flow)| InstrumentShare {
                flow: flow.clone(),
                assumed: assumed(i),
                speed_h: estimate(&speed[i]),
                mix_h: estimate(&mix[i]),
            })
            .collect(),
    })
}

pub use clearsim_core::format::duration_h;
