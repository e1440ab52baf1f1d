//! Summaries, tables and charts of `compare` and `sweep` (and the table of a
//! `run`). Everything a report shows is in `summary.json`, so
//! `clearsim report DIR` can rebuild `report.md`, the CSV tables and
//! `report.html` from it alone.

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use serde::{Deserialize, Serialize};

use super::html;
use crate::run::{FlowReport, RunResult};
use crate::study::{StrategyChoice, SweepPoint};

pub const COMPARE_SCHEMA: &str = "clearsim.compare.v1";
pub const SWEEP_SCHEMA: &str = "clearsim.sweep.v1";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CompareSummary {
    pub schema: String,
    pub scenario: String,
    pub seed: u64,
    pub days: u32,
    /// Participant ids, in index order (for the per-participant figures).
    #[serde(default)]
    pub participant_ids: Vec<String>,
    pub strategies: Vec<CompareRow>,
    /// Seeds of the runs merged into this one (after `seed`), if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_seeds: Vec<u64>,
}

/// One strategy's figures over the whole run (all instruments together).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CompareRow {
    pub strategy: String,
    /// Counts, values, in-transit figures, delay indicator, peak queue,
    /// sums and timeline: the same report as a run's flow (nested, not
    /// flattened: its 128-bit sums cannot pass serde's flattening buffer).
    pub flow: FlowReport,
    /// The largest over the days.
    pub liquidity_used: i64,
    pub lower_bound: i64,
    pub upper_bound: i64,
    /// Value that moved between accounts / gross value settled.
    pub netting_ratio: f64,
    /// With a participant default: what stayed unsettled between the others.
    pub knock_on: crate::run::KnockOn,
    /// Value that moved between accounts (the netting ratio's numerator).
    pub moved_value: i128,
    /// Per participant (index order): the most liquidity it used on a day.
    #[serde(default)]
    pub liquidity_used_by_participant: Vec<i64>,
    /// The in-transit histogram, HDR V2 serialised, base64: runs can be
    /// merged and percentiles recomputed.
    pub in_transit_histogram: String,
}

/// A histogram as HDR V2 bytes in base64 (empty if it cannot be written).
pub fn encode_histogram(histogram: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    // Serialising into memory cannot fail for a valid histogram; an empty
    // string marks the impossible case rather than aborting a report.
    if V2Serializer::new()
        .serialize(histogram, &mut bytes)
        .is_err()
    {
        return String::new();
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes a histogram written by a compare summary.
pub fn decode_histogram(text: &str) -> Option<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    Deserializer::new().deserialize(&mut bytes.as_slice()).ok()
}

fn compare_row(choice: &StrategyChoice, result: &RunResult) -> CompareRow {
    let channel = &result.channels[0];
    let days = &result.days;
    let largest = |f: fn(&crate::run::DayReport) -> i64| days.iter().map(f).max().unwrap_or(0);
    let mut row = row_from(
        choice.label.clone(),
        &channel.report(),
        Liquidity {
            used: largest(|d| d.liquidity_used),
            lower_bound: largest(|d| d.lower_bound),
            upper_bound: largest(|d| d.upper_bound),
        },
        result.moved_fen,
        result.knock_on,
        encode_histogram(&channel.in_transit.histogram),
    );
    row.liquidity_used_by_participant = result.liquidity_used_fen.clone();
    row
}

/// Liquidity figures of a compare row (the largest over the days).
pub struct Liquidity {
    pub used: i64,
    pub lower_bound: i64,
    pub upper_bound: i64,
}

/// A compare row from a flow report: the one place its figures are derived.
pub fn row_from(
    strategy: String,
    flow: &FlowReport,
    liquidity: Liquidity,
    moved_value: i128,
    knock_on: crate::run::KnockOn,
    in_transit_histogram: String,
) -> CompareRow {
    CompareRow {
        strategy,
        flow: flow.clone(),
        liquidity_used: liquidity.used,
        lower_bound: liquidity.lower_bound,
        upper_bound: liquidity.upper_bound,
        netting_ratio: if flow.settled_value == 0 {
            0.0
        } else {
            moved_value as f64 / flow.settled_value as f64
        },
        knock_on,
        moved_value,
        liquidity_used_by_participant: Vec::new(),
        in_transit_histogram,
    }
}

pub fn compare_summary(
    scenario: &crate::config::Scenario,
    city: &crate::workload::city::City,
    choices: &[StrategyChoice],
    results: &[RunResult],
) -> CompareSummary {
    CompareSummary {
        schema: COMPARE_SCHEMA.into(),
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        days: scenario.days,
        participant_ids: city.ids.clone(),
        strategies: choices
            .iter()
            .zip(results)
            .map(|(c, r)| compare_row(c, r))
            .collect(),
        merged_seeds: Vec::new(),
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SweepSummary {
    pub schema: String,
    pub scenario: String,
    pub seed: u64,
    pub strategies: Vec<String>,
    /// Total opening liquidity at level 0 and level 1 (fen).
    pub lower_bound: i64,
    pub upper_bound: i64,
    pub points: Vec<SweepRow>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SweepRow {
    /// 0 = every participant holds its lower bound, 1 = its upper bound.
    pub level: f64,
    pub liquidity: i64,
    pub cells: Vec<SweepCell>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SweepCell {
    pub strategy: String,
    pub delay_indicator: f64,
    pub settled: u64,
    pub payments: u64,
    pub unsettled_value: i64,
    pub liquidity_used: i64,
}

pub fn sweep_summary(
    scenario: &crate::config::Scenario,
    choices: &[StrategyChoice],
    points: &[SweepPoint],
) -> SweepSummary {
    let rows: Vec<SweepRow> = points
        .iter()
        .map(|point| SweepRow {
            level: point.level,
            liquidity: point.liquidity_fen,
            cells: choices
                .iter()
                .zip(&point.results)
                .map(|(choice, result)| {
                    let flow = result.channels[0].report();
                    SweepCell {
                        strategy: choice.label.clone(),
                        delay_indicator: flow.delay_indicator,
                        settled: flow.settled,
                        payments: flow.payments,
                        unsettled_value: flow.unsettled_value,
                        liquidity_used: result
                            .days
                            .iter()
                            .map(|d| d.liquidity_used)
                            .max()
                            .unwrap_or(0),
                    }
                })
                .collect(),
        })
        .collect();
    let lower = rows.iter().find(|r| r.level == 0.0).map(|r| r.liquidity);
    let upper = rows.iter().find(|r| r.level == 1.0).map(|r| r.liquidity);
    SweepSummary {
        schema: SWEEP_SCHEMA.into(),
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        strategies: choices.iter().map(|c| c.label.clone()).collect(),
        lower_bound: lower.unwrap_or(0),
        upper_bound: upper.unwrap_or(0),
        points: rows,
    }
}

// ------------------------------------------------------------------ tables

/// Rows of text cells: the one table behind the markdown, the CSV and the
/// terminal output, so every figure is formatted once.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn markdown(&self) -> String {
        let mut out = format!("| {} |\n", self.header.join(" | "));
        out += &format!("|{}\n", " --- |".repeat(self.header.len()));
        for row in &self.rows {
            out += &format!("| {} |\n", row.join(" | "));
        }
        out
    }

    pub fn csv(&self) -> String {
        let line = |cells: &[String]| {
            cells
                .iter()
                .map(|c| {
                    if c.contains([',', '"']) {
                        format!("\"{}\"", c.replace('"', "\"\""))
                    } else {
                        c.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut out = line(&self.header) + "\n";
        for row in &self.rows {
            out += &(line(row) + "\n");
        }
        out
    }

    pub fn text(&self) -> String {
        let widths: Vec<usize> = (0..self.header.len())
            .map(|c| {
                self.rows
                    .iter()
                    .map(|r| r[c].chars().count())
                    .chain([self.header[c].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            cells
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (c, w))| {
                    if i == 0 {
                        format!("{c:<w$}")
                    } else {
                        format!("{c:>w$}")
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
        };
        let mut out = line(&self.header) + "\n";
        for row in &self.rows {
            out += &(line(row) + "\n");
        }
        out
    }
}

fn yuan(fen: i64) -> String {
    crate::format::yuan(fen)
}

fn duration(ms: u64) -> String {
    crate::format::millis(ms)
}

pub fn compare_table(summary: &CompareSummary) -> Table {
    Table {
        header: [
            "strategy",
            "settled %",
            "in-transit p50",
            "p99",
            "max",
            "delay indicator",
            "liquidity used (yuan)",
            "lower bound",
            "upper bound",
            "netting ratio",
            "peak queue (yuan)",
            "unsettled (yuan)",
            "knock-on: unsettled at others (yuan)",
            "guarantee fund used (yuan)",
        ]
        .map(String::from)
        .to_vec(),
        rows: summary
            .strategies
            .iter()
            .map(|r| {
                vec![
                    r.strategy.clone(),
                    format!(
                        "{:.2}",
                        if r.flow.payments == 0 {
                            0.0
                        } else {
                            100.0 * r.flow.settled as f64 / r.flow.payments as f64
                        }
                    ),
                    duration(r.flow.in_transit_ms.stats.p50),
                    duration(r.flow.in_transit_ms.stats.p99),
                    duration(r.flow.in_transit_ms.stats.max),
                    format!("{:.4}", r.flow.delay_indicator),
                    yuan(r.liquidity_used),
                    yuan(r.lower_bound),
                    yuan(r.upper_bound),
                    format!("{:.3}", r.netting_ratio),
                    yuan(r.flow.peak_queued_value),
                    yuan(r.flow.unsettled_value),
                    yuan(r.knock_on.unsettled_value_at_others),
                    yuan(r.knock_on.guarantee_fund_used),
                ]
            })
            .collect(),
    }
}

pub fn sweep_table(summary: &SweepSummary) -> Table {
    let mut header = vec!["level".to_string(), "liquidity (yuan)".to_string()];
    for s in &summary.strategies {
        header.push(format!("{s}: delay indicator"));
        header.push(format!("{s}: unsettled (yuan)"));
    }
    Table {
        header,
        rows: summary
            .points
            .iter()
            .map(|p| {
                let mut row = vec![format!("{:.3}", p.level), yuan(p.liquidity)];
                for cell in &p.cells {
                    row.push(format!("{:.4}", cell.delay_indicator));
                    row.push(yuan(cell.unsettled_value));
                }
                row
            })
            .collect(),
    }
}

// ----------------------------------------------------------------- reports

/// The files of a compare report: report.md, compare.csv, report.html.
pub fn compare_files(summary: &CompareSummary) -> super::ReportFiles {
    let table = compare_table(summary);
    let markdown = format!(
        "# clearsim compare: {}\n\nSeed {}, {} day(s). The same payment stream through each strategy; all instruments in one channel.\n\n{}\n\nIn-transit: deposit → funds available for cheques under netting, submission → settlement otherwise. Netting ratio: value that moved between accounts / value settled.\n",
        summary.scenario,
        summary.seed,
        summary.days,
        table.markdown()
    );
    let curves: Vec<(String, Vec<(f64, f64)>)> = summary
        .strategies
        .iter()
        .filter_map(|r| {
            decode_histogram(&r.in_transit_histogram)
                .map(|h| (r.strategy.clone(), percentile_curve(&h)))
        })
        .collect();
    let chart = html::percentile_chart("In-transit time by percentile", &curves);
    let used: Vec<(String, Vec<i64>)> = summary
        .strategies
        .iter()
        .map(|r| (r.strategy.clone(), r.liquidity_used_by_participant.clone()))
        .collect();
    let participants = participant_liquidity_table(summary);
    let page = html::page(
        &format!("clearsim compare — {}", summary.scenario),
        &[
            html::table(&table),
            chart,
            html::timeline_charts(
                &summary
                    .strategies
                    .iter()
                    .map(|r| (r.strategy.clone(), &r.flow.timeline))
                    .collect::<Vec<_>>(),
            ),
            html::liquidity_chart(&used),
        ],
    );
    vec![
        ("report.md", markdown.into_bytes()),
        ("compare.csv", table.csv().into_bytes()),
        ("participants.csv", participants.csv().into_bytes()),
        ("report.html", page.into_bytes()),
    ]
}

/// Liquidity used per participant under each strategy.
pub fn participant_liquidity_table(summary: &CompareSummary) -> Table {
    let mut header = vec!["participant".to_string()];
    header.extend(
        summary
            .strategies
            .iter()
            .map(|r| format!("{}: liquidity used (yuan)", r.strategy)),
    );
    Table {
        header,
        rows: summary
            .participant_ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let mut row = vec![id.clone()];
                row.extend(
                    summary.strategies.iter().map(|r| {
                        yuan(r.liquidity_used_by_participant.get(i).copied().unwrap_or(0))
                    }),
                );
                row
            })
            .collect(),
    }
}

/// Percentile curve of a histogram: (percentile q, value in minutes), q on
/// the HDR scale up to 99.99 %.
pub fn percentile_curve(histogram: &Histogram<u64>) -> Vec<(f64, f64)> {
    if histogram.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut q = 0.0f64;
    while q <= 0.9999 {
        out.push((q, histogram.value_at_quantile(q) as f64 / 60_000.0));
        // Steps that are even on the log(1/(1−q)) axis.
        q = 1.0 - (1.0 - q) * 0.85;
    }
    out.push((
        0.9999,
        histogram.value_at_quantile(0.9999) as f64 / 60_000.0,
    ));
    out
}

pub fn sweep_files(summary: &SweepSummary) -> super::ReportFiles {
    let table = sweep_table(summary);
    let markdown = format!(
        "# clearsim sweep: {}\n\nSeed {}. Opening liquidity of each participant = its lower bound + level × (upper bound − lower bound), no credit, one day. Total at level 0: {} yuan; at level 1: {} yuan.\n\n{}\n",
        summary.scenario,
        summary.seed,
        yuan(summary.lower_bound),
        yuan(summary.upper_bound),
        table.markdown()
    );
    let curves: Vec<(String, Vec<(f64, f64)>)> = summary
        .strategies
        .iter()
        .enumerate()
        .map(|(s, name)| {
            (
                name.clone(),
                summary
                    .points
                    .iter()
                    .map(|p| (p.level, p.cells[s].delay_indicator))
                    .collect(),
            )
        })
        .collect();
    let chart = html::line_chart(
        "Liquidity–delay trade-off",
        "liquidity level (0 = lower bound, 1 = upper bound)",
        "delay indicator",
        &curves,
        false,
    );
    let page = html::page(
        &format!("clearsim sweep — {}", summary.scenario),
        &[html::table(&table), chart],
    );
    vec![
        ("report.md", markdown.into_bytes()),
        ("sweep.csv", table.csv().into_bytes()),
        ("report.html", page.into_bytes()),
    ]
}
