//! `clearsim optimise`: what the banks would choose under each design —
//! their liquidity (and policy) at equilibrium, the delay that follows, what
//! it costs, and the planner's optimum beside it.

use std::path::PathBuf;

use clap::Args;

use super::Failure;
use super::args::{cover_carry, execute, load, output_set, publish, threads};
use clearsim_model::bank::policy::{Policy, parse_policy};
use clearsim_model::config::Scenario;
use clearsim_report::{self as report, optimise as out};
use clearsim_study::optimise::{self, GameSpec, OptimiseExperiment};
use clearsim_study::{Design, MAX_REPLICATIONS, Seeds, parse_design, variant};

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

fn policy_options(text: Option<&str>) -> Result<Vec<Policy>, Failure> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    let list: Vec<Policy> = text
        .split(';')
        .map(|p| parse_policy(p).map_err(|e| super::bad_input(format!("--policies: {e}"))))
        .collect::<Result<_, _>>()?;
    if list.len() > optimise::MAX_POLICY_OPTIONS {
        return Err(super::bad_input(format!(
            "--policies: at most {} policies",
            optimise::MAX_POLICY_OPTIONS
        )));
    }
    Ok(list)
}

pub fn optimise_command(args: &OptimiseArgs) -> Result<(), Failure> {
    let mut config = load(&args.config, args.seed, args.days, None)?;
    let designs = optimise_designs(&args.strategies, &config.scenario)?;
    let variants: Vec<_> = if designs.is_empty() {
        vec![config.scenario.clone()]
    } else {
        designs
            .iter()
            .map(|d| variant(&config.scenario, d))
            .collect()
    };
    cover_carry(&mut config, args.days, &variants, args.quiet)?;
    let scenario = &config.scenario;
    if scenario.costs.is_none() {
        return Err(super::bad_input(format!(
            "{}: optimise needs a [costs] section (docs/equilibria.md)",
            args.config.display()
        )));
    }
    if !(args.max_scale.is_finite() && (0.0..=100.0).contains(&args.max_scale)) {
        return Err(super::bad_input("--max-scale: a number from 0 to 100"));
    }
    let spec = GameSpec {
        levels: args.levels as usize,
        max_scale: args.max_scale,
        policies: policy_options(args.policies.as_deref())?,
        days: config.days,
        max_rounds: args.max_rounds,
        tolerance_levels: args.tolerance,
        shortcut: true,
    };
    let seeds = Seeds {
        first: config.seed,
        replications: args.replications,
        shard: None,
    };
    let experiment = OptimiseExperiment::new(scenario, &designs, spec);
    let report = execute(&experiment, &seeds, threads(args.threads), args.quiet)?;
    write(args, &scenario.name, &report)
}

/// `--strategies`, parsed.
fn optimise_designs(labels: &[String], scenario: &Scenario) -> Result<Vec<Design>, Failure> {
    labels
        .iter()
        .map(|label| {
            parse_design(label, scenario.day_end)
                .map_err(|e| super::bad_input(format!("--strategies: {e}")))
        })
        .collect()
}

fn write(args: &OptimiseArgs, name: &str, report: &out::OptimiseReport) -> Result<(), Failure> {
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out/optimise").join(name));
    let set = output_set(&dir)?;
    let context = vec![
        format!(
            "{} ({}): {} replication(s) (seeds {}…), {} business day(s) each, up to {} liquidity levels per bank (equal ones merged).",
            report.scenario,
            args.config.display(),
            report.seeds.len(),
            report.seeds[0],
            report.days,
            report.levels
        ),
        format!(
            "clearsim {}. Definitions of every figure: {}.",
            env!("CARGO_PKG_VERSION"),
            report::GLOSSARY
        ),
    ];
    let json = report::to_json(report).map_err(|e| Failure::Internal(e.into()))?;
    let document = out::optimise_document(report, context);
    publish(set, json, document.files().into())?;
    if !args.quiet {
        print!("{}", document.markdown());
        println!("\nreport in {}", dir.join("report.html").display());
    }
    Ok(())
}
