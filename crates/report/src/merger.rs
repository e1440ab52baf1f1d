//! `replay --merge A,B`: the day as it settled, beside the same payments
//! with two participants merged into one account — the liquidity it
//! needs, the delay, and the flows between the two that no longer pass
//! through the system (internalised).

use clearsim_core::format::{grouped, millis, money_short, yuan};
use clearsim_model::csvout::CsvOut;
use clearsim_model::metrics::DelayStats;
use clearsim_model::metrics::estimate::{Estimate, Range, estimate, estimate_within};
use clearsim_model::replay::RunFigures;

use crate::ReportFiles;
use crate::chart::{Chart, Dots};
use crate::document::Document;
use crate::table::Table;

/// One side's figures, per the day: the replay's own (as `run` states
/// them, and its delays), with the file's payments and the internalised
/// ones beside.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Side {
    /// Every payment of the file: settled + unsettled + carried +
    /// internalised.
    pub payments: u64,
    pub value_fen: i64,
    /// Payments between the merged two: book entries of one bank.
    pub internalised: u64,
    pub internalised_value_fen: i64,
    /// What passed through the system: settled, unsettled and carried,
    /// the liquidity bounds and liquidity used.
    pub run: RunFigures,
    pub delay_ms: DelayStats,
    pub delay_indicator: f64,
}

/// The merger and its baseline, and what they are.
pub struct Merger {
    /// (surviving id, merged id).
    pub pair: (String, String),
    pub baseline: Side,
    pub merged: Side,
}

/// merger.csv, merger.md and merger.html.
pub fn merger_files(merger: &Merger, context: Vec<String>) -> ReportFiles {
    let doc = document(merger, context);
    vec![("merger.csv", csv(merger))]
        .into_iter()
        .chain(doc.files_as("merger.md", "merger.html"))
        .collect()
}

/// A figure of merger.csv: its name, unit and how a side holds it.
type Figure = (&'static str, &'static str, fn(&Side) -> f64);

/// (figure, unit, baseline, merged) in the report's order.
fn figures(before: &Side, after: &Side) -> Vec<(&'static str, &'static str, f64, f64)> {
    let rows: [Figure; 17] = [
        ("payments", "count", |s| s.payments as f64),
        ("value", "fen", |s| s.value_fen as f64),
        ("settled", "count", |s| s.run.settled as f64),
        ("settled_value", "fen", |s| s.run.settled_value_fen as f64),
        ("unsettled", "count", |s| s.run.unsettled as f64),
        ("unsettled_value", "fen", |s| {
            s.run.unsettled_value_fen as f64
        }),
        ("carried", "count", |s| s.run.carried as f64),
        ("carried_value", "fen", |s| s.run.carried_value_fen as f64),
        ("internalised", "count", |s| s.internalised as f64),
        ("internalised_value", "fen", |s| {
            s.internalised_value_fen as f64
        }),
        ("lower_bound", "fen", |s| s.run.lower_bound_fen as f64),
        ("upper_bound", "fen", |s| s.run.upper_bound_fen as f64),
        ("liquidity_used", "fen", |s| s.run.liquidity_used_fen as f64),
        ("delay_mean", "ms", |s| s.delay_ms.mean as f64),
        ("delay_p99", "ms", |s| s.delay_ms.p99 as f64),
        ("delay_max", "ms", |s| s.delay_ms.max as f64),
        ("delay_indicator", "share", |s| s.delay_indicator),
    ];
    rows.iter()
        .map(|&(name, unit, of)| (name, unit, of(before), of(after)))
        .collect()
}

/// merger.csv: a row per figure (`header` names the columns, `date`
/// leads each row when given), or per date and figure.
fn write_csv<'a>(
    header: &[&str],
    rows: impl Iterator<Item = (Option<&'a str>, Vec<(&'static str, &'static str, f64, f64)>)>,
) -> Vec<u8> {
    let mut out = CsvOut::new(Vec::new());
    let write = || -> std::io::Result<()> {
        out.row(header)?;
        for (date, figures) in rows {
            for (name, unit, before, after) in figures {
                if let Some(date) = date {
                    out.text(date)?;
                }
                out.text(name)?;
                out.text(unit)?;
                for v in [before, after, after - before] {
                    out.text(v.to_string())?;
                }
                out.end()?;
            }
        }
        Ok(())
    };
    // Writing to a vector cannot fail.
    let _ = write();
    out.into_bytes()
}

fn csv(merger: &Merger) -> Vec<u8> {
    let rows = figures(&merger.baseline, &merger.merged);
    write_csv(
        &["figure", "unit", "baseline", "merged", "change"],
        std::iter::once((None, rows)),
    )
}

fn shown(unit: &str, v: f64) -> String {
    match unit {
        "fen" => yuan(v.round() as i64),
        "ms" if v >= 0.0 => millis(v.round() as u64),
        "ms" => format!("−{}", millis((-v).round() as u64)),
        "share" => format!("{v:.4}"),
        // Counts: a mean over replications rounds to a whole payment.
        _ => grouped(v.round() as i128),
    }
}

fn document(merger: &Merger, context: Vec<String>) -> Document {
    let (into, from) = &merger.pair;
    let mut doc = Document::new(
        format!("clearsim merger: {from} merged into {into}, against the day as it settled"),
        context,
    );
    doc.note(format!(
        "The same payments twice, on the same day: as they settled, and with `{from}` and `{into}` one account (`{into}`, its opening balance and credit limit the two's sums). A payment between the two is then a book entry of one bank: internalised, it never enters the system. Every payment is counted once on each side: payments = settled + unsettled + carried + internalised, by count and by value (yuan, fen in merger.csv). The liquidity bounds are the system's, over its city participants: what it needs to settle everything by day end (lower) and on arrival (upper). The delays are those of the payments that pass through the system (an internalised one is paid at once, on the merged bank's books)."
    ));
    let mut table = Table::new(&["per day", "as it settled", "merged", "change"]);
    for (name, unit, before, after) in figures(&merger.baseline, &merger.merged) {
        let label = match unit {
            "fen" => format!("{} (yuan)", name.replace('_', " ")),
            _ => name.replace('_', " "),
        };
        table.rows.push(vec![
            label,
            shown(unit, before),
            shown(unit, after),
            shown(unit, after - before),
        ]);
    }
    doc.table(table);
    doc
}

/// A dated file's merger: per business day, (date, as settled, merged).
pub struct MergerDays {
    pub pair: (String, String),
    pub days: Vec<(String, Side, Side)>,
}

/// merger.csv (a `date` column; the rows of `all`: totals over the days
/// of the counts and values), merger.md and merger.html (a row per day).
pub fn merger_days_files(merger: &MergerDays, context: Vec<String>) -> ReportFiles {
    let doc = days_document(merger, context);
    vec![("merger.csv", days_csv(merger))]
        .into_iter()
        .chain(doc.files_as("merger.md", "merger.html"))
        .collect()
}

/// The counts and values over every day, as one side (the other figures
/// are per day and have no total).
fn totals(days: &[(String, Side, Side)], of: fn(&(String, Side, Side)) -> &Side) -> Side {
    let mut total = Side::default();
    let add = |sum: &mut i64, fen: i64| *sum = sum.saturating_add(fen);
    for day in days {
        let s = of(day);
        total.payments += s.payments;
        add(&mut total.value_fen, s.value_fen);
        total.run.settled += s.run.settled;
        add(&mut total.run.settled_value_fen, s.run.settled_value_fen);
        total.run.unsettled += s.run.unsettled;
        add(
            &mut total.run.unsettled_value_fen,
            s.run.unsettled_value_fen,
        );
        total.run.carried += s.run.carried;
        add(&mut total.run.carried_value_fen, s.run.carried_value_fen);
        total.internalised += s.internalised;
        add(&mut total.internalised_value_fen, s.internalised_value_fen);
    }
    total
}

/// Figures with a total over days: counts and values.
const TOTALLED: usize = 10;

fn days_csv(merger: &MergerDays) -> Vec<u8> {
    let (before, after) = (
        totals(&merger.days, |d| &d.1),
        totals(&merger.days, |d| &d.2),
    );
    let per_day = merger
        .days
        .iter()
        .map(|(date, before, after)| (Some(date.as_str()), figures(before, after)));
    let all = (Some("all"), figures(&before, &after)[..TOTALLED].to_vec());
    write_csv(
        &["date", "figure", "unit", "baseline", "merged", "change"],
        per_day.chain([all]),
    )
}

fn days_document(merger: &MergerDays, context: Vec<String>) -> Document {
    let (into, from) = &merger.pair;
    let mut doc = Document::new(
        format!(
            "clearsim merger: {from} merged into {into}, day by day against the days as they settled"
        ),
        context,
    );
    doc.note(format!(
        "Each business day's payments twice: as they settled, and with `{from}` and `{into}` one account (`{into}`, the two's openings and credit limits summed). Payments between the two are internalised: book entries of one bank, outside the system. Per business day, each cell as settled → merged; the last row totals the counts and values over the days (bounds and delays have no total). On each side, payments = settled + unsettled + carried + internalised (merger.csv has every figure)."
    ));
    let mut table = Table::new(&[
        "business day",
        "payments",
        "internalised",
        "internalised (yuan)",
        "lower bound (yuan)",
        "upper bound (yuan)",
        "delay, mean",
        "unsettled (yuan)",
    ]);
    // As settled → merged, in short money (merger.csv has every fen).
    let money = |a: i64, b: i64| format!("{} → {}", money_short(a as f64), money_short(b as f64));
    for (date, before, after) in &merger.days {
        table.rows.push(vec![
            date.clone(),
            grouped(i128::from(before.payments)),
            grouped(i128::from(after.internalised)),
            money_short(after.internalised_value_fen as f64),
            money(before.run.lower_bound_fen, after.run.lower_bound_fen),
            money(before.run.upper_bound_fen, after.run.upper_bound_fen),
            format!(
                "{} → {}",
                millis(before.delay_ms.mean),
                millis(after.delay_ms.mean)
            ),
            money(
                before.run.unsettled_value_fen,
                after.run.unsettled_value_fen,
            ),
        ]);
    }
    let (before, after) = (
        totals(&merger.days, |d| &d.1),
        totals(&merger.days, |d| &d.2),
    );
    table.rows.push(vec![
        format!("all {} days (total)", merger.days.len()),
        grouped(i128::from(before.payments)),
        grouped(i128::from(after.internalised)),
        money_short(after.internalised_value_fen as f64),
        "—".into(),
        "—".into(),
        "—".into(),
        money(
            before.run.unsettled_value_fen,
            after.run.unsettled_value_fen,
        ),
    ]);
    doc.table(table);
    doc
}

/// `critical --merge A,B CONFIG`: per replication (its seed), the first
/// business day of the scenario's customer stream as it settles beside
/// the same payments merged.
pub struct MergerStudy {
    /// The scenario's name.
    pub scenario: String,
    pub pair: (String, String),
    /// (seed, as settled, merged), in seed order.
    pub replications: Vec<(u64, Side, Side)>,
}

/// A figure's three estimates over replications: as settled, merged, and
/// the paired change (merged − as settled, seed by seed).
struct Estimated {
    name: &'static str,
    unit: &'static str,
    baseline: Estimate,
    merged: Estimate,
    change: Estimate,
}

fn estimated(study: &MergerStudy) -> Vec<Estimated> {
    let per_seed: Vec<_> = study
        .replications
        .iter()
        .map(|(_, before, after)| figures(before, after))
        .collect();
    let Some(first) = per_seed.first() else {
        return Vec::new();
    };
    (0..first.len())
        .map(|k| {
            let column = |of: fn(f64, f64) -> f64| -> Vec<f64> {
                per_seed.iter().map(|f| of(f[k].2, f[k].3)).collect()
            };
            Estimated {
                name: first[k].0,
                unit: first[k].1,
                baseline: estimate_within(&column(|b, _| b), Range::NonNegative),
                merged: estimate_within(&column(|_, m| m), Range::NonNegative),
                change: estimate(&column(|b, m| m - b)),
            }
        })
        .collect()
}

/// What a merger study is, for its report's context: the scenario of
/// `config`, the replications and their first seed.
pub fn study_context(study: &MergerStudy, config: &str) -> Vec<String> {
    vec![format!(
        "{} ({config}): day 1 of {} replication(s), seeds {}…; clearsim {}. Definitions of every figure: {}.",
        study.scenario,
        study.replications.len(),
        study.replications.first().map_or(0, |r| r.0),
        env!("CARGO_PKG_VERSION"),
        crate::GLOSSARY
    )]
}

/// merger.csv (a row per seed and figure), merger-estimates.csv (a row
/// per figure: means and 95 % intervals over the replications),
/// merger.md and merger.html.
pub fn merger_study_files(study: &MergerStudy, context: Vec<String>) -> ReportFiles {
    let estimates = estimated(study);
    let doc = study_document(study, &estimates, context);
    let seeds: Vec<String> = study
        .replications
        .iter()
        .map(|(seed, ..)| seed.to_string())
        .collect();
    let rows = seeds
        .iter()
        .zip(&study.replications)
        .map(|(seed, (_, before, after))| (Some(seed.as_str()), figures(before, after)));
    vec![
        (
            "merger.csv",
            write_csv(
                &["seed", "figure", "unit", "baseline", "merged", "change"],
                rows,
            ),
        ),
        ("merger-estimates.csv", estimates_csv(&estimates)),
    ]
    .into_iter()
    .chain(doc.files_as("merger.md", "merger.html"))
    .collect()
}

fn estimates_csv(estimates: &[Estimated]) -> Vec<u8> {
    let mut out = CsvOut::new(Vec::new());
    let mut write = || -> std::io::Result<()> {
        out.row([
            "figure",
            "unit",
            "baseline_mean",
            "baseline_ci95_low",
            "baseline_ci95_high",
            "merged_mean",
            "merged_ci95_low",
            "merged_ci95_high",
            "change_mean",
            "change_ci95_low",
            "change_ci95_high",
            "replications",
        ])?;
        for e in estimates {
            out.text(e.name)?;
            out.text(e.unit)?;
            for estimate in [&e.baseline, &e.merged, &e.change] {
                crate::critical::write_estimate(&mut out, estimate)?;
            }
            out.int(e.change.n)?;
            out.end()?;
        }
        Ok(())
    };
    // Writing to a vector cannot fail.
    let _ = write();
    out.into_bytes()
}

/// The figures charted side by side: the money a merger moves.
const CHARTED_FIGURES: [&str; 5] = [
    "lower_bound",
    "upper_bound",
    "liquidity_used",
    "unsettled_value",
    "internalised_value",
];

fn study_document(study: &MergerStudy, estimates: &[Estimated], context: Vec<String>) -> Document {
    let (into, from) = &study.pair;
    let n = study.replications.len();
    let mut doc = Document::new(
        format!(
            "clearsim merger: {from} merged into {into}, on {n} replication(s) of the scenario's day 1"
        ),
        context,
    );
    doc.note(format!(
        "Each replication's day 1 of the customer stream (its seed's: the payments `generate --seed` writes) settled twice through the scenario's channels: as it is, and with `{from}` and `{into}` one account (`{into}`, the two's openings and credit limits summed). Payments between the two are internalised: book entries of one bank, outside the system. Every figure is per day (day 1 of a replication): the mean over the {n} replication(s), and the change as the mean of the seed-by-seed differences (paired: both sides settle the same payments) with its 95 % interval (Student's t; none for one replication). On each side, payments = settled + unsettled + carried + internalised, by count and value; merger.csv has every seed, merger-estimates.csv every interval. Cheques returned unpaid and banks' own release policies are a run's reactions, not part of the customer stream: they are not in the replay."
    ));
    let mut table = Table::new(&[
        "per day, mean over replications",
        "as it settled",
        "merged",
        "change",
        "change, 95 % CI",
    ]);
    for e in estimates {
        let label = match e.unit {
            "fen" => format!("{} (yuan)", e.name.replace('_', " ")),
            _ => e.name.replace('_', " "),
        };
        let ci = e.change.ci95.map_or("—".into(), |[low, high]| {
            format!("{} … {}", shown(e.unit, low), shown(e.unit, high))
        });
        table.rows.push(vec![
            label,
            shown(e.unit, e.baseline.mean),
            shown(e.unit, e.merged.mean),
            shown(e.unit, e.change.mean),
            ci,
        ]);
    }
    doc.table(table);
    let charted: Vec<&Estimated> = CHARTED_FIGURES
        .iter()
        .filter_map(|name| estimates.iter().find(|e| e.name == *name))
        .collect();
    let fen = |of: fn(&Estimated) -> f64| -> Vec<i64> {
        charted.iter().map(|e| of(e).round() as i64).collect()
    };
    doc.chart(Chart::Dots(Dots {
        title: format!("What merging {from} into {into} changes: the system's liquidity and what stays unsettled"),
        x_label: "yuan per day, mean over replications".into(),
        labels: charted.iter().map(|e| e.name.replace('_', " ")).collect(),
        series: vec![
            ("as it settled".into(), fen(|e| e.baseline.mean)),
            ("merged".into(), fen(|e| e.merged.mean)),
        ],
    }));
    doc
}

/// Schema of a merger study's summary.json.
pub const STUDY_SCHEMA: &str = "clearsim.merger-study.v1";

/// summary.json of a merger study: what was merged, in which scenario,
/// over which seeds, and every figure's estimates (per day: day 1 of a
/// replication).
pub fn merger_study_json(study: &MergerStudy, config: &str) -> Result<Vec<u8>, crate::ReportError> {
    use serde_json::json;
    let interval = |e: &Estimate| json!({"mean": e.mean, "ci95": e.ci95});
    let figures: Vec<serde_json::Value> = estimated(study)
        .iter()
        .map(|e| {
            json!({
                "figure": e.name,
                "unit": e.unit,
                "baseline": interval(&e.baseline),
                "merged": interval(&e.merged),
                "change": interval(&e.change),
            })
        })
        .collect();
    let document = json!({
        "schema": STUDY_SCHEMA,
        "clearsim_version": env!("CARGO_PKG_VERSION"),
        "scenario": study.scenario,
        "config": config,
        "into": study.pair.0,
        "merged": study.pair.1,
        "per": "day 1 of each replication",
        "seeds": study.replications.iter().map(|(seed, ..)| *seed).collect::<Vec<u64>>(),
        "figures": figures,
    });
    let mut bytes = serde_json::to_vec_pretty(&document).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    Ok(bytes)
}
