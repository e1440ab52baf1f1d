//! `clearsim optimise`'s outputs: per design, what the banks would hold at
//! equilibrium, the delay that follows, what it costs, and how far that is
//! from the planner's optimum (summary.json `clearsim.optimise.v1`,
//! report.md, report.html with the convergence and the costs by design).

use super::chart::{Axis, Bars, Chart, Lines, Series};
use super::document::Document;
use super::table::Table;
use clearsim_core::format::money_short;
use clearsim_model::bank::costs::CostBreakdown;
pub use clearsim_study::optimise::{
    BankChoice, DesignReport, EnumerationReport, OptimiseReport, ProfileReport, SCHEMA,
};
use clearsim_study::optimise::{Ending, Search};

/// How a design's search spent its work, in a line.
fn work_line(d: &DesignReport, replications: usize) -> String {
    format!(
        "{} profiles evaluated × {replications} replication(s): {} run, {} priced from a run of another of the bank's levels on the same path (docs/equilibria.md).",
        d.evaluations, d.runs, d.priced_runs
    )
}

fn ending(search: &Search) -> String {
    let rounds = search.rounds.len() - 1;
    match search.ending {
        Ending::Converged => format!("converged in {rounds} round(s)"),
        Ending::Cycle { from_round } => {
            format!("cycles: round {rounds} repeats round {from_round}")
        }
        Ending::RoundLimit => format!("no equilibrium within {rounds} rounds"),
    }
}

/// The price of anarchy as what it is: exact when every profile was
/// evaluated (against the true optimum), else a lower bound (the planner's
/// search is local and starts at the equilibrium, so its optimum may be
/// beaten: the true ratio is at least this).
fn poa(report: &DesignReport) -> String {
    if let Some(e) = &report.enumeration {
        return clearsim_study::optimise::price_of_anarchy(
            report.equilibrium.cost_total_fen,
            e.optimum.cost_total_fen,
        )
        .map_or_else(|| "unbounded".into(), |p| format!("{p:.3} (exact)"));
    }
    report.price_of_anarchy.map_or_else(
        || "unbounded".into(),
        |p| format!("≥ {p:.3} (local planner search)"),
    )
}

/// Per design: liquidity, delay, cost at equilibrium and at the planner's
/// optimum.
fn designs_table(report: &OptimiseReport) -> Table {
    let mut table = Table::new(&[
        "design",
        "price of anarchy",
        "liquidity held (yuan)",
        "cost per day (yuan)",
        "planner's liquidity (yuan)",
        "planner's cost per day (yuan)",
        "delay (min)",
        "settled",
        "search",
    ]);
    for d in &report.designs {
        table.rows.push(vec![
            d.design.clone(),
            poa(d),
            money_short(d.equilibrium.opening_total_fen as f64),
            yuan(d.equilibrium.cost_total_fen),
            money_short(d.planner.opening_total_fen as f64),
            yuan(d.planner.cost_total_fen),
            format!("{:.2}", d.equilibrium.delay_ms_mean / 60_000.0),
            format!("{:.2} %", 100.0 * d.equilibrium.settled_share),
            ending(&d.search),
        ]);
    }
    table
}

/// Yuan with thousands separators, from fractional fen (means).
fn yuan(fen: f64) -> String {
    clearsim_core::format::yuan(fen.round() as i64)
}

/// One design's banks at equilibrium, with their costs by component.
fn banks_table(profile: &ProfileReport) -> Table {
    let mut table = Table::new(&[
        "bank",
        "opening (yuan)",
        "policy",
        "liquidity",
        "credit",
        "delay",
        "unsettled",
        "overnight",
        "total (yuan/day)",
    ]);
    for b in &profile.banks {
        let mut row = vec![b.id.clone(), yuan(b.opening_fen as f64), b.policy.clone()];
        row.extend(b.cost.components().iter().map(|(_, v)| yuan(*v)));
        row.push(yuan(b.cost_fen));
        table.rows.push(row);
    }
    table
}

fn enumeration_lines(e: &EnumerationReport) -> Vec<String> {
    let show = |p: &ProfileReport| {
        p.banks
            .iter()
            .map(|b| format!("{} {} @ {}", b.id, b.policy, yuan(b.opening_fen as f64)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut lines = vec![format!(
        "All {} profiles evaluated: {} pure equilibri{}.",
        e.profiles,
        e.equilibria.len(),
        if e.equilibria.len() == 1 { "um" } else { "a" }
    )];
    for p in &e.equilibria {
        lines.push(format!(
            "Equilibrium: {} — cost {} yuan/day.",
            show(p),
            yuan(p.cost_total_fen)
        ));
    }
    lines.push(format!(
        "Planner's optimum: {} — cost {} yuan/day.",
        show(&e.optimum),
        yuan(e.optimum.cost_total_fen)
    ));
    lines
}

const NOTE: &str = "Costs are means per business day over the replications (the same seeds for every profile and design). Liquidity held: Σ opening balances the banks choose. Delay: value-weighted mean time from the customer's order to settlement. The planner minimises the total cost; the price of anarchy is the equilibrium's total over the planner's: exact when every profile was evaluated, otherwise a lower bound (≥), because the planner's search is local and starts at the equilibrium. docs/equilibria.md explains the model and the search.";

/// Total cost per round of each design's equilibrium search.
fn convergence_chart(report: &OptimiseReport) -> Chart {
    let series: Vec<Series> = report
        .designs
        .iter()
        .map(|d| {
            let points = d
                .search
                .rounds
                .iter()
                .map(|r| (f64::from(r.round), r.total_fen))
                .collect();
            Series::line(d.design.clone(), points)
        })
        .collect();
    Chart::Lines(Lines {
        title: "Convergence: total cost per day after each round of best responses".into(),
        x: Axis::Count,
        x_label: "round".into(),
        y: Axis::Money,
        y_label: "total cost per day (yuan)".into(),
        series,
    })
}

/// Each design's total cost by component, at equilibrium and optimum.
fn costs_chart(report: &OptimiseReport) -> Chart {
    let mut rows = Vec::new();
    for d in &report.designs {
        for (what, profile) in [("equilibrium", &d.equilibrium), ("planner", &d.planner)] {
            let mut sum = CostBreakdown::default();
            for b in &profile.banks {
                sum.add(&b.cost);
            }
            rows.push((format!("{} — {what}", d.design), sum));
        }
    }
    Chart::Bars(Bars {
        title: "Cost per day by component, by design".into(),
        x_label: "cost per day (yuan)".into(),
        bars: rows
            .iter()
            .map(|(label, sum)| {
                let parts = sum.components().map(|(c, v)| (c.to_string(), v));
                (label.clone(), parts.to_vec())
            })
            .collect(),
    })
}

/// The first design's answer in a sentence: what the banks hold, what it
/// costs, and how far from the planner (a bound unless exhaustive).
fn headline(report: &OptimiseReport) -> Option<String> {
    let d = report.designs.first()?;
    Some(format!(
        "Under {}, the banks settle on {} yuan of opening liquidity at a cost of {} yuan per business day; the planner's best found holds {} yuan at {} yuan per day. Price of anarchy: {}.",
        d.design,
        money_short(d.equilibrium.opening_total_fen as f64),
        yuan(d.equilibrium.cost_total_fen),
        money_short(d.planner.opening_total_fen as f64),
        yuan(d.planner.cost_total_fen),
        poa(d)
    ))
}

/// What the banks would choose, as one document (`context`: what ran).
pub fn optimise_document(report: &OptimiseReport, context: Vec<String>) -> Document {
    let mut doc = Document::new(
        format!("What the banks would choose: {}", report.scenario),
        context,
    );
    doc.headline = headline(report);
    doc.heading("Designs at equilibrium and at the planner's optimum");
    doc.table(designs_table(report));
    doc.note(NOTE);
    let costs_anything = report.designs.iter().any(|d| {
        d.search.rounds.iter().any(|r| r.total_fen > 0.0) || d.planner.cost_total_fen > 0.0
    });
    if costs_anything {
        doc.chart(costs_chart(report));
        doc.chart(convergence_chart(report));
    } else {
        doc.note(
            "Every round's profile costs nothing (and so does the planner's): no chart of costs.",
        );
    }
    for d in &report.designs {
        doc.heading(format!("{}: the banks at equilibrium", d.design));
        doc.table(banks_table(&d.equilibrium));
        doc.note(work_line(d, report.seeds.len()));
        if let Some(e) = &d.enumeration {
            for line in enumeration_lines(e) {
                doc.note(line);
            }
        }
    }
    doc
}
