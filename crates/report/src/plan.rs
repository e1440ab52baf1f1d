//! The plan's report (its figures: `clearsim_study::plan`), rendered as
//! report.md and report.html.

use super::document::Document;
use super::table::Table;

use clearsim_model::metrics::estimate::Estimate;
use clearsim_study::plan::h;
pub use clearsim_study::plan::{PLAN_SCHEMA, Pair, PlanReport, TransitRow};

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

/// The plan's report, as one document (`context`: what it ran).
pub fn plan_document(report: &PlanReport, context: Vec<String>) -> Document {
    let (transit, liquidity) = tables(report);
    let mut doc = Document::new(
        format!("The plan: {} → {}", report.before, report.after),
        context,
    );
    doc.headline = super::run::with_warning(
        Some(report.headline.clone()),
        super::run::one_seed_warning(report.seeds.len()),
    );
    doc.heading("Funds in transit, by instrument");
    doc.table(transit);
    doc.note(NOTE);
    doc.heading("Liquidity against the bounds");
    doc.table(liquidity);
    doc
}
