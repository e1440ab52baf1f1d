//! `clearsim compare`, `clearsim sweep` and `clearsim report`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Failure;
use super::run::{ScenarioArgs, load_scenario};
use crate::config::Scenario;
use crate::report::{self, study};
use crate::study::{DEFAULT_STRATEGIES, StrategyChoice, compare, cores, parse_strategy, sweep};
use crate::workload::city::build_city;

#[derive(Args, Debug)]
pub struct CompareArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// Strategies, separated by spaces or semicolons, e.g.
    /// "rtgs; rtgs+gridlock:5m; dns:10:00,15:00; dns:hourly; bilateral:12:00,16:30"
    /// (default: the config's `compare` list, else a standard five).
    #[arg(long, value_name = "LIST")]
    strategies: Option<String>,
    /// Output directory (default: out/<scenario>-compare).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// No progress bar, no table.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args, Debug)]
pub struct SweepArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// Liquidity levels FROM..TO: 0 = each participant's lower bound, 1 = its upper bound.
    #[arg(long, value_name = "FROM..TO", default_value = "0..1", value_parser = parse_range)]
    liquidity: (f64, f64),
    /// Number of points (≥ 2).
    #[arg(long, default_value_t = 11, value_parser = clap::value_parser!(u32).range(2..=1000))]
    steps: u32,
    /// Strategies, as for `compare`.
    #[arg(long, value_name = "LIST")]
    strategies: Option<String>,
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[arg(long)]
    threads: Option<usize>,
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A directory with a summary.json written by run, compare or sweep.
    dir: PathBuf,
}

fn parse_range(text: &str) -> Result<(f64, f64), String> {
    let (from, to) = text
        .split_once("..")
        .ok_or_else(|| format!("`{text}` is not FROM..TO"))?;
    let parse = |v: &str| {
        v.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    match (parse(from), parse(to)) {
        (Some(a), Some(b)) if a <= b && b <= 100.0 => Ok((a, b)),
        _ => Err(format!(
            "`{text}` is not a range FROM..TO with 0 ≤ FROM ≤ TO ≤ 100"
        )),
    }
}

fn choices(scenario: &Scenario, list: Option<&str>) -> Result<Vec<StrategyChoice>, Failure> {
    let names: Vec<String> = match list {
        Some(list) => list
            .split([';', ' '])
            .filter(|s| !s.trim().is_empty())
            .map(String::from)
            .collect(),
        None if !scenario.compare.is_empty() => scenario.compare.clone(),
        None => DEFAULT_STRATEGIES.iter().map(|s| s.to_string()).collect(),
    };
    if names.is_empty() {
        return Err(Failure::BadInput(anyhow!(
            "--strategies: name at least one strategy"
        )));
    }
    names
        .iter()
        .map(|name| {
            parse_strategy(name, scenario.day_end)
                .map_err(|e| Failure::BadInput(anyhow!("--strategies: {e}")))
        })
        .collect()
}

/// A progress bar on stderr, hidden when stderr is not a terminal or quiet.
pub(super) fn progress(total: usize, quiet: bool, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total as u64);
    if quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(what.to_string());
    bar
}

fn write(
    out: &Path,
    summary_json: Vec<u8>,
    files: Vec<(&'static str, Vec<u8>)>,
) -> Result<(), Failure> {
    let mut all: Vec<(&str, &[u8])> = vec![("summary.json", &summary_json)];
    all.extend(files.iter().map(|(n, b)| (*n, b.as_slice())));
    report::write_all_atomic(out, &all)
        .with_context(|| format!("{}: cannot write results", out.display()))
        .map_err(Failure::Other)
}

pub fn compare_command(args: &CompareArgs) -> Result<(), Failure> {
    let scenario = load_scenario(&args.scenario)?;
    let choices = choices(&scenario, args.strategies.as_deref())?;
    let city = build_city(&scenario);
    let bar = progress(choices.len(), args.quiet, "strategies");
    let started = std::time::Instant::now();
    let results = compare(
        &scenario,
        &city,
        &choices,
        args.threads.unwrap_or_else(cores),
        &|| bar.inc(1),
    )
    .map_err(super::engine_failure)?;
    bar.finish_and_clear();
    let summary = study::compare_summary(&scenario, &city, &choices, &results);
    let json = report::to_json(&summary).map_err(|e| Failure::Other(e.into()))?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(format!("{}-compare", scenario.name)));
    write(&out, json, study::compare_files(&summary))?;
    if !args.quiet {
        println!(
            "clearsim compare: {} — seed {}, {} day(s), {} strategies",
            scenario.name,
            scenario.seed,
            scenario.days,
            choices.len()
        );
        print!("{}", study::compare_table(&summary).text());
        println!(
            "{:.2} s on {} thread(s); report in {}",
            started.elapsed().as_secs_f64(),
            args.threads.unwrap_or_else(cores),
            out.join("report.html").display()
        );
    }
    Ok(())
}

pub fn sweep_command(args: &SweepArgs) -> Result<(), Failure> {
    let scenario = load_scenario(&args.scenario)?;
    let choices = choices(&scenario, args.strategies.as_deref())?;
    let city = build_city(&scenario);
    let (from, to) = args.liquidity;
    let steps = args.steps as usize;
    let levels: Vec<f64> = (0..steps)
        .map(|i| from + (to - from) * i as f64 / (steps - 1) as f64)
        .collect();
    let bar = progress(levels.len() * choices.len(), args.quiet, "runs");
    let points = sweep(
        &scenario,
        &city,
        &choices,
        &levels,
        args.threads.unwrap_or_else(cores),
        &|| bar.inc(1),
    )
    .map_err(super::engine_failure)?;
    bar.finish_and_clear();
    let summary = study::sweep_summary(&scenario, &choices, &points);
    let json = report::to_json(&summary).map_err(|e| Failure::Other(e.into()))?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(format!("{}-sweep", scenario.name)));
    write(&out, json, study::sweep_files(&summary))?;
    if !args.quiet {
        println!(
            "clearsim sweep: {} — seed {}, {} levels × {} strategies",
            scenario.name,
            scenario.seed,
            levels.len(),
            choices.len()
        );
        print!("{}", study::sweep_table(&summary).text());
        println!("report in {}", out.join("report.html").display());
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Directories (or summary.json files) of runs or compares of the same study.
    #[arg(required = true, num_args = 2..)]
    inputs: Vec<PathBuf>,
    /// Output directory for the merged summary and its reports.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// A summary read from disk, typed by its schema.
enum Saved {
    Run(report::run::RunSummary),
    Compare(study::CompareSummary),
    Sweep(study::SweepSummary),
}

fn read_summary(path: &Path) -> Result<Saved, Failure> {
    let path = if path.is_dir() {
        path.join("summary.json")
    } else {
        path.to_path_buf()
    };
    let bytes = std::fs::read(&path)
        .with_context(|| format!("{}: cannot read", path.display()))
        .map_err(Failure::BadInput)?;
    #[derive(serde::Deserialize)]
    struct Schema {
        schema: String,
    }
    let schema: Schema = serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: not a clearsim summary", path.display()))
        .map_err(Failure::BadInput)?;
    let typed = |what: &str| format!("{}: not a {what} summary", path.display());
    // Parsed from the bytes (not a JSON value): sums are 128-bit integers.
    Ok(match schema.schema.as_str() {
        report::run::RUN_SCHEMA => Saved::Run(
            serde_json::from_slice(&bytes)
                .with_context(|| typed("run"))
                .map_err(Failure::BadInput)?,
        ),
        study::COMPARE_SCHEMA => Saved::Compare(
            serde_json::from_slice(&bytes)
                .with_context(|| typed("compare"))
                .map_err(Failure::BadInput)?,
        ),
        study::SWEEP_SCHEMA => Saved::Sweep(
            serde_json::from_slice(&bytes)
                .with_context(|| typed("sweep"))
                .map_err(Failure::BadInput)?,
        ),
        other => {
            return Err(Failure::BadInput(anyhow!(
                "{}: schema `{other}` is not a run, compare or sweep summary",
                path.display()
            )));
        }
    })
}

fn files_of(saved: &Saved) -> Result<(Vec<u8>, report::ReportFiles), Failure> {
    let failed = |e: std::io::Error| Failure::Other(e.into());
    Ok(match saved {
        Saved::Run(s) => (
            report::to_json(s).map_err(failed)?,
            report::run::run_files(s),
        ),
        Saved::Compare(s) => (report::to_json(s).map_err(failed)?, study::compare_files(s)),
        Saved::Sweep(s) => (report::to_json(s).map_err(failed)?, study::sweep_files(s)),
    })
}

/// The summaries, all of one kind (`pick` returns it), or an error.
fn all_of<T>(
    saved: Vec<Saved>,
    pick: fn(Saved) -> Option<T>,
    kind: &str,
) -> Result<Vec<T>, String> {
    saved
        .into_iter()
        .map(|s| pick(s).ok_or_else(|| format!("all inputs must be {kind}")))
        .collect()
}

/// Pools several runs or compares of the same study into one.
pub fn merge_command(args: &MergeArgs) -> Result<(), Failure> {
    let saved: Vec<Saved> = args
        .inputs
        .iter()
        .map(|p| read_summary(p))
        .collect::<Result<_, _>>()?;
    let bad = |e: String| Failure::BadInput(anyhow!("merge: {e}"));
    let merged = match &saved[0] {
        Saved::Run(_) => {
            let runs = all_of(
                saved,
                |s| if let Saved::Run(r) = s { Some(r) } else { None },
                "runs",
            )
            .map_err(bad)?;
            Saved::Run(report::merge::merge_runs(runs).map_err(bad)?)
        }
        Saved::Compare(_) => {
            let compares = all_of(
                saved,
                |s| {
                    if let Saved::Compare(c) = s {
                        Some(c)
                    } else {
                        None
                    }
                },
                "compares",
            )
            .map_err(bad)?;
            Saved::Compare(report::merge::merge_compares(compares).map_err(bad)?)
        }
        Saved::Sweep(_) => {
            return Err(bad(
                "sweeps do not merge (run the sweep with more volume or days instead)".into(),
            ));
        }
    };
    let (json, files) = files_of(&merged)?;
    write(&args.out, json, files)?;
    println!(
        "clearsim merge: {} inputs into {}",
        args.inputs.len(),
        args.out.display()
    );
    Ok(())
}

/// Rebuilds report.md, the CSV tables and report.html from summary.json.
pub fn report_command(args: &ReportArgs) -> Result<(), Failure> {
    let saved = read_summary(&args.dir)?;
    let (_, files) = files_of(&saved)?;
    let all: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
    report::write_all_atomic(&args.dir, &all)
        .with_context(|| format!("{}: cannot write", args.dir.display()))
        .map_err(Failure::Other)?;
    println!(
        "clearsim report: rebuilt {} in {}",
        files.iter().map(|f| f.0).collect::<Vec<_>>().join(", "),
        args.dir.display()
    );
    Ok(())
}
