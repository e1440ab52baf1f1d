//! The plan's question, answered side by side: how much did funds-in-transit
//! time fall, by instrument and overall, between the 2005 design and the
//! 2010 design? A pure function of the two designs' records (the same seeds
//! for both, so differences are paired by seed), rendered as summary.json,
//! report.md and report.html.

use serde::{Deserialize, Serialize};

use super::html;
use super::table::Table;
use std::borrow::Cow;

use clearsim_model::metrics::estimate::{Estimate, estimate};
use clearsim_model::metrics::flow::FlowReport;
use clearsim_study::record::{RunRecord, pooled};

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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    pub before: Estimate,
    pub after: Estimate,
    pub change: Estimate,
}

/// In-transit figures of one instrument (or of every customer payment).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransitRow {
    pub flow: String,
    pub value_weighted_mean_h: Pair,
    /// Count-weighted 99th percentile of the payments' times in transit.
    pub p99_h: Pair,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

pub const PLAN_SCHEMA: &str = "clearsim.plan.v1";

/// Per seed, the flow named `flow` ("all": every customer payment, pooled
/// once per seed), or `None` when the design has no such instrument.
fn per_seed<'r>(side: &Side<'r>, flow: &str) -> Result<Option<Vec<Cow<'r, FlowReport>>>, String> {
    if flow == "all" {
        let customer = side.instruments.len();
        return side
            .records
            .iter()
            .map(|record| pooled(&record.instruments[..customer]).map(Cow::Owned))
            .collect::<Result<Vec<_>, String>>()
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

fn transit_row(before: &Side<'_>, after: &Side<'_>, flow: &str) -> Result<TransitRow, String> {
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
pub fn plan_report(before: &Side<'_>, after: &Side<'_>) -> Result<PlanReport, String> {
    let seeds: Vec<u64> = before.records.iter().map(|r| r.seed).collect();
    let after_seeds: Vec<u64> = after.records.iter().map(|r| r.seed).collect();
    if seeds != after_seeds || seeds.is_empty() {
        return Err(format!(
            "the designs must share their seeds: {seeds:?} and {after_seeds:?}"
        ));
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
        .collect::<Result<Vec<TransitRow>, String>>()?;
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
fn h(value: f64) -> String {
    let text = format!("{value:.2}");
    match text.strip_prefix('-') {
        Some("0.00") => "0.00".into(),
        Some(rest) => format!("−{rest}"),
        None => text,
    }
}

fn hours(e: &Estimate) -> String {
    match e.ci95 {
        Some([low, high]) => format!("{} h ({} … {})", h(e.mean), h(low), h(high)),
        None => format!("{} h", h(e.mean)),
    }
}

fn money(e: &Estimate) -> String {
    let show = |v: f64| super::show_value("liquidity_fen", v);
    match e.ci95 {
        Some([low, high]) => format!("{} ({} … {})", show(e.mean), show(low), show(high)),
        None => show(e.mean),
    }
}

/// The report's two tables: in transit by flow, and liquidity.
fn tables(report: &PlanReport) -> (Table, Table) {
    let (b, a) = (report.before.as_str(), report.after.as_str());
    let mean_b = format!("mean {b}");
    let mean_a = format!("mean {a}");
    let p99_b = format!("p99 {b}");
    let p99_a = format!("p99 {a}");
    let mut transit = Table::new(&["flow", &mean_b, &mean_a, "change (paired)", &p99_b, &p99_a]);
    for row in &report.transit {
        let name = if row.flow == "all" {
            "every customer payment"
        } else {
            &row.flow
        };
        transit.rows.push(vec![
            name.to_string(),
            hours(&row.value_weighted_mean_h.before),
            hours(&row.value_weighted_mean_h.after),
            hours(&row.value_weighted_mean_h.change),
            hours(&row.p99_h.before),
            hours(&row.p99_h.after),
        ]);
    }
    let mut liquidity = Table::new(&["largest day", b, a]);
    for (name, p) in [
        ("liquidity used", &report.liquidity_used_fen),
        ("lower bound", &report.lower_bound_fen),
        ("upper bound", &report.upper_bound_fen),
    ] {
        liquidity
            .rows
            .push(vec![name.to_string(), money(&p.before), money(&p.after)]);
    }
    (transit, liquidity)
}

const NOTE: &str = "In transit: from the customer's order until the funds are available to the payee (docs/model.md). Value-weighted means; p99 over payments. Both designs run on the same seeds; the change is after − before, paired by seed, with its 95 % interval.";

pub fn markdown(report: &PlanReport, context: &[String]) -> String {
    let (transit, liquidity) = tables(report);
    let mut out = format!("# The plan: {} → {}\n\n", report.before, report.after);
    for line in context {
        out += &format!("{line}  \n");
    }
    out += &format!("\n**{}**\n\n", report.headline);
    out += "## Funds in transit, by instrument\n\n";
    out += &transit.markdown();
    out += &format!("\n{NOTE}\n\n## Liquidity against the bounds\n\n");
    out += &liquidity.markdown();
    out
}

pub fn html_page(report: &PlanReport, context: &[String]) -> String {
    let (transit, liquidity) = tables(report);
    html::page(
        &format!("The plan: {} → {}", report.before, report.after),
        context,
        Some(&report.headline),
        &[
            html::heading("Funds in transit, by instrument"),
            html::table(&transit),
            html::note(NOTE),
            html::heading("Liquidity against the bounds"),
            html::table(&liquidity),
        ],
    )
}
