//! `fit`'s report: each fitted law against the data it was fitted to, and
//! the real day(s) beside the fitted scenario's synthetic days.

use clearsim_core::format::{grouped, millis, yuan};
use clearsim_model::csvout::CsvOut;
use clearsim_model::fit::{Fitted, Instrument, law};

use crate::ReportFiles;
use crate::chart::{Axis, Chart, Lines, Series};
use crate::document::Document;
use crate::table::Table;

/// Instruments charted at most (the tables have them all).
const CHARTED: usize = 8;
/// Width of the observed arrivals' bins in the profile chart.
const ARRIVAL_BIN_MS: u32 = 10 * 60_000;

/// One business day's figures under rtgs, real or synthetic (per day).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DayFigures {
    pub payments: f64,
    pub value_fen: f64,
    pub lower_bound_fen: f64,
    pub upper_bound_fen: f64,
    pub delay_ms_mean: f64,
    pub delay_ms_p99: f64,
    pub unsettled_value_fen: f64,
    pub links: f64,
    pub reciprocity: f64,
    pub clustering: f64,
}

/// The real days and the fitted scenario's synthetic days (one per seed).
pub struct Twin {
    pub real: Vec<DayFigures>,
    /// The synthetic days settled at the observed openings and limits.
    pub at_observed: Vec<DayFigures>,
    /// The synthetic days as `run` settles them: the fitted openings.
    pub as_run: Vec<DayFigures>,
    /// Per instrument (as fitted), the first synthetic day's sorted
    /// amounts (fen) and submit times (ms).
    pub sample: Vec<(Vec<f64>, Vec<u32>)>,
}

/// scenario.toml's neighbours: fit.csv, twin.csv, fit.md and fit.html.
pub fn fit_files(fitted: &Fitted, twin: &Twin, context: Vec<String>) -> ReportFiles {
    // Each instrument's twin distances, once for the table and the CSV.
    let ks: Vec<(f64, f64)> = (0..fitted.instruments.len())
        .map(|k| twin_ks(fitted, twin, k))
        .collect();
    let doc = document(fitted, twin, &ks, context);
    vec![("fit.csv", csv(fitted, &ks)), ("twin.csv", twin_csv(twin))]
        .into_iter()
        .chain(doc.files_as("fit.md", "fit.html"))
        .collect()
}

/// (KS of amounts, KS of arrival times) of instrument `k`'s synthetic day
/// against the data (per day of it: the shapes, not the counts).
fn twin_ks(fitted: &Fitted, twin: &Twin, k: usize) -> (f64, f64) {
    let instrument = &fitted.instruments[k];
    let Some((amounts, submits)) = twin.sample.get(k) else {
        return (1.0, 1.0);
    };
    let times = |t: &[u32]| t.iter().map(|&ms| f64::from(ms)).collect::<Vec<f64>>();
    (
        // The amounts as the file has them, pair factor and all.
        law::ks_two_sample(&instrument.observed_fen, amounts),
        law::ks_two_sample(&times(&instrument.submits_ms), &times(submits)),
    )
}

fn csv(fitted: &Fitted, ks: &[(f64, f64)]) -> Vec<u8> {
    let mut out = CsvOut::new(Vec::new());
    let mut write = || -> std::io::Result<()> {
        out.row([
            "instrument",
            "payments",
            "daily_count",
            "cross_city",
            "median_fen",
            "sigma",
            "tail_share",
            "tail_min_fen",
            "tail_alpha",
            "size_elasticity",
            "concentration",
            "ks_law",
            "ks_twin_amounts",
            "ks_twin_arrivals",
            "at_bound",
            "observed_pairs",
        ])?;
        for (k, i) in fitted.instruments.iter().enumerate() {
            let (amounts, arrivals) = ks[k];
            out.text(&i.name)?;
            out.int(i.payments)?;
            out.text(i.daily_count.to_string())?;
            out.text(crossing(i))?;
            for v in [
                i.law.median(),
                i.law.sigma,
                i.law.tail_share,
                i.law.tail_min,
                i.law.alpha,
                i.size_elasticity,
                i.concentration,
                i.ks_law,
                amounts,
                arrivals,
            ] {
                out.text(v.to_string())?;
            }
            out.text(if i.law.at_bound { "true" } else { "false" })?;
            out.int(i.pairs.len() as u64)?;
            out.end()?;
        }
        Ok(())
    };
    // Writing to a vector cannot fail.
    let _ = write();
    out.into_bytes()
}

/// Every day of the comparison, one row each: the real days, then the
/// twin's at the observed openings and as run (per day, under rtgs).
fn twin_csv(twin: &Twin) -> Vec<u8> {
    let mut out = CsvOut::new(Vec::new());
    let mut write = || -> std::io::Result<()> {
        out.row([
            "days",
            "day",
            "payments",
            "value_fen",
            "lower_bound_fen",
            "upper_bound_fen",
            "delay_ms_mean",
            "delay_ms_p99",
            "unsettled_value_fen",
            "links",
            "reciprocity",
            "clustering",
        ])?;
        for (kind, days) in [
            ("real", &twin.real),
            ("twin_at_observed_openings", &twin.at_observed),
            ("twin_as_run", &twin.as_run),
        ] {
            for (k, d) in days.iter().enumerate() {
                out.text(kind)?;
                out.int(k + 1)?;
                for v in [
                    d.payments,
                    d.value_fen,
                    d.lower_bound_fen,
                    d.upper_bound_fen,
                    d.delay_ms_mean,
                    d.delay_ms_p99,
                    d.unsettled_value_fen,
                    d.links,
                    d.reciprocity,
                    d.clustering,
                ] {
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

fn crossing(instrument: &Instrument) -> &'static str {
    match instrument.crossing {
        None => "",
        Some(clearsim_model::fit::Crossing::In) => "in",
        Some(clearsim_model::fit::Crossing::Out) => "out",
    }
}

fn document(fitted: &Fitted, twin: &Twin, ks: &[(f64, f64)], context: Vec<String>) -> Document {
    let mut doc = Document::new("clearsim fit: a scenario fitted to real payments", context);
    doc.note(
        "scenario.toml is a scenario `clearsim run` takes: its banks, their sizes from the payments they send and receive, and per instrument the arrival profile, the amount law (log-normal body, Pareto tail), who pays whom (the gravity exponent over the banks' sizes, or with --observed-pairs the observed pairs) and the size elasticity of amounts, each estimated from the payments given (docs/model.md, \"A scenario fitted to data\"). `clearsim run scenario.toml --volume 2` asks what doubled volumes would do.",
    );
    doc.heading("The fitted laws");
    doc.table(laws_table(fitted, ks));
    doc.note(
        "KS: the Kolmogorov–Smirnov distance, the largest gap between two distribution functions (0: the same; 1: apart). Law: the fitted amount law against the amounts without their pair factor. Twin: the first synthetic day of the fitted scenario against the data, amounts as paid and arrival times of day. A tail share of 0: the body alone fitted best. Bound: α or σ at the edge of the model's range.",
    );
    doc.heading("The real day beside its twin");
    doc.table(twin_table(twin, fitted.days));
    doc.note(format!(
        "Per business day, under rtgs. Real: the data replayed, a mean over its {} day(s). Twin: the fitted scenario's synthetic days (one per seed, {} seeds), mean and range; at the observed openings (the participants file's), and as `run` settles them (the fitted liquidity policy: the observed totals, spread over banks by their expected outflow). The lower and upper bounds are the liquidity to settle everything by day end, and on arrival.",
        twin.real.len(),
        twin.as_run.len()
    ));
    for (k, instrument) in fitted.instruments.iter().enumerate().take(CHARTED) {
        doc.chart(qq_chart(instrument));
        doc.chart(profile_chart(instrument, twin.sample.get(k), fitted.days));
    }
    if fitted.instruments.len() > CHARTED {
        doc.note(format!(
            "Charts for the first {CHARTED} instruments; fit.csv and the table above have all {}.",
            fitted.instruments.len()
        ));
    }
    doc.heading("Banks");
    doc.table(banks_table(fitted));
    doc
}

fn laws_table(fitted: &Fitted, ks: &[(f64, f64)]) -> Table {
    let mut table = Table::new(&[
        "instrument",
        "payments a day",
        "median (yuan)",
        "σ",
        "tail share",
        "tail from (yuan)",
        "α",
        "size elasticity",
        "who pays whom",
        "KS law",
        "KS twin amounts",
        "KS twin arrivals",
    ]);
    for (k, i) in fitted.instruments.iter().enumerate() {
        let (amounts, arrivals) = ks[k];
        let tail = i.law.tail_share > 0.0;
        let name = match crossing(i) {
            "" => i.name.clone(),
            way => format!("{} (cross-city {way})", i.name),
        };
        table.rows.push(vec![
            name,
            grouped(i.daily_count.round() as i128),
            yuan(i.law.median().round() as i64),
            format!(
                "{:.3}{}",
                i.law.sigma,
                if i.law.at_bound { " (bound)" } else { "" }
            ),
            format!("{:.4}", i.law.tail_share),
            if tail {
                yuan(i.law.tail_min.round() as i64)
            } else {
                "—".into()
            },
            if tail {
                format!("{:.2}", i.law.alpha)
            } else {
                "—".into()
            },
            format!("{:.3}", i.size_elasticity),
            if i.pairs.is_empty() {
                format!("gravity {:.3}", i.concentration)
            } else {
                format!("{} pairs", grouped(i.pairs.len() as i128))
            },
            format!("{:.4}", i.ks_law),
            format!("{amounts:.4}"),
            format!("{arrivals:.4}"),
        ]);
    }
    table
}

/// Mean, and min … max, of one figure over days.
fn spread(
    days: &[DayFigures],
    of: impl Fn(&DayFigures) -> f64,
    show: &dyn Fn(f64) -> String,
) -> String {
    if days.is_empty() {
        return "—".into();
    }
    let values: Vec<f64> = days.iter().map(of).collect();
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    if values.len() == 1 {
        return show(mean);
    }
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{} ({} … {})", show(mean), show(low), show(high))
}

type Figure = (&'static str, fn(&DayFigures) -> f64, fn(f64) -> String);

fn twin_table(twin: &Twin, days: usize) -> Table {
    let money: fn(f64) -> String = |v| yuan(v.round() as i64);
    let ms: fn(f64) -> String = |v| millis(v.round() as u64);
    let count: fn(f64) -> String = |v| grouped(v.round() as i128);
    let share: fn(f64) -> String = |v| format!("{v:.3}");
    let figures: [Figure; 10] = [
        ("payments", |d| d.payments, count),
        ("value (yuan)", |d| d.value_fen, money),
        ("lower bound (yuan)", |d| d.lower_bound_fen, money),
        ("upper bound (yuan)", |d| d.upper_bound_fen, money),
        ("delay, mean", |d| d.delay_ms_mean, ms),
        ("delay, p99", |d| d.delay_ms_p99, ms),
        (
            "unsettled at day end (yuan)",
            |d| d.unsettled_value_fen,
            money,
        ),
        ("links (pairs that pay)", |d| d.links, count),
        ("reciprocity", |d| d.reciprocity, share),
        ("clustering", |d| d.clustering, share),
    ];
    let real = if days == 1 {
        "real day"
    } else {
        "real days (mean, range)"
    };
    let mut table = Table::new(&[
        "per business day",
        real,
        "twin at observed openings",
        "twin as run",
    ]);
    for (name, of, show) in figures {
        table.rows.push(vec![
            name.to_string(),
            spread(&twin.real, of, &show),
            spread(&twin.at_observed, of, &show),
            spread(&twin.as_run, of, &show),
        ]);
    }
    table
}

/// Observed quantiles against the fitted law's, on log axes, with y = x.
fn qq_chart(instrument: &Instrument) -> Chart {
    let sorted = &instrument.amounts_fen;
    let probabilities: Vec<f64> = (1..200)
        .map(|k| f64::from(k) / 200.0)
        .chain([0.999, 0.9999])
        .collect();
    let points: Vec<(f64, f64)> = probabilities
        .iter()
        .map(|&q| {
            let at = ((q * sorted.len() as f64) as usize).min(sorted.len() - 1);
            (sorted[at], instrument.law.quantile(q))
        })
        .collect();
    let (low, high) = (sorted[0].max(1.0), sorted[sorted.len() - 1].max(10.0));
    Chart::Lines(Lines {
        title: format!(
            "{}: amounts, observed quantiles against the fitted law's (0.5 % to 99.99 %; on the line, the law fits)",
            instrument.name
        ),
        x: Axis::LogMoney,
        x_label: "observed amount, without its pair factor (yuan)".into(),
        y: Axis::LogMoney,
        y_label: "fitted law's amount (yuan)".into(),
        // The diagonal first, so that the quantiles are drawn over it.
        series: vec![
            Series::line("y = x (a perfect fit)", vec![(low, low), (high, high)]),
            Series::line("quantiles, observed against fitted", points),
        ],
    })
}

/// Arrivals per hour per day: observed in 10-minute bins, the fitted
/// steps, and the twin's first day.
fn profile_chart(
    instrument: &Instrument,
    sample: Option<&(Vec<f64>, Vec<u32>)>,
    days: usize,
) -> Chart {
    let binned = |times: &[u32], days: usize| -> Vec<(f64, f64)> {
        let mut counts = std::collections::BTreeMap::<u32, u64>::new();
        for &t in times {
            *counts.entry(t / ARRIVAL_BIN_MS).or_default() += 1;
        }
        let (Some(&first), Some(&last)) = (counts.keys().next(), counts.keys().last()) else {
            return Vec::new();
        };
        let per_hour = 3_600_000.0 / f64::from(ARRIVAL_BIN_MS) / days as f64;
        (first..=last)
            .map(|b| {
                let n = counts.get(&b).copied().unwrap_or(0) as f64;
                (
                    f64::from(b * ARRIVAL_BIN_MS + ARRIVAL_BIN_MS / 2),
                    n * per_hour,
                )
            })
            .collect()
    };
    let steps: Vec<(f64, f64)> = instrument
        .profile
        .iter()
        .flat_map(|&(from, to, rate)| [(f64::from(from), rate), (f64::from(to), rate)])
        .collect();
    let mut series = vec![
        Series::line(
            "observed (10-minute bins)",
            binned(&instrument.submits_ms, days),
        ),
        Series::line("fitted profile (30-minute steps)", steps),
    ];
    if let Some((_, submits)) = sample {
        series.push(Series::line(
            "twin, first synthetic day",
            binned(submits, 1),
        ));
    }
    Chart::Lines(Lines {
        title: format!(
            "{}: arrivals through the day, observed against fitted",
            instrument.name
        ),
        x: Axis::Clock,
        x_label: "time of day".into(),
        y: Axis::Number,
        y_label: "payments per hour (per day)".into(),
        series,
    })
}

/// The banks: observed share of payments, fitted size, opening and limit.
fn banks_table(fitted: &Fitted) -> Table {
    let mut table = Table::new(&[
        "bank",
        "category",
        "share of payments",
        "fitted size",
        "observed opening (yuan)",
        "observed credit limit (yuan)",
    ]);
    let mut order: Vec<usize> = (0..fitted.banks.len()).collect();
    order.sort_by(|&a, &b| {
        fitted.banks[b]
            .observed_size
            .total_cmp(&fitted.banks[a].observed_size)
    });
    for k in order {
        let bank = &fitted.banks[k];
        table.rows.push(vec![
            bank.id.clone(),
            bank.category.clone(),
            format!("{:.4}", bank.observed_size),
            format!("{:.4}", bank.size),
            yuan(bank.opening_fen),
            yuan(bank.credit_limit_fen),
        ]);
    }
    table
}
