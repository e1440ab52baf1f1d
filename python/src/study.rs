//! Studies from Python: `run`, `compare`, `sweep` and `plan` through the
//! same jobs as the command line, their summaries as the JSON it saves;
//! `merge`, `read_summary`, reports and `generate`.

use std::path::PathBuf;

use clearsim_jobs::JobError;
use clearsim_jobs::scenario::{self, Overrides};
use clearsim_jobs::study::{self as jobs, Replications, Source};
use clearsim_model::config::{MAX_DAYS, Shock};
use clearsim_study::schema::{self, Summary};
use clearsim_study::{MAX_REPLICATIONS, Shard};
use pyo3::prelude::*;

use crate::control::{self, Control};

fn bad(message: String) -> PyErr {
    crate::InputError::new_err(message)
}

/// A config as Python hands it over: its path (its name in messages, the
/// base of its relative files) and, for a config given as text, the text.
#[derive(Clone)]
struct Config {
    path: PathBuf,
    text: Option<String>,
}

/// The overrides `seed`, `days`, `volume` and `shocks` (the command
/// line's forms), each checked within the command line's limits.
fn overrides(
    seed: Option<u64>,
    days: Option<u32>,
    volume: Option<f64>,
    shocks: Vec<String>,
) -> PyResult<Overrides> {
    if let Some(days) = days
        && !(1..=MAX_DAYS).contains(&days)
    {
        return Err(bad(format!("days: {days} is not from 1 to {MAX_DAYS}")));
    }
    if let Some(volume) = volume
        && scenario::volume_factor(volume).is_none()
    {
        return Err(bad(format!(
            "volume: {volume} is not a factor in (0, 1000]"
        )));
    }
    let shocks = shocks
        .iter()
        .map(|text| Shock::parse(text).map_err(|e| bad(format!("shocks: {e}"))))
        .collect::<PyResult<Vec<Shock>>>()?;
    Ok(Overrides {
        seed,
        days,
        volume,
        shocks,
    })
}

fn check_replications(replications: u32) -> PyResult<()> {
    if !(1..=MAX_REPLICATIONS).contains(&replications) {
        return Err(bad(format!(
            "replications: {replications} is not from 1 to {MAX_REPLICATIONS}"
        )));
    }
    Ok(())
}

fn shard(text: Option<&str>) -> PyResult<Option<Shard>> {
    text.map(|t| Shard::parse(t).map_err(|e| bad(format!("shard: {e}"))))
        .transpose()
}

fn threads(given: Option<usize>) -> PyResult<usize> {
    match given {
        None => Ok(clearsim_study::cores()),
        Some(t) if (1..=1024).contains(&t) => Ok(t),
        Some(t) => Err(bad(format!("threads: {t} is not from 1 to 1024"))),
    }
}

/// Runs `job` with the replications it needs, counted on `control`.
fn counted<T>(
    control: &Control,
    (count, shard, threads): (u32, Option<Shard>, usize),
    job: impl FnOnce(&Replications<'_>) -> Result<T, JobError>,
) -> Result<T, JobError> {
    let (jobs, tick) = (|n: usize| control.set_total(n), || control.tick());
    job(&Replications {
        count,
        shard,
        threads,
        jobs: &jobs,
        tick: &tick,
        stop: Some(&control.stop),
    })
}

fn json<T: schema::Save>(summary: &T) -> Result<String, JobError> {
    let bytes = clearsim_report::to_json(summary).map_err(JobError::of)?;
    String::from_utf8(bytes).map_err(|e| JobError::Bug(e.to_string()))
}

/// A summary's report files (report.md, report.html, its CSV tables).
type Files = Vec<(String, Vec<u8>)>;

/// A saved summary: its JSON, notes and report files.
type Saved = (String, Vec<String>, Files);

fn owned(files: clearsim_report::ReportFiles) -> Files {
    files
        .into_iter()
        .map(|(name, bytes)| (name.to_string(), bytes))
        .collect()
}

/// The summary.json bytes and report files of a summary.
fn saved(summary: &Summary, notes: Vec<String>) -> Result<Saved, JobError> {
    let (bytes, files) = clearsim_report::files_of(summary).map_err(JobError::of)?;
    let json = String::from_utf8(bytes).map_err(|e| JobError::Bug(e.to_string()))?;
    Ok((json, notes, owned(files)))
}

/// What a study asks: which (`run`, `compare` or `sweep`), of which
/// config, and its options.
#[derive(Clone)]
struct Request {
    kind: String,
    config: Config,
    overrides: Overrides,
    designs: Option<String>,
    /// A sweep's liquidity range and steps.
    liquidity: (f64, f64, u32),
    /// When each participant is struck in a critical study, and how.
    at: clearsim_core::time::SimTime,
    turn: jobs::Turn,
    /// `A,B`: a merger study instead of each participant struck.
    merge: Option<String>,
    replications: (u32, Option<Shard>, usize),
}

fn study_job(request: &Request, control: &Control) -> Result<Saved, JobError> {
    let source = Source {
        path: &request.config.path,
        text: request.config.text.as_deref(),
        overrides: &request.overrides,
    };
    let designs = request.designs.as_deref();
    counted(
        control,
        request.replications,
        |replications| match request.kind.as_str() {
            "run" => {
                let outcome = jobs::run(source, replications)?;
                saved(&Summary::Run(Box::new(outcome.summary)), outcome.notes)
            }
            "compare" => {
                let outcome = jobs::compare(source, designs, "designs", replications)?;
                saved(&Summary::Compare(Box::new(outcome.summary)), outcome.notes)
            }
            "sweep" => {
                let (from, to, steps) = request.liquidity;
                let levels = jobs::levels(from, to, steps)?;
                let summary = jobs::sweep(source, designs, "designs", levels, replications)?;
                saved(&Summary::Sweep(Box::new(summary)), Vec::new())
            }
            "critical" if let Some(pair) = &request.merge => {
                let study = clearsim_jobs::merge::merger_study(source, pair, replications)?;
                let config = request.config.path.display().to_string();
                let json = clearsim_report::merger::merger_study_json(&study, &config)
                    .map_err(JobError::of)?;
                let json = String::from_utf8(json).map_err(|e| JobError::Bug(e.to_string()))?;
                let context = clearsim_report::merger::study_context(&study, &config);
                let files = clearsim_report::merger::merger_study_files(&study, context);
                Ok((json, Vec::new(), owned(files)))
            }
            "critical" => {
                let summary =
                    jobs::critical(source, request.at, request.turn, replications)?.summary;
                let context = clearsim_report::critical::context(
                    &summary,
                    &request.turn.describe(request.at),
                );
                let files = clearsim_report::critical::critical_files(&summary, context);
                let mut saved = saved(&Summary::Compare(Box::new(summary)), Vec::new())?;
                saved.2.extend(owned(files));
                Ok(saved)
            }
            other => Err(JobError::Bug(format!("no study `{other}`"))),
        },
    )
}

/// Runs a study (`run`, `compare` or `sweep`); returns its summary.json,
/// its notes and its report files.
#[pyfunction]
#[pyo3(signature = (kind, config, text=None, *, seed=None, days=None, volume=None, shocks=Vec::new(), designs=None, liquidity=(0.0, 1.0, 11), at="00:00".to_string(), shock_pct=None, merge=None, replications=1, shard=None, threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn study(
    py: Python<'_>,
    kind: String,
    config: PathBuf,
    text: Option<String>,
    seed: Option<u64>,
    days: Option<u32>,
    volume: Option<f64>,
    shocks: Vec<String>,
    designs: Option<String>,
    liquidity: (f64, f64, u32),
    at: String,
    shock_pct: Option<f64>,
    merge: Option<String>,
    replications: u32,
    shard: Option<String>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Saved> {
    check_replications(replications)?;
    let request = Request {
        merge,
        kind,
        config: Config { path: config, text },
        overrides: overrides(seed, days, volume, shocks)?,
        designs,
        liquidity,
        at: clearsim_core::time::parse_clock(&at).ok_or_else(|| {
            bad(format!(
                "at: `{at}` is not a time of day HH:MM, HH:MM:SS or HH:MM:SS.mmm"
            ))
        })?,
        turn: match shock_pct {
            None => jobs::Turn::Default,
            Some(pct) => jobs::Turn::Liquidity { pct },
        },
        replications: (
            replications,
            self::shard(shard.as_deref())?,
            self::threads(threads)?,
        ),
    };
    control::run(py, progress, move |control| study_job(&request, control))
}

/// The plan's question: `before` against `after` on the same seeds;
/// returns the plan report's JSON, its context lines and its files.
#[pyfunction]
#[pyo3(signature = (before, after, before_text=None, after_text=None, *, days=3, seed=None, replications=1, threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn plan(
    py: Python<'_>,
    before: PathBuf,
    after: PathBuf,
    before_text: Option<String>,
    after_text: Option<String>,
    days: u32,
    seed: Option<u64>,
    replications: u32,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Saved> {
    check_replications(replications)?;
    let overrides = overrides(seed, Some(days), None, Vec::new())?;
    let threads = self::threads(threads)?;
    control::run(py, progress, move |control| {
        let first = Source {
            path: &before,
            text: before_text.as_deref(),
            overrides: &overrides,
        };
        let second = Source {
            path: &after,
            text: after_text.as_deref(),
            ..first
        };
        counted(control, (replications, None, threads), |replications| {
            let (report, context) = jobs::plan(first, second, days, replications)?;
            let files = clearsim_report::plan::plan_files(&report, context.clone());
            Ok((json(&report)?, context, owned(files)))
        })
    })
}

/// What the banks would choose under each design (`clearsim optimise`);
/// returns the report's JSON, notes and files.
#[pyfunction]
#[pyo3(signature = (config, text=None, *, seed=None, days=None, designs=vec!["design".to_string()], levels=20, max_scale=1.0, policies=None, max_rounds=50, tolerance=0, replications=1, threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn optimise(
    py: Python<'_>,
    config: PathBuf,
    text: Option<String>,
    seed: Option<u64>,
    days: Option<u32>,
    designs: Vec<String>,
    levels: u32,
    max_scale: f64,
    policies: Option<String>,
    max_rounds: u32,
    tolerance: u16,
    replications: u32,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Saved> {
    check_replications(replications)?;
    let overrides = overrides(seed, days, None, Vec::new())?;
    let threads = self::threads(threads)?;
    control::run(py, progress, move |control| {
        let source = Source {
            path: &config,
            text: text.as_deref(),
            overrides: &overrides,
        };
        let game = jobs::Game {
            designs: &designs,
            levels,
            max_scale,
            policies: policies.as_deref(),
            max_rounds,
            tolerance,
        };
        counted(control, (replications, None, threads), |replications| {
            let outcome = jobs::optimise(source, &game, replications)?;
            let (report, context) = outcome.summary;
            let document = clearsim_report::optimise::optimise_document(&report, context);
            let files: clearsim_report::ReportFiles = document.files().into();
            Ok((json(&report)?, outcome.notes, owned(files)))
        })
    })
}

fn read(text: &str, name: &str) -> PyResult<Summary> {
    schema::read(text.as_bytes()).map_err(|e| bad(format!("{name}: {e}")))
}

/// Merges summaries of shards or replications of one study, by the rule
/// of `clearsim merge`; returns the merged summary.json and its files.
#[pyfunction]
pub fn merge(summaries: Vec<String>) -> PyResult<Saved> {
    let read = summaries
        .iter()
        .enumerate()
        .map(|(i, text)| read(text, &format!("summary {}", i + 1)))
        .collect::<PyResult<Vec<Summary>>>()?;
    let merged = clearsim_study::merge::merge(read).map_err(|e| bad(format!("merge: {e}")))?;
    saved(&merged, Vec::new()).map_err(crate::raised)
}

/// The summary.json at `path` (a directory or the file), checked against
/// its schema, with its report files.
#[pyfunction]
pub fn read_summary(path: PathBuf) -> PyResult<Saved> {
    let file = if path.is_dir() {
        path.join("summary.json")
    } else {
        path
    };
    let text = clearsim_model::input::read_regular_string(&file)
        .map_err(|e| bad(format!("{}: cannot read: {e}", file.display())))?;
    let summary = read(&text, &file.display().to_string())?;
    saved(&summary, Vec::new()).map_err(crate::raised)
}

/// Publishes summary.json and report files as the output set `out`.
#[pyfunction]
pub fn publish(py: Python<'_>, out: PathBuf, summary: String, files: Files) -> PyResult<()> {
    control::run(py, None, move |_| {
        let set = clearsim_jobs::replay::output_set(&out)?;
        clearsim_jobs::replay::publish_files(set, summary.as_bytes(), &files)
    })
}

/// One day of a scenario as replay files: (participants.csv,
/// payments.csv), as `clearsim generate` writes them.
#[pyfunction]
#[pyo3(signature = (config, text=None, *, day=1, seed=None, volume=None))]
pub fn generate(
    py: Python<'_>,
    config: PathBuf,
    text: Option<String>,
    day: u32,
    seed: Option<u64>,
    volume: Option<f64>,
) -> PyResult<(Vec<u8>, Vec<u8>)> {
    if !(1..=3650).contains(&day) {
        return Err(bad(format!("day: {day} is not from 1 to 3650")));
    }
    let overrides = overrides(seed, None, volume, Vec::new())?;
    control::run(py, None, move |_| {
        let loaded = scenario::load(&config, text.as_deref(), &overrides)?;
        let scenario = &loaded.scenario;
        let city = clearsim_model::workload::city::build_city(scenario);
        let model = clearsim_model::run::stream_model(scenario, &city);
        let payments = clearsim_jobs::generate::day_payments_csv(
            &city,
            scenario,
            &model,
            loaded.seed,
            day - 1,
        )?;
        Ok((clearsim_jobs::generate::participants_csv(&city), payments))
    })
}
