//! `clearsim compare`, `sweep`, `report` and `merge`.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use clap::Args;

use super::Failure;
use super::args::{ReplicationArgs, ScenarioArgs, output_set, publish, with_replications};
use clearsim_jobs::scenario;
use clearsim_jobs::study as jobs;
use clearsim_report::{self as report, show_estimate};
use clearsim_study::merge;
use clearsim_study::schema::{self, Summary};
use clearsim_study::summary::CompareSummary;

#[derive(Args, Debug)]
pub struct CompareArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    #[command(flatten)]
    replication: ReplicationArgs,
    /// Designs, separated by spaces or semicolons: `design` (the scenario's
    /// own channels) and strategies, e.g.
    /// "design; rtgs; rtgs+gridlock:5m; dns:10:00,15:00; bilateral:hourly"
    /// (default: the config's `compare` list, else a standard six). The
    /// first is the one the others are paired against.
    #[arg(long, value_name = "LIST")]
    strategies: Option<String>,
    /// Output directory (default: out/<scenario>-compare).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Also write the payment network of the compared stream (day 1 of
    /// the first replication, the same for every design): network.csv,
    /// flows.csv and network.md / network.html.
    #[arg(long)]
    network: bool,
    /// No progress bar, no table.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args, Debug)]
pub struct SweepArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    #[command(flatten)]
    replication: ReplicationArgs,
    /// Liquidity levels FROM..TO: 0 = each participant's lower bound, 1 =
    /// its need to settle every payment on entry.
    #[arg(long, value_name = "FROM..TO", default_value = "0..1", value_parser = parse_range)]
    liquidity: (f64, f64),
    /// Number of points (≥ 2).
    #[arg(long, default_value_t = 11, value_parser = clap::value_parser!(u32).range(2..=1000))]
    steps: u32,
    /// Designs, as for `compare` (default: the scenario's own design).
    #[arg(long, value_name = "LIST")]
    strategies: Option<String>,
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args, Debug)]
pub struct CriticalArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    #[command(flatten)]
    replication: ReplicationArgs,
    /// When each participant defaults (stops paying) on day 1, HH:MM
    /// (default 00:00: the whole day).
    #[arg(long, value_name = "HH:MM", default_value = "00:00", value_parser = super::replay::parse_time_arg)]
    at: clearsim_core::time::SimTime,
    /// Instead of a default, each participant loses PCT % of its opening
    /// balance at --at (a liquidity shock in turn; above 0, at most 100).
    #[arg(long, value_name = "PCT")]
    liquidity: Option<f64>,
    /// Instead of striking each participant, merge B into A (one
    /// account, openings and limits summed; payments between the two
    /// internalised) and compare day 1 of each replication with the same
    /// payments unmerged: merger.csv, merger-estimates.csv, merger.md /
    /// merger.html.
    #[arg(long, value_name = "A,B", conflicts_with_all = ["liquidity", "at"])]
    merge: Option<String>,
    /// Output directory (default: out/<scenario>-critical, or
    /// out/<scenario>-merger with --merge).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// No progress bar, no table.
    #[arg(long, short)]
    quiet: bool,
}

/// Each participant defaulting in turn, ranked by the knock-on: the
/// compare's files, and critical.csv / critical.md / critical.html.
pub fn critical_command(args: &CriticalArgs) -> Result<(), Failure> {
    let overrides = args.scenario.overrides();
    let source = args.scenario.source(&overrides);
    let name = scenario::load(source.path, None, &overrides)?.scenario.name;
    let kind = if args.merge.is_some() {
        "merger"
    } else {
        "critical"
    };
    let out = super::args::out_or(args.out.as_deref(), &format!("{name}-{kind}"));
    let set = output_set(&out)?;
    if let Some(pair) = &args.merge {
        return merger_command(args, pair, source, (set, &out));
    }
    let turn = match args.liquidity {
        None => jobs::Turn::Default,
        Some(pct) => jobs::Turn::Liquidity { pct },
    };
    let outcome = with_replications(args.quiet, args.replication.asked(), |replications| {
        jobs::critical(source, args.at, turn, replications)
    })?;
    let summary = outcome.summary;
    let context = report::critical::context(&summary, &turn.describe(args.at));
    let json = report::to_json(&summary).map_err(|e| Failure::Internal(e.into()))?;
    let mut files = report::compare::compare_files(&summary);
    files.extend(report::critical::critical_files(&summary, context));
    publish(set, json, files)?;
    if !args.quiet {
        for (rank, r) in report::critical::ranking(&summary)
            .iter()
            .take(10)
            .enumerate()
        {
            let (mean, ci) = show_estimate("knock_on_unsettled_value_fen", &r.value_fen);
            println!(
                "{:>3}. {:<12} knock-on {mean} (95 % CI {ci})",
                rank + 1,
                r.id
            );
        }
        println!("ranking in {}", out.join("critical.html").display());
    }
    Ok(())
}

/// `critical --merge A,B`: the merger against the same payments unmerged,
/// day 1 of each replication.
fn merger_command(
    args: &CriticalArgs,
    pair: &str,
    source: jobs::Source<'_>,
    (set, out): (clearsim_outset::OutputSet, &Path),
) -> Result<(), Failure> {
    let study = with_replications(args.quiet, args.replication.asked(), |replications| {
        clearsim_jobs::merge::merger_study(source, pair, replications)
    })?;
    let config = source.path.display().to_string();
    let json = report::merger::merger_study_json(&study, &config)
        .map_err(|e| Failure::Internal(e.into()))?;
    let context = report::merger::study_context(&study, &config);
    publish(
        set,
        json,
        report::merger::merger_study_files(&study, context),
    )?;
    if !args.quiet {
        println!("merger in {}", out.join("merger.html").display());
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// An output directory of replay, run, compare, sweep or merge (or its
    /// summary.json).
    dir: PathBuf,
    /// Print nothing on success.
    #[arg(long, short)]
    quiet: bool,
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

pub fn compare_command(args: &CompareArgs) -> Result<(), Failure> {
    let overrides = args.scenario.overrides();
    let source = args.scenario.source(&overrides);
    // The default directory is named after the scenario: read its name
    // first, so that a bad --out fails before the work.
    let name = scenario::load(source.path, None, &overrides)?.scenario.name;
    let out = super::args::out_or(args.out.as_deref(), &format!("{name}-compare"));
    let set = output_set(&out)?;
    let started = std::time::Instant::now();
    let outcome = with_replications(args.quiet, args.replication.asked(), |replications| {
        jobs::compare(
            source,
            args.strategies.as_deref(),
            "--strategies",
            replications,
        )
    })?;
    if !args.quiet {
        for note in &outcome.notes {
            eprintln!("note: {note}");
        }
    }
    let summary = outcome.summary;
    let designs = &summary.designs;
    let json = report::to_json(&summary).map_err(|e| Failure::Internal(e.into()))?;
    let mut files = report::compare::compare_files(&summary);
    if args.network {
        let first_seed = summary.seeds.first().copied().unwrap_or_default();
        files.extend(jobs::network_files(source, first_seed)?);
    }
    publish(set, json, files)?;
    if !args.quiet {
        for line in report::context_lines(
            &summary.study,
            &summary.seeds,
            summary.partial.as_ref(),
            &format!("{} compared", report::count_of(designs.len(), "design")),
        ) {
            println!("{line}");
        }
        print!("{}", report::compare::compare_table(&summary).text());
        if let Some(warning) = report::compare::carried_warning(&summary) {
            eprintln!("warning: {warning}");
        }
        print_paired(&summary);
        println!(
            "{:.2} s on {} thread(s); report in {}",
            started.elapsed().as_secs_f64(),
            args.replication.threads(),
            out.join("report.html").display()
        );
    }
    Ok(())
}

/// The headline paired differences on the terminal.
fn print_paired(summary: &CompareSummary) {
    let wanted = [
        "delay_indicator",
        "in_transit_value_weighted_mean_ms",
        "liquidity_used_fen",
        "unsettled_value_fen",
    ];
    let mut table = report::table::Table::new(&["design − first", "figure", "mean", "95 % CI"]);
    for f in summary
        .paired
        .iter()
        .filter(|f| f.flow == "all" && wanted.contains(&f.metric.as_str()))
    {
        let (mean, ci) = show_estimate(&f.metric, &f.estimate);
        table.rows.push(vec![
            format!("{} − {}", f.design, f.versus),
            f.metric.clone(),
            mean,
            ci,
        ]);
    }
    if !table.rows.is_empty() {
        println!("paired differences on common streams:");
        print!("{}", table.text());
    }
}

pub fn sweep_command(args: &SweepArgs) -> Result<(), Failure> {
    let overrides = args.scenario.overrides();
    let source = args.scenario.source(&overrides);
    let name = scenario::load(source.path, None, &overrides)?.scenario.name;
    let (from, to) = args.liquidity;
    let levels = jobs::levels(from, to, args.steps)?;
    let out = super::args::out_or(args.out.as_deref(), &format!("{name}-sweep"));
    let set = output_set(&out)?;
    let summary = with_replications(args.quiet, args.replication.asked(), |replications| {
        let list = args.strategies.as_deref();
        jobs::sweep(source, list, "--strategies", levels, replications)
    })?;
    let json = report::to_json(&summary).map_err(|e| Failure::Internal(e.into()))?;
    publish(set, json, report::sweep::sweep_files(&summary))?;
    if !args.quiet {
        for line in report::context_lines(
            &summary.study,
            &summary.seeds,
            summary.partial.as_ref(),
            "liquidity sweep",
        ) {
            println!("{line}");
        }
        print!("{}", report::sweep::sweep_table(&summary).text());
        println!("report in {}", out.join("report.html").display());
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Directories (or summary.json files) of shards or replications of
    /// one study.
    #[arg(required = true, num_args = 2..)]
    inputs: Vec<PathBuf>,
    /// Output directory for the merged summary and its reports.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Print nothing on success.
    #[arg(long, short)]
    quiet: bool,
}

/// `DIR` or `DIR/summary.json`: the summary's path and its directory.
fn summary_path(path: &Path) -> (PathBuf, PathBuf) {
    if path.is_dir() {
        (path.join("summary.json"), path.to_path_buf())
    } else {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        (path.to_path_buf(), dir)
    }
}

/// The summary at `path` (a directory or its summary.json), by its schema.
fn read_summary(path: &Path) -> Result<Summary, Failure> {
    let (path, _) = summary_path(path);
    let bytes = clearsim_model::input::read_regular(&path)
        .with_context(|| format!("{}: cannot read", path.display()))
        .map_err(Failure::BadInput)?;
    schema::read(&bytes).map_err(|e| Failure::BadInput(anyhow!("{}: {e}", path.display())))
}

/// summary.json and the reports of a summary.
fn files_of(summary: &Summary) -> Result<(Vec<u8>, report::ReportFiles), Failure> {
    report::files_of(summary).map_err(|e| Failure::Internal(e.into()))
}

/// Combines shards or replications of one study into its summary: exactly
/// the bytes one machine running every seed would have written.
pub fn merge_command(args: &MergeArgs) -> Result<(), Failure> {
    let mut canonical: Vec<PathBuf> = Vec::new();
    for input in &args.inputs {
        let path = std::fs::canonicalize(input)
            .with_context(|| format!("{}: cannot read", input.display()))
            .map_err(Failure::BadInput)?;
        if canonical.contains(&path) {
            return Err(Failure::BadInput(anyhow!(
                "merge: {} is given twice",
                input.display()
            )));
        }
        canonical.push(path);
    }
    let inputs: Vec<(&str, &Path)> = args.inputs.iter().map(|p| ("", p.as_path())).collect();
    super::args::refuse_outputs_over_inputs(&[("--out", &args.out)], &inputs)?;
    let set = output_set(&args.out)?;
    let summaries: Vec<Summary> = args
        .inputs
        .iter()
        .map(|p| read_summary(p))
        .collect::<Result<_, _>>()?;
    let sources: Vec<String> = summaries.iter().map(Summary::sources).collect();
    let merged = merge::merge(summaries).map_err(|e| Failure::BadInput(anyhow!("merge: {e}")))?;
    let (json, mut files) = files_of(&merged)?;
    let inputs: Vec<String> = args
        .inputs
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    files.push((
        "merge.md",
        report::merge_note(&inputs, &sources).into_bytes(),
    ));
    publish(set, json, files)?;
    let (seeds, partial) = merged.seeds();
    if !args.quiet {
        println!(
            "clearsim merge: {} inputs, {} replication(s){} into {} (sources in merge.md)",
            args.inputs.len(),
            seeds.len(),
            if partial.is_some() {
                " (still partial: some seeds missing)"
            } else {
                ""
            },
            args.out.display()
        );
    }
    Ok(())
}

/// Rebuilds report.md, the CSV tables and report.html from summary.json,
/// and republishes the directory as a whole (its other files kept).
pub fn report_command(args: &ReportArgs) -> Result<(), Failure> {
    let summary = read_summary(&args.dir)?;
    let (_, dir) = summary_path(&args.dir);
    let set = output_set(&dir)?;
    let (json, files) = files_of(&summary)?;
    let mut all: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .map(|(name, bytes)| (name.to_string(), bytes))
        .collect();
    let rebuilt = all.len();
    let entries = std::fs::read_dir(&dir)
        .with_context(|| format!("{}: cannot read", dir.display()))
        .map_err(Failure::BadInput)?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let regenerated = name == "summary.json"
            || name == clearsim_outset::MARKER
            || all.iter().any(|(n, _)| *n == name);
        if regenerated {
            continue;
        }
        // The directory is republished whole: what report cannot carry
        // over as a file would be lost, so it is refused instead.
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            return Err(Failure::BadInput(anyhow!(
                "report: {} is a directory, link or special file, which rebuilding {} would delete; move it out first",
                entry.path().display(),
                dir.display()
            )));
        }
        let bytes = std::fs::read(entry.path())
            .with_context(|| format!("{}: cannot read", entry.path().display()))
            .map_err(Failure::BadInput)?;
        all.push((name, bytes));
    }
    let names: Vec<&str> = all.iter().map(|f| f.0.as_str()).collect();
    let (made, kept) = names.split_at(rebuilt);
    let kept = if kept.is_empty() {
        String::new()
    } else {
        format!("; kept {}", kept.join(", "))
    };
    let made = made.join(", ");
    publish(set, json, all)?;
    if !args.quiet {
        println!("clearsim report: rebuilt {made}{kept} in {}", dir.display());
    }
    Ok(())
}
