//! `critical`: participants ranked by the knock-on of their default —
//! the value left unsettled between the others, against the same seeds'
//! runs without it — with 95 % intervals over replications.

use clearsim_core::format::yuan;
use clearsim_model::csvout::CsvOut;
use clearsim_model::metrics::estimate::Estimate;
use clearsim_study::summary::CompareSummary;

use crate::ReportFiles;
use crate::chart::{Chart, Dots};
use crate::document::Document;
use crate::table::Table;

/// Banks in the chart at most (the table and critical.csv have all).
const CHARTED: usize = 20;

/// One participant's default and its knock-on.
pub struct Ranked {
    pub id: String,
    pub value_fen: Estimate,
    pub payments: Estimate,
    /// Other participants left more unsettled than without the default.
    pub touched: Estimate,
}

/// The participants, most harmful default first (ties by id).
pub fn ranking(summary: &CompareSummary) -> Vec<Ranked> {
    let find = |design: &str, metric: &str| {
        summary
            .headline
            .iter()
            .find(|f| f.design == design && f.flow == "all" && f.metric == metric)
            .map(|f| f.estimate.clone())
            .unwrap_or(Estimate {
                mean: 0.0,
                ci95: None,
                n: 0,
            })
    };
    let mut ranked: Vec<Ranked> = summary
        .designs
        .iter()
        .map(|design| Ranked {
            // `default:ID@T` or `liquidity:ID@T=AMOUNT`.
            id: design
                .split_once(':')
                .and_then(|(_, rest)| rest.split('@').next())
                .unwrap_or(design)
                .to_string(),
            value_fen: find(design, "knock_on_unsettled_value_fen"),
            payments: find(design, "knock_on_unsettled_payments"),
            touched: find(design, "knock_on_participants_touched"),
        })
        .collect();
    rank(&mut ranked);
    ranked
}

/// Most harmful first: by mean knock-on value, ties by id.
pub fn rank(ranked: &mut [Ranked]) {
    ranked.sort_by(|a, b| {
        b.value_fen
            .mean
            .total_cmp(&a.value_fen.mean)
            .then_with(|| a.id.cmp(&b.id))
    });
}

/// The lines that say what a critical study ran; `turn` says what struck
/// each participant ("defaulting at 10:00:00.000").
pub fn context(summary: &CompareSummary, turn: &str) -> Vec<String> {
    crate::context_lines(
        &summary.study,
        &summary.seeds,
        summary.partial.as_ref(),
        &format!("each of {} participants {turn}", summary.designs.len()),
    )
}

/// "default" or "liquidity shock": what the designs struck.
fn shock_name(summary: &CompareSummary) -> &'static str {
    match summary.designs.first() {
        Some(design) if design.starts_with("liquidity:") => "liquidity shock",
        _ => "default",
    }
}

/// critical.csv, critical.md and critical.html.
pub fn critical_files(summary: &CompareSummary, context: Vec<String>) -> ReportFiles {
    let ranked = ranking(summary);
    ranked_files(&ranked, context, (shock_name(summary), REPLICATIONS))
}

/// What each figure is over, in a study: its replications.
const REPLICATIONS: &str = "in the same seed's run without it; per replication of the study's days, mean and 95 % interval over replications";

/// What each figure is over, in a replay: its business days.
pub const BUSINESS_DAYS: &str = "in the same day as it settled without it; per business day, mean and 95 % interval over the file's days (none for one day: the replay of a day is exact)";

/// critical.csv, critical.md and critical.html of `ranked` participants:
/// struck by `shock` ("default"), each figure `per` what it says.
pub fn ranked_files(
    ranked: &[Ranked],
    context: Vec<String>,
    (shock, per): (&str, &str),
) -> ReportFiles {
    let doc = document(ranked, context, (shock, per));
    vec![("critical.csv", csv(ranked))]
        .into_iter()
        .chain(doc.files_as("critical.md", "critical.html"))
        .collect()
}

/// An estimate's three CSV fields: mean, ci95_low, ci95_high (empty
/// without an interval).
pub(crate) fn write_estimate<W: std::io::Write>(
    out: &mut CsvOut<W>,
    estimate: &Estimate,
) -> std::io::Result<()> {
    out.text(estimate.mean.to_string())?;
    let [low, high] = estimate
        .ci95
        .map_or([String::new(), String::new()], |c| c.map(|v| v.to_string()));
    out.text(low)?;
    out.text(high)
}

fn csv(ranked: &[Ranked]) -> Vec<u8> {
    let mut out = CsvOut::new(Vec::new());
    let mut write = || -> std::io::Result<()> {
        out.row([
            "rank",
            "id",
            "knock_on_unsettled_value_fen_mean",
            "ci95_low",
            "ci95_high",
            "knock_on_unsettled_payments_mean",
            "payments_ci95_low",
            "payments_ci95_high",
            "participants_touched_mean",
            "touched_ci95_low",
            "touched_ci95_high",
            "replications",
        ])?;
        for (rank, r) in ranked.iter().enumerate() {
            out.int(rank + 1)?;
            out.text(&r.id)?;
            for estimate in [&r.value_fen, &r.payments, &r.touched] {
                write_estimate(&mut out, estimate)?;
            }
            out.int(r.value_fen.n)?;
            out.end()?;
        }
        Ok(())
    };
    // Writing to a vector cannot fail.
    let _ = write();
    out.into_bytes()
}

fn document(ranked: &[Ranked], context: Vec<String>, (shock, per): (&str, &str)) -> Document {
    let mut doc = Document::new(
        format!("clearsim critical: whose {shock} hurts the others most"),
        context,
    );
    doc.note(format!(
        "Knock-on: the value (and count) of payments between the other participants left unsettled by the {shock}, minus the same {per}. Participants touched: how many of the others were left more value unsettled with the rest (to pay or to be paid) than without the {shock}. A negative knock-on: the others settled more among themselves with the {shock} than without it (a defaulter stops draining liquidity from them, and the payments it owed them were owed to it too)."
    ));
    let yuan_of = |fen: f64| yuan(fen.round() as i64);
    let mut table = Table::new(&[
        "rank",
        "bank struck",
        "knock-on value (yuan)",
        "95 % CI (yuan)",
        "knock-on payments",
        "95 % CI",
        "participants touched",
        "95 % CI",
    ]);
    for (rank, r) in ranked.iter().enumerate() {
        let ci = |e: &Estimate, show: &dyn Fn(f64) -> String| {
            e.ci95.map_or("—".into(), |[low, high]| {
                format!("{} … {}", show(low), show(high))
            })
        };
        table.rows.push(vec![
            (rank + 1).to_string(),
            r.id.clone(),
            yuan_of(r.value_fen.mean),
            ci(&r.value_fen, &yuan_of),
            format!("{:.1}", r.payments.mean),
            ci(&r.payments, &|v| format!("{v:.1}")),
            format!("{:.1}", r.touched.mean),
            ci(&r.touched, &|v| format!("{v:.1}")),
        ]);
    }
    doc.table(table);
    let shown: Vec<&Ranked> = ranked
        .iter()
        .filter(|r| r.value_fen.mean > 0.0)
        .take(CHARTED)
        .collect();
    if shown.is_empty() {
        doc.note("No default left anything unsettled between the others: no chart.");
        return doc;
    }
    doc.chart(Chart::Dots(Dots {
        title: format!(
            "Knock-on of each {shock}: value left unsettled between the others (the {} most harmful with a positive knock-on)",
            shown.len()
        ),
        x_label: "knock-on value, mean over replications (yuan, per replication)".into(),
        labels: shown.iter().map(|r| r.id.clone()).collect(),
        series: vec![(
            "knock-on value".into(),
            shown.iter().map(|r| r.value_fen.mean.round() as i64).collect(),
        )],
    }));
    doc
}
