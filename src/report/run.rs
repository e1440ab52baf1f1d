//! `summary.json` and the terminal table of a `clearsim run`.

use serde::{Deserialize, Serialize};

use super::html;
use super::study::{Table, decode_histogram, encode_histogram, percentile_curve};
use crate::format::{grouped, millis, yuan};

use crate::config::Scenario;
use crate::run::{DayReport, FlowReport, RunResult};
use crate::workload::city::City;

/// Version of the run summary schema (see docs/run-summary.md).
pub const RUN_SCHEMA: &str = "clearsim.run.v1";

#[derive(Serialize, Deserialize)]
pub struct RunSummary {
    pub schema: String,
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
    /// Per participant, in index order.
    pub per_participant: Vec<ParticipantRow>,
    /// Seeds of the runs merged into this one (after `seed`), if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_seeds: Vec<u64>,
    /// Present when a participant defaulted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<DefaultReport>,
    /// Fen that dns guarantee funds paid for short participants (money from
    /// outside the accounts), over the run.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub guarantee_fund_used: i64,
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

/// One participant's liquidity over the run (fen).
#[derive(Clone, Serialize, Deserialize)]
pub struct ParticipantRow {
    pub id: String,
    pub category: String,
    pub opening: i64,
    pub closing: i64,
    /// The most it used on any day: max(0, opening − lowest balance).
    pub liquidity_used: i64,
}

#[derive(Serialize, Deserialize)]
pub struct DefaultReport {
    pub participant: String,
    pub at: String,
    #[serde(flatten)]
    pub knock_on: crate::run::KnockOn,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct NamedFlow {
    pub name: String,
    /// For channels: the strategy; for instruments: the channel.
    pub route: String,
    /// Not flattened: its 128-bit sums cannot pass through serde's
    /// flattening buffer.
    pub flow: FlowReport,
    /// The in-transit histogram, HDR V2 serialised, base64.
    pub in_transit_histogram: String,
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
            in_transit_histogram: encode_histogram(&stats.in_transit.histogram),
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
            in_transit_histogram: encode_histogram(&stats.in_transit.histogram),
        });
    }
    RunSummary {
        schema: RUN_SCHEMA.into(),
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        days: scenario.days,
        day_end: scenario.day_end.to_string(),
        participants: city.len(),
        payments: result.payments,
        opening_total: city
            .opening_fen
            .iter()
            .fold(0i64, |a, &b| a.saturating_add(b)),
        credit_total: city
            .credit_limit_fen
            .iter()
            .fold(0i64, |a, &b| a.saturating_add(b)),
        channels,
        instruments,
        per_day: result.days.clone(),
        per_participant: (0..city.len())
            .map(|i| ParticipantRow {
                id: city.ids[i].clone(),
                category: city.categories[i].clone(),
                opening: city.opening_fen[i],
                closing: result.closing_fen[i],
                liquidity_used: result.liquidity_used_fen[i],
            })
            .collect(),
        merged_seeds: Vec::new(),
        default: scenario.default.as_ref().map(|d| DefaultReport {
            participant: d.participant.clone(),
            at: d.at.to_string(),
            knock_on: result.knock_on,
        }),
        guarantee_fund_used: result.knock_on.guarantee_fund_used,
    }
}

/// The table of flows (channels, then instruments): the terminal, markdown,
/// CSV and HTML all show this one.
pub fn flow_table(flows: &[NamedFlow]) -> Table {
    Table {
        header: [
            "flow",
            "route",
            "payments",
            "settled %",
            "value (yuan)",
            "in-transit p50",
            "p99",
            "max",
            "value-weighted mean",
            "delay indicator",
            "peak queue (yuan)",
            "unsettled (yuan)",
        ]
        .map(String::from)
        .to_vec(),
        rows: flows
            .iter()
            .map(|row| {
                let f = &row.flow;
                let t = &f.in_transit_ms;
                vec![
                    row.name.clone(),
                    row.route.clone(),
                    grouped(i128::from(f.payments)),
                    format!(
                        "{:.2}",
                        if f.payments == 0 {
                            0.0
                        } else {
                            100.0 * f.settled as f64 / f.payments as f64
                        }
                    ),
                    yuan(f.value),
                    millis(t.stats.p50),
                    millis(t.stats.p99),
                    millis(t.stats.max),
                    millis(t.value_weighted_mean),
                    format!("{:.4}", f.delay_indicator),
                    yuan(f.peak_queued_value),
                    yuan(f.unsettled_value),
                ]
            })
            .collect(),
    }
}

/// Liquidity per day.
pub fn day_table(days: &[DayReport]) -> Table {
    Table {
        header: [
            "day",
            "payments",
            "opening (yuan)",
            "liquidity used",
            "lower bound",
            "upper bound",
        ]
        .map(String::from)
        .to_vec(),
        rows: days
            .iter()
            .map(|d| {
                vec![
                    d.day.to_string(),
                    grouped(i128::from(d.payments)),
                    yuan(d.opening_total),
                    yuan(d.liquidity_used),
                    yuan(d.lower_bound),
                    yuan(d.upper_bound),
                ]
            })
            .collect(),
    }
}

/// Participants' liquidity.
pub fn participant_table(rows: &[ParticipantRow]) -> Table {
    Table {
        header: [
            "participant",
            "category",
            "opening (yuan)",
            "closing (yuan)",
            "liquidity used (yuan)",
        ]
        .map(String::from)
        .to_vec(),
        rows: rows
            .iter()
            .map(|p| {
                vec![
                    p.id.clone(),
                    p.category.clone(),
                    yuan(p.opening),
                    yuan(p.closing),
                    yuan(p.liquidity_used),
                ]
            })
            .collect(),
    }
}

/// report.md, the CSV tables and report.html of a run.
pub fn run_files(summary: &RunSummary) -> super::ReportFiles {
    let channels = flow_table(&summary.channels);
    let instruments = flow_table(&summary.instruments);
    let days = day_table(&summary.per_day);
    let participants = participant_table(&summary.per_participant);
    let used: Vec<i64> = summary
        .per_participant
        .iter()
        .map(|p| p.liquidity_used)
        .collect();
    let mut default = summary.default.as_ref().map_or(String::new(), |d| {
        format!(
            "\n**Default:** {} stops paying at {}. Left unsettled between the other participants: {} payments, {} yuan.\n",
            d.participant,
            d.at,
            grouped(i128::from(d.knock_on.unsettled_at_others)),
            yuan(d.knock_on.unsettled_value_at_others)
        )
    });
    if summary.guarantee_fund_used != 0 {
        default += &format!(
            "\n**Guarantee fund:** paid {} yuan for short participants (money from outside the accounts).\n",
            yuan(summary.guarantee_fund_used)
        );
    }
    let markdown = format!(
        "# clearsim run: {}\n\n{} participants, {} day(s), seed {}, day end {}. In-transit: deposit → funds available for cheques, submission → settlement otherwise.\n{}\n## Channels\n\n{}\n## Instruments\n\n{}\n## Liquidity by day\n\n{}",
        summary.scenario,
        summary.participants,
        summary.days,
        summary.seed,
        summary.day_end,
        default,
        channels.markdown(),
        instruments.markdown(),
        days.markdown()
    );
    let curves = |flows: &[NamedFlow]| -> Vec<(String, Vec<(f64, f64)>)> {
        flows
            .iter()
            .filter_map(|f| {
                decode_histogram(&f.in_transit_histogram)
                    .map(|h| (f.name.clone(), percentile_curve(&h)))
            })
            .collect()
    };
    let page = html::page(
        &format!("clearsim run — {}", summary.scenario),
        &[
            html::table(&channels),
            html::percentile_chart(
                "In-transit time by percentile, per channel",
                &curves(&summary.channels),
            ),
            html::timeline_charts(
                &summary
                    .channels
                    .iter()
                    .map(|c| (c.name.clone(), &c.flow.timeline))
                    .collect::<Vec<_>>(),
            ),
            html::table(&instruments),
            html::percentile_chart(
                "In-transit time by percentile, per instrument",
                &curves(&summary.instruments),
            ),
            html::table(&days),
            html::liquidity_chart(&[(summary.scenario.clone(), used)]),
        ],
    );
    vec![
        ("report.md", markdown.into_bytes()),
        ("channels.csv", channels.csv().into_bytes()),
        ("instruments.csv", instruments.csv().into_bytes()),
        ("days.csv", days.csv().into_bytes()),
        ("participants.csv", participants.csv().into_bytes()),
        ("report.html", page.into_bytes()),
    ]
}
