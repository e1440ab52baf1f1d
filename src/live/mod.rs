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
pub mod link;
mod settler;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

pub use settler::{Event, Instruction, Outcome, Settler};

use crate::engine::{Engine, EngineError};
use crate::ledger::Ledger;
use crate::strategy::ChannelSpec;
use crate::time::SimTime;
use crate::workload::stream::{DayStream, StreamModel};
use link::Link;

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

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("{0}")]
    Engine(#[from] EngineError),
    #[error("live mode needs a gross channel (rtgs and its variants), not {0}")]
    NotGross(&'static str),
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
    let day_end = SimTime(day_ms.min(u128::from(crate::time::DAY_MS)) as u32);
    Ok(Engine::new(
        ledger,
        std::slice::from_ref(&setup.spec),
        day_end,
        setup.max_queued.min(1 << 22),
    )?)
}

/// One bank gateway's share of the stream: day after day of the config's
/// stream, under its own seed, counterparties and amounts only — or, to
/// measure the pipeline without the cost of generating, instructions
/// generated before the run, over and over.
pub struct Gateway<'m> {
    model: &'m StreamModel,
    seed: u64,
    day: u32,
    stream: DayStream<'m>,
    /// Pre-generated instructions and the position in them.
    replay: Option<(&'m [Instruction], usize)>,
    /// Every other pass over the pre-generated instructions goes the other
    /// way (sender and receiver swapped): repeating one sample would repeat
    /// its net positions pass after pass until some bank runs dry, whereas
    /// two passes net to zero.
    reversed: bool,
}

impl<'m> Gateway<'m> {
    pub fn new(model: &'m StreamModel, seed: u64, gateway: usize) -> Gateway<'m> {
        let seed = seed ^ (gateway as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03);
        Gateway {
            model,
            seed,
            day: 0,
            stream: model.day(seed, 0, 1.0),
            replay: None,
            reversed: false,
        }
    }

    /// Cycles through `instructions` (non-empty) from `start` instead.
    pub fn replaying(mut self, instructions: &'m [Instruction], start: usize) -> Gateway<'m> {
        if !instructions.is_empty() {
            self.replay = Some((instructions, start % instructions.len()));
        }
        self
    }

    /// The next instruction, created at `created_ns`.
    #[inline]
    pub fn next(&mut self, created_ns: u64) -> Instruction {
        if let Some((instructions, at)) = self.replay.as_mut() {
            let instruction = instructions[*at];
            *at += 1;
            let reversed = self.reversed;
            if *at == instructions.len() {
                *at = 0;
                self.reversed = !reversed;
            }
            let (sender, receiver) = if reversed {
                (instruction.receiver, instruction.sender)
            } else {
                (instruction.sender, instruction.receiver)
            };
            return Instruction {
                sender,
                receiver,
                amount_fen: instruction.amount_fen,
                created_ns,
            };
        }
        // Bounded: a day of the stream has payments unless the config has
        // none (its instruments have positive counts), and days are endless.
        let generated = loop {
            if let Some(generated) = self.stream.next() {
                break generated;
            }
            self.day = self.day.wrapping_add(1);
            self.stream = self.model.day(self.seed, self.day, 1.0);
        };
        Instruction {
            sender: generated.sender,
            receiver: generated.receiver,
            amount_fen: generated.amount_fen,
            created_ns,
        }
    }
}

/// Latency in ns, 1 ns to 1 hour at 3 significant digits (larger values are
/// clamped to the top).
pub fn new_latency_histogram() -> Histogram<u64> {
    Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3)
        .expect("constant bounds 1 ns ..= 1 h at 3 digits are valid")
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
            report(&events, &clock)
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
                            produce_closed(link, &mut gateway, &clock, stop, end_ns)
                        }
                        Load::OpenLoop { rate_per_s } => produce_open(
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
                settle(&mut settler, &inputs, &events, &clock, end_ns, &stop, park)
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

/// What the reporter thread counted.
pub struct Tally {
    settled: u64,
    queued_at_close: u64,
    rejected: u64,
    latency_ns: Histogram<u64>,
    last_ns: u64,
}

impl Tally {
    pub fn new() -> Tally {
        Tally {
            settled: 0,
            queued_at_close: 0,
            rejected: 0,
            latency_ns: new_latency_histogram(),
            last_ns: 0,
        }
    }

    /// One event, received at `now_ns`.
    #[inline]
    pub fn record(&mut self, event: &Event, now_ns: u64) {
        match event.outcome {
            Outcome::Settled => {
                self.settled += 1;
                let latency_ns = now_ns.saturating_sub(event.created_ns).max(1);
                self.latency_ns.saturating_record(latency_ns);
            }
            Outcome::QueuedAtClose => self.queued_at_close += 1,
            Outcome::Rejected => self.rejected += 1,
        }
        self.last_ns = now_ns;
    }
}

impl Default for Tally {
    fn default() -> Tally {
        Tally::new()
    }
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
        .map_err(LiveError::Ledger)?;
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

/// Where the pipeline's threads run. In open loop (latency matters), with at
/// least two cores, the engine has the last core to itself and polls its
/// links (it never parks, so no gateway ever has to wake it); gateways run
/// on the other cores, the reporter beside gateway 0, parked when idle. Left
/// to the scheduler, three threads on two cores migrate, and every migration
/// or remote wake-up shows in the latency tail. In closed loop (throughput
/// matters) nothing is pinned and idle threads park, so that whichever
/// thread has work gets the cores (measured: docs/PERFORMANCE.md).
struct Placement {
    cores: Vec<core_affinity::CoreId>,
}

impl Placement {
    fn new(producers: usize, load: Load) -> Placement {
        let cores = core_affinity::get_core_ids().unwrap_or_default();
        let latency_bound = matches!(load, Load::OpenLoop { .. });
        let cores = if latency_bound && cores.len() >= 2 && producers < cores.len() * 4 {
            cores
        } else {
            Vec::new()
        };
        Placement { cores }
    }

    fn pin_gateway(&self, gateway: usize) {
        if let Some((_, gateway_cores)) = self.cores.split_last() {
            let _ = core_affinity::set_for_current(gateway_cores[gateway % gateway_cores.len()]);
        }
    }

    fn pin_reporter(&self) {
        self.pin_gateway(0);
    }

    fn pin_engine(&self) {
        if let Some(&last) = self.cores.last() {
            let _ = core_affinity::set_for_current(last);
        }
    }
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

/// Closed loop: full batches as fast as buffers come back. Returns the
/// number of instructions sent.
fn produce_closed(
    link: &Link<Instruction>,
    gateway: &mut Gateway<'_>,
    clock: &Clock,
    stop: &AtomicBool,
    end_ns: u64,
) -> u64 {
    let mut sent = 0u64;
    // Bounded by the run's duration: the clock is checked every batch.
    loop {
        let now_ns = clock.now_ns();
        if now_ns >= end_ns || stop.load(Ordering::Relaxed) {
            return sent;
        }
        let Some(mut buffer) = link.acquire(|| stop.load(Ordering::Relaxed)) else {
            return sent;
        };
        // One clock read stamps the batch: its first payment waited least.
        for _ in 0..link.batch() {
            buffer.push(gateway.next(now_ns));
        }
        sent += buffer.len() as u64;
        link.send(buffer);
    }
}

/// Open-loop timing of one gateway: its payments are due every
/// `interval_ns`, offset so that the gateways interleave.
#[derive(Clone, Copy, Debug)]
pub struct OpenSchedule {
    first_ns: f64,
    interval_ns: f64,
}

impl OpenSchedule {
    pub fn new(rate_per_s: u64, producers: usize, gateway: usize) -> OpenSchedule {
        let total_interval_ns = 1e9 / rate_per_s.max(1) as f64;
        OpenSchedule {
            first_ns: total_interval_ns * gateway as f64,
            interval_ns: total_interval_ns * producers as f64,
        }
    }

    /// When payment `index` of this gateway is due, ns since the start.
    #[inline]
    pub fn due_ns(&self, index: u64) -> u64 {
        (self.first_ns + self.interval_ns * index as f64) as u64
    }

    /// How many of this gateway's payments are due by `now_ns`.
    #[inline]
    pub fn due_by(&self, now_ns: u64) -> u64 {
        let elapsed = now_ns as f64 - self.first_ns;
        if elapsed < 0.0 {
            0
        } else {
            (elapsed / self.interval_ns) as u64 + 1
        }
    }
}

/// An open-loop gateway sends what is due once a batch's worth is due or
/// the oldest due payment has waited this long: sending every payment alone
/// would spend the engine's time on per-batch overhead at high rates.
const SEND_WINDOW_NS: u64 = 4_000;
/// ... or this many are due.
const SEND_AT_LEAST: u64 = 64;

/// Open loop: each payment is stamped with the time it was due, not the time
/// it could be sent, so a stalled pipeline shows in the latency (no
/// coordinated omission). Sends what is due as soon as it is due.
fn produce_open(
    link: &Link<Instruction>,
    gateway: &mut Gateway<'_>,
    clock: &Clock,
    end_ns: u64,
    schedule: OpenSchedule,
) -> u64 {
    let mut next = 0u64;
    let backoff = crossbeam_utils::Backoff::new();
    // Bounded by the run's duration.
    loop {
        let now_ns = clock.now_ns();
        if now_ns >= end_ns {
            return next;
        }
        let oldest_due_ns = schedule.due_ns(next);
        if oldest_due_ns > now_ns {
            backoff.snooze();
            continue;
        }
        let due = schedule.due_by(now_ns).saturating_sub(next);
        if due < SEND_AT_LEAST && now_ns - oldest_due_ns < SEND_WINDOW_NS {
            // The reporter shares this core: let it run meanwhile.
            std::thread::yield_now();
            continue;
        }
        backoff.reset();
        let Some(mut buffer) = link.acquire(|| false) else {
            return next;
        };
        while buffer.len() < link.batch() && schedule.due_ns(next) <= now_ns.min(end_ns) {
            buffer.push(gateway.next(schedule.due_ns(next)));
            next += 1;
        }
        link.send(buffer);
    }
}

/// Collects events into batches for the reporter.
struct EventWriter<'a> {
    link: &'a Link<Event>,
    buffer: Option<Vec<Event>>,
}

impl EventWriter<'_> {
    #[inline]
    fn emit(&mut self, event: Event) {
        let link = self.link;
        let buffer = self
            .buffer
            .get_or_insert_with(|| link.acquire(|| false).unwrap_or_default());
        buffer.push(event);
        if buffer.len() >= link.batch() {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if let Some(buffer) = self.buffer.take() {
            if buffer.is_empty() {
                self.link.release(buffer);
            } else {
                self.link.send(buffer);
            }
        }
    }
}

/// The engine thread: round-robin over the gateways' links, one batch each
/// per round; an instant per batch at the wall clock; gridlock runs as they
/// fall due. Flushes events whenever it runs out of input.
fn settle(
    settler: &mut Settler,
    inputs: &[Link<Instruction>],
    events: &Link<Event>,
    clock: &Clock,
    end_ns: u64,
    stop: &AtomicBool,
    park: bool,
) -> Result<(), LiveError> {
    let mut writer = EventWriter {
        link: events,
        buffer: None,
    };
    let backoff = crossbeam_utils::Backoff::new();
    for link in inputs {
        link.register_reader();
    }
    let result = (|| {
        // Bounded: gateways stop at the end of the run, and then their links
        // drain.
        loop {
            let mut busy = false;
            for link in inputs {
                let Some(batch) = link.receive() else {
                    continue;
                };
                busy = true;
                let now = Clock::sim_time(clock.now_ns());
                settler.advance(now, |e| writer.emit(e))?;
                for instruction in &batch {
                    settler.submit(instruction, |e| writer.emit(e))?;
                }
                link.release(batch);
                // Confirmations go out with each batch: holding them for a
                // full buffer would add its fill time to every latency.
                writer.flush();
            }
            if busy {
                backoff.reset();
                continue;
            }
            writer.flush();
            if inputs.iter().all(Link::is_drained) {
                return Ok(());
            }
            if clock.now_ns() >= end_ns.saturating_add(10_000_000_000) {
                // Gateways should have stopped long ago: make them.
                stop.store(true, Ordering::Relaxed);
            }
            // Gridlock runs fall due on the clock even without arrivals.
            let now = Clock::sim_time(clock.now_ns());
            if settler.run_due(now) {
                settler.advance(now, |e| writer.emit(e))?;
            }
            if park {
                link::idle(&backoff);
            } else {
                // Alone on its core: nothing to yield to.
                std::hint::spin_loop();
            }
        }
    })();
    // Whatever happened, answer for what is still queued and let the
    // reporter finish.
    stop.store(true, Ordering::Relaxed);
    let closed = settler.close(|e| writer.emit(e));
    writer.flush();
    result.and(closed.map_err(LiveError::from))
}

/// The reporter thread: one clock read per batch of events.
fn report(events: &Link<Event>, clock: &Clock) -> Tally {
    let mut tally = Tally::new();
    let backoff = crossbeam_utils::Backoff::new();
    events.register_reader();
    // Bounded: the engine closes the link when it is done.
    loop {
        let Some(batch) = events.receive() else {
            if events.is_drained() {
                return tally;
            }
            link::idle(&backoff);
            continue;
        };
        backoff.reset();
        let now_ns = clock.now_ns();
        for event in &batch {
            tally.record(event, now_ns);
        }
        events.release(batch);
    }
}

/// A scenario made ready for live runs: its city, its stream model and its
/// gross channel (the config's own, else plain `rtgs`).
pub struct Prepared {
    pub city: crate::workload::city::City,
    pub model: StreamModel,
    pub spec: ChannelSpec,
    pub seed: u64,
    /// Instructions generated ahead (see [`Prepared::pregenerate`]).
    pub pregenerated: Vec<Instruction>,
}

impl Prepared {
    pub fn new(scenario: &crate::config::Scenario) -> Result<Prepared, EngineError> {
        let city = crate::workload::city::build_city(scenario);
        let model = crate::run::stream_model(scenario, &city);
        let spec = crate::run::channel_specs(scenario, &city)?
            .into_iter()
            .find(ChannelSpec::is_gross)
            .unwrap_or(ChannelSpec::Rtgs {
                gridlock_every_ms: None,
            });
        Ok(Prepared {
            city,
            model,
            spec,
            seed: scenario.seed,
            pregenerated: Vec::new(),
        })
    }

    /// Generates `count` instructions of the stream now, for gateways that
    /// replay them instead of generating during the run.
    pub fn pregenerate(&mut self, count: usize) {
        let mut gateway = Gateway::new(&self.model, self.seed, 0);
        self.pregenerated = (0..count).map(|_| gateway.next(0)).collect();
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
