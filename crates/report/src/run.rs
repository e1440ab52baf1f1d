//! The reports of a `clearsim run` summary: the terminal and markdown
//! tables, CSV files of plain numbers, and the HTML page.

use super::chart::{Axis, Chart, Dots, Lines, Series};
use super::document::Document;
use super::table::{Cell, Frame, Table};
use super::{ReportFiles, context_lines, figure_frame, figure_table};
use clearsim_core::format::{grouped, millis, yuan};
use clearsim_model::metrics::flow::{FlowCounts, FlowReport, Timeline};
use clearsim_study::summary::{NamedFlow, RunSummary, SeedDay, StudyMeta};

/// A part of a flow's value as a display percentage of all of it (the
/// three parts — settled, carried, unsettled — add to 100).
pub(crate) fn pct_of_value(part_fen: i64, flow: &FlowReport) -> String {
    let value = flow.counts.value_fen;
    if value <= 0 {
        return "—".into();
    }
    format!("{:.2}", 100.0 * part_fen as f64 / value as f64)
}

/// The table of flows: the terminal, markdown and HTML all show this one.
/// Every payment is in one of its three parts: settled, carried (waiting
/// for a session after the last day: its in-transit time is not in the
/// figures) or unsettled (failed at the day end).
pub fn flow_table(flows: &[NamedFlow], days: u64) -> Table {
    let mut table = Table::new(&[
        "flow",
        "route",
        "payments per day",
        "value per day (yuan)",
        "settled %",
        "carried %",
        "unsettled %",
        "in-transit p50",
        "p99",
        "value-weighted mean",
    ]);
    for row in flows {
        let f = &row.flow;
        let c = &f.counts;
        let t = &f.in_transit_ms;
        table.rows.push(vec![
            row.name.clone(),
            row.route.clone(),
            per_day(c.payments, days),
            per_day_yuan(c.value_fen, days),
            pct_of_value(c.settled_value_fen, f),
            pct_of_value(c.carried_value_fen, f),
            pct_of_value(c.unsettled_value_fen, f),
            millis(t.stats.p50),
            millis(t.stats.p99),
            millis(t.value_weighted_mean),
        ]);
    }
    table
}

/// A count over `days` business days as a mean day, rounded.
pub fn per_day(count: u64, days: u64) -> String {
    let days = days.max(1);
    grouped(i128::from((count + days / 2) / days))
}

/// A value over `days` business days as a mean day, in yuan.
pub fn per_day_yuan(value_fen: i64, days: u64) -> String {
    let days = i64::try_from(days.max(1)).unwrap_or(i64::MAX);
    yuan((value_fen + days / 2) / days)
}

/// Business days a summary's flows pool: every replication's.
pub fn days_pooled(replications: usize, days: u32) -> u64 {
    replications.max(1) as u64 * u64::from(days.max(1))
}

/// The flows' secondary figures: counts of the three parts, the tail, the
/// queues and the scheduled runs.
pub fn flow_detail_table(flows: &[NamedFlow], days: u64) -> Table {
    let mut table = Table::new(&[
        "flow",
        "settled per day",
        "carried per day",
        "unsettled per day",
        "in-transit max",
        "delay indicator",
        "peak queue, largest (yuan)",
        "scheduled runs per day (settling)",
        "settled by runs per day (yuan)",
    ]);
    for row in flows {
        let f = &row.flow;
        let c = &f.counts;
        let (runs, by_runs) = match &row.events {
            Some(e) => (
                format!(
                    "{} ({})",
                    per_day(e.runs, days),
                    per_day(e.runs_settling, days)
                ),
                per_day_yuan(e.settled_by_runs_value_fen, days),
            ),
            None => (String::new(), String::new()),
        };
        table.rows.push(vec![
            row.name.clone(),
            per_day(c.settled, days),
            per_day(c.carried, days),
            per_day(c.unsettled, days),
            millis(f.in_transit_ms.stats.max),
            format!("{:.4}", f.delay_indicator),
            yuan(c.peak_queued_value_fen),
            runs,
            by_runs,
        ]);
    }
    table
}

/// The same flows as plain numbers.
pub fn flow_frame(flows: &[NamedFlow], first: &[(&str, String)]) -> Frame {
    let mut columns: Vec<&str> = first.iter().map(|(c, _)| *c).collect();
    columns.extend([
        "flow",
        "route",
        "payments",
        "value_fen",
        "settled",
        "settled_value_fen",
        "unsettled",
        "unsettled_value_fen",
        "carried",
        "carried_value_fen",
        "dishonoured",
        "in_transit_p50_ms",
        "in_transit_p90_ms",
        "in_transit_p99_ms",
        "in_transit_p999_ms",
        "in_transit_max_ms",
        "in_transit_mean_ms",
        "in_transit_value_weighted_mean_ms",
        "delay_indicator",
        "peak_queued",
        "peak_queued_value_fen",
        "scheduled_runs",
        "scheduled_runs_settling",
        "settled_by_runs",
        "settled_by_runs_value_fen",
        "released_after_runs",
        "released_after_runs_value_fen",
    ]);
    let mut frame = Frame::new(&columns);
    for row in flows {
        let f = &row.flow;
        let c = &f.counts;
        let t = &f.in_transit_ms;
        let e = row.events.as_ref();
        let mut cells: Vec<Cell> = first.iter().map(|(_, v)| Cell::from(v.as_str())).collect();
        cells.extend([
            Cell::from(row.name.as_str()),
            Cell::from(row.route.as_str()),
            c.payments.into(),
            c.value_fen.into(),
            c.settled.into(),
            c.settled_value_fen.into(),
            c.unsettled.into(),
            c.unsettled_value_fen.into(),
            c.carried.into(),
            c.carried_value_fen.into(),
            c.dishonoured.into(),
            t.stats.p50.into(),
            t.stats.p90.into(),
            t.stats.p99.into(),
            t.stats.p999.into(),
            t.stats.max.into(),
            t.stats.mean.into(),
            t.value_weighted_mean.into(),
            f.delay_indicator.into(),
            c.peak_queued.into(),
            c.peak_queued_value_fen.into(),
            e.map(|e| e.runs).into(),
            e.map(|e| e.runs_settling).into(),
            e.map(|e| e.settled_by_runs).into(),
            e.map(|e| e.settled_by_runs_value_fen).into(),
            e.map(|e| e.released_after_runs).into(),
            e.map(|e| e.released_after_runs_value_fen).into(),
        ]);
        frame.push(cells);
    }
    frame
}

/// Per (seed, day): the value carried into it from the day before (the
/// previous day's carried value, same seed), so that a day's arrivals and
/// what was carried in equal what settled, failed and was carried on.
fn carried_in(days: &[SeedDay]) -> Vec<i64> {
    let mut out = Vec::with_capacity(days.len());
    let mut previous: Option<&SeedDay> = None;
    for day in days {
        out.push(match previous {
            Some(p) if p.seed == day.seed && p.report.day + 1 == day.report.day => {
                p.report.carried_value_fen
            }
            _ => 0,
        });
        previous = Some(day);
    }
    out
}

/// Per seed and day: value, what settled, liquidity and the night after.
pub fn day_table(days: &[SeedDay]) -> Table {
    let mut table = Table::new(&[
        "seed",
        "day",
        "payments",
        "value (yuan)",
        "carried in (yuan)",
        "settled %",
        "carried to next day (yuan)",
        "opening (yuan)",
        "liquidity used",
        "lower bound",
        "upper bound",
        "overnight borrowing",
        "restored in",
        "restored out",
    ]);
    for (SeedDay { seed, report: d }, carried_in) in days.iter().zip(carried_in(days)) {
        // The glossary's share: of what was due that day, its own
        // arrivals and the payments carried into it.
        let due = i128::from(d.value_fen) + i128::from(carried_in);
        let share = if due > 0 {
            format!("{:.3}", 100.0 * d.settled_value_fen as f64 / due as f64)
        } else {
            "—".into()
        };
        table.rows.push(vec![
            seed.to_string(),
            d.day.to_string(),
            grouped(i128::from(d.payments)),
            yuan(d.value_fen),
            yuan(carried_in),
            share,
            yuan(d.carried_value_fen),
            yuan(d.opening_total_fen),
            yuan(d.liquidity_used_fen),
            yuan(d.lower_bound_fen),
            yuan(d.upper_bound_fen),
            yuan(d.overnight.borrowed_fen),
            yuan(d.overnight.restored_in_fen),
            yuan(d.overnight.restored_out_fen),
        ]);
    }
    table
}

fn day_frame(days: &[SeedDay]) -> Frame {
    let mut frame = Frame::new(&[
        "seed",
        "day",
        "payments",
        "value_fen",
        "carried_in_value_fen",
        "settled_value_fen",
        "unsettled_value_fen",
        "carried_value_fen",
        "opening_total_fen",
        "liquidity_used_fen",
        "lower_bound_fen",
        "upper_bound_fen",
        "banks_short_of_need",
        "withdrawn_fen",
        "injected_fen",
        "closing_total_fen",
        "overnight_borrowed_fen",
        "overnight_cost_fen",
        "restored_in_fen",
        "restored_out_fen",
    ]);
    for (SeedDay { seed, report: d }, carried_in) in days.iter().zip(carried_in(days)) {
        frame.push(vec![
            (*seed).into(),
            d.day.into(),
            d.payments.into(),
            d.value_fen.into(),
            carried_in.into(),
            d.settled_value_fen.into(),
            d.unsettled_value_fen.into(),
            d.carried_value_fen.into(),
            d.opening_total_fen.into(),
            d.liquidity_used_fen.into(),
            d.lower_bound_fen.into(),
            d.upper_bound_fen.into(),
            d.banks_short_of_need.into(),
            d.withdrawn_fen.into(),
            d.injected_fen.into(),
            d.overnight.closing_total_fen.into(),
            d.overnight.borrowed_fen.into(),
            d.overnight.cost_fen.into(),
            d.overnight.restored_in_fen.into(),
            d.overnight.restored_out_fen.into(),
        ]);
    }
    frame
}

const COST_NOTE: &str = "Means per business day over every seed and day, in yuan, by the scenario's [costs] (docs/equilibria.md, \"Costs\"). Banks by total cost, largest first.";

/// Each bank's costs per day by component, largest total first; `None`
/// without `[costs]`.
fn cost_table(summary: &RunSummary) -> Option<Table> {
    let mut rows: Vec<(&str, clearsim_model::bank::costs::CostBreakdown)> = summary
        .per_participant
        .iter()
        .filter_map(|p| Some((p.id.as_str(), p.cost_per_day?)))
        .collect();
    if rows.is_empty() {
        return None;
    }
    rows.sort_by(|a, b| b.1.total_fen().total_cmp(&a.1.total_fen()));
    let mut table = Table::new(&[
        "bank",
        "liquidity",
        "credit",
        "delay",
        "unsettled",
        "overnight",
        "total",
    ]);
    let mut sum = clearsim_model::bank::costs::CostBreakdown::default();
    for (id, cost) in &rows {
        sum.add(cost);
        let mut row = vec![id.to_string()];
        row.extend(cost.components().iter().map(|(_, v)| yuan_2(*v)));
        row.push(yuan_2(cost.total_fen()));
        table.rows.push(row);
    }
    let mut row = vec!["all banks".to_string()];
    row.extend(sum.components().iter().map(|(_, v)| yuan_2(*v)));
    row.push(yuan_2(sum.total_fen()));
    table.rows.push(row);
    Some(table)
}

/// Fen (fractional: a valuation) as yuan with two decimals, grouped.
fn yuan_2(fen: f64) -> String {
    yuan(fen.round().clamp(-9e18, 9e18) as i64)
}

/// Per-day cost columns of the participants' table, with `[costs]`.
const COST_COLUMNS: [&str; 6] = [
    "cost_liquidity_fen_per_day",
    "cost_credit_fen_per_day",
    "cost_delay_fen_per_day",
    "cost_unsettled_fen_per_day",
    "cost_overnight_fen_per_day",
    "cost_total_fen_per_day",
];

fn participant_frame(summary: &RunSummary) -> Frame {
    let costs = summary
        .per_participant
        .iter()
        .any(|p| p.cost_per_day.is_some());
    let mut columns = vec![
        "id",
        "name",
        "category",
        "opening_fen",
        "credit_limit_fen",
        "liquidity_used_fen",
        "overnight_borrowed_fen",
        "overnight_cost_fen",
    ];
    if costs {
        columns.extend(COST_COLUMNS);
    }
    let mut frame = Frame::new(&columns);
    for (i, p) in summary.per_participant.iter().enumerate() {
        let mut row: Vec<Cell> = vec![
            p.id.as_str().into(),
            p.name.as_str().into(),
            p.category.as_str().into(),
            p.opening_fen.into(),
            summary.study.credit_limit_fen.get(i).copied().into(),
            p.liquidity_used_fen.into(),
            p.overnight_borrowed_fen.into(),
            p.overnight_cost_fen.into(),
        ];
        if costs {
            match &p.cost_per_day {
                Some(c) => {
                    row.extend(c.components().iter().map(|(_, v)| Cell::from(*v)));
                    row.push(c.total_fen().into());
                }
                None => row.extend((0..COST_COLUMNS.len()).map(|_| Cell::Empty)),
            }
        }
        frame.push(row);
    }
    frame
}

/// The plan's question in one line: how much faster the electronic credit
/// transfer makes funds available than the cheque (value-weighted means of
/// in-transit time). `None` without both.
pub fn transit_headline(study: &StudyMeta, instruments: &[NamedFlow]) -> Option<String> {
    let cheque = instruments
        .iter()
        .find(|f| study.is_cheque(&f.name) && f.flow.counts.payments > 0)?;
    let transfer = instruments
        .iter()
        .find(|f| f.name == "transfer" && f.flow.counts.payments > 0)?;
    let slow = cheque.flow.in_transit_ms.value_weighted_mean as f64;
    let fast = transfer.flow.in_transit_ms.value_weighted_mean as f64;
    let cut = if slow > 0.0 {
        format!(
            " — {:.1} % less time in transit",
            100.0 * (1.0 - fast / slow)
        )
    } else {
        String::new()
    };
    Some(format!(
        "Funds in transit, value-weighted mean: electronic transfer {} vs cheque {}{cut}.",
        millis(fast as u64),
        millis(slow as u64),
    ))
}

/// Payments carried past a study's last day, worth saying: every flow
/// with at least 0.5 % of its value carried ("12.3 % of card value").
pub fn carried_past_end<'a>(
    flows: impl IntoIterator<Item = (&'a str, &'a FlowCounts)>,
) -> Option<String> {
    let parts: Vec<String> = flows
        .into_iter()
        .filter(|(_, c)| c.value_fen > 0)
        .filter_map(|(name, c)| {
            let share = c.carried_value_fen as f64 / c.value_fen as f64;
            (share >= 0.005).then(|| format!("{:.1} % of {name} value", 100.0 * share))
        })
        .collect();
    if parts.is_empty() {
        return None;
    }
    let verb = if parts.len() == 1 { "was" } else { "were" };
    Some(format!(
        "{} {verb} carried past the last day: its in-transit time is not in these figures (run more days to see it).",
        parts.join(", ")
    ))
}

/// A study of one replication, said plainly: its figures have no
/// interval, and a difference between designs may be noise.
pub fn one_seed_warning(seeds: usize) -> Option<String> {
    (seeds < 2).then(|| {
        "One replication: no figure here has a confidence interval, and a difference between designs or levels may be noise (run --replications 4 or more).".to_string()
    })
}

/// Each flow's name and counts, as [`carried_past_end`] reads them.
pub fn instrument_counts(flows: &[NamedFlow]) -> impl Iterator<Item = (&str, &FlowCounts)> {
    flows.iter().map(|f| (f.name.as_str(), &f.flow.counts))
}

/// A headline and a warning, as one box.
pub fn with_warning(headline: Option<String>, warning: Option<String>) -> Option<String> {
    match (headline, warning) {
        (Some(h), Some(w)) => Some(format!("{h} Caution: {w}")),
        (h, None) => h,
        (None, Some(w)) => Some(format!("Caution: {w}")),
    }
}

/// In-transit time by percentile, per flow, on a log time axis.
pub fn percentile_chart(title: &str, flows: &[(String, &FlowReport)]) -> Chart {
    let series: Vec<Series> = flows
        .iter()
        .filter_map(|(name, flow)| {
            let histogram = flow.histogram()?;
            if histogram.is_empty() {
                return None;
            }
            let mut points = Vec::new();
            let mut q = 0.0f64;
            // Steps even on the log(1/(1−q)) axis, to 99.99 %.
            while q <= 0.9999 {
                points.push((q, histogram.value_at_quantile(q) as f64));
                q = 1.0 - (1.0 - q) * 0.85;
            }
            points.push((0.9999, histogram.value_at_quantile(0.9999) as f64));
            Some(Series::line(name.clone(), points))
        })
        .collect();
    Chart::Lines(Lines {
        title: title.into(),
        x: Axis::Percentile,
        x_label: "percentile of payments".into(),
        y: Axis::LogDuration,
        y_label: "funds in transit (log scale)".into(),
        series,
    })
}

/// Value settled so far, and value queued or pending, through a mean
/// business day: the flows' timelines pool `days` business days (every
/// replication's), so each bucket is divided by them. The clock axis is
/// the whole business day, 00:00 to the day end, in every report: carried
/// payments and returns arrive at 00:00.
pub fn timeline_charts(flows: &[(String, &Timeline)], days: u64, day_end: &str) -> [Chart; 2] {
    let days = days.max(1) as f64;
    let end_ms = clearsim_core::time::SimTime::parse(day_end.as_bytes())
        .map_or(f64::from(clearsim_core::time::DAY_MS), |t| {
            f64::from(t.ms())
        });
    // Each bucket is drawn at its end, the last at the day end (a session
    // at the day end settles in the bucket that starts there).
    let at = |t: &Timeline, b: usize| ((b as f64 + 1.0) * f64::from(t.bucket_ms)).min(end_ms);
    let buckets = |t: &Timeline| {
        let starts_by_end = |&b: &usize| b as f64 * f64::from(t.bucket_ms) <= end_ms;
        (0..t.settled_value_fen.len())
            .take_while(starts_by_end)
            .collect::<Vec<usize>>()
    };
    let start = |name: &String| (name.clone(), vec![(0.0, 0.0)]);
    let settled: Vec<Series> = flows
        .iter()
        .map(|(name, t)| {
            let (name, mut points) = start(name);
            let mut total = 0i64;
            for b in buckets(t) {
                total = total.saturating_add(t.settled_value_fen[b]);
                points.push((at(t, b), total as f64 / days));
            }
            Series::line(name, points)
        })
        .collect();
    let queued: Vec<Series> = flows
        .iter()
        .map(|(name, t)| {
            let (name, mut points) = start(name);
            points.extend(
                buckets(t)
                    .into_iter()
                    .map(|b| (at(t, b), t.peak_queued_value_fen[b] as f64 / days)),
            );
            Series::line(name, points)
        })
        .collect();
    [
        Chart::Lines(Lines {
            title: "Value settled through a mean business day (cumulative)".into(),
            x: Axis::Clock,
            x_label: "time of day".into(),
            y: Axis::Money,
            y_label: "settled so far (yuan)".into(),
            series: settled,
        }),
        Chart::Lines(Lines {
            title: "Value queued or pending through a mean business day (peak in each 15 minutes)"
                .into(),
            x: Axis::Clock,
            x_label: "time of day".into(),
            y: Axis::Money,
            y_label: "queued or pending (yuan)".into(),
            series: queued,
        }),
    ]
}

/// The participants that used the most liquidity (any series), named.
pub fn liquidity_dots(study: &StudyMeta, series: &[(String, Vec<i64>)], top: usize) -> Chart {
    let count = study.participant_ids.len();
    let mut order: Vec<usize> = (0..count).collect();
    let most = |i: usize| {
        series
            .iter()
            .map(|(_, v)| v.get(i).copied().unwrap_or(0))
            .max()
    };
    order.sort_by_key(|&i| std::cmp::Reverse(most(i)));
    order.truncate(top);
    let labels: Vec<String> = order
        .iter()
        .map(|&i| study.participant_ids[i].clone())
        .collect();
    let picked: Vec<(String, Vec<i64>)> = series
        .iter()
        .map(|(name, v)| {
            (
                name.clone(),
                order
                    .iter()
                    .map(|&i| v.get(i).copied().unwrap_or(0))
                    .collect(),
            )
        })
        .collect();
    Chart::Dots(Dots {
        title: format!(
            "Liquidity used per participant: the {} that used most",
            labels.len()
        ),
        x_label: "liquidity used: opening balance − lowest balance (yuan)".into(),
        labels,
        series: picked,
    })
}

/// What the three parts of a flow's value are.
pub const PARTS_NOTE: &str = "Every payment is settled, carried or unsettled (counts and values per business day, a mean over every replication's days; the percentages are of value and add to 100). Carried: waiting for a session after the run's last day, so its in-transit time is not in these figures. Unsettled: failed at a day end.";

/// In transit, as the run's and compare's instrument tables measure it.
pub const IN_TRANSIT_NOTE: &str = "In transit: from the customer's order until the funds are available to the payee (for a cheque, once the paying bank can no longer return it).";

/// The report of a run, as one document.
pub fn run_document(summary: &RunSummary) -> Document {
    let study = &summary.study;
    let context = context_lines(
        study,
        &summary.seeds,
        summary.partial.as_ref(),
        "the scenario's own design",
    );
    let mut doc = Document::new(format!("clearsim run — {}", study.scenario), context);
    doc.headline = with_warning(
        transit_headline(study, &summary.instruments),
        carried_past_end(instrument_counts(&summary.instruments)),
    );
    doc.heading("Channels");
    doc.note(PARTS_NOTE);
    let days = days_pooled(summary.replications.len(), summary.study.days);
    doc.table(flow_table(&summary.channels, days));
    doc.heading("Instruments");
    doc.note(IN_TRANSIT_NOTE);
    doc.table(flow_table(&summary.instruments, days));
    doc.heading("Channels and instruments in detail");
    let mut detail = flow_detail_table(&summary.channels, days);
    detail
        .rows
        .extend(flow_detail_table(&summary.instruments, days).rows);
    doc.table(detail);
    for chart in run_charts(summary) {
        doc.chart(chart);
    }
    doc.heading("Figures over the replications");
    doc.table(figure_table(&summary.headline, false));
    if summary.per_day.len() > 1 {
        doc.chart(days_chart(&summary.per_day));
    }
    doc.heading("Days");
    doc.table(day_table(&summary.per_day));
    if let Some(costs) = cost_table(summary) {
        doc.heading("Costs per bank and business day");
        doc.note(COST_NOTE);
        doc.table(costs);
    }
    doc
}

/// In transit by instrument and by channel, the day's timelines, and the
/// participants that used most liquidity.
fn run_charts(summary: &RunSummary) -> Vec<Chart> {
    fn flows(list: &[NamedFlow]) -> Vec<(String, &FlowReport)> {
        list.iter().map(|f| (f.name.clone(), &f.flow)).collect()
    }
    let customer: Vec<NamedFlow> = summary
        .instruments
        .iter()
        .filter(|f| !f.name.ends_with(".return"))
        .cloned()
        .collect();
    let timelines: Vec<(String, &Timeline)> = summary
        .channels
        .iter()
        .map(|c| (c.name.clone(), &c.flow.timeline))
        .collect();
    let used: Vec<i64> = summary
        .per_participant
        .iter()
        .map(|p| p.liquidity_used_fen)
        .collect();
    let mut charts = vec![
        percentile_chart("Funds in transit by instrument", &flows(&customer)),
        percentile_chart("Funds in transit by channel", &flows(&summary.channels)),
    ];
    let days = days_pooled(summary.replications.len(), summary.study.days);
    charts.extend(timeline_charts(&timelines, days, &summary.study.day_end));
    charts.push(liquidity_dots(
        &summary.study,
        &[("liquidity used".to_string(), used)],
        20,
    ));
    charts
}

/// report.md, the CSV tables and report.html of a run.
pub fn run_files(summary: &RunSummary) -> ReportFiles {
    let [markdown, html] = run_document(summary).files();
    vec![
        markdown,
        (
            "channels.csv",
            flow_frame(&summary.channels, &[]).csv().into_bytes(),
        ),
        (
            "instruments.csv",
            flow_frame(&summary.instruments, &[]).csv().into_bytes(),
        ),
        ("days.csv", day_frame(&summary.per_day).csv().into_bytes()),
        (
            "participants.csv",
            participant_frame(summary).csv().into_bytes(),
        ),
        (
            "figures.csv",
            figure_frame(&summary.headline).csv().into_bytes(),
        ),
        html,
    ]
}

/// Share of value settled on each day, one line per seed.
fn days_chart(days: &[SeedDay]) -> Chart {
    let mut seeds: Vec<u64> = days.iter().map(|d| d.seed).collect();
    seeds.dedup();
    let series: Vec<Series> = seeds
        .iter()
        .map(|&seed| {
            Series::line(
                format!("seed {seed}"),
                days.iter()
                    .filter(|d| d.seed == seed)
                    .map(|d| (f64::from(d.report.day), d.report.settled_share()))
                    .collect(),
            )
        })
        .collect();
    Chart::Lines(Lines {
        title: "Share of the day's value settled, by day".into(),
        x: Axis::Count,
        x_label: "business day".into(),
        y: Axis::Share,
        y_label: "settled share of value".into(),
        series,
    })
}
