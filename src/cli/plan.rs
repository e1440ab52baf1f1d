//! `clearsim plan`: the plan's 2005 design against its 2010 design, on the
//! same seeds, with funds-in-transit time by instrument as the headline.

use std::path::PathBuf;

use clap::Args;

use super::Failure;
use super::args::{execute, load, output_set, publish, threads};
use clearsim_model::workload::city::build_city;
use clearsim_report::{self as report, plan};
use clearsim_study::plan::PlanExperiment;
use clearsim_study::{MAX_REPLICATIONS, Seeds};

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// The design before the plan, e.g. configs/chengdu-2005.toml.
    before: PathBuf,
    /// The design the plan aims at, e.g. configs/chengdu-2010.toml (its
    /// volumes are the plan's growth of the first's).
    after: PathBuf,
    /// Seed of both designs (default: the first config's); replications
    /// take the next ones, the same for both.
    #[arg(long)]
    seed: Option<u64>,
    /// Business days per replication, for both (default 3: cards settled
    /// the next morning and carried cheques need a day after theirs).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=3650))]
    days: u32,
    /// Replications: seeds seed … seed+N−1, each run under both designs.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_REPLICATIONS)))]
    replications: u32,
    /// Threads (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    threads: Option<u32>,
    /// Output directory for summary.json, report.md and report.html.
    #[arg(long, value_name = "DIR", default_value = "out/plan")]
    out: PathBuf,
    /// Print nothing on success.
    #[arg(long, short)]
    quiet: bool,
}

pub fn plan_command(args: &PlanArgs) -> Result<(), Failure> {
    let before = load(&args.before, args.seed, Some(args.days), None)?;
    let seed = args.seed.unwrap_or(before.seed);
    let after = load(&args.after, Some(seed), Some(args.days), None)?;
    let set = output_set(&args.out)?;
    let seeds = Seeds {
        first: seed,
        replications: args.replications,
        shard: None,
    };
    let cities = [build_city(&before.scenario), build_city(&after.scenario)];
    for (city, path) in cities.iter().zip([&args.before, &args.after]) {
        city.check()
            .map_err(|e| super::bad_input(format!("{}: {e}", path.display())))?;
    }
    clearsim_study::plan::check_same_city(
        (&before.scenario, &cities[0]),
        (&after.scenario, &cities[1]),
    )?;
    let experiment = PlanExperiment::new(
        (&before.scenario, &cities[0]),
        (&after.scenario, &cities[1]),
        args.days,
    );
    let report = execute(&experiment, &seeds, threads(args.threads), args.quiet)?;
    let scenarios = [&before.scenario, &after.scenario];
    let seeds = seeds.all();
    let context = vec![
        format!(
            "{} ({}) against {} ({}): {} business day(s) per replication, seeds {}…{}.",
            scenarios[0].name,
            args.before.display(),
            scenarios[1].name,
            args.after.display(),
            args.days,
            seeds[0],
            seeds[seeds.len() - 1]
        ),
        format!(
            "clearsim {}. Definitions of every figure: {}.",
            env!("CARGO_PKG_VERSION"),
            report::GLOSSARY
        ),
    ];
    let json = report::to_json(&report).map_err(|e| Failure::Internal(e.into()))?;
    let document = plan::plan_document(&report, context.clone());
    publish(set, json, plan::plan_files(&report, context))?;
    if !args.quiet {
        print!("{}", document.markdown());
        println!("\nreport in {}", args.out.join("report.html").display());
    }
    Ok(())
}
