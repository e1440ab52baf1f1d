//! `clearsim live`: the pipeline under load, in wall-clock time.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, anyhow};
use clap::Args;
use serde::Serialize;

use super::Failure;
use clearsim_service::live::{self, LiveReport, Load, Prepared};

#[derive(Args, Debug)]
pub struct LiveArgs {
    /// Scenario config (TOML); its gross channel settles, its stream feeds
    /// the gateways (e.g. configs/throughput.toml).
    config: PathBuf,
    /// How long the gateways send (e.g. 10s, 500ms, 1m; at most 1h).
    #[arg(long, default_value = "10s", value_parser = parse_run_duration)]
    duration: Duration,
    /// Offered load: `max` (closed loop) or payments per second over all
    /// gateways (open loop, e.g. 5000000).
    #[arg(long, default_value = "max", value_parser = parse_rate)]
    rate: Load,
    /// Gateway (producer) threads.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    producers: u16,
    /// Wall-clock interval of gridlock runs (or of chips' offsetting sets).
    #[arg(long, default_value = "1s", value_parser = super::replay::parse_duration_arg)]
    gridlock_every: u32,
    /// At most this many payments wait in the queues; while they are full,
    /// arrivals that would have to wait are rejected.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    max_queued: u64,
    /// Run the comparison pipeline (Mutex + std::sync::mpsc) instead.
    #[arg(long)]
    baseline: bool,
    /// Gateways replay this many instructions generated before the run
    /// instead of generating as they go (measures the pipeline alone).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pregenerated: Option<u64>,
    /// Also write live.json here (created).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Override the config's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

pub(super) fn parse_run_duration(text: &str) -> Result<Duration, String> {
    let ms = super::replay::parse_duration_arg(text)?;
    if ms > 3_600_000 {
        return Err(format!("`{text}`: a live run lasts at most 1h"));
    }
    Ok(Duration::from_millis(u64::from(ms)))
}

pub(super) fn parse_rate(text: &str) -> Result<Load, String> {
    if text == "max" {
        return Ok(Load::ClosedLoop);
    }
    match text.replace('_', "").parse::<u64>() {
        Ok(rate_per_s) if (1..=1_000_000_000).contains(&rate_per_s) => {
            Ok(Load::OpenLoop { rate_per_s })
        }
        _ => Err(format!(
            "`{text}` is not `max` or a rate of 1..=1000000000 payments per second"
        )),
    }
}

/// The figures of a live run as written to live.json.
#[derive(Serialize)]
pub struct LiveFigures {
    pub pipeline: &'static str,
    pub load: String,
    pub producers: usize,
    pub elapsed_s: f64,
    pub sent: u64,
    pub settled: u64,
    pub queued_at_close: u64,
    pub rejected: u64,
    pub throughput_per_s: f64,
    pub latency_ns_p50: u64,
    pub latency_ns_p99: u64,
    pub latency_ns_p999: u64,
    pub latency_ns_max: u64,
}

impl LiveFigures {
    pub fn new(pipeline: &'static str, report: &LiveReport) -> LiveFigures {
        let q = |quantile: f64| report.latency_ns.value_at_quantile(quantile);
        LiveFigures {
            pipeline,
            load: match report.load {
                Load::ClosedLoop => "closed loop".into(),
                Load::OpenLoop { rate_per_s } => format!("open loop, {rate_per_s}/s"),
            },
            producers: report.producers,
            elapsed_s: report.elapsed.as_secs_f64(),
            sent: report.sent,
            settled: report.settled,
            queued_at_close: report.queued_at_close,
            rejected: report.rejected,
            throughput_per_s: report.throughput_per_s(),
            latency_ns_p50: q(0.5),
            latency_ns_p99: q(0.99),
            latency_ns_p999: q(0.999),
            latency_ns_max: report.latency_ns.max(),
        }
    }
}

/// A latency in the unit that reads best.
pub fn nanos(ns: u64) -> String {
    match ns {
        0..1_000 => format!("{ns} ns"),
        1_000..1_000_000 => format!("{:.1} µs", ns as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} ms", ns as f64 / 1e6),
        _ => format!("{:.2} s", ns as f64 / 1e9),
    }
}

pub fn live_command(args: &LiveArgs) -> Result<(), Failure> {
    let set = match &args.out {
        Some(out) => Some(super::args::output_set(out)?),
        None => None,
    };
    let config = super::args::load(&args.config, args.seed, None, None)?;
    let scenario = &config.scenario;
    if !scenario.policies.is_empty() {
        // Live gateways submit each order as it comes; the banks' queues
        // run in `run`, `compare` and `optimise`.
        return Err(super::bad_input(format!(
            "{}: live mode does not run the banks' [[policy]] queues (run, compare and optimise do)",
            args.config.display()
        )));
    }
    let mut prepared = Prepared::new(scenario, config.seed)?;
    if let Some(count) = args.pregenerated {
        prepared.pregenerate(count as usize);
    }
    let setup = prepared.setup(
        usize::from(args.producers),
        args.duration,
        args.rate,
        args.max_queued as usize,
        args.gridlock_every,
    );
    let (pipeline, result) = run_pipeline(args, &setup);
    let report = result.map_err(|e| Failure::Internal(anyhow!(e)))?;
    let figures = LiveFigures::new(pipeline, &report);
    print_figures(&scenario.name, &setup.spec.name(), &figures);
    if let Some(set) = set {
        let json = serde_json::to_vec_pretty(&figures)
            .context("cannot encode live.json")
            .map_err(Failure::Internal)?;
        set.write("live.json", &json)
            .and_then(|()| set.commit())
            .map_err(|e| super::output_failure(e, "cannot write live.json: "))?;
    }
    Ok(())
}

/// Runs the pipeline (lock-free, or the mutex baseline) with a bar over
/// the run's seconds, on stderr when it is a terminal; the bar's thread
/// wakes ten times a second, which the pipeline does not notice.
fn run_pipeline(
    args: &LiveArgs,
    setup: &live::LiveSetup<'_>,
) -> (&'static str, Result<live::LiveReport, live::LiveError>) {
    let bar = super::args::progress(args.duration.as_millis() as usize, args.quiet, "live (ms)");
    let done = std::sync::atomic::AtomicBool::new(false);
    let outcome = std::thread::scope(|scope| {
        if !bar.is_hidden() {
            scope.spawn(|| {
                let started = std::time::Instant::now();
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    bar.set_position(started.elapsed().as_millis() as u64);
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
        }
        let outcome = if args.baseline {
            ("mutex + mpsc", live::baseline::run(setup))
        } else {
            ("lock-free", live::run(setup))
        };
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        outcome
    });
    bar.finish_and_clear();
    outcome
}

/// What a live run did, on stdout.
fn print_figures(scenario: &str, channel: &str, figures: &LiveFigures) {
    println!(
        "clearsim live: {} — {} pipeline, {}, {} gateway(s), {} for {:.2} s",
        scenario, figures.pipeline, figures.load, figures.producers, channel, figures.elapsed_s
    );
    println!(
        "  instructions: {} sent = {} settled + {} queued at close + {} rejected",
        clearsim_core::format::grouped(i128::from(figures.sent)),
        clearsim_core::format::grouped(i128::from(figures.settled)),
        clearsim_core::format::grouped(i128::from(figures.queued_at_close)),
        clearsim_core::format::grouped(i128::from(figures.rejected)),
    );
    println!(
        "  throughput:   {}",
        clearsim_core::format::per_second(figures.throughput_per_s)
    );
    println!(
        "  latency:      p50 {}  p99 {}  p99.9 {}  max {}",
        nanos(figures.latency_ns_p50),
        nanos(figures.latency_ns_p99),
        nanos(figures.latency_ns_p999),
        nanos(figures.latency_ns_max)
    );
}
