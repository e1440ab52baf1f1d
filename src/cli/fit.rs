//! `clearsim fit`: a scenario fitted to a replay day (or days).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::Failure;
use clearsim_core::time::SimTime;
use clearsim_jobs::fit::{self, FitInputs};
use clearsim_model::input::Day;

#[derive(Args, Debug)]
pub struct FitArgs {
    /// participants.csv (or .parquet): id,name,category,opening_balance,credit_limit
    #[arg(long, value_name = "P.csv")]
    participants: PathBuf,
    /// payments.csv (or .parquet), as replay reads it; with a `date`
    /// column, every day is fitted together.
    #[arg(long, value_name = "X.csv")]
    payments: PathBuf,
    /// Fit each value of the payments' `instrument` column as an instrument
    /// of its own (default: every payment one instrument, `payments`).
    #[arg(long)]
    instrument_column: bool,
    /// Who pays whom as the observed bilateral shares (each sender–receiver
    /// pair of the city's banks its payments per day), not by the fitted
    /// gravity exponent over the banks' sizes.
    #[arg(long)]
    observed_pairs: bool,
    /// End of the business day, HH:MM[:SS] (default 17:00).
    #[arg(long, value_name = "HH:MM", value_parser = super::replay::parse_time_arg)]
    day_end: Option<SimTime>,
    /// The fitted scenario's name (default: `fitted`).
    #[arg(long, default_value = "fitted")]
    name: String,
    /// Synthetic days of the fitted scenario compared with the data in the
    /// report (seeds 1 to N, 1 to 100).
    #[arg(long, value_name = "N", default_value_t = 5)]
    twin_days: u32,
    /// Directory for scenario.toml, fit.csv, fit.md and fit.html (replaced
    /// as a whole; new, empty or a clearsim output directory).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Print nothing on success.
    #[arg(long, short)]
    quiet: bool,
}

pub fn fit_command(args: &FitArgs) -> Result<(), Failure> {
    let inputs = [
        ("--participants", args.participants.as_path()),
        ("--payments", args.payments.as_path()),
    ];
    super::args::refuse_outputs_over_inputs(&[("--out", &args.out)], &inputs)?;
    let set = super::args::output_set(&args.out)?;
    let participants = clearsim_model::input::read_regular(&args.participants)
        .with_context(|| format!("{}: cannot read", args.participants.display()))
        .map_err(Failure::BadInput)?;
    let payments = clearsim_model::input::read_regular(&args.payments)
        .with_context(|| format!("{}: cannot read", args.payments.display()))
        .map_err(Failure::BadInput)?;
    let names = (
        args.participants.display().to_string(),
        args.payments.display().to_string(),
    );
    let day = Day::parse(
        &names.0,
        &participants,
        &names.1,
        &payments,
        args.day_end.unwrap_or(SimTime::DEFAULT_DAY_END),
    )
    .map_err(|e| Failure::BadInput(e.into()))?;
    let inputs = FitInputs {
        day: &day,
        names: (&names.0, &names.1),
        options: clearsim_model::fit::Options {
            by_instrument: args.instrument_column,
            observed_pairs: args.observed_pairs,
        },
        name: &args.name,
        twin_days: args.twin_days,
    };
    let outcome = fit::fit(&inputs)?;
    fit::publish(set, &outcome, fit::context(&inputs, &outcome.fitted))?;
    if !args.quiet {
        print_summary(&outcome, args);
    }
    Ok(())
}

fn print_summary(outcome: &fit::FitOutcome, args: &FitArgs) {
    let fitted = &outcome.fitted;
    println!(
        "clearsim fit: {} banks, {} instrument(s), {} business day(s)",
        fitted.banks.len(),
        fitted.instruments.len(),
        fitted.days
    );
    for i in &fitted.instruments {
        println!(
            "  {:<16} {:>10.0} a day  median {:>14} yuan  sigma {:.2}  tail {:.4}  KS {:.4}",
            i.name,
            i.daily_count,
            clearsim_core::format::yuan(i.law.median().round() as i64),
            i.law.sigma,
            i.law.tail_share,
            i.ks_law
        );
    }
    println!(
        "scenario in {}; run it with `clearsim run {}`; report in {}",
        args.out.join("scenario.toml").display(),
        args.out.join("scenario.toml").display(),
        args.out.join("fit.html").display()
    );
}
