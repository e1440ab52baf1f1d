//! `fit`: a scenario fitted to a replay day (or days), with its report:
//! the fitted laws against the data, and the real days beside the fitted
//! scenario's synthetic days (its twin) under rtgs.

use std::path::Path;

use crate::JobError;
use crate::replay::Settlement;
use clearsim_model::config::{Config, Scenario};
use clearsim_model::fit::{self, Fitted};
use clearsim_model::input::Day;
use clearsim_model::metrics::network::Network;
use clearsim_model::workload::city::build_city;
use clearsim_report::fit::{DayFigures, Twin};

/// Synthetic days of the twin at most (one per seed).
pub const MAX_TWIN_DAYS: u32 = 100;

/// A fit, ready to publish.
pub struct FitOutcome {
    pub fitted: Fitted,
    /// scenario.toml, as `run` takes it.
    pub scenario_toml: String,
    pub twin: Twin,
}

/// What a fit reads and asks.
pub struct FitInputs<'a> {
    /// The day (or days) as parsed, and its files' names in messages.
    pub day: &'a Day,
    pub names: (&'a str, &'a str),
    /// Instruments by the `instrument` column; observed pairs.
    pub options: fit::Options,
    /// The scenario's name.
    pub name: &'a str,
    /// Synthetic days (seeds 1, 2, …) in the twin.
    pub twin_days: u32,
}

/// Fits the scenario, loads it back as `run` would, and replays its twin.
pub fn fit(inputs: &FitInputs<'_>) -> Result<FitOutcome, JobError> {
    if !(1..=MAX_TWIN_DAYS).contains(&inputs.twin_days) {
        return Err(JobError::user(format!(
            "--twin-days: {} is not 1 to {MAX_TWIN_DAYS}",
            inputs.twin_days
        )));
    }
    let fitted = fit::fit(inputs.day, inputs.options, inputs.names.1).map_err(JobError::of)?;
    let first = fit::scenario_toml(&fitted, inputs.name, (1.0, 1.0));
    let shares = fit::liquidity_shares(&fitted, &load(&first)?.scenario);
    let scenario_toml = fit::scenario_toml(&fitted, inputs.name, shares);
    let scenario = load(&scenario_toml)?.scenario;
    let twin = twin(inputs, &fitted, &scenario)?;
    Ok(FitOutcome {
        fitted,
        scenario_toml,
        twin,
    })
}

/// The fitted scenario, as `run` reads it: a fitted value it refuses is
/// clearsim's bug (the fit keeps within the config's ranges).
fn load(text: &str) -> Result<Config, JobError> {
    Config::parse(Path::new("scenario.toml"), text, Path::new("."))
        .map_err(|e| JobError::Bug(format!("the fitted scenario does not load: {e}")))
}

/// The real days and the synthetic ones, each replayed under rtgs.
fn twin(inputs: &FitInputs<'_>, fitted: &Fitted, scenario: &Scenario) -> Result<Twin, JobError> {
    let day = inputs.day;
    let real = if day.is_dated() {
        day.date_rows()
            .iter()
            .map(|(_, rows)| figures(&day.one_day(rows, 0, day.participants.clone())))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        vec![figures(day)?]
    };
    let city = build_city(scenario);
    city.check()
        .map_err(|e| JobError::Bug(format!("the fitted scenario: {e}")))?;
    let fitted_participants = crate::generate::participants_csv(&city);
    let people = &day.participants;
    let observed_participants =
        clearsim_model::csvout::participants_csv((0..people.len()).map(|i| {
            clearsim_model::csvout::ParticipantRow {
                id: &people.ids[i],
                name: &people.names[i],
                category: &people.categories[i],
                opening_fen: people.opening_fen[i],
                credit_limit_fen: people.credit_limit_fen[i],
            }
        }));
    let model = clearsim_model::run::stream_model(scenario, &city);
    let mut twin = Twin {
        real,
        at_observed: Vec::new(),
        as_run: Vec::new(),
        sample: Vec::new(),
    };
    for seed in 1..=u64::from(inputs.twin_days) {
        let payments = crate::generate::day_payments_csv(&city, scenario, &model, seed, 0)?;
        let as_run = crate::generate::parse_day(&fitted_participants, &payments, day.day_end)?;
        let at_observed =
            crate::generate::parse_day(&observed_participants, &payments, day.day_end)?;
        if seed == 1 {
            twin.sample = sample(fitted, &as_run);
        }
        twin.as_run.push(figures(&as_run)?);
        twin.at_observed.push(figures(&at_observed)?);
    }
    Ok(twin)
}

/// Per fitted instrument, the synthetic day's sorted amounts and submit
/// times.
fn sample(fitted: &Fitted, day: &Day) -> Vec<(Vec<f64>, Vec<u32>)> {
    let payments = &day.payments;
    fitted
        .instruments
        .iter()
        .map(|instrument| {
            let k = payments
                .instruments
                .iter()
                .position(|n| *n == instrument.name);
            let rows =
                (0..payments.len()).filter(|&r| Some(usize::from(payments.instrument[r])) == k);
            let mut amounts: Vec<f64> = rows
                .clone()
                .map(|r| payments.amount_fen[r] as f64)
                .collect();
            let mut submits: Vec<u32> = rows.map(|r| payments.submit[r].ms()).collect();
            amounts.sort_by(f64::total_cmp);
            submits.sort_unstable();
            (amounts, submits)
        })
        .collect()
}

/// A day's figures under rtgs, and its network's.
fn figures(day: &Day) -> Result<DayFigures, JobError> {
    let route = Settlement::default().route(day, "payments")?;
    let replayed = crate::replay::settle(day, &route)?;
    let summary = &replayed.summary;
    // The liquidity figures of the city's banks (the banks outside, with
    // unlimited credit, left out), as `run` states them.
    let city = crate::replay::as_run(day, &route, &replayed);
    let payments = &day.payments;
    let network = Network::of(
        day.participants.len(),
        (0..payments.len()).map(|r| {
            (
                payments.sender[r],
                payments.receiver[r],
                payments.amount_fen[r],
            )
        }),
    );
    Ok(DayFigures {
        payments: summary.payments as f64,
        value_fen: summary.value as f64,
        lower_bound_fen: city.lower_bound_fen as f64,
        upper_bound_fen: city.upper_bound_fen as f64,
        delay_ms_mean: summary.delay_ms.mean as f64,
        delay_ms_p99: summary.delay_ms.p99 as f64,
        unsettled_value_fen: city.unsettled_value_fen as f64,
        links: network.flows.len() as f64,
        reciprocity: network.reciprocity,
        clustering: network.clustering,
    })
}

/// The lines that say what a fit read.
pub fn context(inputs: &FitInputs<'_>, fitted: &Fitted) -> Vec<String> {
    let payments: u64 = fitted.instruments.iter().map(|i| i.payments).sum();
    vec![
        format!(
            "Fitted to {} ({} payments, {} business day(s)) and {} ({} of the city's banks{})",
            inputs.names.1,
            clearsim_core::format::grouped(i128::from(payments)),
            fitted.days,
            inputs.names.0,
            fitted.banks.len(),
            if fitted.outside {
                ", and the banks outside the city"
            } else {
                ""
            }
        ),
        format!(
            "{} instrument(s){}; who pays whom {}; twin: {} synthetic day(s), seeds 1 to {}",
            fitted.instruments.len(),
            if inputs.options.by_instrument {
                " (the `instrument` column)"
            } else {
                " (every payment one instrument)"
            },
            if inputs.options.observed_pairs {
                "as the observed pairs (--observed-pairs)"
            } else {
                "by gravity"
            },
            inputs.twin_days,
            inputs.twin_days
        ),
        format!("clearsim {}", env!("CARGO_PKG_VERSION")),
    ]
}

/// Publishes scenario.toml, fit.csv, fit.md and fit.html as one set.
pub fn publish(
    set: clearsim_outset::OutputSet,
    outcome: &FitOutcome,
    context: Vec<String>,
) -> Result<(), JobError> {
    let files = clearsim_report::fit::fit_files(&outcome.fitted, &outcome.twin, context);
    let written = (|| {
        set.write("scenario.toml", outcome.scenario_toml.as_bytes())?;
        for (name, bytes) in &files {
            set.write(name, bytes)?;
        }
        set.commit()
    })();
    written.map_err(|e| JobError::user(format!("cannot write results: {e}")))
}
