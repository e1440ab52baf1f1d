//! Live mode: the settlement engine as a running system, fed by bank gateways
//! in wall-clock time.
//!
//! ```text
//! gateway 0 ──Link──┐
//! gateway 1 ──Link──┼──> settlement engine ──Link──> reporter
//!    …             ─┘    (single writer of      (latency HDR,
//!                         the ledger)            counts)
//! ```
//!
//! Each gateway (producer thread) generates its share of the config's stream
//! and sends instructions in batches over its own bounded lock-free
//! [`link::Link`]; the engine thread owns the ledger alone (no lock), settles
//! with the gross channel and runs gridlock on a wall-clock interval; the
//! reporter measures latency from each instruction's creation (closed loop)
//! or intended send time (open loop) to its confirmation. Full links make
//! writers wait: nothing is dropped. [`baseline`] is the same pipeline built
//! on `Mutex` and `std::sync::mpsc`, for comparison.

pub mod baseline;
mod engine_thread;
mod gateway;
pub mod link;
mod placement;
mod reporter;
mod settler;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

pub use gateway::{Gateway, OpenSchedule};
pub use reporter::{Tally, new_latency_histogram};
pub use settler::{Event, Instruction, Outcome, Settler};

use clearsim_core::engine::{Engine, EngineError};
use clearsim_core::ledger::Ledger;
use clearsim_core::strategy::ChannelSpec;
use clearsim_core::time::SimTime;
use clearsim_model::workload::stream::StreamModel;
use link::Link;
use placement::Placement;

/// Messages per batch on every link.
pub const BATCH: usize = 256;
/// Buffers per link: bounds what is in flight (and so queueing delay).
pub const BUFFERS: usize = 16;

/// How gateways offer payments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Load {
    /// As fast as the pipeline takes them.
    ClosedLoop,
    /// A fixed offered rate over all gateways (payments per second).
    OpenLoop { rate_per_s: u64 },
}

/// What a live run needs: the accounts, the gross channel, the stream.
pub struct LiveSetup<'a> {
    pub opening_fen: &'a [i64],
    pub credit_limit_fen: &'a [i64],
    /// A gross channel spec (rtgs and its variants).
    pub spec: ChannelSpec,
    pub model: &'a StreamModel,
    pub seed: u64,
    pub producers: usize,
    pub duration: Duration,
    pub load: Load,
    /// At most this many payments wait in the queues; while they are full,
    /// arrivals that would have to wait are rejected.
    pub max_queued: usize,
    /// Instructions generated before the run, cycled by the gateways instead
    /// of generating (empty: generate).
    pub pregenerated: &'a [Instruction],
}

impl LiveSetup<'_> {
    /// Gateway `k` of the run.
    pub fn gateway(&self, k: usize) -> Gateway<'_> {
        let share = self.pregenerated.len() / self.producers.max(1);
        Gateway::new(self.model, self.seed, k).replaying(self.pregenerated, k * share)
    }
}

/// What a live run measured.
#[derive(Clone, Debug)]
pub struct LiveReport {
    pub producers: usize,
    pub load: Load,
    /// From the first instruction to the last event.
    pub elapsed: Duration,
    pub sent: u64,
    pub settled: u64,
    pub queued_at_close: u64,
    pub rejected: u64,
    /// Creation (or intended send) → confirmation at the reporter, ns, of
    /// settled payments.
    pub latency_ns: Histogram<u64>,
}

impl LiveReport {
    /// Instructions through the pipeline per second (all of them were
    /// answered: settled, queued at close or rejected).
    pub fn throughput_per_s(&self) -> f64 {
        self.sent as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl clearsim_core::Blamed for LiveError {
    fn blame(&self) -> clearsim_core::Blame {
        match self {
            LiveError::Engine(e) => clearsim_core::Blamed::blame(e),
            LiveError::NotGross(_) => clearsim_core::Blame::User,
            LiveError::Lost { .. } | LiveError::Ledger(_) | LiveError::Panicked => {
                clearsim_core::Blame::Bug
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("{0}")]
    Engine(#[from] EngineError),
    #[error("live mode needs a gross channel (rtgs and its variants), not {0}")]
    NotGross(String),
    #[error(
        "instructions were lost: sent {sent}, settled {settled} + queued at close {queued} + rejected {rejected}"
    )]
    Lost {
        sent: u64,
        settled: u64,
        queued: u64,
        rejected: u64,
    },
    #[error("ledger invariant broken after the run: {0}")]
    Ledger(String),
    #[error("a pipeline thread panicked")]
    Panicked,
}

/// Nanoseconds since the run started: one `Instant` read (~25 ns here), so
/// callers read it once per batch, not per message.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start: Instant,
}

impl Clock {
    pub fn start() -> Clock {
        Clock {
            start: Instant::now(),
        }
    }

    #[inline]
    pub fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// The engine's instant for `ns`: whole milliseconds since the start.
    pub fn sim_time(ns: u64) -> SimTime {
        SimTime((ns / 1_000_000).min(u64::from(u32::MAX)) as u32)
    }
}

/// The engine for a live run: the setup's gross channel over its accounts;
/// the day lasts the run plus a minute (and at most 24 h).
pub fn live_engine(setup: &LiveSetup<'_>) -> Result<Engine, LiveError> {
    if !setup.spec.is_gross() {
        return Err(LiveError::NotGross(setup.spec.name()));
    }
    let ledger = Ledger::new(setup.opening_fen, setup.credit_limit_fen);
    let day_ms = setup.duration.as_millis().saturating_add(60_000);
    let day_end = SimTime(day_ms.min(u128::from(clearsim_core::time::DAY_MS)) as u32);
    Ok(Engine::new(
        ledger,
        std::slice::from_ref(&setup.spec),
        day_end,
        setup.max_queued.min(1 << 22),
    )?)
}

/// Runs the lock-free pipeline for the setup's duration.
pub fn run(setup: &LiveSetup<'_>) -> Result<LiveReport, LiveError> {
    let mut settler = Settler::new(live_engine(setup)?, setup.max_queued)?;
    let producers = setup.producers.max(1);
    let inputs: Vec<Link<Instruction>> =
        (0..producers).map(|_| Link::new(BUFFERS, BATCH)).collect();
    let events: Link<Event> = Link::new(BUFFERS * 2, BATCH);
    let stop = AtomicBool::new(false);
    let sent = AtomicU64::new(0);
    let clock = Clock::start();
    let end_ns = setup.duration.as_nanos() as u64;
    let placement = Placement::new(producers, setup.load);
    let outcome = std::thread::scope(|scope| {
        let reporter = scope.spawn(|| {
            placement.pin_reporter();
            reporter::report(&events, &clock)
        });
        let gateways: Vec<_> = inputs
            .iter()
            .enumerate()
            .map(|(k, link)| {
                let (stop, sent) = (&stop, &sent);
                let mut gateway = setup.gateway(k);
                let placement = &placement;
                scope.spawn(move || {
                    // Closes the link however the gateway ends (a panic
                    // included), so that the engine never waits forever.
                    let _closing = link::Closing(link);
                    placement.pin_gateway(k);
                    let count = match setup.load {
                        Load::ClosedLoop => {
                            gateway::produce_closed(link, &mut gateway, &clock, stop, end_ns)
                        }
                        Load::OpenLoop { rate_per_s } => gateway::produce_open(
                            link,
                            &mut gateway,
                            &clock,
                            end_ns,
                            OpenSchedule::new(rate_per_s, producers, k),
                        ),
                    };
                    sent.fetch_add(count, Ordering::Relaxed);
                })
            })
            .collect();
        let settled = scope
            .spawn(|| {
                let _closing = link::Closing(&events);
                placement.pin_engine();
                // Alone on its core, the engine polls: a parked engine would
                // need a cross-core wake-up for every batch.
                let park = placement.cores.is_empty();
                engine_thread::settle(&mut settler, &inputs, &events, &clock, end_ns, &stop, park)
            })
            .join()
            .unwrap_or(Err(LiveError::Panicked));
        let gateways_ok = gateways.into_iter().all(|g| g.join().is_ok());
        let counts = reporter.join();
        (settled, gateways_ok, counts)
    });
    let (settled, gateways_ok, tally) = outcome;
    settled?;
    let tally = match (gateways_ok, tally) {
        (true, Ok(tally)) => tally,
        _ => return Err(LiveError::Panicked),
    };
    finish(setup, &settler, sent.load(Ordering::Relaxed), tally)
}

/// The end of a run, for both pipelines: the ledger's invariants hold, and
/// every instruction sent was answered once.
pub fn finish(
    setup: &LiveSetup<'_>,
    settler: &Settler,
    sent: u64,
    tally: Tally,
) -> Result<LiveReport, LiveError> {
    settler
        .engine()
        .ledger()
        .check_invariants()
        .map_err(|broken| LiveError::Ledger(broken.0))?;
    let report = LiveReport {
        producers: setup.producers.max(1),
        load: setup.load,
        elapsed: Duration::from_nanos(tally.last_ns),
        sent,
        settled: tally.settled,
        queued_at_close: tally.queued_at_close,
        rejected: tally.rejected,
        latency_ns: tally.latency_ns,
    };
    check_accounted(&report)?;
    Ok(report)
}

/// Every instruction sent was answered exactly once.
pub fn check_accounted(report: &LiveReport) -> Result<(), LiveError> {
    let answered = report.settled + report.queued_at_close + report.rejected;
    if answered != report.sent {
        return Err(LiveError::Lost {
            sent: report.sent,
            settled: report.settled,
            queued: report.queued_at_close,
            rejected: report.rejected,
        });
    }
    Ok(())
}

/// A scenario made ready for live runs: its city, its stream model and its
/// gross channel (a config without one is refused).
pub struct Prepared {
    pub city: clearsim_model::workload::city::City,
    pub model: StreamModel,
    pub spec: ChannelSpec,
    pub seed: u64,
    /// Instructions generated ahead (see [`Prepared::pregenerate`]).
    pub pregenerated: Vec<Instruction>,
}

impl Prepared {
    /// `scenario` with its stream drawn under `seed`.
    pub fn new(
        scenario: &clearsim_model::config::Scenario,
        seed: u64,
    ) -> Result<Prepared, EngineError> {
        let city = clearsim_model::workload::city::build_city(scenario);
        city.check().map_err(EngineError::Design)?;
        let model = clearsim_model::run::stream_model(scenario, &city);
        let spec = clearsim_model::run::channel_specs(scenario, &city)?
            .into_iter()
            .find(ChannelSpec::is_gross)
            .ok_or_else(|| {
                EngineError::Design(format!(
                    "live mode settles through the config's gross channel, and {} has none (its channels: {}); add an rtgs channel",
                    scenario.name,
                    scenario
                        .channels
                        .iter()
                        .map(|c| format!("{} ({})", c.name, c.spec.name()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        // Gateways draw day after day of the stream; a day with nothing to
        // draw would keep them looking for ever.
        let expected = model.expected_per_day();
        if expected.is_nan() || expected < 1.0 {
            return Err(EngineError::Design(format!(
                "live mode needs a stream with payments: {} expects {:.3} a day before its day end {}",
                scenario.name,
                expected.max(0.0),
                scenario.day_end
            )));
        }
        Ok(Prepared {
            city,
            model,
            spec,
            seed,
            pregenerated: Vec::new(),
        })
    }

    /// Generates `count` instructions of the stream now, for gateways that
    /// replay them instead of generating during the run.
    pub fn pregenerate(&mut self, count: usize) {
        let mut gateway = Gateway::new(&self.model, self.seed, 0);
        self.pregenerated = (0..count).map_while(|_| gateway.next(0)).collect();
    }

    /// A live run of `duration` with gridlock (or offsetting) runs every
    /// `interval_ms` of wall-clock time.
    pub fn setup(
        &self,
        producers: usize,
        duration: Duration,
        load: Load,
        max_queued: usize,
        interval_ms: u32,
    ) -> LiveSetup<'_> {
        LiveSetup {
            opening_fen: &self.city.opening_fen,
            credit_limit_fen: &self.city.credit_limit_fen,
            spec: self.spec.with_interval(interval_ms),
            model: &self.model,
            seed: self.seed,
            producers,
            duration,
            load,
            max_queued,
            pregenerated: &self.pregenerated,
        }
    }
}
