//! The engine thread of `clearsim serve`: the single writer of the ledger.
//!
//! Connections' tasks push [`Command`]s into one bounded lock-free queue;
//! the engine thread takes them in order, moves the one driver to the wall
//! clock's instant, admits and settles through the same [`Settler`] as
//! `live`, and pushes each answer into the bounded lock-free outbound queue
//! of the connection it is for, then wakes that connection's task. It
//! never waits on a connection: one whose outbound queue is full is marked
//! as overflowed (its task then closes it: a slow reader) and gets nothing
//! more.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use crossbeam_queue::ArrayQueue;

use super::protocol::{Notice, Reason};
use crate::engine::EngineError;
use crate::live::{Clock, Event, Instruction, Outcome, Settler};

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
    pub fn push_local(&self, notice: Notice) {
        self.push(notice);
    }

    /// Queues `notice` and wakes the task now.
    fn push(&self, notice: Notice) {
        self.enqueue(notice);
        self.notify.notify_one();
    }

    /// Queues `notice`; a full queue marks the connection overflowed
    /// instead of waiting (the engine never waits). Whether the task is to
    /// be woken (the first notice since its last wake-up).
    fn enqueue(&self, notice: Notice) -> bool {
        if !self.overflowed.load(Ordering::Relaxed) && self.outbound.push(notice).is_err() {
            self.overflowed.store(true, Ordering::Release);
        }
        !self.wake_due.swap(true, Ordering::AcqRel)
    }

    /// Counts an answer to one of its instructions: no longer in flight.
    fn count_answer(&self, notice: &Notice) {
        match notice {
            Notice::Accepted { .. } => self.accepted.fetch_add(1, Ordering::Relaxed),
            _ => self.rejected.fetch_add(1, Ordering::Relaxed),
        };
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// From the engine thread: queues `notice` for `conn`, and notes that its
/// task is to be woken at the end of the engine's turn (one wake-up for
/// all the notices of a turn, not one each).
fn tell(wake: &mut Vec<Arc<Conn>>, conn: &Arc<Conn>, notice: Notice) {
    if conn.enqueue(notice) {
        wake.push(conn.clone());
    }
}

/// What the connections ask of the engine thread.
pub enum Command {
    /// A connection authenticated: it receives its participant's credits.
    Open(Arc<Conn>),
    /// It closed: nothing more is sent to it.
    Close(Arc<Conn>),
    Submit {
        conn: Arc<Conn>,
        client_ref: u64,
        receiver: u32,
        amount_fen: i64,
        priority: u8,
        instrument: u16,
    },
    Query {
        conn: Arc<Conn>,
        query_ref: u64,
    },
    /// The bank is done: GOODBYE with its counts, behind every answer.
    Bye(Arc<Conn>),
    /// A SUBMIT the edge refused (in-flight limit, stopping): answered in
    /// its turn.
    Refuse {
        conn: Arc<Conn>,
        client_ref: u64,
        reason: Reason,
    },
}

/// A payment the engine holds, for the notices of its settlement.
struct Held {
    conn: Arc<Conn>,
    client_ref: u64,
    receiver: u32,
    amount_fen: i64,
}

/// The engine thread's state besides the settler.
pub struct Service {
    settler: Settler,
    clock: Clock,
    instruments: u16,
    /// Per participant, its open connections (credits go to each).
    conns: Vec<Vec<Arc<Conn>>>,
    /// Queued payments by sequence number.
    held: hashbrown::HashMap<u64, Held, foldhash::fast::FixedState>,
    /// Per participant: queued count and value.
    queued: Vec<(u32, i64)>,
    next_seq: u64,
    events: Vec<Event>,
    /// Connections with notices since the last [`Service::wake_all`].
    wake: Vec<Arc<Conn>>,
    /// SUBMITs answered ACCEPTED and REJECTED, payments settled.
    accepted: u64,
    rejected: u64,
    settled: u64,
}

impl Service {
    pub fn new(settler: Settler, clock: Clock, participants: u32, instruments: u16) -> Service {
        Service {
            settler,
            clock,
            instruments,
            conns: vec![Vec::new(); participants as usize],
            held: Default::default(),
            queued: vec![(0, 0); participants as usize],
            next_seq: 0,
            events: Vec::with_capacity(64),
            wake: Vec::new(),
            accepted: 0,
            rejected: 0,
            settled: 0,
        }
    }

    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Wakes every connection told something since the last call: the
    /// engine thread calls it after each turn.
    pub fn wake_all(&mut self) {
        for conn in self.wake.drain(..) {
            conn.wake_due.store(false, Ordering::Release);
            conn.notify.notify_one();
        }
    }

    /// An answer to one of `conn`'s instructions.
    fn answer(&mut self, conn: &Arc<Conn>, notice: Notice) {
        conn.count_answer(&notice);
        tell(&mut self.wake, conn, notice);
    }

    /// Runs `command` at the open instant (the engine thread moves it to
    /// the wall clock once per turn: [`Service::advance`]).
    pub fn handle(&mut self, command: Command) -> Result<(), EngineError> {
        match command {
            Command::Open(conn) => self.conns[conn.participant as usize].push(conn),
            Command::Close(conn) => {
                self.conns[conn.participant as usize].retain(|c| !Arc::ptr_eq(c, &conn))
            }
            Command::Refuse {
                conn,
                client_ref,
                reason,
            } => {
                self.rejected += 1;
                self.answer(&conn, Notice::Rejected { client_ref, reason });
            }
            Command::Bye(conn) => {
                let goodbye = Notice::Goodbye {
                    accepted: conn.accepted.load(Ordering::Relaxed),
                    rejected: conn.rejected.load(Ordering::Relaxed),
                };
                tell(&mut self.wake, &conn, goodbye);
            }
            Command::Query { conn, query_ref } => {
                let p = conn.participant as usize;
                let ledger = self.settler.engine().ledger();
                let (queued, queued_fen) = self.queued[p];
                let balance = Notice::Balance {
                    query_ref,
                    balance_fen: ledger.balances_fen()[p],
                    credit_limit_fen: ledger.credit_limits_fen()[p],
                    queued,
                    queued_fen,
                };
                tell(&mut self.wake, &conn, balance);
            }
            Command::Submit {
                conn,
                client_ref,
                receiver,
                amount_fen,
                priority,
                instrument,
            } => self.submit(
                conn,
                client_ref,
                receiver,
                amount_fen,
                (priority, instrument),
            )?,
        }
        Ok(())
    }

    /// Moves the engine to the wall clock (scheduled runs fall due).
    pub fn advance(&mut self) -> Result<(), EngineError> {
        let now = Clock::sim_time(self.clock.now_ns());
        let mut events = std::mem::take(&mut self.events);
        self.settler.advance(now, |e| events.push(e))?;
        self.deliver(&mut events, None);
        self.events = events;
        Ok(())
    }

    /// Whether a scheduled run falls due now (an idle engine thread looks).
    pub fn run_due(&self) -> bool {
        self.settler.run_due(Clock::sim_time(self.clock.now_ns()))
    }

    /// The service stops: what is still queued stays unsettled; the
    /// ledger's invariants are checked and the counts returned.
    pub fn close(&mut self) -> Result<super::Served, EngineError> {
        let mut queued = 0u64;
        self.settler.close(|_| queued += 1)?;
        let ledger = self.settler.engine().ledger();
        ledger.check_invariants().map_err(EngineError::BadChannel)?;
        Ok(super::Served {
            accepted: self.accepted,
            rejected: self.rejected,
            settled: self.settled,
            queued,
            total_fen: ledger.balances_fen().iter().sum(),
        })
    }

    fn refusal(
        &self,
        sender: u32,
        receiver: u32,
        amount_fen: i64,
        instrument: u16,
    ) -> Option<Reason> {
        if receiver as usize >= self.conns.len() {
            Some(Reason::UnknownReceiver)
        } else if receiver == sender {
            Some(Reason::SelfPayment)
        } else if amount_fen <= 0 {
            Some(Reason::BadAmount)
        } else if instrument >= self.instruments {
            Some(Reason::UnknownInstrument)
        } else if self.settler.now() >= self.settler.engine().day_end() {
            Some(Reason::DayClosed)
        } else {
            None
        }
    }

    /// One SUBMIT: refused, or accepted (ACCEPTED first, then whatever
    /// settled with it, its own SETTLED included).
    fn submit(
        &mut self,
        conn: Arc<Conn>,
        client_ref: u64,
        receiver: u32,
        amount_fen: i64,
        (priority, instrument): (u8, u16),
    ) -> Result<(), EngineError> {
        let sender = conn.participant;
        if let Some(reason) = self.refusal(sender, receiver, amount_fen, instrument) {
            self.rejected += 1;
            self.answer(&conn, Notice::Rejected { client_ref, reason });
            return Ok(());
        }
        let seq = self.next_seq;
        let instruction = Instruction {
            sender,
            receiver,
            amount_fen,
            created_ns: seq,
            priority,
        };
        let mut events = std::mem::take(&mut self.events);
        self.settler.submit(&instruction, |e| events.push(e))?;
        if events
            .first()
            .is_some_and(|e| e.outcome == Outcome::Rejected)
        {
            self.events = events;
            self.events.clear();
            self.rejected += 1;
            let rejected = Notice::Rejected {
                client_ref,
                reason: Reason::QueueFull,
            };
            self.answer(&conn, rejected);
            return Ok(());
        }
        self.next_seq += 1;
        self.accepted += 1;
        self.answer(&conn, Notice::Accepted { client_ref, seq });
        let current = Held {
            conn,
            client_ref,
            receiver,
            amount_fen,
        };
        let current = self.deliver(&mut events, Some((seq, current)));
        self.events = events;
        if let Some((seq, held)) = current {
            // It waits in a queue: its notices come when it settles.
            let q = &mut self.queued[held.conn.participant as usize];
            q.0 += 1;
            q.1 = q.1.saturating_add(held.amount_fen);
            self.held.insert(seq, held);
        }
        Ok(())
    }

    /// Sends the notices of `events` (drained); `current` is the payment
    /// just submitted, not yet in `held`: returned if it did not settle.
    fn deliver(
        &mut self,
        events: &mut Vec<Event>,
        mut current: Option<(u64, Held)>,
    ) -> Option<(u64, Held)> {
        let at_ms = self.settler.now().ms();
        for event in events.drain(..) {
            let seq = event.created_ns;
            let held = match current.take() {
                Some((s, held)) if s == seq => Some(held),
                other => {
                    current = other;
                    let held = self.held.remove(&seq);
                    if let Some(h) = &held {
                        let q = &mut self.queued[h.conn.participant as usize];
                        q.0 -= 1;
                        q.1 -= h.amount_fen;
                    }
                    held
                }
            };
            let Some(held) = held else {
                continue;
            };
            if event.outcome == Outcome::Settled {
                self.settled(seq, &held, at_ms);
            }
        }
        current
    }

    fn settled(&mut self, seq: u64, held: &Held, at_ms: u32) {
        self.settled += 1;
        let settled = Notice::Settled {
            client_ref: held.client_ref,
            seq,
            at_ms,
        };
        tell(&mut self.wake, &held.conn, settled);
        for conn in &self.conns[held.receiver as usize] {
            let credit = Notice::Credit {
                seq,
                sender: held.conn.participant,
                amount_fen: held.amount_fen,
                at_ms,
            };
            tell(&mut self.wake, conn, credit);
        }
    }
}
