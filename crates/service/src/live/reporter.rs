//! The reporter thread: confirmations in, latency histogram and counts out.

use hdrhistogram::Histogram;

use super::link::{self, Link};
use super::{Clock, Event, Outcome};

/// Latency in ns, 1 ns to 1 hour at 3 significant digits (larger values are
/// clamped to the top).
pub fn new_latency_histogram() -> Histogram<u64> {
    Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3)
        .expect("constant bounds 1 ns ..= 1 h at 3 digits are valid")
}

/// What the reporter thread counted.
pub struct Tally {
    pub(super) settled: u64,
    pub(super) queued_at_close: u64,
    pub(super) rejected: u64,
    pub(super) latency_ns: Histogram<u64>,
    pub(super) last_ns: u64,
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
                // The ticket of a live instruction is when it was created.
                let latency_ns = now_ns.saturating_sub(event.ticket).max(1);
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

/// The reporter thread: one clock read per batch of events.
pub(super) fn report(events: &Link<Event>, clock: &Clock) -> Tally {
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
