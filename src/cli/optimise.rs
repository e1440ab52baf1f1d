//! `clearsim optimise`: what the banks would choose under each design —
//! their liquidity (and policy) at equilibrium, the delay that follows, what
//! it costs, and the planner's optimum beside it.

use std::path::PathBuf;

use clap::Args;

use super::Failure;
use super::args::{output_set, publish, threads, with_replications};
use clearsim_jobs::scenario::{self, Overrides};
use clearsim_jobs::study::{self as jobs, Game, Source};
use clearsim_report::{self as report, optimise as out};
use clearsim_study::MAX_REPLICATIONS;
use clearsim_study::optimise;

#[derive(Args, Debug)]
pub struct OptimiseArgs {
    /// Scenario config with a [costs] section, e.g. configs/chengdu-2005.toml.
    config: PathBuf,
    /// Designs, comma-separated: `design` (the scenario's channels) or a
    /// strategy (`rtgs`, `dns:hourly`…). Default: `design`.
    #[arg(long, value_delimiter = ',', default_value = "design")]
    strategies: Vec<String>,
    /// Replications: seeds seed … seed+N−1, the same for every profile.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_REPLICATIONS)))]
    replications: u32,
    /// Liquidity levels per bank, from 0 to --max-scale × its opening.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=optimise::MAX_LEVELS as i64))]
    levels: u32,
    /// The highest level, as a multiple of the bank's opening under the
    /// scenario's liquidity policy (0 to 100).
    #[arg(long, default_value_t = 1.0)]
    max_scale: f64,
    /// Queue policies the banks choose from, `;`-separated (e.g.
    /// `immediate;deadline:13:00`); default: each keeps the scenario's.
    #[arg(long)]
    policies: Option<String>,
    /// Business days per replication (default: the config's, and at least
    /// a day after the last cycle that can carry, so carried payments'
    /// delay is priced).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
    days: Option<u32>,
    #[arg(long)]
    seed: Option<u64>,
    /// Rounds of best responses at most.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=i64::from(optimise::MAX_ROUNDS)))]
    max_rounds: u32,
    /// A round moving no bank by more than this many levels ends the search.
    #[arg(long, default_value_t = 0)]
    tolerance: u16,
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    threads: Option<u32>,
    /// Output directory (default: out/optimise/<scenario name>).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[arg(long, short)]
    quiet: bool,
}

pub fn optimise_command(args: &OptimiseArgs) -> Result<(), Failure> {
    let overrides = Overrides {
        seed: args.seed,
        days: args.days,
        ..Overrides::default()
    };
    let source = Source {
        path: &args.config,
        text: None,
        overrides: &overrides,
    };
    let name = scenario::load(&args.config, None, &overrides)?
        .scenario
        .name;
    let dir = super::args::out_or(args.out.as_deref(), &format!("optimise/{name}"));
    let set = output_set(&dir)?;
    let game = Game {
        designs: &args.strategies,
        levels: args.levels,
        max_scale: args.max_scale,
        policies: args.policies.as_deref(),
        max_rounds: args.max_rounds,
        tolerance: args.tolerance,
    };
    let asked = (args.replications, None, threads(args.threads));
    let outcome = with_replications(args.quiet, asked, |replications| {
        jobs::optimise(source, &game, replications)
    })?;
    if !args.quiet {
        for note in &outcome.notes {
            eprintln!("note: {note}");
        }
    }
    let (report, context) = outcome.summary;
    let json = report::to_json(&report).map_err(|e| Failure::Internal(e.into()))?;
    let document = out::optimise_document(&report, context);
    publish(set, json, document.files().into())?;
    if !args.quiet {
        print!("{}", document.markdown());
        println!("\nreport in {}", dir.join("report.html").display());
    }
    Ok(())
}
