//! Group commit: the journal thread between the engine and the
//! connections when `serve` runs with `--journal`.
//!
//! ```text
//! engine ──full batches──> journal thread: write, fsync, then publish
//!        <──free batches──
//! ```
//!
//! The engine hands over each turn's [`Batch`] (its records and notices)
//! through a bounded lock-free queue and takes an emptied one back; the
//! journal thread writes every batch waiting as one frame, fsyncs it, and
//! only then sends the batches' notices, in order. So no ACCEPTED (nor any
//! notice after it) leaves before its record is durable, and while one
//! fsync runs, the next turns' batches gather into the next frame. Without
//! a journal the engine publishes each batch itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_queue::ArrayQueue;

use super::journal::{JournalError, MAX_FRAME_RECORDS, RECORD_BYTES, Writer};
use super::metrics::Metrics;
use super::outbound::Batch;

/// Batches in circulation: turns the engine may run ahead of the disk.
const BATCHES: usize = 128;

/// The two queues between the engine and the journal thread.
pub struct Link {
    full: ArrayQueue<Batch>,
    free: ArrayQueue<Batch>,
    /// The engine is done: the journal thread drains and ends.
    closed: AtomicBool,
    /// The journal thread ended on an error: the engine must stop.
    failed: AtomicBool,
    journal_thread: std::sync::OnceLock<std::thread::Thread>,
}

impl Link {
    pub fn new() -> Arc<Link> {
        let free = ArrayQueue::new(BATCHES);
        for _ in 0..BATCHES {
            let _ = free.push(Batch::default());
        }
        Arc::new(Link {
            full: ArrayQueue::new(BATCHES),
            free,
            closed: AtomicBool::new(false),
            failed: AtomicBool::new(false),
            journal_thread: std::sync::OnceLock::new(),
        })
    }

    /// From the engine: hands `batch` over and returns an empty one,
    /// waiting while every batch is on its way to the disk (the disk's
    /// back-pressure); `None` if the journal thread has failed.
    pub fn hand_over(&self, mut batch: Batch) -> Option<Batch> {
        let backoff = crossbeam_utils::Backoff::new();
        loop {
            if self.failed.load(Ordering::Acquire) {
                return None;
            }
            match self.full.push(batch) {
                Ok(()) => break,
                Err(back) => batch = back,
            }
            backoff.snooze();
        }
        self.unpark();
        loop {
            if let Some(free) = self.free.pop() {
                return Some(free);
            }
            if self.failed.load(Ordering::Acquire) {
                return None;
            }
            backoff.snooze();
        }
    }

    /// Whether the journal thread has failed: the engine stops even when
    /// it has nothing to hand over (its banks may all be waiting for
    /// answers the failed journal will never publish).
    pub fn has_failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// From the engine: nothing more comes.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.unpark();
    }

    fn unpark(&self) {
        if let Some(thread) = self.journal_thread.get() {
            thread.unpark();
        }
    }
}

/// The journal thread: frames of waiting batches, each durable before its
/// notices are published; ends when the engine closes the link and every
/// batch is through, or on a write error (which it returns).
pub fn journal_loop(
    mut writer: Writer,
    link: &Link,
    metrics: &Metrics,
) -> Result<(), JournalError> {
    let _ = link.journal_thread.set(std::thread::current());
    let result = commit_until_closed(&mut writer, link, metrics);
    if let Err(e) = &result {
        tracing::error!(error = %e, "the journal cannot be written: the service stops");
        link.failed.store(true, Ordering::Release);
    }
    result
}

fn commit_until_closed(
    writer: &mut Writer,
    link: &Link,
    metrics: &Metrics,
) -> Result<(), JournalError> {
    let mut taken: Vec<Batch> = Vec::with_capacity(BATCHES);
    loop {
        let mut records = 0;
        // One frame: what is waiting, up to a frame's size.
        while records + super::TURN <= MAX_FRAME_RECORDS {
            let Some(batch) = link.full.pop() else { break };
            records += batch.records.len() / RECORD_BYTES;
            taken.push(batch);
        }
        if taken.is_empty() {
            if link.closed.load(Ordering::Acquire) && link.full.is_empty() {
                return Ok(());
            }
            // Every batch handed over and the close unpark this thread,
            // and both come after what they publish: nothing to poll for.
            std::thread::park();
            continue;
        }
        commit(writer, &taken)?;
        for mut batch in taken.drain(..) {
            batch.publish(metrics);
            // There is room: this batch came out of the circulation.
            let _ = link.free.push(batch);
        }
    }
}

/// Writes the records of `batches` as one frame (if they hold any, and
/// the day-end marker if one closes the day), durable on return.
fn commit(writer: &mut Writer, batches: &[Batch]) -> Result<(), JournalError> {
    let mut first_seq = None;
    for batch in batches.iter().filter(|b| !b.records.is_empty()) {
        first_seq.get_or_insert(batch.first_seq);
        writer.append(&batch.records);
    }
    if let Some(first_seq) = first_seq {
        writer.commit(first_seq)?;
    }
    if let Some(batch) = batches.iter().find(|b| b.closes_day) {
        writer.close_day(batch.first_seq + (batch.records.len() / RECORD_BYTES) as u64)?;
    }
    Ok(())
}
