//! `clearsim run` and `clearsim generate`: scenario configs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, anyhow};
use clap::Args;

use super::Failure;
use super::args::{
    ReplicationArgs, ScenarioArgs, load, load_scenario, parse_volume, progress, write_outputs,
};
use crate::format::{grouped, yuan};
use crate::report::{self, AtomicFile, show_estimate};
use crate::run;
use crate::study::summary::RunSummary;
use crate::study::{self, Study};
use crate::workload::city::{City, build_city};

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    #[command(flatten)]
    replication: ReplicationArgs,
    /// Output directory for summary.json and the reports (default: out/<scenario name>).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
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
    let (scenario, city) = load_scenario(&args.scenario)?;
    let (seeds, partial) = args.replication.seeds(scenario.seed)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(&scenario.name));
    let study = Study {
        scenario: &scenario,
        city: &city,
        seeds: &seeds,
        threads: args.replication.threads(),
    };
    let bar = progress(study.job_count(1), args.quiet, "runs");
    let started = Instant::now();
    let records = study.run(&|| bar.inc(1)).map_err(super::engine_failure)?;
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    let summary = RunSummary::new(study::meta(&scenario, &city), records, partial)
        .map_err(|e| Failure::Other(anyhow!(e)))?;
    let json = report::to_json(&summary).map_err(|e| Failure::Other(e.into()))?;
    write_outputs(&out, json, report::run::run_files(&summary))?;
    if !args.quiet {
        print_run(&summary, &out, elapsed);
    }
    Ok(())
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
    print!("{}", report::run::flow_table(&flows).text());
    println!("in transit: from the customer's order until the funds are available to the payee");
    if let Some(headline) = report::run::transit_headline(study, &summary.instruments) {
        println!("{headline}");
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
        "{} payments in {:.3} s = {} payments/s; report in {}",
        grouped(i128::from(payments)),
        seconds,
        grouped((payments as f64 / seconds.max(1e-9)) as i128),
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
    let scenario = load(&args.config, args.seed, None, args.volume)?;
    let city = build_city(&scenario);
    let model = run::stream_model(&scenario, &city);
    let day = args.day - 1;
    let write = || -> std::io::Result<u64> {
        let participants = participants_csv(&city);
        report::write_all_atomic(&args.out, &[("participants.csv", &participants)])?;
        let mut file = AtomicFile::create(&args.out, "payments.csv")?;
        let w = file.writer();
        w.write_all(b"id,submit,sender,receiver,amount,priority,instrument\n")?;
        let mut count = 0u64;
        let mut line = Vec::with_capacity(128);
        let mut number = itoa::Buffer::new();
        for generated in model.day(scenario.seed, day, run::volume_of_day(&scenario, day)) {
            line.clear();
            line.push(b'P');
            line.extend_from_slice(number.format(count).as_bytes());
            line.push(b',');
            generated.submit.write_text(&mut line);
            line.push(b',');
            line.extend_from_slice(city.ids[generated.sender as usize].as_bytes());
            line.push(b',');
            line.extend_from_slice(city.ids[generated.receiver as usize].as_bytes());
            line.push(b',');
            line.extend_from_slice(number.format(generated.amount_fen).as_bytes());
            line.push(b',');
            line.extend_from_slice(number.format(generated.priority).as_bytes());
            line.push(b',');
            let instrument = usize::from(generated.tag & crate::workload::stream::TAG_INSTRUMENT);
            line.extend_from_slice(scenario.instruments[instrument].name.as_bytes());
            line.push(b'\n');
            w.write_all(&line)?;
            count += 1;
        }
        file.commit()?;
        Ok(count)
    };
    let count = write()
        .with_context(|| format!("{}: cannot write the day", args.out.display()))
        .map_err(Failure::Other)?;
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

/// `participants.csv` of a city (names and categories have no commas).
pub fn participants_csv(city: &City) -> Vec<u8> {
    let mut out = b"id,name,category,opening_balance,credit_limit\n".to_vec();
    for i in 0..city.len() {
        let name = city.names[i].replace(',', " ");
        out.extend_from_slice(
            format!(
                "{},{},{},{},{}\n",
                city.ids[i],
                name,
                city.categories[i],
                city.opening_fen[i],
                city.credit_limit_fen[i]
            )
            .as_bytes(),
        );
    }
    out
}
