//! `summary.json` and the terminal table of a `clearsim run`.

use serde::Serialize;

use crate::config::Scenario;
use crate::run::{DayReport, FlowReport, RunResult};
use crate::workload::city::City;

/// Version of the run summary schema (see docs/run-summary.md).
pub const RUN_SCHEMA: &str = "clearsim.run.v1";

#[derive(Serialize)]
pub struct RunSummary {
    pub schema: &'static str,
    pub scenario: String,
    pub seed: u64,
    pub days: u32,
    pub day_end: String,
    pub participants: usize,
    pub payments: u64,
    pub opening_total: i64,
    pub credit_total: i64,
    pub channels: Vec<NamedFlow>,
    pub instruments: Vec<NamedFlow>,
    pub per_day: Vec<DayReport>,
    /// Present when a participant defaulted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<DefaultReport>,
}

#[derive(Serialize)]
pub struct DefaultReport {
    pub participant: String,
    pub at: String,
    #[serde(flatten)]
    pub knock_on: crate::run::KnockOn,
}

#[derive(Serialize)]
pub struct NamedFlow {
    pub name: String,
    /// For channels: the strategy; for instruments: the channel.
    pub route: String,
    #[serde(flatten)]
    pub flow: FlowReport,
}

pub fn run_summary(scenario: &Scenario, city: &City, result: &RunResult) -> RunSummary {
    let channels = scenario
        .channels
        .iter()
        .zip(&result.channels)
        .map(|(channel, stats)| NamedFlow {
            name: channel.name.clone(),
            route: channel.spec.name().to_string(),
            flow: stats.report(),
        })
        .collect();
    let count = scenario.instruments.len();
    let mut instruments = Vec::new();
    for (index, stats) in result.instruments.iter().enumerate() {
        let instrument = &scenario.instruments[index % count];
        let returned = index >= count;
        if returned && stats.payments == 0 {
            continue;
        }
        let name = if returned {
            format!("{}.return", instrument.name)
        } else {
            instrument.name.clone()
        };
        let route = scenario.channels[scenario.channel_of[index % count]]
            .name
            .clone();
        instruments.push(NamedFlow {
            name,
            route,
            flow: stats.report(),
        });
    }
    RunSummary {
        schema: RUN_SCHEMA,
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        days: scenario.days,
        day_end: scenario.day_end.to_string(),
        participants: city.len(),
        payments: result.payments,
        opening_total: city.opening_fen.iter().sum(),
        credit_total: city.credit_limit_fen.iter().sum(),
        channels,
        instruments,
        per_day: result.days.clone(),
        default: scenario.default.as_ref().map(|d| DefaultReport {
            participant: d.participant.clone(),
            at: d.at.to_string(),
            knock_on: result.knock_on,
        }),
    }
}
