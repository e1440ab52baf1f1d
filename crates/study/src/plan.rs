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
}

impl<'a> PlanExperiment<'a> {
    pub fn new(
        before: (&'a Scenario, &'a City),
        after: (&'a Scenario, &'a City),
        days: u32,
    ) -> PlanExperiment<'a> {
        let instruments = |s: &Scenario| s.instruments.iter().map(|i| i.name.clone()).collect();
        PlanExperiment {
            sides: [
                RunExperiment::new(before.0, before.1, days),
                RunExperiment::new(after.0, after.1, days),
            ],
            names: [&before.0.name, &after.0.name],
            instruments: [instruments(before.0), instruments(after.0)],
        }
    }
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

    /// Its report keeps no records (schema `clearsim.plan.v1`): shards
    /// could not be merged.
    fn shards(&self) -> bool {
        false
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
    let mut headline = format!(
        "funds-in-transit time, value-weighted: {} h in {} → {} h in {} ({}{:.1} %)",
        h(all.before.mean),
        before.name,
        h(all.after.mean),
        after.name,
        if cut_pct >= 0.0 { "−" } else { "+" },
        cut_pct.abs()
    );
    if let Some([low, high]) = all.change.ci95 {
        headline += &format!(
            "; paired change {} h, 95 % CI {} … {}",
            h(all.change.mean),
            h(low),
            h(high)
        );
    }
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
    })
}

/// Hours to two decimals, with a minus sign (never "−0.00").
pub fn h(value: f64) -> String {
    let text = format!("{value:.2}");
    match text.strip_prefix('-') {
        Some("0.00") => "0.00".into(),
        Some(rest) => format!("−{rest}"),
        None => text,
    }
}
