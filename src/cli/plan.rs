//! `clearsim plan`: the plan's 2005 design against its 2010 design, on the
//! same seeds, with funds-in-transit time by instrument as the headline.

use std::path::PathBuf;

use clap::Args;

use super::Failure;
use super::args::{output_set, publish, threads, with_replications};
use clearsim_jobs::scenario::Overrides;
use clearsim_jobs::study::Source;
use clearsim_report::{self as report, plan};
use clearsim_study::MAX_REPLICATIONS;

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
    let set = output_set(&args.out)?;
    let overrides = Overrides {
        seed: args.seed,
        ..Overrides::default()
    };
    let source = |path| Source {
        path,
        text: None,
        overrides: &overrides,
    };
    let asked = (args.replications, None, threads(args.threads));
    let (report, context) = with_replications(args.quiet, asked, |replications| {
        let (before, after) = (source(args.before.as_path()), source(args.after.as_path()));
        clearsim_jobs::study::plan(before, after, args.days, replications)
    })?;
    let json = report::to_json(&report).map_err(|e| Failure::Internal(e.into()))?;
    let document = plan::plan_document(&report, context.clone());
    publish(set, json, plan::plan_files(&report, context))?;
    if !args.quiet {
        print!("{}", document.markdown());
        println!("\nreport in {}", args.out.join("report.html").display());
    }
    Ok(())
}
