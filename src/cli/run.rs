//! `clearsim run` and `clearsim generate`: scenario configs.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::anyhow;
use clap::Args;

use super::Failure;
use super::args::{
    ReplicationArgs, ScenarioArgs, cover_carry, load, load_scenario, output_set, parse_volume,
    publish, with_replications,
};
use clearsim_core::format::{grouped, yuan};
use clearsim_jobs::generate;
use clearsim_model::run;
use clearsim_model::workload::city::build_city;
use clearsim_report::{self as report, show_estimate};
use clearsim_study::summary::RunSummary;
use clearsim_study::{Experiment, RunExperiment};

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    #[command(flatten)]
    replication: ReplicationArgs,
    /// Output directory for summary.json and the reports (default: out/<scenario name>).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Also write settlements.csv and settlements.parquet: every customer
    /// payment of every day, as `generate` numbers them, with its outcome
    /// (one replication only).
    #[arg(long)]
    settlements: bool,
    /// Also write the payment network of day 1 of the first replication:
    /// network.csv (per bank: degrees, strengths, centrality, core),
    /// flows.csv (bilateral flows) and network.md / network.html.
    #[arg(long)]
    network: bool,
    /// Print nothing on success.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Scenario config (TOML).
    config: PathBuf,
    /// Output directory for participants.csv and payments.csv.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Which business day to write (1-based).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=3650))]
    day: u32,
    /// Override the config's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Multiply every instrument's daily count.
    #[arg(long, value_name = "FACTOR", value_parser = parse_volume)]
    volume: Option<f64>,
    /// Print nothing on success.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(args: &RunArgs) -> Result<(), Failure> {
    let overrides = args.scenario.overrides();
    let source = args.scenario.source(&overrides);
    let name = clearsim_jobs::scenario::load(source.path, None, &overrides)?
        .scenario
        .name;
    let out = super::args::out_or(args.out.as_deref(), &name);
    let set = output_set(&out)?;
    let started = Instant::now();
    let mut log = report::settlements::SettlementLog::default();
    let summary = if args.settlements {
        observed(args, &mut log)?
    } else {
        let outcome = with_replications(args.quiet, args.replication.asked(), |replications| {
            clearsim_jobs::study::run(source, replications)
        })?;
        if !args.quiet {
            for note in &outcome.notes {
                eprintln!("note: {note}");
            }
        }
        outcome.summary
    };
    let elapsed = started.elapsed();
    let json = report::to_json(&summary).map_err(|e| Failure::Internal(e.into()))?;
    let mut files = report::run::run_files(&summary);
    if args.settlements {
        files.push(("settlements.csv", log.csv()));
        files.push((
            "settlements.parquet",
            log.parquet().map_err(|e| Failure::Internal(anyhow!(e)))?,
        ));
    }
    if args.network {
        let first_seed = summary.seeds.first().copied().unwrap_or_default();
        files.extend(clearsim_jobs::study::network_files(source, first_seed)?);
    }
    publish(set, json, files)?;
    if !args.quiet {
        print_run(&summary, &out, elapsed);
    }
    Ok(())
}

/// `run --settlements`: one replication, every payment's outcome logged.
fn observed(
    args: &RunArgs,
    log: &mut report::settlements::SettlementLog,
) -> Result<RunSummary, Failure> {
    let (mut config, city) = load_scenario(&args.scenario)?;
    let own = config.scenario.clone();
    cover_carry(&mut config, args.scenario.days(), [&own], args.quiet)?;
    let scenario = &config.scenario;
    let seeds = args.replication.seeds(config.seed);
    let experiment = RunExperiment::new(scenario, &city, config.days);
    if !scenario.policies.is_empty() {
        return Err(Failure::BadInput(anyhow!(
            "--settlements lists payments as the stream orders them; with [[policy]] entries banks submit them later, which it does not show yet: run without --settlements"
        )));
    }
    let (mine, partial) = seeds.mine()?;
    let [seed] = mine[..] else {
        return Err(Failure::BadInput(anyhow!(
            "--settlements writes one replication's payments: give --replications 1 (or one shard of one seed)"
        )));
    };
    let record = experiment.observed(seed, log)?;
    Ok(experiment.summarise(vec![record], partial)?)
}

fn print_run(summary: &RunSummary, out: &Path, elapsed: std::time::Duration) {
    let study = &summary.study;
    for line in report::context_lines(
        study,
        &summary.seeds,
        summary.partial.as_ref(),
        "the scenario's own design",
    ) {
        println!("{line}");
    }
    let flows: Vec<_> = summary
        .channels
        .iter()
        .chain(&summary.instruments)
        .cloned()
        .collect();
    let days = report::run::days_pooled(summary.replications.len(), study.days);
    print!("{}", report::run::flow_table(&flows, days).text());
    println!("in transit: from the customer's order until the funds are available to the payee");
    if let Some(headline) = report::run::transit_headline(study, &summary.instruments) {
        println!("{headline}");
    }
    if let Some(warning) =
        report::run::carried_past_end(report::run::instrument_counts(&summary.instruments))
    {
        eprintln!("warning: {warning}");
    }
    let days = &summary.per_day;
    let shown = &days[..days.len().min(4)];
    print!("{}", report::run::day_table(shown).text());
    if shown.len() < days.len() {
        println!(
            "… {} more (seed, day) rows in {}",
            days.len() - shown.len(),
            out.join("report.md").display()
        );
    }
    for figure in summary.headline.iter().filter(|f| {
        f.flow == "all"
            && (f.metric.starts_with("knock_on")
                || f.metric.starts_with("shock_")
                || summary.seeds.len() > 1 && f.metric == "delay_indicator")
    }) {
        let (mean, ci) = show_estimate(&figure.metric, &figure.estimate);
        println!("{}: {mean} (95 % CI {ci})", figure.metric);
    }
    let seconds = elapsed.as_secs_f64();
    let payments: u64 = summary.all.counts.payments;
    println!(
        "{} payments in {:.3} s = {}; report in {}",
        grouped(i128::from(payments)),
        seconds,
        clearsim_core::format::per_second(payments as f64 / seconds.max(1e-9)),
        out.join("report.html").display()
    );
    let borrowed: i64 = summary
        .per_day
        .iter()
        .map(|d| d.report.overnight.borrowed_fen)
        .sum();
    if borrowed > 0 {
        println!(
            "overnight borrowing at the standing facility: {} yuan over all nights",
            yuan(borrowed)
        );
    }
}

/// Writes one day of the scenario in the replay format. The payments do
/// not depend on the scenario's channels (common random numbers).
pub fn generate(args: &GenerateArgs) -> Result<(), Failure> {
    let config = load(&args.config, args.seed, None, args.volume)?;
    let scenario = &config.scenario;
    let city = build_city(scenario);
    let model = run::stream_model(scenario, &city);
    let day = args.day - 1;
    let set = output_set(&args.out)?;
    let write = || -> Result<u64, clearsim_outset::OutputError> {
        set.write("participants.csv", &generate::participants_csv(&city))?;
        let mut file = set.file("payments.csv")?;
        let stream = model.day(config.seed, day, scenario.volume_of_day(day));
        let count =
            generate::write_payments(file.writer(), &city, scenario, stream).map_err(|source| {
                clearsim_outset::OutputError::Io {
                    path: args.out.join("payments.csv"),
                    source,
                }
            })?;
        file.finish()?;
        Ok(count)
    };
    let count = write().map_err(|e| Failure::BadInput(anyhow!("cannot write the day: {e}")))?;
    set.commit()
        .map_err(|e| Failure::BadInput(anyhow!("cannot write the day: {e}")))?;
    if !args.quiet {
        println!(
            "clearsim generate: {} day {} — {} participants, {} payments in {}",
            scenario.name,
            args.day,
            city.len(),
            grouped(i128::from(count)),
            args.out.display()
        );
    }
    Ok(())
}
