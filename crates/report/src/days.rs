//! A dated replay's files: several business days of one payments file,
//! each replayed as its own day (docs/semantics.md, "Several days").
//! Every per-day figure is labelled as such; totals say "over the days".

use clearsim_core::format::yuan;
use clearsim_core::time::SimTime;
use clearsim_model::csvout::CsvOut;
use clearsim_model::input::Day;
use clearsim_model::metrics::UNSETTLED;
use clearsim_model::replay::Replay;

use crate::ReplaySummary;
use crate::chart::{Bars, Chart, Dots};
use crate::document::Document;
use crate::table::Table;

/// The schema of a dated replay's summary.json.
pub const DAYS_SCHEMA: &str = "clearsim.replay-days.v1";

/// One replayed business day: its date, its rows of the file (the first
/// `carried` of them earlier days' payments still queued), its
/// participants' openings and limits, its outcome and its summary.
pub struct DayOutcome {
    pub date: String,
    pub rows: DayRows,
    /// Payments of earlier days that arrived queued at 00:00.
    pub carried: usize,
    /// Payments unsettled at the day's end that stay queued into the next
    /// day (`--carry-queue`; 0 without it).
    pub overnight: usize,
    pub opening_fen: Vec<i64>,
    pub credit_limit_fen: Vec<i64>,
    pub replay: Replay,
    pub summary: ReplaySummary,
}

/// A day's rows of the file, in the day's order.
pub enum DayRows {
    /// Any rows (the first ones carried from earlier days).
    Listed(Vec<u32>),
    /// The rows of a day read whole in a file in date order: a span.
    Span(std::ops::Range<u32>),
}

impl DayRows {
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        let (listed, span) = match self {
            DayRows::Listed(rows) => (&rows[..], 0..0),
            DayRows::Span(span) => (&[][..], span.clone()),
        };
        listed.iter().copied().chain(span)
    }
}

/// What a dated replay ran, for its summary and report.
pub struct DaysRun<'a> {
    pub strategy: &'a str,
    pub participants_file: &'a str,
    pub payments_file: &'a str,
    pub openings_file: Option<&'a str>,
    pub carry_balances: bool,
    pub carry_queue: bool,
}

/// Where each payment of the file ended: (day, index in the day) of the
/// last day it was in (a payment queued overnight is in several).
fn final_places(whole: &Day, days: &[DayOutcome]) -> Vec<(u32, u32)> {
    let mut place = vec![(0u32, 0u32); whole.payments.len()];
    for (d, day) in days.iter().enumerate() {
        for (i, row) in day.rows.iter().enumerate() {
            place[row as usize] = (d as u32, i as u32);
        }
    }
    place
}

/// settlements.csv: `date,id,status,settle,delay_ms`, one row per
/// payment in the file's row order; with `--carry-queue`,
/// `date,id,status,settle_date,settle,delay_ms`, the delay running across
/// the nights between the payment's date and its settlement's. Written
/// as a stream: a month's table is never held whole.
pub fn write_settlements_csv<W: std::io::Write>(
    to: W,
    whole: &Day,
    run: &DaysRun<'_>,
    days: &[DayOutcome],
) -> std::io::Result<W> {
    let payments = &whole.payments;
    let place = final_places(whole, days);
    // Each date's day number once, not once a row.
    let number = |date: &str| clearsim_model::input::day_number(date).unwrap_or(0);
    let own_day: Vec<i64> = payments.dates.iter().map(|d| number(d)).collect();
    let settle_day: Vec<i64> = days.iter().map(|d| number(&d.date)).collect();
    let mut out = CsvOut::new(to);
    if run.carry_queue {
        out.row(["date", "id", "status", "settle_date", "settle", "delay_ms"])?;
    } else {
        write_settlements_header(&mut out)?;
    }
    let unsettled: &[&str] = if run.carry_queue {
        &["unsettled", "", "", ""]
    } else {
        &["unsettled", "", ""]
    };
    for (row, &(d, i)) in place.iter().enumerate() {
        let day = &days[d as usize];
        let own = usize::from(payments.date[row]);
        out.text(&payments.dates[own])?;
        out.text(payments.id(row))?;
        let at = day.replay.settle[i as usize];
        if at == UNSETTLED {
            out.row(unsettled)?;
            continue;
        }
        out.text("settled")?;
        if run.carry_queue {
            out.text(&day.date)?;
        }
        out.time(SimTime(at))?;
        let nights_ms = (settle_day[d as usize] - own_day[own]) * 86_400_000;
        out.int(nights_ms + i64::from(at) - i64::from(payments.submit[row].ms()))?;
        out.end()?;
    }
    out.finish()
}

/// The header of settlements.csv without `--carry-queue`, as
/// [`write_settlements_csv`] writes it.
pub fn write_settlements_header<W: std::io::Write>(out: &mut CsvOut<W>) -> std::io::Result<()> {
    out.row(["date", "id", "status", "settle", "delay_ms"])
}

/// One day's rows of settlements.csv without `--carry-queue`, when its
/// rows follow the days before it in the file (a file in date order): the
/// rows [`write_settlements_csv`] writes for them, as soon as the day is
/// replayed. `day` is the day as replayed, `settle` its outcome.
pub fn write_day_settlements<W: std::io::Write>(
    out: &mut CsvOut<W>,
    date: &str,
    day: &Day,
    settle: &[u32],
) -> std::io::Result<()> {
    let payments = &day.payments;
    for (row, &at) in settle.iter().enumerate() {
        out.text(date)?;
        out.text(payments.id(row))?;
        if at == UNSETTLED {
            out.row(["unsettled", "", ""])?;
            continue;
        }
        out.text("settled")?;
        out.time(SimTime(at))?;
        out.int(i64::from(at) - i64::from(payments.submit[row].ms()))?;
        out.end()?;
    }
    Ok(())
}

/// balances.csv: `date,id,opening_balance,closing_balance,min_balance`,
/// each day's participants in index order.
pub fn balances_csv(whole: &Day, days: &[DayOutcome]) -> Vec<u8> {
    let ids = &whole.participants.ids;
    let mut out = CsvOut::new(Vec::new());
    let mut write = || -> std::io::Result<()> {
        out.row([
            "date",
            "id",
            "opening_balance",
            "closing_balance",
            "min_balance",
        ])?;
        for day in days {
            for (i, id) in ids.iter().enumerate() {
                out.text(&day.date)?;
                out.text(id)?;
                out.int(day.opening_fen[i])?;
                out.int(day.replay.closing_fen[i])?;
                out.int(day.replay.min_balance_fen[i])?;
                out.end()?;
            }
        }
        Ok(())
    };
    // Writing to a vector cannot fail.
    let _ = write();
    out.into_bytes()
}

const DAYS_HEADER: [&str; 19] = [
    "date",
    "payments",
    "from_previous_day",
    "into_next_day",
    "value_fen",
    "settled",
    "settled_value_fen",
    "unsettled",
    "unsettled_value_fen",
    "carried",
    "carried_value_fen",
    "opening_total_fen",
    "liquidity_used_fen",
    "lower_bound_fen",
    "upper_bound_fen",
    "delay_ms_p50",
    "delay_ms_p99",
    "delay_ms_mean",
    "delay_indicator",
];

/// days.csv: one row of per-day figures a business day.
pub fn days_csv(days: &[DayOutcome]) -> Vec<u8> {
    let mut out = CsvOut::new(Vec::new());
    let mut write = || -> std::io::Result<()> {
        out.row(DAYS_HEADER)?;
        for day in days {
            let (s, run) = (
                &day.summary.summary,
                day.summary.as_run.clone().unwrap_or_default(),
            );
            out.text(&day.date)?;
            out.int(s.payments)?;
            out.int(day.carried)?;
            out.int(day.overnight)?;
            out.int(s.value)?;
            out.int(run.settled)?;
            out.int(run.settled_value_fen)?;
            out.int(run.unsettled)?;
            out.int(run.unsettled_value_fen)?;
            out.int(run.carried)?;
            out.int(run.carried_value_fen)?;
            out.int(day.opening_fen.iter().sum::<i64>())?;
            out.int(run.liquidity_used_fen)?;
            out.int(run.lower_bound_fen)?;
            out.int(run.upper_bound_fen)?;
            out.int(s.delay_ms.p50)?;
            out.int(s.delay_ms.p99)?;
            out.int(s.delay_ms.mean)?;
            out.text(s.delay_indicator.to_string())?;
            out.end()?;
        }
        Ok(())
    };
    // Writing to a vector cannot fail.
    let _ = write();
    out.into_bytes()
}

/// summary.json of a dated replay: what was run, each day's replay
/// summary (`days`, per day), and counts and values summed over the days
/// (`total_over_days`).
pub fn summary_json(
    whole: &Day,
    run: &DaysRun<'_>,
    days: &[DayOutcome],
) -> Result<Vec<u8>, crate::ReportError> {
    use serde_json::{Value, json};
    let per_day = days
        .iter()
        .map(day_json)
        .collect::<Result<Vec<Value>, _>>()?;
    let total = if run.carry_queue {
        final_totals(whole, days)
    } else {
        summed_totals(days)
    };
    let names = [
        "payments",
        "value",
        "settled",
        "settled_value",
        "unsettled",
        "unsettled_value",
        "carried",
        "carried_value",
    ];
    let total: serde_json::Map<String, Value> = names
        .iter()
        .zip(total)
        // Within the file's Σ amounts, which the parser bounds by i64.
        .map(|(name, sum)| {
            (
                (*name).to_string(),
                json!(i64::try_from(sum).unwrap_or(i64::MAX)),
            )
        })
        .collect();
    let document = json!({
        "schema": DAYS_SCHEMA,
        "clearsim_version": env!("CARGO_PKG_VERSION"),
        "strategy": run.strategy,
        "day_end": days.first().map(|d| d.summary.day_end.clone()).unwrap_or_default(),
        "participants_file": run.participants_file,
        "payments_file": run.payments_file,
        "openings_file": run.openings_file,
        "carry_balances": run.carry_balances,
        "carry_queue": run.carry_queue,
        "business_days": days.len(),
        "total_over_days": total,
        "days": per_day,
    });
    let mut bytes = serde_json::to_vec_pretty(&document).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// One day's replay summary, without what the whole run states once.
fn day_json(day: &DayOutcome) -> Result<serde_json::Value, crate::ReportError> {
    let bytes = crate::to_json(&day.summary).map_err(std::io::Error::other)?;
    let mut value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(std::io::Error::other)?;
    if let serde_json::Value::Object(map) = &mut value {
        for key in [
            "schema",
            "clearsim_version",
            "strategy",
            "day_end",
            "participants_file",
            "payments_file",
        ] {
            map.remove(key);
        }
        map.insert("date".into(), serde_json::json!(day.date));
    }
    Ok(value)
}

/// Without `--carry-queue` every payment is in one day: the days' counts
/// and values add up.
fn summed_totals(days: &[DayOutcome]) -> [i128; 8] {
    let mut total = [0i128; 8];
    for day in days {
        let (s, r) = (
            &day.summary.summary,
            day.summary.as_run.clone().unwrap_or_default(),
        );
        let counts = [
            i128::from(s.payments),
            i128::from(s.value),
            i128::from(r.settled),
            i128::from(r.settled_value_fen),
            i128::from(r.unsettled),
            i128::from(r.unsettled_value_fen),
            i128::from(r.carried),
            i128::from(r.carried_value_fen),
        ];
        for (sum, count) in total.iter_mut().zip(counts) {
            *sum += count;
        }
    }
    total
}

/// With `--carry-queue` a payment is in every day it waited: the totals
/// count each once, by where it ended (settled, or unsettled at the last
/// day's end).
fn final_totals(whole: &Day, days: &[DayOutcome]) -> [i128; 8] {
    let payments = &whole.payments;
    let mut total = [0i128; 8];
    for (row, &(d, i)) in final_places(whole, days).iter().enumerate() {
        let amount = i128::from(payments.amount_fen[row]);
        let settled = days[d as usize].replay.settle[i as usize] != UNSETTLED;
        total[0] += 1;
        total[1] += amount;
        let at = if settled { 2 } else { 4 };
        total[at] += 1;
        total[at + 1] += amount;
    }
    total
}

/// report.md and report.html: the per-day table and two per-day charts.
pub fn document(run: &DaysRun<'_>, days: &[DayOutcome]) -> Document {
    let first = days.first().map_or("", |d| d.date.as_str());
    let last = days.last().map_or("", |d| d.date.as_str());
    let context = vec![
        format!(
            "{} business day(s), {first} to {last}, of {} through {}; each day replayed on its own ({}).",
            days.len(),
            run.payments_file,
            run.strategy,
            if run.carry_balances {
                "openings carried from the previous day's closing balances"
            } else {
                "openings from the participants file every day"
            }
        ),
        format!(
            "clearsim {}. Every figure is per business day. Definitions: {}.",
            env!("CARGO_PKG_VERSION"),
            crate::GLOSSARY
        ),
    ];
    let mut doc = Document::new("clearsim replay: business days", context);
    let mut table = Table::new(&[
        "date",
        "payments",
        "settled",
        "unsettled",
        "carried",
        "unsettled value (yuan)",
        "openings (yuan)",
        "liquidity used (yuan)",
        "delay p99",
        "delay indicator",
    ]);
    for day in days {
        let (s, r) = (
            &day.summary.summary,
            day.summary.as_run.clone().unwrap_or_default(),
        );
        table.rows.push(vec![
            day.date.clone(),
            s.payments.to_string(),
            r.settled.to_string(),
            r.unsettled.to_string(),
            r.carried.to_string(),
            yuan(r.unsettled_value_fen),
            yuan(day.opening_fen.iter().sum()),
            yuan(r.liquidity_used_fen),
            clearsim_core::format::millis(s.delay_ms.p99),
            format!("{:.4}", s.delay_indicator),
        ]);
    }
    doc.heading("Per business day");
    doc.table(table);
    doc.chart(value_chart(days));
    doc.chart(liquidity_chart(days));
    doc
}

fn value_chart(days: &[DayOutcome]) -> Chart {
    let bars = days
        .iter()
        .map(|day| {
            let r = day.summary.as_run.clone().unwrap_or_default();
            let parts = vec![
                ("settled".to_string(), r.settled_value_fen as f64),
                ("carried".to_string(), r.carried_value_fen as f64),
                ("unsettled".to_string(), r.unsettled_value_fen as f64),
            ];
            (day.date.clone(), parts)
        })
        .collect();
    Chart::Bars(Bars {
        title: "Value of each business day's payments: settled, carried and unsettled".into(),
        x_label: "value of the day's payments (yuan, per day)".into(),
        bars,
    })
}

fn liquidity_chart(days: &[DayOutcome]) -> Chart {
    let figure = |f: fn(&clearsim_model::replay::RunFigures) -> i64| {
        days.iter()
            .map(|d| f(&d.summary.as_run.clone().unwrap_or_default()))
            .collect::<Vec<i64>>()
    };
    Chart::Dots(Dots {
        title: "Liquidity each business day: used, and the day's lower and upper bounds".into(),
        x_label: "liquidity (yuan, per day)".into(),
        labels: days.iter().map(|d| d.date.clone()).collect(),
        series: vec![
            ("lower bound".into(), figure(|r| r.lower_bound_fen)),
            ("used".into(), figure(|r| r.liquidity_used_fen)),
            ("upper bound".into(), figure(|r| r.upper_bound_fen)),
        ],
    })
}
