//! The reports of a `clearsim sweep` summary.

use super::chart::{Axis, Chart, Lines, Series};
use super::document::Document;
use super::table::{Cell, Frame, Table};
use super::{ReportFiles, context_lines, show_estimate};
use clearsim_model::metrics::estimate::Estimate;
use clearsim_study::summary::{SweepStat, SweepSummary};

pub fn sweep_table(summary: &SweepSummary) -> Table {
    let mut table = Table::new(&[
        "level",
        "design",
        "liquidity",
        "95 % CI",
        "delay indicator",
        "95 % CI",
        "unsettled",
        "95 % CI",
        "settled % of value",
    ]);
    for point in &summary.points {
        for cell in &point.cells {
            let (liquidity, liquidity_ci) = show_estimate("liquidity_fen", &cell.liquidity_fen);
            let (delay, delay_ci) = show_estimate("delay_indicator", &cell.delay_indicator);
            let (unsettled, unsettled_ci) =
                show_estimate("unsettled_value_fen", &cell.unsettled_value_fen);
            table.rows.push(vec![
                format!("{:.3}", point.level),
                cell.design.clone(),
                liquidity,
                liquidity_ci,
                delay,
                delay_ci,
                unsettled,
                unsettled_ci,
                format!("{:.3}", 100.0 * cell.settled_value_share.mean),
            ]);
        }
    }
    table
}

fn sweep_frame(summary: &SweepSummary) -> Frame {
    let mut frame = Frame::new(&[
        "level",
        "design",
        "liquidity_fen",
        "liquidity_fen_ci95_low",
        "liquidity_fen_ci95_high",
        "delay_indicator",
        "delay_indicator_ci95_low",
        "delay_indicator_ci95_high",
        "unsettled_value_fen",
        "unsettled_value_fen_ci95_low",
        "unsettled_value_fen_ci95_high",
        "settled_value_share",
        "liquidity_used_fen",
        "replications",
    ]);
    let three = |e: &Estimate| -> [Cell; 3] {
        [
            e.mean.into(),
            e.ci95.map(|c| c[0]).into(),
            e.ci95.map(|c| c[1]).into(),
        ]
    };
    for point in &summary.points {
        for cell in &point.cells {
            let mut row = vec![Cell::from(point.level), Cell::from(cell.design.as_str())];
            row.extend(three(&cell.liquidity_fen));
            row.extend(three(&cell.delay_indicator));
            row.extend(three(&cell.unsettled_value_fen));
            row.push(cell.settled_value_share.mean.into());
            row.push(cell.liquidity_used_fen.mean.into());
            row.push(cell.liquidity_fen.n.into());
            frame.push(row);
        }
    }
    frame
}

/// One curve per design of `figure` against liquidity (yuan), with its
/// 95 % band when there are replications.
fn curves(summary: &SweepSummary, figure: fn(&SweepStat) -> &Estimate) -> Vec<Series> {
    summary
        .designs
        .iter()
        .enumerate()
        .map(|(d, name)| {
            let stats: Vec<&SweepStat> = summary.points.iter().map(|p| &p.cells[d]).collect();
            let band = stats.iter().all(|s| figure(s).ci95.is_some()).then(|| {
                stats
                    .iter()
                    .map(|s| {
                        let [lo, hi] = figure(s).ci95.unwrap_or([0.0; 2]);
                        (s.liquidity_fen.mean, lo, hi)
                    })
                    .collect()
            });
            Series {
                name: name.clone(),
                points: stats
                    .iter()
                    .map(|s| (s.liquidity_fen.mean, figure(s).mean))
                    .collect(),
                band,
            }
        })
        .collect()
}

/// Each participant's opening at each level, and where the bounds come
/// from.
const METHOD: &str = "Each participant opens with its lower bound + level × (its need − its lower bound), and no credit, for one business day. The bounds of each seed and design come from the very stream its points run on (returned cheques included): a first run of that design with unlimited credit records, per participant, its net debit over the day (lower bound) and its lowest position in processing order (the need: with it, gross settlement settles every payment the moment it enters).";

fn bounds_table(summary: &SweepSummary) -> Table {
    let mut bounds = Table::new(&[
        "design",
        "level 0: Σ lower bounds",
        "95 % CI",
        "level 1: Σ needs to settle on entry",
        "95 % CI",
        "the scenario's own openings",
    ]);
    for b in &summary.bounds {
        let (lower, lower_ci) = show_estimate("lower_fen", &b.lower_fen);
        let (upper, upper_ci) = show_estimate("upper_fen", &b.upper_fen);
        let own = b
            .own_opening_fen
            .as_ref()
            .map_or(String::new(), |e| show_estimate("own_fen", e).0);
        bounds.rows.push(vec![
            b.design.clone(),
            lower,
            lower_ci,
            upper,
            upper_ci,
            own,
        ]);
    }
    bounds
}

/// The scenario's own openings are drawn when within this factor of the
/// widest swept liquidity.
const OWN_IN_RANGE: f64 = 1.25;

/// Where the scenario's own openings lie, beside the swept range.
fn own_note(summary: &SweepSummary) -> Option<String> {
    let b = summary.bounds.first()?;
    let own = b.own_opening_fen.as_ref()?.mean;
    let level_1 = b.upper_fen.mean;
    let ratio = if level_1 > 0.0 { own / level_1 } else { 0.0 };
    Some(format!(
        "The scenario's own openings under its liquidity policy: {} in all ({ratio:.2} × level 1, before its intraday credit){}.",
        super::show_value("own_fen", own),
        if own > level_1 * OWN_IN_RANGE {
            "; they lie right of the swept range, so the charts do not draw them"
        } else {
            "; the line so named on the charts"
        }
    ))
}

/// A figure of the sweep against the opening liquidity, one curve per
/// design, and a vertical line at the scenario's own openings (the first
/// design's mean) across the curves' range.
fn against_liquidity(
    title: &str,
    (y, y_label): (Axis, &str),
    mut series: Vec<Series>,
    own_fen: Option<f64>,
) -> Chart {
    let ys = series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
    let (low, high) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
        (l.min(v), h.max(v))
    });
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let widest = xs.fold(0.0, f64::max);
    // Far right of the swept range, the line would squash the curves: the
    // page's note says where it is instead.
    if let Some(x) = own_fen.filter(|&x| low.is_finite() && x <= widest * OWN_IN_RANGE) {
        series.push(Series::line(
            "the scenario's own openings",
            vec![(x, low), (x, high.max(low))],
        ));
    }
    Chart::Lines(Lines {
        title: title.into(),
        x: Axis::Money,
        x_label: "opening liquidity, Σ over participants (yuan)".into(),
        y,
        y_label: y_label.into(),
        series,
    })
}

/// The report of a sweep, as one document.
pub fn sweep_document(summary: &SweepSummary) -> Document {
    let study = &summary.study;
    let context = context_lines(
        study,
        &summary.seeds,
        summary.partial.as_ref(),
        &format!(
            "{} swept over {} liquidity levels",
            super::count_of(summary.designs.len(), "design"),
            summary.levels.len()
        ),
    );
    let mut doc = Document::new(format!("clearsim sweep — {}", study.scenario), context);
    doc.headline =
        super::run::one_seed_warning(summary.seeds.len()).map(|w| format!("Caution: {w}"));
    doc.note(METHOD);
    if let Some(note) = own_note(summary) {
        doc.note(note);
    }
    let own_fen = summary
        .bounds
        .first()
        .and_then(|b| b.own_opening_fen.as_ref())
        .map(|e| e.mean);
    doc.chart(against_liquidity(
        "Liquidity–delay trade-off",
        (Axis::Number, "delay indicator"),
        curves(summary, |s| &s.delay_indicator),
        own_fen,
    ));
    doc.chart(against_liquidity(
        "Value left unsettled at the day end",
        (Axis::Money, "unsettled (yuan)"),
        curves(summary, |s| &s.unsettled_value_fen),
        own_fen,
    ));
    doc.heading("Bounds");
    doc.table(bounds_table(summary));
    doc.heading("Points");
    doc.table(sweep_table(summary));
    doc
}

/// report.md, sweep.csv and report.html of a sweep.
pub fn sweep_files(summary: &SweepSummary) -> ReportFiles {
    let [markdown, html] = sweep_document(summary).files();
    vec![
        markdown,
        ("sweep.csv", sweep_frame(summary).csv().into_bytes()),
        html,
    ]
}
