//! `clearsim optimise`: what the banks would choose under each design —
//! their liquidity (and policy) at equilibrium, the delay that follows, what
//! it costs, and the planner's optimum beside it.

use std::path::PathBuf;

use clap::Args;

use super::Failure;
use super::args::{load, output_set, progress, publish};
use clearsim_model::bank::policy::{Policy, parse_policy};
use clearsim_model::workload::city::build_city;
use clearsim_report::{self as report, optimise as out};
use clearsim_study::optimise::{self, Game, GameSpec, Objective};
use clearsim_study::{self as study, MAX_REPLICATIONS};

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
    /// Business days per replication (default 1).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=3650))]
    days: u32,
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
    let scenario = load(&args.config, args.seed, Some(args.days), None)?;
    if scenario.costs.is_none() {
        return Err(super::bad_input(format!(
            "{}: optimise needs a [costs] section (docs/equilibria.md)",
            args.config.display()
        )));
    }
    if !(args.max_scale.is_finite() && (0.0..=100.0).contains(&args.max_scale)) {
        return Err(super::bad_input("--max-scale: a number from 0 to 100"));
    }
    let policies = policy_options(args.policies.as_deref())?;
    let spec = GameSpec {
        levels: args.levels as usize,
        max_scale: args.max_scale,
        policies: policies.clone(),
        seeds: study::seeds(scenario.seed, args.replications),
        threads: args.threads.map_or_else(study::cores, |t| t as usize),
        max_rounds: args.max_rounds,
        tolerance_levels: args.tolerance,
        shortcut: true,
    };
    let names: Vec<String> = policies.iter().map(Policy::to_string).collect();
    let mut parsed = Vec::new();
    for label in &args.strategies {
        parsed.push(
            study::parse_design(label, scenario.day_end)
                .map_err(|e| super::bad_input(format!("--strategies: {e}")))?,
        );
    }
    // Its length grows as rounds go: how many a search takes is not known.
    let bar = progress(0, args.quiet, "runs");
    let tick = || {
        if bar.position() >= bar.length().unwrap_or(0) {
            bar.inc_length(1);
        }
        bar.inc(1);
    };
    let mut designs = Vec::new();
    for design in &parsed {
        let variant = study::variant(&scenario, design);
        designs.push(one_design(
            &variant,
            &design.label,
            &spec,
            &names,
            (&bar, &tick),
        )?);
    }
    bar.finish_and_clear();
    let report = out::OptimiseReport {
        schema: out::SCHEMA.into(),
        scenario: scenario.name.clone(),
        seeds: spec.seeds.clone(),
        days: args.days,
        levels: spec.levels,
        policies: names,
        designs,
    };
    write(args, &scenario.name, &report)
}

fn one_design(
    scenario: &clearsim_model::config::Scenario,
    label: &str,
    spec: &GameSpec,
    names: &[String],
    (bar, tick): (&indicatif::ProgressBar, &(dyn Fn() + Sync)),
) -> Result<out::DesignReport, Failure> {
    let city = build_city(scenario);
    let mut game = Game::new(scenario, &city, spec)
        .map_err(super::bad_input)?
        .on_run(tick);
    // Two rounds at least: one that moves, one that confirms.
    bar.inc_length(2 * game.runs_per_round() as u64);
    let engine = super::engine_failure;
    let start = game.start();
    let search = optimise::iterate(&mut game, start, Objective::Own).map_err(engine)?;
    // From the equilibrium: the planner's profile costs no more than it.
    let planner_search =
        optimise::iterate(&mut game, search.last().profile.clone(), Objective::Total)
            .map_err(engine)?;
    let enumeration = optimise::enumerate(&mut game).map_err(engine)?;
    let levels_fen = game.levels_fen.clone();
    let mut describe_one = |profile: &[optimise::Choice]| -> Result<out::ProfileReport, Failure> {
        let outcome = game
            .outcomes(&[profile.to_vec()])
            .map_err(engine)?
            .remove(0);
        Ok(out::describe(
            profile,
            &outcome,
            &city.ids,
            &levels_fen,
            names,
        ))
    };
    let equilibrium = describe_one(&search.last().profile)?;
    let mut planner = describe_one(&planner_search.last().profile)?;
    let enumeration = match enumeration {
        Some(e) => {
            let mut reports = Vec::new();
            for p in e.equilibria.iter().chain([&e.optimum]) {
                reports.push(describe_one(p)?);
            }
            let optimum = reports.pop().expect("the optimum is described");
            // The exact optimum is the planner's.
            planner = optimum.clone();
            Some(out::EnumerationReport {
                profiles: e.profiles,
                equilibria: reports,
                optimum,
            })
        }
        None => None,
    };
    Ok(out::DesignReport {
        design: label.to_string(),
        price_of_anarchy: out::price_of_anarchy(equilibrium.cost_total_fen, planner.cost_total_fen),
        equilibrium,
        search,
        planner,
        planner_search,
        enumeration,
        evaluations: game.evaluations,
        runs: game.runs,
        priced_runs: game.priced,
    })
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
    let markdown = out::markdown(report, &context);
    let files = vec![
        ("report.md", markdown.clone().into_bytes()),
        ("report.html", out::html_page(report, &context).into_bytes()),
    ];
    publish(set, json, files)?;
    if !args.quiet {
        print!("{markdown}");
        println!("\nreport in {}", dir.join("report.html").display());
    }
    Ok(())
}
