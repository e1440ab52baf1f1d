//! A connection's outbound side, shared by the engine thread, the journal
//! thread and the connection's task: its bounded lock-free queue of
//! notices, and the batches of notices a turn of the engine produces.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use crossbeam_queue::ArrayQueue;

use super::metrics::Metrics;
use super::protocol::Notice;

/// One connection as both sides see it.
pub struct Conn {
    pub participant: u32,
    outbound: ArrayQueue<Notice>,
    /// Wakes the connection's task when something was pushed.
    pub notify: tokio::sync::Notify,
    overflowed: AtomicBool,
    /// Notices queued since the engine last woke the task.
    wake_due: AtomicBool,
    /// Instructions sent and not yet answered (ACCEPTED or REJECTED).
    pub in_flight: AtomicU32,
    pub accepted: AtomicU64,
    pub rejected: AtomicU64,
}

impl Conn {
    pub fn new(participant: u32, outbound_capacity: usize) -> Conn {
        Conn {
            participant,
            outbound: ArrayQueue::new(outbound_capacity.max(1)),
            notify: tokio::sync::Notify::new(),
            overflowed: AtomicBool::new(false),
            wake_due: AtomicBool::new(false),
            in_flight: AtomicU32::new(0),
            accepted: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
        }
    }

    /// The next notice for the connection, if any.
    pub fn pop(&self) -> Option<Notice> {
        self.outbound.pop()
    }

    /// Whether the engine found its queue full (it then sends nothing more).
    pub fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Acquire)
    }

    /// Whether nothing waits to be written.
    pub fn is_empty(&self) -> bool {
        self.outbound.is_empty()
    }

    /// From the connection's own task: a notice the engine has no part in
    /// (an ERROR before closing).
    /// Queued, and the task woken now.
    pub fn push_local(&self, notice: Notice) {
        self.enqueue(notice);
        self.notify.notify_one();
    }

    /// Queues `notice`; a full queue marks the connection overflowed
    /// instead of waiting (the engine never waits). The task is woken
    /// later, once for all of a batch's notices ([`publish`]).
    fn enqueue(&self, notice: Notice) {
        if !self.overflowed.load(Ordering::Relaxed) && self.outbound.push(notice).is_err() {
            self.overflowed.store(true, Ordering::Release);
        }
        self.wake_due.store(true, Ordering::Relaxed);
    }

    /// Wakes the task if something was queued since it was last woken.
    fn wake(&self) {
        if self.wake_due.swap(false, Ordering::AcqRel) {
            self.notify.notify_one();
        }
    }

    /// Its counts, for the GOODBYE behind every answer.
    pub(super) fn goodbye(&self) -> Notice {
        Notice::Goodbye {
            accepted: self.accepted.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
        }
    }

    /// Counts an answer to one of its instructions: no longer in flight.
    pub(super) fn count_answer(&self, notice: &Notice) {
        match notice {
            Notice::Accepted { .. } => self.accepted.fetch_add(1, Ordering::Relaxed),
            _ => self.rejected.fetch_add(1, Ordering::Relaxed),
        };
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A notice on its way to a connection.
pub struct Out {
    conn: Arc<Conn>,
    /// Taken when queued.
    notice: Option<Notice>,
    /// A SETTLED's acceptance instant on the service's clock (its latency
    /// is measured when it leaves); [`NOT_TIMED`] for other notices.
    since_ns: u64,
}

/// An [`Out`] whose latency is not measured.
pub(super) const NOT_TIMED: u64 = u64::MAX;

/// What one engine turn produced: the records it accepted (for the
/// journal) and its notices, sent once the records are durable.
#[derive(Default)]
pub struct Batch {
    /// Encoded [`Record`]s, from `first_seq` on.
    pub records: Vec<u8>,
    pub first_seq: u64,
    /// The turn closed the day (the journal's end marker).
    pub closes_day: bool,
    out: Vec<Out>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.out.is_empty() && self.records.is_empty() && !self.closes_day
    }

    /// Sends the notices, in order, then wakes each connection once;
    /// each SETTLED's latency is recorded. Emptied for reuse (its capacity
    /// kept: no allocation per payment).
    pub fn publish(&mut self, metrics: &Metrics) {
        let now_ns = metrics.clock.now_ns();
        for out in &mut self.out {
            if out.since_ns != NOT_TIMED {
                metrics.record_latency_ns(now_ns.saturating_sub(out.since_ns));
            }
            if let Some(notice) = out.notice.take() {
                out.conn.enqueue(notice);
            }
        }
        for out in self.out.drain(..) {
            out.conn.wake();
        }
        self.records.clear();
        self.closes_day = false;
    }

    pub(super) fn tell(&mut self, conn: &Arc<Conn>, notice: Notice) {
        self.tell_timed(conn, notice, NOT_TIMED);
    }

    pub(super) fn tell_timed(&mut self, conn: &Arc<Conn>, notice: Notice, since_ns: u64) {
        self.out.push(Out {
            conn: conn.clone(),
            notice: Some(notice),
            since_ns,
        });
    }
}
