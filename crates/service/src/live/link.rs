//! A bounded, lock-free link between two threads that moves *batches*.
//!
//! A fixed set of buffers circulates between two `ArrayQueue`s: the writer
//! takes an empty buffer from `free`, fills it and pushes it to `full`; the
//! reader pops it from `full`, drains it and gives it back to `free`. No
//! buffer is ever allocated after start-up, nothing is ever dropped, and a
//! writer that runs out of empty buffers waits: that is the back-pressure.
//! Batching makes the cost of the queue operations (tens of ns) vanish per
//! message.
//!
//! A reader with nothing to read spins briefly, then parks; `send` unparks
//! it (a single atomic operation when it is not parked). On two cores
//! shared by three or more threads, a parked reader leaves its core to the
//! threads that have work, which is what keeps the latency tail short.

use crossbeam_queue::ArrayQueue;
use crossbeam_utils::Backoff;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::Thread;
use std::time::Duration;

/// How long an idle reader sleeps at most before looking again.
const PARK: Duration = Duration::from_micros(200);

pub struct Link<T> {
    full: ArrayQueue<Vec<T>>,
    free: ArrayQueue<Vec<T>>,
    batch: usize,
    /// Set by the writer when it will send nothing more.
    closed: AtomicBool,
    /// The reading thread, woken on every send.
    reader: OnceLock<Thread>,
    /// The writing thread, woken when a buffer comes back.
    writer: OnceLock<Thread>,
}

impl<T> Link<T> {
    /// `buffers` buffers of `batch` messages each (both at least 1).
    pub fn new(buffers: usize, batch: usize) -> Link<T> {
        let buffers = buffers.max(1);
        let free = ArrayQueue::new(buffers);
        for _ in 0..buffers {
            // The queue has room for exactly `buffers`: this cannot fail.
            let _ = free.push(Vec::with_capacity(batch.max(1)));
        }
        Link {
            full: ArrayQueue::new(buffers),
            free,
            batch: batch.max(1),
            closed: AtomicBool::new(false),
            reader: OnceLock::new(),
            writer: OnceLock::new(),
        }
    }

    /// The calling thread reads this link: sends wake it.
    pub fn register_reader(&self) {
        let _ = self.reader.set(std::thread::current());
    }

    /// Messages per buffer.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// An empty buffer, waiting (spinning, then parked until the reader
    /// gives one back) while the reader holds them all; `None` if
    /// `give_up()` turns true while waiting.
    pub fn acquire(&self, give_up: impl Fn() -> bool) -> Option<Vec<T>> {
        let backoff = Backoff::new();
        loop {
            if let Some(buffer) = self.free.pop() {
                return Some(buffer);
            }
            if give_up() {
                return None;
            }
            if backoff.is_completed() {
                let _ = self.writer.set(std::thread::current());
            }
            idle(&backoff);
        }
    }

    /// Hands a filled buffer to the reader. Never fails: at most `buffers`
    /// buffers exist, so `full` always has room.
    pub fn send(&self, buffer: Vec<T>) {
        let pushed = self.full.push(buffer);
        clearsim_core::invariant!(
            pushed.is_ok(),
            "a link never holds more buffers than it made"
        );
        wake(&self.reader);
    }

    /// The next filled buffer, if one is waiting.
    pub fn receive(&self) -> Option<Vec<T>> {
        self.full.pop()
    }

    /// Gives a drained buffer back to the writer.
    pub fn release(&self, mut buffer: Vec<T>) {
        buffer.clear();
        let pushed = self.free.push(buffer);
        clearsim_core::invariant!(
            pushed.is_ok(),
            "a link never holds more buffers than it made"
        );
        wake(&self.writer);
    }

    /// The writer is done (after its last `send`).
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        wake(&self.reader);
    }

    /// Closed and nothing left to read: the reader may stop.
    pub fn is_drained(&self) -> bool {
        self.closed.load(Ordering::Acquire) && self.full.is_empty()
    }
}

/// Unparks the registered thread, if any (one atomic operation when it is
/// not parked).
fn wake(thread: &OnceLock<Thread>) {
    if let Some(thread) = thread.get() {
        thread.unpark();
    }
}

/// Closes a link when dropped: the writer's side of a thread ends with it,
/// however the thread ends.
pub struct Closing<'a, T>(pub &'a Link<T>);

impl<T> Drop for Closing<'_, T> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// A reader's wait for input: spin a little, then park until a send (or a
/// short timeout, so that clocks and flags are looked at regularly).
pub fn idle(backoff: &Backoff) {
    if backoff.is_completed() {
        std::thread::park_timeout(PARK);
    } else {
        backoff.snooze();
    }
}
