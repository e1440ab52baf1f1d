//! The plan's report (its figures: `clearsim_study::plan`), rendered as
//! report.md and report.html.

use super::chart::{Chart, Interval, Intervals};
use super::document::Document;
use super::table::{Cell, Frame, Table};

use clearsim_core::format::duration_h;
use clearsim_model::metrics::estimate::Estimate;
pub use clearsim_study::plan::{
    Decomposition, InstrumentShare, PLAN_SCHEMA, Pair, PlanReport, TransitRow,
};

/// A duration estimate: "1.88 h (1.80 h … 1.95 h)", "36 s".
fn hours(e: &Estimate) -> String {
    match e.ci95 {
        Some([low, high]) => format!(
            "{} ({} … {})",
            duration_h(e.mean),
            duration_h(low),
            duration_h(high)
        ),
        None => duration_h(e.mean),
    }
}

fn money(e: &Estimate) -> String {
    let show = |v: f64| super::show_value("liquidity_fen", v);
    match e.ci95 {
        Some([low, high]) => format!("{} ({} … {})", show(e.mean), show(low), show(high)),
        None => show(e.mean),
    }
}

/// "every customer payment" for the pooled flow.
fn flow_name(flow: &str) -> &str {
    if flow == "all" {
        "every customer payment"
    } else {
        flow
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
        transit.rows.push(vec![
            flow_name(&row.flow).to_string(),
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

/// The decomposition: its three parts, then each instrument's.
fn decomposition_table(d: &Decomposition) -> Table {
    let mut table = Table::new(&["part of the change", "own speed-up", "value mix", "total"]);
    for (name, part) in [
        ("(a) instruments' own speed-up", &d.speed_h),
        ("(b) value mix", &d.mix_h),
        ("(c) legs whose times are assumptions", &d.assumed_h),
        ("change in the value-weighted mean", &d.change_h),
    ] {
        table.rows.push(vec![
            name.to_string(),
            String::new(),
            String::new(),
            hours(part),
        ]);
    }
    for i in &d.instruments {
        let label = if i.assumed {
            format!("{} (assumed)", i.flow)
        } else {
            i.flow.clone()
        };
        let total = i.speed_h.mean + i.mix_h.mean;
        table.rows.push(vec![
            label,
            hours(&i.speed_h),
            hours(&i.mix_h),
            duration_h(total),
        ]);
    }
    table
}

const NOTE: &str = "In transit: from the customer's order until the funds are available to the payee (docs/model.md). Value-weighted means; p99 over payments. Both designs run on the same seeds; the change is after − before, paired by seed, with its 95 % interval.";

const PARTS_NOTE: &str = "Every customer payment's value-weighted mean is T = Σ wᵢ·tᵢ, wᵢ an instrument's share of the value made available and tᵢ its own mean. Per seed, the change splits exactly (shift-share, symmetric) into w̄ᵢ·Δtᵢ (the instrument getting faster, at the two designs' mean share) and t̄ᵢ·Δwᵢ (its share changing, at the two designs' mean time). (a) sums the speed-ups of instruments whose times the model derives; (c) those of instruments marked `assumed` in a config, whose times rest on a modelling choice (their source notes: docs/model.md); (b) sums every instrument's mix part. Intervals are over the seeds.";

/// Per instrument: the two designs' means with their intervals.
fn transit_chart(report: &PlanReport) -> Chart {
    let estimate = |e: &Estimate| Some((e.mean, e.ci95));
    let side = |pick: fn(&Pair) -> &Estimate| -> Vec<Option<Interval>> {
        report
            .transit
            .iter()
            .map(|r| estimate(pick(&r.value_weighted_mean_h)))
            .collect()
    };
    Chart::Intervals(Intervals {
        title: "Funds in transit by instrument, value-weighted mean (95 % interval)".into(),
        x_label: "time in transit".into(),
        labels: report
            .transit
            .iter()
            .map(|r| flow_name(&r.flow).to_string())
            .collect(),
        series: vec![
            (report.before.clone(), side(|p| &p.before)),
            (report.after.clone(), side(|p| &p.after)),
        ],
    })
}

/// The change and its three parts.
fn parts_chart(d: &Decomposition) -> Chart {
    let parts = [
        ("change", &d.change_h),
        ("(a) own speed-up", &d.speed_h),
        ("(b) value mix", &d.mix_h),
        ("(c) assumed legs", &d.assumed_h),
    ];
    Chart::Intervals(Intervals {
        title: "The change in funds in transit, decomposed (95 % interval)".into(),
        x_label: "change in the value-weighted mean time in transit".into(),
        labels: parts.iter().map(|(n, _)| (*n).to_string()).collect(),
        series: vec![(
            "after − before".into(),
            parts.iter().map(|(_, e)| Some((e.mean, e.ci95))).collect(),
        )],
    })
}

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
    doc.chart(transit_chart(report));
    if let Some(d) = &report.decomposition {
        doc.heading("What drives the change");
        doc.table(decomposition_table(d));
        doc.note(PARTS_NOTE);
        doc.chart(parts_chart(d));
    }
    doc.heading("Liquidity against the bounds");
    doc.table(liquidity);
    doc
}

/// The plan's files: report.md, transit.csv, decomposition.csv,
/// report.html.
pub fn plan_files(report: &PlanReport, context: Vec<String>) -> super::ReportFiles {
    let [markdown, html] = plan_document(report, context).files();
    let mut files = vec![
        markdown,
        ("transit.csv", transit_frame(report).csv().into_bytes()),
    ];
    if let Some(d) = &report.decomposition {
        files.push((
            "decomposition.csv",
            decomposition_frame(d).csv().into_bytes(),
        ));
    }
    files.push(html);
    files
}

/// One estimate's columns: mean, ci95_low, ci95_high, replications.
fn estimate_cells(e: &Estimate) -> [Cell; 4] {
    [
        Cell::from(e.mean),
        Cell::from(e.ci95.map(|c| c[0])),
        Cell::from(e.ci95.map(|c| c[1])),
        Cell::from(e.n),
    ]
}

/// transit.csv: per flow and figure, both designs and the paired change,
/// in hours.
fn transit_frame(report: &PlanReport) -> Frame {
    let mut frame = Frame::new(&[
        "flow",
        "metric",
        "design",
        "mean_h",
        "ci95_low_h",
        "ci95_high_h",
        "replications",
    ]);
    for row in &report.transit {
        for (metric, pair) in [
            ("in_transit_value_weighted_mean", &row.value_weighted_mean_h),
            ("in_transit_p99", &row.p99_h),
        ] {
            for (design, e) in [
                (report.before.as_str(), &pair.before),
                (report.after.as_str(), &pair.after),
                ("change", &pair.change),
            ] {
                let mut cells = vec![
                    Cell::from(row.flow.as_str()),
                    Cell::from(metric),
                    Cell::from(design),
                ];
                cells.extend(estimate_cells(e));
                frame.push(cells);
            }
        }
    }
    frame
}

/// decomposition.csv: the parts, then each instrument's, in hours.
fn decomposition_frame(d: &Decomposition) -> Frame {
    let mut frame = Frame::new(&[
        "part",
        "flow",
        "assumed",
        "mean_h",
        "ci95_low_h",
        "ci95_high_h",
        "replications",
    ]);
    let mut push = |part: &str, flow: &str, assumed: &str, e: &Estimate| {
        let mut cells = vec![Cell::from(part), Cell::from(flow), Cell::from(assumed)];
        cells.extend(estimate_cells(e));
        frame.push(cells);
    };
    push("change", "all", "", &d.change_h);
    push("speed", "all", "false", &d.speed_h);
    push("mix", "all", "", &d.mix_h);
    push("speed", "all", "true", &d.assumed_h);
    for i in &d.instruments {
        let assumed = if i.assumed { "true" } else { "false" };
        push("speed", &i.flow, assumed, &i.speed_h);
        push("mix", &i.flow, assumed, &i.mix_h);
    }
    frame
}
