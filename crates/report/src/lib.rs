//! Formatting results: the replay's CSV and JSON files, and the reports
//! (markdown, CSV, HTML) of run, compare and sweep summaries, all written
//! atomically.

#![forbid(unsafe_code)]

pub mod chart;
pub mod compare;
pub mod critical;
pub mod days;
pub mod document;
pub mod fit;
pub mod merger;
pub mod network;
pub mod optimise;
pub mod parquet;
pub mod plan;
pub mod run;
pub mod settlements;
pub mod sweep;
pub mod table;

use clearsim_model::csvout::CsvOut;
use clearsim_model::input::Day;

use clearsim_core::format::{millis, money_short};
use clearsim_core::time::SimTime;
use clearsim_model::metrics::UNSETTLED;
use clearsim_model::metrics::estimate::Estimate;
use clearsim_model::replay::Replay;
use clearsim_study::summary::{Figure, Partial, StudyMeta};
use table::{Cell, Frame, Table};

/// Named files of a report, ready to be written together.
pub type ReportFiles = Vec<(&'static str, Vec<u8>)>;

/// Where the definitions of every reported figure live.
pub const GLOSSARY: &str = "docs/semantics.md#glossary";

/// What a report is: scenario, seeds, days, shocks, context, version.
pub fn context_lines(
    study: &StudyMeta,
    seeds: &[u64],
    partial: Option<&Partial>,
    what: &str,
) -> Vec<String> {
    let seeds_text = match seeds {
        [one] => format!("seed {one}"),
        [first, .., last] if (*last).wrapping_sub(*first) + 1 == seeds.len() as u64 => {
            format!("{} replications, seeds {first}–{last}", seeds.len())
        }
        many => format!(
            "{} replications, seeds {}",
            many.len(),
            many.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut lines = vec![
        format!(
            "Scenario {} ({} participants), {what}; {seeds_text}; {} per replication, day end {}.",
            study.scenario,
            study.participant_ids.len(),
            count_of(study.days as usize, "business day"),
            short_clock(&study.day_end)
        ),
        format!(
            "Channels of the scenario's design: {}.",
            study
                .channels
                .iter()
                .map(|(name, strategy)| format!("{name} ({strategy})"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ];
    if !study.shocks.is_empty() {
        lines.push(format!(
            "Shocks, each measured against the same seed without them: {}.",
            study.shocks.join("; ")
        ));
    }
    lines.extend(study.context.iter().cloned());
    if let Some(p) = partial {
        lines.push(format!(
            "PARTIAL: shard {} holds {} of the study's {} seeds; merge the shards for the whole study.",
            p.shard,
            seeds.len(),
            p.expected_seeds.len()
        ));
    }
    lines.push(format!(
        "clearsim {}. Definitions of every figure: {GLOSSARY}.",
        study.clearsim_version
    ));
    lines
}

/// A figure's value for display, by its unit (a minus sign, not a hyphen,
/// for negative values).
pub fn show_value(metric: &str, value: f64) -> String {
    let text = if metric.ends_with("_fen") {
        format!("{} yuan", money_short(value))
    } else if metric.ends_with("_ms") || metric.ends_with("_ms_mean") {
        let sign = if value < 0.0 { "-" } else { "" };
        format!("{sign}{}", millis(value.abs().round() as u64))
    } else if metric.ends_with("_share") {
        format!("{:.3}%", value * 100.0)
    } else {
        format!("{value:.4}")
    };
    match text.strip_prefix('-') {
        Some(rest) => format!("−{rest}"),
        None => text,
    }
}

/// `17:00:00.000` as `17:00`, `16:30:15.000` as `16:30:15`: the shortest
/// exact form.
fn short_clock(text: &str) -> &str {
    let text = text.strip_suffix(".000").unwrap_or(text);
    match text.strip_suffix(":00") {
        Some(hhmm) if hhmm.len() == 5 => hhmm,
        _ => text,
    }
}

/// "1 design", "3 designs".
pub fn count_of(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Mean, and "low … high" when there is an interval.
pub fn show_estimate(metric: &str, e: &Estimate) -> (String, String) {
    let interval = match e.ci95 {
        Some([low, high]) => format!("{} … {}", show_value(metric, low), show_value(metric, high)),
        None => "—".into(),
    };
    (show_value(metric, e.mean), interval)
}

/// Figures as a display table.
pub fn figure_table(figures: &[Figure], with_design: bool) -> Table {
    let mut header = vec![];
    if with_design {
        header.push("design");
    }
    header.extend(["flow", "figure", "over days", "mean", "95 % CI", "n"]);
    let mut table = Table::new(&header);
    for f in figures {
        let (mean, ci) = show_estimate(&f.metric, &f.estimate);
        let mut row = vec![];
        if with_design {
            row.push(if f.versus.is_empty() {
                f.design.clone()
            } else {
                format!("{} − {}", f.design, f.versus)
            });
        }
        row.extend([
            f.flow.clone(),
            figure_label(&f.metric),
            clearsim_study::summary::days_of(&f.metric).to_string(),
            mean,
            ci,
            f.estimate.n.to_string(),
        ]);
        table.rows.push(row);
    }
    table
}

/// A figure's name as a table shows it: words, without the unit of its
/// key (the value carries its own: "2.02 M yuan", "4h14m", "99.980%").
pub fn figure_label(metric: &str) -> String {
    let bare = ["_fen", "_ms"]
        .iter()
        .find_map(|unit| metric.strip_suffix(unit))
        .unwrap_or(metric);
    let bare = bare
        .strip_suffix("_ms_mean")
        .map_or(bare.to_string(), |b| format!("{b}_mean"));
    bare.replace("_fen_", "_")
        .replace("_ms_", "_")
        .replace('_', " ")
}

/// Figures as plain numbers.
pub fn figure_frame(figures: &[Figure]) -> Frame {
    let mut frame = Frame::new(&[
        "design",
        "versus",
        "flow",
        "metric",
        "days",
        "mean",
        "ci95_low",
        "ci95_high",
        "replications",
    ]);
    for f in figures {
        frame.push(vec![
            Cell::from(f.design.as_str()),
            Cell::from(f.versus.as_str()),
            Cell::from(f.flow.as_str()),
            Cell::from(f.metric.as_str()),
            Cell::from(clearsim_study::summary::days_of(&f.metric)),
            Cell::from(f.estimate.mean),
            Cell::from(f.estimate.ci95.map(|c| c[0])),
            Cell::from(f.estimate.ci95.map(|c| c[1])),
            Cell::from(f.estimate.n),
        ]);
    }
    frame
}
pub use clearsim_study::replay::{DelaySplit, REPLAY_SCHEMA, ReplaySummary};

/// The replay's figures, in the report's order.
fn replay_rows(file: &ReplaySummary) -> Vec<(&'static str, String)> {
    use clearsim_core::format::{grouped, yuan};
    let s = &file.summary;
    let count = |n: u64| grouped(i128::from(n));
    let mut rows = vec![
        ("payments", count(s.payments)),
        ("value (yuan)", yuan(s.value)),
    ];
    match &file.as_run {
        Some(run) => rows.extend([
            ("settled", count(run.settled)),
            ("settled value (yuan)", yuan(run.settled_value_fen)),
            (
                "carried to the next day's first session",
                count(run.carried),
            ),
            ("carried value (yuan)", yuan(run.carried_value_fen)),
            ("unsettled", count(run.unsettled)),
            ("unsettled value (yuan)", yuan(run.unsettled_value_fen)),
            (
                "liquidity used, city's banks (yuan)",
                yuan(run.liquidity_used_fen),
            ),
            (
                "lower bound under these channels (yuan)",
                yuan(run.lower_bound_fen),
            ),
            (
                "upper bound under these channels (yuan)",
                yuan(run.upper_bound_fen),
            ),
        ]),
        None => rows.extend([
            ("settled", count(s.settled)),
            ("settled value (yuan)", yuan(s.settled_value)),
            ("unsettled", count(s.unsettled)),
            ("unsettled value (yuan)", yuan(s.unsettled_value)),
        ]),
    }
    rows.extend([
        ("delay indicator", format!("{:.4}", s.delay_indicator)),
        ("delay p50", millis(s.delay_ms.p50)),
        ("delay p99", millis(s.delay_ms.p99)),
        ("delay max", millis(s.delay_ms.max)),
        ("delay mean", millis(s.delay_ms.mean)),
        ("contract: unsettled, carried included", count(s.unsettled)),
        (
            "contract: liquidity used, every participant (yuan)",
            yuan(s.liquidity_used),
        ),
        (
            "contract: lower bound, gross on arrival (yuan)",
            yuan(s.lower_bound),
        ),
        (
            "contract: upper bound, gross on arrival (yuan)",
            yuan(s.upper_bound),
        ),
    ]);
    rows
}

/// report.md and report.html of a replay: what ran, and its figures.
pub fn replay_files(file: &ReplaySummary) -> ReportFiles {
    let mut table = Table::new(&["figure", "value"]);
    for (figure, value) in replay_rows(file) {
        table.rows.push(vec![figure.to_string(), value]);
    }
    if let Some(split) = &file.delay_split {
        for (figure, ms) in [
            ("bank delay, value-weighted mean", split.bank_delay_ms_mean),
            (
                "system delay, value-weighted mean",
                split.system_delay_ms_mean,
            ),
        ] {
            table
                .rows
                .push(vec![figure.to_string(), millis(ms.round() as u64)]);
        }
    }
    let context = vec![
        format!(
            "Replay of {} and {} through {}; day end {}.",
            file.participants_file, file.payments_file, file.strategy, file.day_end
        ),
        "Per payment: settlements.csv and settlements.parquet; per participant: balances.csv and balances.parquet (both formats unless `replay --format` chose one).".to_string(),
        format!(
            "clearsim {}. Definitions of every figure: {GLOSSARY}.",
            file.clearsim_version
        ),
    ];
    let mut doc = document::Document::new("clearsim replay", context);
    doc.table(table);
    doc.files().into()
}

/// `settlements.parquet`: one row per payment in input order, times as ms
/// of the day (null when unsettled).
pub fn settlements_parquet<W: std::io::Write + Send>(
    out: W,
    day: &Day,
    settle: &[u32],
) -> Result<W, ReportError> {
    let payments = &day.payments;
    let id = |r: usize| parquet::Value::Text(payments.id(r));
    let submit_ms = |r: usize| payments.submit[r].ms();
    let settle_ms = |r: usize| (settle[r] != UNSETTLED).then_some(settle[r]);
    Ok(parquet::settlements(
        out,
        settle.len(),
        None,
        &id,
        &submit_ms,
        &settle_ms,
    )?)
}

/// `balances.parquet`: one row per participant in index order.
pub fn balances_parquet(day: &Day, replay: &Replay) -> Result<Vec<u8>, ReportError> {
    use parquet::{Column, Kind, Value};
    let p = &day.participants;
    let id = |i: usize| Value::Text(p.ids[i].as_bytes());
    let opening = |i: usize| Value::Int(Some(p.opening_fen[i]));
    let closing = |i: usize| Value::Int(Some(replay.closing_fen[i]));
    let min = |i: usize| Value::Int(Some(replay.min_balance_fen[i]));
    Ok(parquet::table(
        p.len(),
        &[
            Column {
                name: "id",
                kind: Kind::Text,
                value: &id,
            },
            Column {
                name: "opening_balance_fen",
                kind: Kind::Int,
                value: &opening,
            },
            Column {
                name: "closing_balance_fen",
                kind: Kind::Int,
                value: &closing,
            },
            Column {
                name: "min_balance_fen",
                kind: Kind::Int,
                value: &min,
            },
        ],
    )?)
}

/// Formats `settlements.csv`: one row per payment in input row order.
pub fn settlements_csv(day: &Day, settle: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(day.payments.len() * 40 + 32);
    // Writing to a vector cannot fail.
    let _ = write_settlements_csv(&mut out, day, settle);
    out
}

/// Streams `settlements.csv` to `to` through a 64 KiB buffer: a replay of
/// 50 M rows never holds its 2 GB of output.
pub fn write_settlements_csv(
    to: &mut impl std::io::Write,
    day: &Day,
    settle: &[u32],
) -> std::io::Result<()> {
    let payments = &day.payments;
    let mut out = CsvOut::new(to);
    out.row(["id", "status", "settle", "delay_ms"])?;
    for (row, &at) in settle.iter().enumerate() {
        out.text(payments.id(row))?;
        if at == UNSETTLED {
            out.row(["unsettled", "", ""])?;
        } else {
            out.text("settled")?;
            out.time(SimTime(at))?;
            out.int(at - payments.submit[row].ms())?;
            out.end()?;
        }
    }
    out.finish().map(drop)
}

/// Formats `balances.csv`: one row per participant in index order.
pub fn balances_csv(day: &Day, replay: &Replay) -> Vec<u8> {
    let participants = &day.participants;
    let mut out = CsvOut::new(Vec::with_capacity(participants.len() * 48 + 48));
    let mut write = || -> std::io::Result<()> {
        out.row(["id", "opening_balance", "closing_balance", "min_balance"])?;
        for i in 0..participants.len() {
            out.text(participants.ids[i].as_bytes())?;
            out.int(participants.opening_fen[i])?;
            out.int(replay.closing_fen[i])?;
            out.int(replay.min_balance_fen[i])?;
            out.end()?;
        }
        Ok(())
    };
    // Writing to a vector cannot fail.
    let _ = write();
    out.into_bytes()
}

pub use clearsim_study::schema::to_json;

/// A report file that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Parquet could not encode a table, or write it.
    #[error("Parquet: {0}")]
    Parquet(#[from] ::parquet::errors::ParquetError),
    /// A file could not be written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl clearsim_core::Blamed for ReportError {
    /// A write that failed (the disk, its room) is the user's to fix; an
    /// encoding Parquet refuses is a bug.
    fn blame(&self) -> clearsim_core::Blame {
        match self {
            ReportError::Io(_)
            | ReportError::Parquet(::parquet::errors::ParquetError::External(_)) => {
                clearsim_core::Blame::User
            }
            ReportError::Parquet(_) => clearsim_core::Blame::Bug,
        }
    }
}

/// summary.json and the report files of any summary read back (`report`
/// and `merge` rebuild them so).
pub fn files_of(
    summary: &clearsim_study::schema::Summary,
) -> Result<(Vec<u8>, ReportFiles), clearsim_study::schema::SchemaError> {
    use clearsim_study::schema::Summary;
    Ok(match summary {
        Summary::Replay(s) => (to_json(s.as_ref())?, replay_files(s)),
        Summary::Run(s) => (to_json(s.as_ref())?, run::run_files(s)),
        Summary::Compare(s) => (to_json(s.as_ref())?, compare::compare_files(s)),
        Summary::Sweep(s) => (to_json(s.as_ref())?, sweep::sweep_files(s)),
    })
}

/// merge.md: what went into a merge, input by input. The summary and
/// reports of a complete merge are byte for byte those one machine would
/// have written, so the sources are recorded here, beside them.
pub fn merge_note(inputs: &[String], sources: &[String]) -> String {
    let mut out = String::from("# Sources of this merge\n\n| input | holds |\n| --- | --- |\n");
    for (input, holds) in inputs.iter().zip(sources) {
        out += &format!("| `{input}` | {holds} |\n");
    }
    out
}
