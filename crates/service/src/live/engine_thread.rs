//! The engine thread: the single writer of the ledger. It takes batches
//! from the gateways' links, moves the one driver to the wall clock's
//! instant, admits and settles, and batches the confirmations to the
//! reporter.

use std::sync::atomic::{AtomicBool, Ordering};

use super::link::{self, Link};
use super::{Clock, Event, Instruction, LiveError, Settler};

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
pub(super) fn settle(
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
                    settler.submit(*instruction, |e| writer.emit(e))?;
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
