//! `clearsim bench`: a reproducible suite of the figures that matter —
//! replay throughput per strategy, stream generation, the live pipeline
//! (closed and open loop) and its mutex baseline — and the scaling tables of
//! docs/PERFORMANCE.md. Wall-clock measurement lives here, outside the
//! engine; the workloads are seeded, so every run measures the same work.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::live::{self, LiveError, LiveReport, Load, Prepared};
use clearsim_core::engine::{Engine, EngineError, Scheduler};
use clearsim_core::ledger::{Ledger, Payment, Sink};
use clearsim_core::strategy::ChannelSpec;
use clearsim_core::strategy::parse_strategy;
use clearsim_core::time::SimTime;
use clearsim_model::config::Scenario;
use clearsim_model::workload::UniformDay;

const SEED: u64 = 20_051_231;
const MEAN_AMOUNT_FEN: i64 = 1_000_000;
/// Replayed strategies, as `compare` names them.
pub const STRATEGIES: [&str; 8] = [
    "rtgs",
    "rtgs+gridlock:1m",
    "rtgs+bypass",
    "rtgs+offset",
    "chips",
    "dns:hourly",
    "dns+latest:hourly",
    "bilateral:hourly",
];

/// One line of the suite's table.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub group: &'static str,
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
    pub detail: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct SuiteReport {
    pub schema: &'static str,
    pub cores: usize,
    pub profile: &'static str,
    pub quick: bool,
    pub rows: Vec<Row>,
}

/// Sizes of a suite run.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    pub replay_payments: usize,
    pub generated_payments: u64,
    pub live: Duration,
}

impl Sizes {
    pub fn new(quick: bool) -> Sizes {
        if quick {
            Sizes {
                replay_payments: 1_000_000,
                generated_payments: 2_000_000,
                live: Duration::from_secs(1),
            }
        } else {
            Sizes {
                replay_payments: 10_000_000,
                generated_payments: 20_000_000,
                live: Duration::from_secs(5),
            }
        }
    }
}

pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub fn profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

/// Counts settlements; `late` = settled after submission or never.
#[derive(Default)]
pub struct Counting {
    pub settled: u64,
    pub late: u64,
}

impl Sink for Counting {
    #[inline]
    fn settled(&mut self, payment: &Payment, at: SimTime) {
        self.settled += 1;
        self.late += u64::from(at != payment.submit);
    }
    fn unsettled(&mut self, _payment: &Payment) {
        self.late += 1;
    }
}

/// A uniform synthetic day (seeded): `payments` among `participants`.
pub fn uniform_day(participants: u32, payments: usize) -> Vec<Payment> {
    UniformDay {
        participants,
        payments,
        day_end: SimTime::DEFAULT_DAY_END,
        mean_amount_fen: MEAN_AMOUNT_FEN,
        seed: SEED,
    }
    .generate()
}

/// Replays `payments` through `spec` with the same opening for everybody;
/// returns the time taken and the outcome counts.
pub fn replay_once(
    payments: &[Payment],
    participants: u32,
    opening_fen: i64,
    spec: &ChannelSpec,
) -> Result<(Duration, Counting), EngineError> {
    let opening = vec![opening_fen; participants as usize];
    let credit = vec![0; participants as usize];
    let engine = Engine::new(
        Ledger::new(&opening, &credit),
        std::slice::from_ref(spec),
        SimTime::DEFAULT_DAY_END,
        1 << 16,
    )?;
    let mut scheduler = Scheduler::new(engine, Vec::new())?;
    let mut sink = Counting::default();
    let started = Instant::now();
    scheduler.run_day(payments.iter().map(|&p| (0, p)), &mut sink)?;
    Ok((started.elapsed(), sink))
}

/// The opening balance (the same for all) at which about a third of the
/// payments queue under plain rtgs: liquidity scarce enough for strategies
/// to differ. Bisection over the whole day.
pub fn scarce_opening(payments: &[Payment], participants: u32) -> Result<i64, EngineError> {
    let rtgs = ChannelSpec::rtgs(None);
    let (mut low, mut high) = (0i64, 4_000 * MEAN_AMOUNT_FEN);
    for _ in 0..12 {
        let mid = (low + high) / 2;
        let (_, counts) = replay_once(payments, participants, mid, &rtgs)?;
        if counts.late as f64 / payments.len().max(1) as f64 > 1.0 / 3.0 {
            low = mid;
        } else {
            high = mid;
        }
    }
    Ok(high)
}

/// [`replay_once`] `repeats` times (at least once): the median time and
/// the payments settled.
pub fn median_replay(
    payments: &[Payment],
    participants: u32,
    opening_fen: i64,
    spec: &ChannelSpec,
    repeats: usize,
) -> Result<(Duration, u64), EngineError> {
    let mut times = Vec::with_capacity(repeats.max(1));
    let mut settled = 0;
    for _ in 0..repeats.max(1) {
        let (elapsed, counts) = replay_once(payments, participants, opening_fen, spec)?;
        times.push(elapsed);
        settled = counts.settled;
    }
    times.sort();
    Ok((times[times.len() / 2], settled))
}

/// Payments per second of each strategy on one scarce-liquidity day
/// (median of `repeats`).
pub fn replay_rows(payments: usize, repeats: usize) -> Result<Vec<Row>, EngineError> {
    let participants = 1_000;
    let day = uniform_day(participants, payments);
    let opening_fen = scarce_opening(&day, participants)?;
    let mut rows = Vec::new();
    for name in STRATEGIES {
        let spec = parse_strategy(name, SimTime::DEFAULT_DAY_END)
            .map_err(|e| EngineError::Invariant(format!("a built-in strategy of the suite: {e}")))?
            .spec;
        let (median, settled) = median_replay(&day, participants, opening_fen, &spec, repeats)?;
        rows.push(Row {
            group: "replay",
            name: name.to_string(),
            value: rate(payments as u64, median),
            unit: "payments/s",
            detail: format!(
                "{} payments, 1,000 banks, scarce liquidity; {:.1} % settle",
                payments,
                100.0 * settled as f64 / payments.max(1) as f64
            ),
        });
    }
    Ok(rows)
}

fn rate(count: u64, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}

/// Generation of the scenario's stream by one gateway.
pub fn generation_row(prepared: &Prepared, payments: u64) -> Row {
    let mut gateway = live::Gateway::new(&prepared.model, prepared.seed, 0);
    let started = Instant::now();
    let mut checksum = 0i64;
    let mut generated = 0u64;
    while generated < payments {
        let Some(instruction) = gateway.next(generated) else {
            break;
        };
        checksum = checksum.wrapping_add(instruction.amount_fen);
        generated += 1;
    }
    let payments = generated;
    let elapsed = started.elapsed();
    std::hint::black_box(checksum);
    Row {
        group: "generate",
        name: "stream".into(),
        value: rate(payments, elapsed),
        unit: "payments/s",
        detail: format!("{payments} payments of the scenario's stream, one thread"),
    }
}

/// A live run of the lock-free pipeline or the baseline.
pub fn live_run(
    prepared: &Prepared,
    baseline: bool,
    gateways: usize,
    load: Load,
    duration: Duration,
) -> Result<LiveReport, LiveError> {
    let setup = prepared.setup(gateways, duration, load, 1_000_000, 1_000);
    if baseline {
        live::baseline::run(&setup)
    } else {
        live::run(&setup)
    }
}

fn latency_detail(report: &LiveReport) -> String {
    let q = |quantile: f64| report.latency_ns.value_at_quantile(quantile) as f64 / 1e3;
    format!(
        "p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs, max {:.1} µs",
        q(0.5),
        q(0.99),
        q(0.999),
        report.latency_ns.max() as f64 / 1e3
    )
}

/// The live rows: closed-loop throughput of both pipelines and their ratio
/// (one gateway, then two), then open-loop latency at 50 % and 90 % of the
/// lock-free maximum and at 5 M payments/s.
pub fn live_rows(prepared: &mut Prepared, duration: Duration) -> Result<Vec<Row>, LiveError> {
    let mut rows = Vec::new();
    let mut max_rate = 0.0;
    // The gateways generate the stream as they go; then, to compare the
    // pipelines without the cost of generating, they replay 4 M
    // instructions generated beforehand.
    let runs = [(1, false), (2, false), (1, true)];
    for (gateways, pregenerated) in runs {
        if pregenerated && prepared.pregenerated.is_empty() {
            prepared.pregenerate(4_000_000);
        }
        let prepared = &*prepared;
        let lock_free = live_run(prepared, false, gateways, Load::ClosedLoop, duration)?;
        let baseline = live_run(prepared, true, gateways, Load::ClosedLoop, duration)?;
        let suffix = match (gateways, pregenerated) {
            (1, false) => String::new(),
            (_, false) => format!(", {gateways} gateways"),
            (_, true) => ", pre-generated".to_string(),
        };
        if gateways == 1 && !pregenerated {
            max_rate = lock_free.throughput_per_s();
        }
        rows.push(Row {
            group: "live",
            name: format!("closed loop, lock-free{suffix}"),
            value: lock_free.throughput_per_s(),
            unit: "payments/s",
            detail: latency_detail(&lock_free),
        });
        rows.push(Row {
            group: "live",
            name: format!("closed loop, Mutex + mpsc{suffix}"),
            value: baseline.throughput_per_s(),
            unit: "payments/s",
            detail: latency_detail(&baseline),
        });
        rows.push(Row {
            group: "live",
            name: format!("lock-free / Mutex + mpsc{suffix}"),
            value: lock_free.throughput_per_s() / baseline.throughput_per_s().max(1e-9),
            unit: "×",
            detail: "closed-loop throughput ratio, same run".into(),
        });
    }
    prepared.pregenerated = Vec::new();
    let prepared = &*prepared;
    let points = [
        ("50 % of max".to_string(), max_rate * 0.5),
        ("90 % of max".to_string(), max_rate * 0.9),
        ("5 M/s".to_string(), 5e6),
    ];
    for (label, rate) in points {
        let rate_per_s = rate.max(1.0) as u64;
        let open = live_run(prepared, false, 1, Load::OpenLoop { rate_per_s }, duration)?;
        rows.push(Row {
            group: "live",
            name: format!("open loop at {label}: p99"),
            value: open.latency_ns.value_at_quantile(0.99) as f64 / 1e3,
            unit: "µs",
            detail: format!(
                "offered {:.2} M/s, carried {:.2} M/s; {}",
                rate_per_s as f64 / 1e6,
                open.throughput_per_s() / 1e6,
                latency_detail(&open)
            ),
        });
    }
    Ok(rows)
}

/// The whole suite on `scenario` (its stream, under `seed`, feeds
/// generation and live).
pub fn run_suite(
    scenario: &Scenario,
    seed: u64,
    quick: bool,
    mut progress: impl FnMut(&str),
) -> Result<SuiteReport, LiveError> {
    let sizes = Sizes::new(quick);
    let mut prepared = Prepared::new(scenario, seed)?;
    progress("replay");
    let mut rows = replay_rows(sizes.replay_payments, if quick { 1 } else { 3 })?;
    progress("generate");
    rows.push(generation_row(&prepared, sizes.generated_payments));
    progress("live");
    rows.extend(live_rows(&mut prepared, sizes.live)?);
    Ok(SuiteReport {
        schema: "clearsim.bench.v1",
        cores: cores(),
        profile: profile(),
        quick,
        rows,
    })
}

/// How cost grows: payments (streaming runs of the scenario scaled to 10^5 …
/// 10^8), participants (10 … 10^4), queued payments in one gridlock run
/// (10^3 … 10^6).
pub fn scaling_rows(
    scenario: &Scenario,
    seed: u64,
    quick: bool,
    mut progress: impl FnMut(&str),
) -> Result<Vec<Row>, LiveError> {
    let mut rows = Vec::new();
    let daily: f64 = scenario.instruments.iter().map(|i| i.daily_count).sum();
    let top = if quick { 7 } else { 8 };
    for exponent in 5..=top {
        progress(&format!("run 10^{exponent} payments"));
        let payments = 10f64.powi(exponent);
        let mut scaled = scenario.clone();
        scaled.scale_volume(payments / daily.max(1.0));
        let city = clearsim_model::workload::city::build_city(&scaled);
        let started = Instant::now();
        let one_day = clearsim_model::run::Replication { seed, days: 1 };
        let result = clearsim_model::run::run(
            &scaled,
            &city,
            one_day,
            &mut clearsim_model::run::NoObserver,
        )?;
        let elapsed = started.elapsed();
        rows.push(Row {
            group: "scale: payments",
            name: format!("10^{exponent}"),
            value: rate(result.payments, elapsed),
            unit: "payments/s",
            detail: format!(
                "{} payments generated and settled in {:.2} s (streaming, O(1) memory)",
                result.payments,
                elapsed.as_secs_f64()
            ),
        });
    }
    let payments = if quick { 1_000_000 } else { 5_000_000 };
    for participants in [10u32, 100, 1_000, 10_000] {
        progress(&format!("{participants} participants"));
        let day = uniform_day(participants, payments);
        let ample = i64::MAX / 4 / i64::from(participants);
        for name in ["rtgs", "dns:hourly"] {
            let spec = parse_strategy(name, SimTime::DEFAULT_DAY_END)
                .map_err(|e| {
                    EngineError::Invariant(format!("a built-in strategy of the suite: {e}"))
                })?
                .spec;
            let (elapsed, _) = replay_once(&day, participants, ample, &spec)?;
            rows.push(Row {
                group: "scale: participants",
                name: format!("{participants} banks, {name}"),
                value: rate(payments as u64, elapsed),
                unit: "payments/s",
                detail: format!("{payments} payments, ample liquidity"),
            });
        }
    }
    let top = if quick { 5 } else { 6 };
    for exponent in 3..=top {
        progress(&format!("gridlock over 10^{exponent} queued"));
        let queued = 10usize.pow(exponent);
        let (elapsed, held, settled) = gridlock_once(queued)?;
        rows.push(Row {
            group: "scale: gridlock run",
            name: format!("{held} queued"),
            value: elapsed.as_secs_f64() * 1e3,
            unit: "ms",
            detail: format!(
                "{} arrivals at one instant, {held} queue, {settled} settle in the run",
                queued * 4
            ),
        });
    }
    Ok(rows)
}

/// One gridlock run over about `queued` payments: four times as many arrive
/// at one instant with little liquidity (about a quarter queue), then the
/// run is timed.
fn gridlock_once(queued: usize) -> Result<(Duration, usize, u64), EngineError> {
    let participants = (queued / 100).clamp(10, 10_000) as u32;
    let arrivals = queued * 4;
    let spec = ChannelSpec::rtgs(Some(60_000));
    let opening = vec![MEAN_AMOUNT_FEN; participants as usize];
    let credit = vec![0; participants as usize];
    let engine = Engine::new(
        Ledger::new(&opening, &credit),
        std::slice::from_ref(&spec),
        SimTime::DEFAULT_DAY_END,
        arrivals,
    )?;
    let mut scheduler = Scheduler::new(engine, Vec::new())?;
    let mut sink = Counting::default();
    let at = SimTime(1_000);
    scheduler.advance_to(at, &mut sink)?;
    for mut payment in uniform_day(participants, arrivals) {
        payment.submit = at;
        scheduler.arrive(0, payment, &mut sink)?;
    }
    // Closes the arrivals' instant (no run is due then) and opens the run's.
    scheduler.advance_to(SimTime(60_000), &mut sink)?;
    let held = scheduler.engine().held();
    let before = sink.settled;
    let started = Instant::now();
    // Closing the run's instant is the gridlock run.
    scheduler.advance_to(SimTime(60_001), &mut sink)?;
    let elapsed = started.elapsed();
    Ok((elapsed, held, sink.settled - before))
}
