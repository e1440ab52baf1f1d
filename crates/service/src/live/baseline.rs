//! The comparison pipeline: the same gateways, engine and reporter, built the
//! textbook way — one `std::sync::mpsc` message per instruction and per
//! event, and the engine behind a `Mutex` shared by the engine thread and a
//! gridlock timer thread. Clock reads are batched as in the lock-free
//! pipeline, so the difference measured is the locking and the per-message
//! channels, not the clock.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, mpsc};
use std::time::Duration;

use super::{
    BATCH, BUFFERS, Clock, Event, Gateway, Instruction, LiveError, LiveReport, LiveSetup, Load,
    OpenSchedule, Settler, Tally, finish, live_engine,
};

/// Runs the mutex-and-mpsc pipeline for the setup's duration.
pub fn run(setup: &LiveSetup<'_>) -> Result<LiveReport, LiveError> {
    let settler = Mutex::new(Settler::new(live_engine(setup)?, setup.max_queued)?);
    let producers = setup.producers.max(1);
    let (instructions, inbox) = mpsc::sync_channel(BUFFERS * BATCH);
    let (events, outbox) = mpsc::sync_channel::<Event>(2 * BUFFERS * BATCH);
    let sent = AtomicU64::new(0);
    let done = AtomicBool::new(false);
    let clock = Clock::start();
    let end_ns = setup.duration.as_nanos() as u64;
    let failure: Mutex<Option<LiveError>> = Mutex::new(None);
    let fail = |error: LiveError| {
        let mut slot = failure.lock().unwrap_or_else(PoisonError::into_inner);
        slot.get_or_insert(error);
    };
    let outcome = std::thread::scope(|scope| {
        let reporter = scope.spawn(|| report(outbox, &clock));
        for k in 0..producers {
            let instructions = instructions.clone();
            let sent = &sent;
            let mut gateway = setup.gateway(k);
            let load = setup.load;
            let clock = &clock;
            scope.spawn(move || {
                let count = produce(
                    &mut gateway,
                    load,
                    (producers, k),
                    clock,
                    end_ns,
                    &instructions,
                );
                sent.fetch_add(count, Ordering::Relaxed);
            });
        }
        drop(instructions);
        // The gridlock timer: a second thread that needs the engine.
        let timer_events = events.clone();
        let (settler_ref, done_ref, fail_ref, clock_ref) = (&settler, &done, &fail, &clock);
        let timer = scope.spawn(move || {
            gridlock_timer(settler_ref, done_ref, clock_ref, &timer_events, fail_ref);
        });
        // The engine thread: one lock per instruction.
        settle_all(&inbox, &settler, &clock, &events, &fail);
        drop(inbox);
        done.store(true, Ordering::Relaxed);
        let timer_ok = timer.join().is_ok();
        if let Err(error) = settler
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .close(|e| {
                let _ = events.send(e);
            })
        {
            fail(error.into());
        }
        drop(events);
        (timer_ok, reporter.join())
    });
    if let Some(error) = failure.into_inner().unwrap_or_else(PoisonError::into_inner) {
        return Err(error);
    }
    let tally = match outcome {
        (true, Ok(tally)) => tally,
        _ => return Err(LiveError::Panicked),
    };
    let settler = settler.into_inner().unwrap_or_else(PoisonError::into_inner);
    finish(setup, &settler, sent.load(Ordering::Relaxed), tally)
}

/// One clock read per burst of events already waiting.
fn report(outbox: mpsc::Receiver<Event>, clock: &Clock) -> Tally {
    let mut tally = Tally::new();
    // Bounded: ends when every sender is dropped.
    while let Ok(first) = outbox.recv() {
        let now_ns = clock.now_ns();
        for event in std::iter::once(first).chain(outbox.try_iter().take(BATCH)) {
            tally.record(&event, now_ns);
        }
    }
    tally
}

/// Gateway `k` of `producers`: instructions as its load allows, one
/// message each, until the run's end; returns how many it sent.
fn produce(
    gateway: &mut Gateway<'_>,
    load: Load,
    (producers, k): (usize, usize),
    clock: &Clock,
    end_ns: u64,
    instructions: &mpsc::SyncSender<Instruction>,
) -> u64 {
    let schedule = match load {
        Load::ClosedLoop => None,
        Load::OpenLoop { rate_per_s } => Some(OpenSchedule::new(rate_per_s, producers, k)),
    };
    let mut count = 0u64;
    // Bounded by the run's duration.
    'run: loop {
        let now_ns = clock.now_ns();
        if now_ns >= end_ns {
            break;
        }
        for _ in 0..BATCH {
            let created_ns = match schedule {
                None => now_ns,
                Some(s) if s.due_ns(count) <= now_ns => s.due_ns(count),
                Some(_) => break,
            };
            let Some(instruction) = gateway.next(created_ns) else {
                break 'run;
            };
            if instructions.send(instruction).is_err() {
                break 'run;
            }
            count += 1;
        }
        if schedule.is_some() {
            std::thread::yield_now();
        }
    }
    count
}

/// Every millisecond, under the lock: the gridlock runs that are due.
/// Bounded: ends when the engine thread is done.
fn gridlock_timer(
    settler: &Mutex<Settler>,
    done: &AtomicBool,
    clock: &Clock,
    events: &mpsc::SyncSender<Event>,
    fail: &dyn Fn(LiveError),
) {
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(1));
        let now = Clock::sim_time(clock.now_ns());
        let mut settler = settler.lock().unwrap_or_else(PoisonError::into_inner);
        if settler.run_due(now) {
            let emit = |e| {
                let _ = events.send(e);
            };
            if let Err(error) = settler.advance(now, emit) {
                fail(error.into());
            }
        }
    }
}

/// The engine thread: every instruction in turn, one lock each.
fn settle_all(
    inbox: &mpsc::Receiver<Instruction>,
    settler: &Mutex<Settler>,
    clock: &Clock,
    events: &mpsc::SyncSender<Event>,
    fail: &dyn Fn(LiveError),
) {
    let mut now = Clock::sim_time(0);
    for (received, instruction) in inbox.iter().enumerate() {
        if received.is_multiple_of(BATCH) {
            now = Clock::sim_time(clock.now_ns());
        }
        let mut settler = settler.lock().unwrap_or_else(PoisonError::into_inner);
        let emit = |e| {
            let _ = events.send(e);
        };
        let step = settler.advance(now, emit).and_then(|()| {
            settler.submit(instruction, |e| {
                let _ = events.send(e);
            })
        });
        if let Err(error) = step {
            fail(error.into());
            break;
        }
    }
}
