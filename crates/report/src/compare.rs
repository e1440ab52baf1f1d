//! The reports of a `clearsim compare` summary.

use super::chart::Chart;
use super::document::Document;
use super::run::{
    IN_TRANSIT_NOTE, PARTS_NOTE, carried_past_end, flow_frame, flow_table, liquidity_dots,
    one_seed_warning, pct_of_value, per_day, percentile_chart, timeline_charts, with_warning,
};
use super::table::{Cell, Frame, Table};
use super::{ReportFiles, context_lines, figure_frame, figure_table, show_estimate};
use clearsim_core::format::{millis, money_short};
use clearsim_model::metrics::flow::FlowReport;
use clearsim_study::summary::{CompareSummary, Figure, NamedFlow};

/// One row per design: every payment of the design together. Shares of
/// value over every replication and day; liquidity is the mean over
/// replications of a business day's figure.
pub fn compare_table(summary: &CompareSummary) -> Table {
    let mut table = Table::new(&[
        "design",
        "payments per day",
        "settled %",
        "carried %",
        "unsettled %",
        "in-transit p50",
        "p99",
        "value-weighted mean",
        "liquidity used, largest day",
    ]);
    let days = days_pooled(summary);
    for row in &summary.rows {
        let f = &row.all;
        let c = &f.counts;
        let mean = |metric: &str| {
            figure(&summary.headline, &row.design, "all", metric)
                .map_or(String::new(), |fig| show_estimate(metric, &fig.estimate).0)
        };
        table.rows.push(vec![
            row.design.clone(),
            per_day(c.payments, days),
            pct_of_value(c.settled_value_fen, f),
            pct_of_value(c.carried_value_fen, f),
            pct_of_value(c.unsettled_value_fen, f),
            millis(f.in_transit_ms.stats.p50),
            millis(f.in_transit_ms.stats.p99),
            millis(f.in_transit_ms.value_weighted_mean),
            mean("liquidity_used_fen"),
        ]);
    }
    table
}

/// Business days the designs' rows pool: every replication's days.
fn days_pooled(summary: &CompareSummary) -> u64 {
    super::run::days_pooled(summary.replications.len(), summary.study.days)
}

/// The designs' secondary figures, per business day (a mean over every
/// replication's days) unless labelled otherwise.
pub fn compare_detail_table(summary: &CompareSummary) -> Table {
    let mut table = Table::new(&[
        "design",
        "returned cheques per day",
        "carried per day",
        "unsettled per day",
        "unsettled per day (yuan)",
        "delay indicator",
        "netting ratio",
        "peak queue, largest day",
        "scheduled runs per day (settling)",
        "knock-on per replication",
    ]);
    let days = days_pooled(summary);
    for row in &summary.rows {
        let f = &row.all;
        let mean = |metric: &str| {
            figure(&summary.headline, &row.design, "all", metric)
                .map_or(String::new(), |fig| show_estimate(metric, &fig.estimate).0)
        };
        let returns: u64 = row
            .instruments
            .iter()
            .filter(|i| i.name.ends_with(".return"))
            .map(|i| i.flow.counts.payments)
            .sum();
        table.rows.push(vec![
            row.design.clone(),
            per_day(returns, days),
            per_day(f.counts.carried, days),
            per_day(f.counts.unsettled, days),
            mean("unsettled_value_fen"),
            format!("{:.4}", f.delay_indicator),
            format!("{:.3}", row.netting_ratio),
            format!(
                "{} yuan",
                money_short(f.counts.peak_queued_value_fen as f64)
            ),
            format!(
                "{} ({})",
                per_day(row.events.runs, days),
                per_day(row.events.runs_settling, days)
            ),
            mean("knock_on_unsettled_value_fen"),
        ]);
    }
    table
}

fn figure<'a>(figures: &'a [Figure], design: &str, flow: &str, metric: &str) -> Option<&'a Figure> {
    figures
        .iter()
        .find(|f| f.design == design && f.flow == flow && f.metric == metric)
}

/// Per design and instrument, pooled over seeds: "cheques under gross
/// settlement vs under the exchange" reads off this table.
pub fn instrument_table(summary: &CompareSummary) -> Table {
    let days = days_pooled(summary);
    let mut table = flow_table(&[], days);
    table.header[1] = "design".into();
    for row in &summary.rows {
        let mut rows = flow_table(
            &named_by_design(row.design.as_str(), &row.instruments),
            days,
        )
        .rows;
        table.rows.append(&mut rows);
    }
    table
}

fn named_by_design(design: &str, flows: &[NamedFlow]) -> Vec<NamedFlow> {
    flows
        .iter()
        .map(|f| NamedFlow {
            route: design.to_string(),
            ..f.clone()
        })
        .collect()
}

fn compare_frame(summary: &CompareSummary) -> Frame {
    let mut frame = flow_frame(
        &summary
            .rows
            .iter()
            .map(|r| NamedFlow {
                name: "all".into(),
                route: r.design.clone(),
                flow: r.all.clone(),
                events: Some(r.events),
            })
            .collect::<Vec<_>>(),
        &[],
    );
    frame.columns[1] = "design".into();
    frame.columns.push("netting_ratio".into());
    frame.columns.push("moved_fen".into());
    for (cells, row) in frame.rows.iter_mut().zip(&summary.rows) {
        cells.push(Cell::from(row.netting_ratio));
        cells.push(Cell::from(row.moved_fen));
    }
    frame
}

fn instrument_frame(summary: &CompareSummary) -> Frame {
    let mut frame = flow_frame(&[], &[("design", String::new())]);
    for row in &summary.rows {
        let mut part = flow_frame(&row.instruments, &[("design", row.design.clone())]);
        frame.rows.append(&mut part.rows);
    }
    frame
}

fn participant_frame(summary: &CompareSummary) -> Frame {
    let mut columns = vec!["id".to_string()];
    columns.extend(
        summary
            .rows
            .iter()
            .map(|r| format!("{}: liquidity_used_fen", r.design)),
    );
    let mut frame = Frame {
        columns,
        rows: Vec::new(),
    };
    for (i, id) in summary.study.participant_ids.iter().enumerate() {
        let mut row = vec![Cell::from(id.as_str())];
        row.extend(
            summary
                .rows
                .iter()
                .map(|r| Cell::from(r.liquidity_used_by_participant_fen.get(i).copied())),
        );
        frame.push(row);
    }
    frame
}

/// The cheque's cut under each design, against the first: the plan's
/// question across designs.
fn headline(summary: &CompareSummary) -> Option<String> {
    let cheque = summary.study.cheques.first()?;
    let metric = "in_transit_value_weighted_mean_ms";
    let parts: Vec<String> = summary
        .designs
        .iter()
        .filter_map(|d| {
            figure(&summary.headline, d, cheque, metric)
                .map(|f| format!("{d} {}", millis(f.estimate.mean.max(0.0) as u64)))
        })
        .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "Cheques ({cheque}), value-weighted funds in transit: {}.",
            parts.join("; ")
        )
    })
}

/// With `[costs]`: the designs ranked by the banks' total cost per day,
/// beside their rank by delay (value-weighted mean time in transit).
pub fn ranking_table(summary: &CompareSummary) -> Option<Table> {
    let cost = |d: &str| figure(&summary.headline, d, "all", "cost_per_day_fen");
    let delay = |d: &str| {
        figure(
            &summary.headline,
            d,
            "all",
            "in_transit_value_weighted_mean_ms",
        )
        .map_or(f64::INFINITY, |f| f.estimate.mean)
    };
    if summary.designs.iter().any(|d| cost(d).is_none()) {
        return None;
    }
    let rank_by = |key: &dyn Fn(&str) -> f64| -> Vec<usize> {
        let mut order: Vec<usize> = (0..summary.designs.len()).collect();
        order.sort_by(|&a, &b| key(&summary.designs[a]).total_cmp(&key(&summary.designs[b])));
        let mut rank = vec![0; order.len()];
        for (r, &d) in order.iter().enumerate() {
            rank[d] = r + 1;
        }
        rank
    };
    let cost_mean = |d: &str| cost(d).map_or(f64::INFINITY, |f| f.estimate.mean);
    let by_cost = rank_by(&cost_mean);
    let by_delay = rank_by(&delay);
    let mut table = Table::new(&[
        "rank by cost",
        "design",
        "cost per day (mean, 95 % CI)",
        "rank by delay",
        "value-weighted mean in transit",
    ]);
    let mut order: Vec<usize> = (0..summary.designs.len()).collect();
    order.sort_by_key(|&d| by_cost[d]);
    for d in order {
        let name = &summary.designs[d];
        let shown = cost(name).map_or(String::new(), |f| {
            let (mean, ci) = show_estimate("cost_per_day_fen", &f.estimate);
            format!("{mean} ({ci})")
        });
        table.rows.push(vec![
            by_cost[d].to_string(),
            name.clone(),
            shown,
            by_delay[d].to_string(),
            millis(delay(name).max(0.0) as u64),
        ]);
    }
    Some(table)
}

const DESIGN_NOTE: &str = "Every design sees the same customer stream on each seed (common random numbers): each payment, its time, amount and counterparties, and which cheques are dishonoured, depend only on scenario, seed and day. Differences between designs are therefore paired per seed; their mean and 95 % interval are in the paired table. `design` is the scenario's own channels; every other design routes all instruments to one channel of that strategy.";

/// Designs that carried payments past the last day, if any (every
/// payment of each design together).
pub fn carried_warning(summary: &CompareSummary) -> Option<String> {
    carried_past_end(
        summary
            .rows
            .iter()
            .map(|r| (r.design.as_str(), &r.all.counts)),
    )
}

/// The report of a compare, as one document.
pub fn compare_document(summary: &CompareSummary) -> Document {
    let study = &summary.study;
    let context = context_lines(
        study,
        &summary.seeds,
        summary.partial.as_ref(),
        &format!(
            "{} compared",
            super::count_of(summary.designs.len(), "design")
        ),
    );
    let mut doc = Document::new(format!("clearsim compare — {}", study.scenario), context);
    doc.headline = with_warning(
        with_warning(headline(summary), carried_warning(summary)),
        one_seed_warning(summary.seeds.len()),
    );
    doc.note(DESIGN_NOTE);
    doc.heading("Designs");
    doc.note(PARTS_NOTE);
    doc.table(compare_table(summary));
    doc.table(compare_detail_table(summary));
    if let Some(ranking) = ranking_table(summary) {
        doc.heading("Designs ranked by the banks' cost");
        doc.table(ranking);
    }
    for chart in compare_charts(summary) {
        doc.chart(chart);
    }
    doc.heading("By instrument");
    doc.note(IN_TRANSIT_NOTE);
    doc.table(instrument_table(summary));
    doc.heading("Figures over the replications");
    doc.table(figure_table(&summary.headline, true));
    doc.heading(format!(
        "Paired differences against {}",
        summary.designs.first().map_or("", String::as_str)
    ));
    doc.table(figure_table(&summary.paired, true));
    doc
}

/// In transit by design (every payment, then cheques), the designs'
/// timelines, and the participants that used most liquidity.
fn compare_charts(summary: &CompareSummary) -> Vec<Chart> {
    let study = &summary.study;
    let all: Vec<(String, &FlowReport)> = summary
        .rows
        .iter()
        .map(|r| (r.design.clone(), &r.all))
        .collect();
    let cheque_by_design: Vec<(String, &FlowReport)> = summary
        .rows
        .iter()
        .filter_map(|r| {
            r.instruments
                .iter()
                .find(|f| study.is_cheque(&f.name))
                .map(|f| (format!("{}: {}", r.design, f.name), &f.flow))
        })
        .collect();
    let mut charts = vec![percentile_chart(
        "Funds in transit by design, every payment",
        &all,
    )];
    if !cheque_by_design.is_empty() {
        charts.push(percentile_chart(
            "Funds in transit of cheques by design",
            &cheque_by_design,
        ));
    }
    let timelines: Vec<_> = summary
        .rows
        .iter()
        .map(|r| (r.design.clone(), &r.all.timeline))
        .collect();
    charts.extend(timeline_charts(
        &timelines,
        days_pooled(summary),
        &summary.study.day_end,
    ));
    let used: Vec<(String, Vec<i64>)> = summary
        .rows
        .iter()
        .map(|r| {
            (
                r.design.clone(),
                r.liquidity_used_by_participant_fen.clone(),
            )
        })
        .collect();
    charts.push(liquidity_dots(study, &used, 20));
    charts
}

/// report.md, the CSV tables and report.html of a compare.
pub fn compare_files(summary: &CompareSummary) -> ReportFiles {
    let [markdown, html] = compare_document(summary).files();
    let mut all_figures = summary.headline.clone();
    all_figures.extend(summary.paired.iter().cloned());
    vec![
        markdown,
        ("compare.csv", compare_frame(summary).csv().into_bytes()),
        (
            "instruments.csv",
            instrument_frame(summary).csv().into_bytes(),
        ),
        (
            "participants.csv",
            participant_frame(summary).csv().into_bytes(),
        ),
        ("figures.csv", figure_frame(&all_figures).csv().into_bytes()),
        html,
    ]
}
