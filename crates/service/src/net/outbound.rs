//! A connection's outbound side, shared by the engine thread, the journal
//! thread and the connection's task: its lock-free queue of notices, which
//! grows on demand up to its limit, and the batches of notices a turn of
//! the engine produces.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use crossbeam_queue::ArrayQueue;

use super::metrics::Metrics;
use super::protocol::Notice;

/// The first ring's slots: what an idle connection costs (a few KiB, where
/// a queue of the full limit up front cost 2.8 MiB).
const FIRST_RING: usize = 64;
/// Each ring holds this many times the one before.
const GROWTH: usize = 4;
/// Rings at most: 64 · 4^8 slots exceed any limit [`Conn::new`] takes.
const RINGS: usize = 9;
/// The largest outbound limit a connection may have.
pub const MAX_OUTBOUND: usize = 1 << 22;

/// A single-producer, single-consumer queue that grows: rings of
/// increasing size, filled in turn. Only the thread that publishes a
/// service's notices (the engine's, or the journal's) pushes; only the
/// connection's task pops. The producer moves to the next ring only when
/// its ring is full, so the consumer, draining ring after ring, keeps the
/// order. A ring is allocated once, when the one before first fills: a
/// few times in a connection's life, never per notice.
struct Rings {
    rings: [OnceLock<ArrayQueue<Notice>>; RINGS],
    /// The ring the producer pushes into.
    write: AtomicUsize,
    /// The ring the consumer pops from (only the consumer changes it).
    read: AtomicUsize,
    /// Notices queued (pushed, not yet popped): the limit's measure.
    len: AtomicUsize,
    limit: usize,
}

impl Rings {
    fn new(limit: usize) -> Rings {
        let limit = limit.clamp(1, MAX_OUTBOUND);
        let rings = Rings {
            rings: Default::default(),
            write: AtomicUsize::new(0),
            read: AtomicUsize::new(0),
            len: AtomicUsize::new(0),
            limit,
        };
        let _ = rings.rings[0].set(ArrayQueue::new(Rings::capacity(0, limit)));
        rings
    }

    /// Ring `k`'s slots: growing, the last exactly `limit` (so that
    /// fewer than `limit` notices queued always find room).
    fn capacity(k: usize, limit: usize) -> usize {
        let grown = FIRST_RING.saturating_mul(GROWTH.saturating_pow(k as u32));
        if k + 1 == RINGS {
            limit
        } else {
            grown.min(limit)
        }
    }

    /// From the producer: false if `limit` notices are queued.
    fn push(&self, notice: Notice) -> bool {
        if self.len.load(Ordering::Acquire) >= self.limit {
            return false;
        }
        // Counted before it is visible, so that the consumer's count never
        // goes below zero.
        self.len.fetch_add(1, Ordering::AcqRel);
        let mut k = self.write.load(Ordering::Relaxed);
        let mut notice = notice;
        loop {
            let ring =
                self.rings[k].get_or_init(|| ArrayQueue::new(Rings::capacity(k, self.limit)));
            match ring.push(notice) {
                Ok(()) => break,
                Err(back) => notice = back,
            }
            // Full, with fewer than `limit` queued: a larger ring exists.
            if k + 1 == RINGS {
                self.len.fetch_sub(1, Ordering::AcqRel);
                return false;
            }
            k += 1;
            let next = Rings::capacity(k, self.limit);
            let _ = self.rings[k].get_or_init(|| ArrayQueue::new(next));
            // After the last push into the ring before (the consumer
            // leaves a ring only once it sees this).
            self.write.store(k, Ordering::Release);
        }
        true
    }

    /// From the consumer: the oldest notice, if any.
    fn pop(&self) -> Option<Notice> {
        loop {
            let k = self.read.load(Ordering::Relaxed);
            let ring = self.rings[k].get()?;
            if let Some(notice) = ring.pop() {
                self.len.fetch_sub(1, Ordering::AcqRel);
                return Some(notice);
            }
            if self.write.load(Ordering::Acquire) == k {
                return None;
            }
            // The producer has moved on: what it pushed here before is
            // visible now; once that is taken, so is the ring.
            if let Some(notice) = ring.pop() {
                self.len.fetch_sub(1, Ordering::AcqRel);
                return Some(notice);
            }
            self.read.store(k + 1, Ordering::Relaxed);
        }
    }

    fn is_empty(&self) -> bool {
        self.len.load(Ordering::Acquire) == 0
    }
}

/// One connection as both sides see it.
pub struct Conn {
    pub participant: u32,
    /// The protocol version its HELLO named: from 2, a payment that
    /// settles on arrival is answered with one notice.
    pub version: u16,
    outbound: Rings,
    /// The connection's own last word (an ERROR before it closes), written
    /// after what the engine queued: its task is not the queue's producer.
    local: ArrayQueue<Notice>,
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
    pub fn new(participant: u32, outbound_limit: usize, version: u16) -> Conn {
        Conn {
            participant,
            version,
            outbound: Rings::new(outbound_limit),
            local: ArrayQueue::new(1),
            notify: tokio::sync::Notify::new(),
            overflowed: AtomicBool::new(false),
            wake_due: AtomicBool::new(false),
            in_flight: AtomicU32::new(0),
            accepted: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
        }
    }

    /// The next notice for the connection, if any: the engine's in order,
    /// then its own last word.
    pub fn pop(&self) -> Option<Notice> {
        self.outbound.pop().or_else(|| self.local.pop())
    }

    /// Whether the engine found its queue full (it then sends nothing more).
    pub fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Acquire)
    }

    /// Whether nothing waits to be written.
    pub fn is_empty(&self) -> bool {
        self.outbound.is_empty() && self.local.is_empty()
    }

    /// From the connection's own task: a notice the engine has no part in
    /// (an ERROR before closing; a second one is dropped). Queued, and the
    /// task woken now.
    pub fn push_local(&self, notice: Notice) {
        let _ = self.local.push(notice);
        self.notify.notify_one();
    }

    /// Queues `notice`; a full queue marks the connection overflowed
    /// instead of waiting (the engine never waits). The task is woken
    /// later, once for all of a batch's notices ([`publish`]).
    fn enqueue(&self, notice: Notice) {
        if !self.overflowed.load(Ordering::Relaxed) && !self.outbound.push(notice) {
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
            Notice::Accepted { .. } | Notice::AcceptedSettled { .. } => {
                self.accepted.fetch_add(1, Ordering::Relaxed)
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(k: u64) -> Notice {
        Notice::Accepted {
            client_ref: k,
            seq: k,
        }
    }

    #[test]
    fn an_idle_connection_holds_only_the_first_ring() {
        let rings = Rings::new(65_536);
        assert_eq!(rings.rings[0].get().map(ArrayQueue::capacity), Some(64));
        assert!(rings.rings[1..].iter().all(|r| r.get().is_none()));
    }

    #[test]
    fn it_grows_to_its_limit_and_no_further_in_order() {
        let limit = 1_000;
        let rings = Rings::new(limit);
        for k in 0..limit as u64 {
            assert!(rings.push(numbered(k)), "{k}");
        }
        assert!(!rings.push(numbered(9_999)), "past the limit");
        for k in 0..limit as u64 {
            assert_eq!(rings.pop(), Some(numbered(k)));
        }
        assert_eq!(rings.pop(), None);
        assert!(rings.is_empty());
        // Room again once read: the grown rings are reused.
        assert!(rings.push(numbered(1)));
        assert_eq!(rings.pop(), Some(numbered(1)));
    }

    #[test]
    fn a_consumer_on_another_thread_sees_every_notice_in_order() {
        let rings = Arc::new(Rings::new(65_536));
        let total = 200_000u64;
        let consumer = {
            let rings = rings.clone();
            std::thread::spawn(move || {
                let mut next = 0;
                // Bounded: every notice is pushed eventually.
                for _ in 0..u64::MAX {
                    if next == total {
                        break;
                    }
                    match rings.pop() {
                        Some(notice) => {
                            assert_eq!(notice, numbered(next));
                            next += 1;
                        }
                        None => std::hint::spin_loop(),
                    }
                }
            })
        };
        let mut k = 0;
        while k < total {
            if rings.push(numbered(k)) {
                k += 1;
            } else {
                std::thread::yield_now();
            }
        }
        consumer.join().expect("in order");
    }
}
