//! `clearsim run` and `clearsim generate`: scenario configs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Args;

use super::Failure;
use crate::config::{ParticipantDefault, Scenario};
use crate::format::{grouped, yuan};
use crate::report::{self, AtomicFile};
use crate::run::{self, NoObserver};
use crate::workload::city::{City, build_city};

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
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
}

fn parse_volume(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 1000.0 => Ok(v),
        _ => Err(format!("`{text}` is not a factor in (0, 1000]")),
    }
}

/// The scenario and its overrides, shared by compare and sweep.
#[derive(Args, Debug)]
pub struct ScenarioArgs {
    /// Scenario config (TOML), e.g. configs/chengdu-2005.toml.
    config: PathBuf,
    /// Override the config's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Override the config's number of business days.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
    days: Option<u32>,
    /// Multiply every instrument's daily count (e.g. 0.01 for a quick look).
    #[arg(long, value_name = "FACTOR", value_parser = parse_volume)]
    volume: Option<f64>,
    /// A participant that stops paying at a time: ID@HH:MM:SS.
    #[arg(long = "default", value_name = "ID@HH:MM:SS", value_parser = ParticipantDefault::parse)]
    default: Option<ParticipantDefault>,
}

pub fn load_scenario(args: &ScenarioArgs) -> Result<Scenario, Failure> {
    let mut scenario = load(&args.config, args.seed, args.days, args.volume)?;
    with_default(&mut scenario, args.default.clone())?;
    Ok(scenario)
}

/// Applies a `--default` and checks that it fits the scenario.
fn with_default(
    scenario: &mut Scenario,
    default: Option<ParticipantDefault>,
) -> Result<(), Failure> {
    if let Some(default) = default {
        scenario.default = Some(default);
    }
    if let Some(default) = &scenario.default {
        if default.at > scenario.day_end {
            return Err(Failure::BadInput(anyhow::anyhow!(
                "--default: {} is after the day end {}",
                default.at,
                scenario.day_end
            )));
        }
        let city = build_city(scenario);
        if !city.ids.contains(&default.participant) {
            return Err(Failure::BadInput(anyhow::anyhow!(
                "--default: `{}` is not a participant of {} (e.g. {})",
                default.participant,
                scenario.name,
                city.ids
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    Ok(())
}

pub(super) fn load(
    path: &Path,
    seed: Option<u64>,
    days: Option<u32>,
    volume: Option<f64>,
) -> Result<Scenario, Failure> {
    let mut scenario = Scenario::load(path).map_err(|e| Failure::BadInput(e.into()))?;
    if let Some(seed) = seed {
        scenario.seed = seed;
    }
    if let Some(days) = days {
        scenario.days = days;
    }
    if let Some(volume) = volume {
        scenario.scale_volume(volume);
    }
    Ok(scenario)
}

pub fn run(args: &RunArgs) -> Result<(), Failure> {
    let scenario = load_scenario(&args.scenario)?;
    let city = build_city(&scenario);
    let started = Instant::now();
    let result = run::run(&scenario, &city, &mut NoObserver).map_err(super::engine_failure)?;
    let elapsed = started.elapsed();
    let summary = report::run::run_summary(&scenario, &city, &result);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(&scenario.name));
    let json = report::to_json(&summary).map_err(|e| Failure::Other(e.into()))?;
    let files = report::run::run_files(&summary);
    let mut all: Vec<(&str, &[u8])> = vec![("summary.json", &json)];
    all.extend(files.iter().map(|(name, bytes)| (*name, bytes.as_slice())));
    report::write_all_atomic(&out, &all)
        .with_context(|| format!("{}: cannot write results", out.display()))
        .map_err(Failure::Other)?;
    if !args.quiet {
        print_run(&summary, &out, elapsed);
    }
    Ok(())
}

fn print_run(summary: &report::run::RunSummary, out: &Path, elapsed: std::time::Duration) {
    println!(
        "clearsim run: {} — {} participants, {} day(s), seed {}, day end {}",
        summary.scenario, summary.participants, summary.days, summary.seed, summary.day_end
    );
    let table = report::run::flow_table(
        &summary
            .channels
            .iter()
            .chain(&summary.instruments)
            .cloned()
            .collect::<Vec<_>>(),
    );
    print!("{}", table.text());
    println!("in-transit: deposit → funds available (cheques), submission → settlement (others)");
    let days = &summary.per_day;
    let shown = if days.len() > 6 {
        &days[..3]
    } else {
        &days[..]
    };
    print!("{}", report::run::day_table(shown).text());
    if shown.len() < days.len() {
        println!(
            "… {} more days in {}",
            days.len() - shown.len(),
            out.join("report.md").display()
        );
    }
    if let Some(d) = &summary.default {
        println!(
            "default: {} stops paying at {}; unsettled between the others: {} payments, {} yuan",
            d.participant,
            d.at,
            grouped(i128::from(d.knock_on.unsettled_at_others)),
            yuan(d.knock_on.unsettled_value_at_others)
        );
    }
    if summary.guarantee_fund_used != 0 {
        println!(
            "guarantee fund: paid {} yuan for short participants",
            yuan(summary.guarantee_fund_used)
        );
    }
    let seconds = elapsed.as_secs_f64();
    println!(
        "engine: {} payments in {:.3} s = {} payments/s (generation and settlement, one thread); report in {}",
        grouped(i128::from(summary.payments)),
        seconds,
        grouped((summary.payments as f64 / seconds.max(1e-9)) as i128),
        out.join("report.html").display()
    );
}

/// Writes one day of the scenario in the replay format.
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
    println!(
        "clearsim generate: {} day {} — {} participants, {} payments in {}",
        scenario.name,
        args.day,
        city.len(),
        grouped(i128::from(count)),
        args.out.display()
    );
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
