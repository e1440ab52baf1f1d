//! What several commands share: the scenario and its overrides, the
//! replications, progress bars and writing a result set.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Failure;
use clearsim_jobs::scenario::{self, Overrides};
use clearsim_jobs::study::{Replications, Source};
use clearsim_model::config::{Config, MAX_DAYS, Scenario, Shock};
use clearsim_model::workload::city::City;
use clearsim_outset::OutputSet;
use clearsim_study::{MAX_REPLICATIONS, Seeds, Shard};

pub fn parse_volume(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .and_then(scenario::volume_factor)
        .ok_or_else(|| format!("`{text}` is not a factor in (0, 1000]"))
}

/// The scenario and its overrides, shared by run, compare and sweep.
#[derive(Args, Debug)]
pub struct ScenarioArgs {
    /// Scenario config (TOML), e.g. configs/chengdu-2005.toml.
    config: PathBuf,
    /// Override the config's seed (the first seed with --replications).
    #[arg(long)]
    seed: Option<u64>,
    /// Override the config's number of business days.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_DAYS)))]
    days: Option<u32>,
    /// Multiply every instrument's daily count (e.g. 0.01 for a quick look).
    #[arg(long, value_name = "FACTOR", value_parser = parse_volume)]
    volume: Option<f64>,
    /// A participant that stops paying at a time of day 1: ID@HH:MM[:SS].
    #[arg(long = "default", value_name = "ID@HH:MM", value_parser = parse_default)]
    default: Option<Shock>,
    /// A shock on day 1, measured against the same run without it:
    /// `outage:ID@10:00-11:30`, `system:10:00-10:30`,
    /// `liquidity:ID@10:00=5e8yuan`, `default:ID@10:00`. Repeatable.
    #[arg(long = "shock", value_name = "SHOCK", value_parser = Shock::parse)]
    shocks: Vec<Shock>,
}

impl ScenarioArgs {
    /// `--days`, if given.
    pub fn days(&self) -> Option<u32> {
        self.days
    }
}

fn parse_default(text: &str) -> Result<Shock, clearsim_core::ParseError> {
    Shock::parse(&format!("default:{text}"))
}

/// How many replications, and which of them this process runs.
#[derive(Args, Debug)]
pub struct ReplicationArgs {
    /// Replications: seeds seed … seed+N−1, run in parallel; every figure
    /// gets a mean and a 95 % confidence interval.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_REPLICATIONS)))]
    replications: u32,
    /// Run only the K-th of N slices of the replications and write a partial
    /// summary (`clearsim merge` puts the shards together).
    #[arg(long, value_name = "K/N", value_parser = Shard::parse)]
    shard: Option<Shard>,
    /// Threads (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    threads: Option<u32>,
}

impl ReplicationArgs {
    /// The study's seeds from `first`, and this process's shard of them.
    pub fn seeds(&self, first: u64) -> Seeds {
        Seeds {
            first,
            replications: self.replications,
            shard: self.shard,
        }
    }

    pub fn threads(&self) -> usize {
        threads(self.threads)
    }
}

/// `--threads`, else every core.
pub fn threads(given: Option<u32>) -> usize {
    given.map_or_else(clearsim_study::cores, |t| t as usize)
}

impl ScenarioArgs {
    /// The overrides of the config these flags give.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            seed: self.seed,
            days: self.days,
            volume: self.volume,
            shocks: self.default.iter().chain(&self.shocks).cloned().collect(),
        }
    }

    /// The study's config, read from its path, with these overrides.
    pub fn source<'a>(&'a self, overrides: &'a Overrides) -> Source<'a> {
        Source {
            path: &self.config,
            text: None,
            overrides,
        }
    }
}

/// The config with the command line's overrides and shocks, and its
/// city; shocks must name participants of the city.
pub fn load_scenario(args: &ScenarioArgs) -> Result<(Config, City), Failure> {
    Ok(scenario::load_with_city(
        &args.config,
        None,
        &args.overrides(),
    )?)
}

/// [`scenario::cover_carry`], its note on stderr unless `quiet`.
pub fn cover_carry<'a>(
    config: &mut Config,
    given_days: Option<u32>,
    designs: impl IntoIterator<Item = &'a Scenario>,
    quiet: bool,
) -> Result<(), Failure> {
    let note = scenario::cover_carry(config, given_days, designs)?;
    if let Some(note) = note.filter(|_| !quiet) {
        eprintln!("note: {note}");
    }
    Ok(())
}

/// The config at `path`, its seed, days and volume overridden where given.
pub fn load(
    path: &Path,
    seed: Option<u64>,
    days: Option<u32>,
    volume: Option<f64>,
) -> Result<Config, Failure> {
    let overrides = Overrides {
        seed,
        days,
        volume,
        shocks: Vec::new(),
    };
    Ok(scenario::load(path, None, &overrides)?)
}

/// `job` with a progress bar of runs, cleared when it ends.
pub fn with_bar<T>(quiet: bool, job: impl FnOnce(&ProgressBar) -> T) -> T {
    let bar = progress(0, quiet, "runs");
    let result = job(&bar);
    bar.finish_and_clear();
    result
}

/// A run done: a search's length is not known beforehand, so its bar grows.
pub fn ticker(bar: &ProgressBar) -> impl Fn() + Sync + '_ {
    move || {
        if bar.position() >= bar.length().unwrap_or(0) {
            bar.inc_length(1);
        }
        bar.inc(1);
    }
}

/// Runs `job` with `count` replications (this `shard` of them) on
/// `threads`, its runs counted on a progress bar (hidden when `quiet`).
pub fn with_replications<T>(
    quiet: bool,
    (count, shard, threads): (u32, Option<Shard>, usize),
    job: impl FnOnce(&Replications<'_>) -> T,
) -> T {
    with_bar(quiet, |bar| {
        let (jobs, tick) = (|n: usize| bar.set_length(n as u64), ticker(bar));
        job(&Replications {
            count,
            shard,
            threads,
            jobs: &jobs,
            tick: &tick,
            stop: None,
        })
    })
}

impl ReplicationArgs {
    /// The replications these flags ask for, for [`with_replications`].
    pub fn asked(&self) -> (u32, Option<Shard>, usize) {
        (self.replications, self.shard, self.threads())
    }
}

/// A progress bar on stderr, hidden when stderr is not a terminal or quiet.
pub fn progress(total: usize, quiet: bool, what: &str) -> ProgressBar {
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

/// The output set of a command, checked and staged before the work starts,
/// so that a bad `--out` fails at once (exit 2) and no work is wasted.
/// `path` as the file system will see it: resolved through symbolic links
/// where it exists, else its parent's resolution joined with its name.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match (absolute.parent(), absolute.file_name()) {
        (Some(parent), Some(name)) => resolved(parent).join(name),
        _ => absolute,
    }
}

/// Outputs never eat their inputs: refused before anything is written, an
/// output that is one of the inputs, contains one (a directory the output
/// set would replace) or lies inside one (a journal's directory), the same
/// output path given twice, and an existing output that is a device, a
/// FIFO or a socket. Each path is named as the user gave it.
pub fn refuse_outputs_over_inputs(
    outputs: &[(&str, &Path)],
    inputs: &[(&str, &Path)],
) -> Result<(), Failure> {
    let refuse = |message: String| Err(Failure::BadInput(anyhow!(message)));
    for (i, (flag, out)) in outputs.iter().enumerate() {
        let real = resolved(out);
        if let Some((other, _)) = outputs[..i].iter().find(|(_, o)| resolved(o) == real) {
            return refuse(format!(
                "{flag} {}: the same path as {other}; each output needs its own",
                out.display()
            ));
        }
        if let Ok(meta) = std::fs::metadata(out)
            && !meta.is_file()
            && !meta.is_dir()
        {
            return refuse(format!(
                "{flag} {}: exists and is not a regular file or directory (a device, FIFO or socket); choose another path",
                out.display()
            ));
        }
        for (what, input) in inputs {
            let input_real = resolved(input);
            let relation = if input_real == real {
                "is"
            } else if input_real.starts_with(&real) {
                "contains"
            } else if real.starts_with(&input_real) {
                "lies inside"
            } else {
                continue;
            };
            return refuse(format!(
                "{flag} {}: {relation} the input {what}{}{}; writing there would overwrite or delete it",
                out.display(),
                if what.is_empty() { "" } else { " " },
                input.display()
            ));
        }
    }
    Ok(())
}

/// The output directory: `--out` as given, else `out/<default>` (the
/// scenario's name and what the command makes of it).
pub fn out_or(given: Option<&Path>, default: &str) -> std::path::PathBuf {
    given.map_or_else(|| Path::new("out").join(default), Path::to_path_buf)
}

pub fn output_set(out: &Path) -> Result<OutputSet, Failure> {
    Ok(clearsim_jobs::replay::output_set(out)?)
}

/// Publishes summary.json and the report files as one set.
pub fn publish<N: AsRef<str>>(
    set: OutputSet,
    summary_json: Vec<u8>,
    files: Vec<(N, Vec<u8>)>,
) -> Result<(), Failure> {
    Ok(clearsim_jobs::replay::publish_files(
        set,
        &summary_json,
        &files,
    )?)
}
