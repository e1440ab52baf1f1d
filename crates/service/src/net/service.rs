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
use std::sync::atomic::Ordering;

use super::commit::Link;
use super::journal::Record;
use super::metrics::Metrics;
use super::outbound::{Batch, Conn, NOT_TIMED};
use super::protocol::{Notice, Reason, Submit};
use crate::live::{Clock, Event, Instruction, Outcome, Settler};
use clearsim_core::engine::{Engine, EngineError};
use clearsim_core::money::AmountBudget;
use clearsim_core::time::SimTime;

/// What the connections ask of the engine thread.
pub enum Command {
    /// A connection authenticated: it receives its participant's credits.
    Open(Arc<Conn>),
    /// It closed: nothing more is sent to it.
    Close(Arc<Conn>),
    Submit {
        conn: Arc<Conn>,
        submit: Submit,
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

/// What the service keeps of a payment in the engine, for the notices of
/// its settlement: its ticket in the settler.
struct Held {
    /// The system's sequence number.
    seq: u64,
    /// The connection it came on; `None` when recovered from the journal
    /// (its SETTLED then goes to the sender's connections open then).
    conn: Option<Arc<Conn>>,
    sender: u32,
    client_ref: u64,
    receiver: u32,
    amount_fen: i64,
    /// The accepting turn's instant on the service's clock ([`NOT_TIMED`]
    /// when recovered).
    accepted_ns: u64,
}

/// The engine thread's state besides the settler.
pub struct Service {
    settler: Settler<Held>,
    metrics: Arc<Metrics>,
    /// The turn's instant on the service's clock (read once a turn).
    turn_ns: u64,
    /// The service's day resumes where its journal ended: added to the
    /// wall clock.
    resumed_ns: u64,
    instruments: u16,
    /// Per participant, its open connections (credits go to each).
    conns: Vec<Vec<Arc<Conn>>>,
    settled_fen: i64,
    next_seq: u64,
    events: Vec<Event<Held>>,
    /// The turn's records and notices.
    batch: Batch,
    /// To the journal thread (`--journal`), or `None`: published here.
    link: Option<Arc<Link>>,
    day_closed: bool,
    counts: super::Served,
    /// What each sender may still have accepted today: keeps every sum
    /// of the ledger within i64 whatever the banks send.
    budget: AmountBudget,
}

impl Service {
    /// The service over `engine` (one gross channel), at most `max_queued`
    /// payments waiting in its queues, `per_sender` of them one sender's;
    /// `instruments` SUBMITs may name; its journal thread's `link`, if it
    /// has one.
    pub fn new(
        engine: Engine,
        (max_queued, per_sender): (usize, usize),
        metrics: Arc<Metrics>,
        instruments: u16,
        link: Option<Arc<Link>>,
    ) -> Result<Service, EngineError> {
        let participants = engine.ledger().participant_count();
        let budget = AmountBudget::new(engine.ledger().balances_fen())
            .ok_or(EngineError::AmountsOverflow)?;
        Ok(Service {
            budget,
            settler: Settler::new(engine, max_queued)?.with_sender_share(per_sender),
            metrics,
            turn_ns: 0,
            resumed_ns: 0,
            instruments,
            conns: vec![Vec::new(); participants],
            settled_fen: 0,
            next_seq: 0,
            events: Vec::with_capacity(64),
            batch: Batch::default(),
            link,
            day_closed: false,
            counts: super::Served::default(),
        })
    }

    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    pub fn day_closed(&self) -> bool {
        self.day_closed
    }

    /// Rebuilds the state the journal's `records` leave, by running them
    /// again at their instants (the engine is deterministic: the same
    /// arrivals at the same instants give the same ledger, queues and
    /// sequence numbers); the day then resumes at the last one's instant.
    /// A closed day is closed again. Nothing is sent: no one is connected.
    /// `Ok(Err(seq))`: record `seq` is one the engine refuses (its queue
    /// or its sender's share of it full): a journal this service did not
    /// write, refused as such.
    pub fn recover(
        &mut self,
        records: &[Record],
        day_closed: bool,
    ) -> Result<Result<(), u64>, EngineError> {
        for record in records {
            clearsim_core::invariant_eq!(record.seq, self.next_seq, "records recover in order");
            self.advance_to(SimTime(record.at_ms))?;
            let arrival = Arrival {
                conn: None,
                sender: record.sender,
                submit: record.submit(),
            };
            // A journal this service wrote was accepted in this order, so
            // it is again (the engine is deterministic).
            if !self.admit(arrival, false)? {
                return Ok(Err(record.seq));
            }
        }
        self.resumed_ns = u64::from(self.settler.now().ms()) * 1_000_000;
        if day_closed {
            self.close_day()?;
        }
        // This run's counts start now.
        self.counts = super::Served::default();
        self.settled_fen = 0;
        self.batch = Batch::default();
        self.batch.first_seq = self.next_seq;
        Ok(Ok(()))
    }

    /// Ends the engine's turn: its notices go out, through the journal
    /// thread when there is one (after its records are durable).
    pub fn end_turn(&mut self) -> Result<(), EngineError> {
        self.show_counts();
        let journal_failed =
            || EngineError::Failed("the journal failed: nothing more is accepted".into());
        if self.link.as_ref().is_some_and(|link| link.has_failed()) {
            return Err(journal_failed());
        }
        if self.batch.is_empty() {
            return Ok(());
        }
        match &self.link {
            None => self.batch.publish(&self.metrics),
            Some(link) => {
                let batch = std::mem::take(&mut self.batch);
                self.batch = link.hand_over(batch).ok_or_else(journal_failed)?;
            }
        }
        self.batch.first_seq = self.next_seq;
        Ok(())
    }

    /// The turn's counts, for `/metrics` and the dashboard.
    fn show_counts(&self) {
        let m = &self.metrics;
        m.accepted.store(self.counts.accepted, Ordering::Relaxed);
        m.settled.store(self.counts.settled, Ordering::Relaxed);
        m.settled_fen.store(self.settled_fen, Ordering::Relaxed);
        m.queued
            .store(self.settler.queued() as u64, Ordering::Relaxed);
        m.queued_fen
            .store(saturate(self.settler.queued_fen()), Ordering::Relaxed);
    }

    /// An answer to one of `conn`'s instructions.
    fn answer(&mut self, conn: &Arc<Conn>, notice: Notice) {
        match notice {
            Notice::Accepted { .. } => self.counts.accepted += 1,
            Notice::Rejected { reason, .. } => {
                self.counts.rejected += 1;
                self.metrics.rejected(reason);
            }
            _ => {}
        }
        conn.count_answer(&notice);
        self.batch.tell(conn, notice);
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
            } => self.answer(&conn, Notice::Rejected { client_ref, reason }),
            Command::Bye(conn) => self.batch.tell(&conn, conn.goodbye()),
            Command::Query { conn, query_ref } => {
                let balance = self.balance(conn.participant, query_ref);
                self.batch.tell(&conn, balance);
            }
            Command::Submit { conn, submit } => {
                let arrival = Arrival {
                    sender: conn.participant,
                    conn: Some(conn),
                    submit,
                };
                self.submit(arrival)?
            }
        }
        Ok(())
    }

    fn balance(&self, participant: u32, query_ref: u64) -> Notice {
        let p = participant as usize;
        let ledger = self.settler.engine().ledger();
        let (queued, queued_fen) = self.settler.queued_of(participant);
        Notice::Balance {
            query_ref,
            balance_fen: ledger.balances_fen()[p],
            credit_limit_fen: ledger.credit_limits_fen()[p],
            queued,
            queued_fen: saturate(queued_fen),
        }
    }

    /// Moves the engine to the wall clock (scheduled runs fall due): the
    /// turn's instant.
    pub fn advance(&mut self) -> Result<(), EngineError> {
        self.turn_ns = self.metrics.clock.now_ns();
        self.advance_to(Clock::sim_time(self.turn_ns + self.resumed_ns))
    }

    fn wall_time(&self) -> SimTime {
        Clock::sim_time(self.metrics.clock.now_ns() + self.resumed_ns)
    }

    fn advance_to(&mut self, now: SimTime) -> Result<(), EngineError> {
        let mut events = std::mem::take(&mut self.events);
        self.settler.advance(now, |e| events.push(e))?;
        self.deliver(&mut events, None);
        self.events = events;
        Ok(())
    }

    /// Whether a scheduled run falls due now (an idle engine thread looks).
    pub fn run_due(&self) -> bool {
        !self.day_closed && self.settler.run_due(self.wall_time())
    }

    /// The service stops: it closes the day (every run still due, to the
    /// day end; what stays queued is unsettled), reports those
    /// settlements and says GOODBYE to every open connection, journals
    /// the day's end, checks the ledger's invariants and returns the
    /// counts.
    pub fn close(&mut self) -> Result<super::Served, EngineError> {
        if !self.day_closed {
            self.close_day()?;
            self.batch.closes_day = true;
        }
        for conn in self.conns.iter().flatten() {
            self.batch.tell(conn, conn.goodbye());
        }
        self.end_turn()?;
        if let Some(link) = &self.link {
            link.close();
        }
        let ledger = self.settler.engine().ledger();
        ledger
            .check_invariants()
            .map_err(|broken| EngineError::Invariant(broken.0))?;
        let mut counts = self.counts.clone();
        counts.queued = self.settler.queued() as u64;
        counts.total_fen = ledger.balances_fen().iter().sum();
        Ok(counts)
    }

    fn close_day(&mut self) -> Result<(), EngineError> {
        let mut events = std::mem::take(&mut self.events);
        self.settler.close(|e| events.push(e))?;
        // The day-end runs' settlements, at their own instants; what
        // stays queued stays counted as queued.
        events.retain(|e| e.outcome == Outcome::Settled);
        self.deliver(&mut events, None);
        self.events = events;
        self.day_closed = true;
        Ok(())
    }

    fn refusal(&self, arrival: &Arrival) -> Option<Reason> {
        let submit = &arrival.submit;
        if submit.receiver as usize >= self.conns.len() {
            Some(Reason::UnknownReceiver)
        } else if submit.receiver == arrival.sender {
            Some(Reason::SelfPayment)
        } else if !self.budget.fits(arrival.sender, submit.amount_fen) {
            // ≤ 0, or past the sender's share of what the day can hold.
            Some(Reason::BadAmount)
        } else if submit.instrument >= self.instruments {
            Some(Reason::UnknownInstrument)
        } else if self.day_closed || self.settler.now() >= self.settler.engine().day_end() {
            Some(Reason::DayClosed)
        } else {
            None
        }
    }

    /// One SUBMIT: refused, or accepted (ACCEPTED first, then whatever
    /// settled with it, its own SETTLED included).
    fn submit(&mut self, arrival: Arrival) -> Result<(), EngineError> {
        let Some(conn) = arrival.conn.clone() else {
            return Ok(());
        };
        let client_ref = arrival.submit.client_ref;
        if let Some(reason) = self.refusal(&arrival) {
            self.answer(&conn, Notice::Rejected { client_ref, reason });
            return Ok(());
        }
        if !self.admit(arrival, true)? {
            let reason = Reason::QueueFull;
            self.answer(&conn, Notice::Rejected { client_ref, reason });
        }
        Ok(())
    }

    /// Admits `arrival` into the engine at the open instant: false if the
    /// queues are full. Accepted, it gets the next sequence number, its
    /// record (when `journal`), its ACCEPTED, then the notices of whatever
    /// settled with it.
    fn admit(&mut self, arrival: Arrival, journal: bool) -> Result<bool, EngineError> {
        let seq = self.next_seq;
        let submit = arrival.submit;
        let accepted_ns = if arrival.conn.is_some() {
            self.turn_ns
        } else {
            NOT_TIMED
        };
        let instruction = Instruction {
            sender: arrival.sender,
            receiver: submit.receiver,
            amount_fen: submit.amount_fen,
            priority: submit.priority,
            instrument: submit.instrument,
            ticket: Held {
                seq,
                conn: arrival.conn.clone(),
                sender: arrival.sender,
                client_ref: submit.client_ref,
                receiver: submit.receiver,
                amount_fen: submit.amount_fen,
                accepted_ns,
            },
        };
        let mut events = std::mem::take(&mut self.events);
        self.settler.submit(instruction, |e| events.push(e))?;
        if events
            .first()
            .is_some_and(|e| e.outcome == Outcome::Rejected)
        {
            events.clear();
            self.events = events;
            return Ok(false);
        }
        self.next_seq += 1;
        // The refusal checked it for a SUBMIT, the journal's record check
        // for a recovered record.
        let taken = self.budget.take(arrival.sender, submit.amount_fen);
        clearsim_core::invariant!(taken, "an admitted amount fits the sender's budget");
        // Records only for a journal to write (none without `--journal`).
        if journal && self.link.is_some() {
            Record::of(seq, arrival.sender, self.settler.now(), &submit)
                .encode(&mut self.batch.records);
        }
        // A version 2 bank hears of a payment that settled on arrival once
        // (ACCEPTED_SETTLED, sent with the settlements below).
        let at_once = arrival.conn.as_ref().is_some_and(|conn| conn.version >= 2)
            && events
                .iter()
                .any(|e| e.outcome == Outcome::Settled && e.ticket.seq == seq);
        if let Some(conn) = &arrival.conn {
            let client_ref = submit.client_ref;
            if at_once {
                self.counts.accepted += 1;
                conn.count_answer(&Notice::Accepted { client_ref, seq });
            } else {
                self.answer(conn, Notice::Accepted { client_ref, seq });
            }
        }
        // What settled with it, itself included (a payment that queues has
        // its notices when it settles).
        self.deliver(&mut events, at_once.then_some(seq));
        self.events = events;
        Ok(true)
    }

    /// Sends the notices of the settlements among `events` (drained);
    /// `answered_seq`'s sender hears it as the answer to its SUBMIT.
    fn deliver(&mut self, events: &mut Vec<Event<Held>>, answered_seq: Option<u64>) {
        let at_ms = self.settler.now().ms();
        for event in events.drain(..) {
            if event.outcome == Outcome::Settled {
                let answer = answered_seq == Some(event.ticket.seq);
                self.settled(&event.ticket, at_ms, answer);
            }
        }
    }

    fn settled(&mut self, held: &Held, at_ms: u32, answer: bool) {
        let seq = held.seq;
        self.counts.settled += 1;
        self.settled_fen = self.settled_fen.saturating_add(held.amount_fen);
        let client_ref = held.client_ref;
        let settled = if answer {
            Notice::AcceptedSettled {
                client_ref,
                seq,
                at_ms,
            }
        } else {
            Notice::Settled {
                client_ref,
                seq,
                at_ms,
            }
        };
        match &held.conn {
            Some(conn) => self.batch.tell_timed(conn, settled, held.accepted_ns),
            None => {
                for conn in &self.conns[held.sender as usize] {
                    self.batch.tell(conn, settled.clone());
                }
            }
        }
        for conn in &self.conns[held.receiver as usize] {
            let credit = Notice::Credit {
                seq,
                sender: held.sender,
                amount_fen: held.amount_fen,
                at_ms,
            };
            self.batch.tell(conn, credit);
        }
    }
}

/// A queued value as the protocol and metrics carry it (i64 fen).
fn saturate(fen: i128) -> i64 {
    fen.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

impl Drop for Service {
    /// However the engine thread ends, the journal thread drains and ends.
    fn drop(&mut self) {
        if let Some(link) = &self.link {
            link.close();
        }
    }
}

/// One instruction arriving: from a connection, or from the journal.
struct Arrival {
    conn: Option<Arc<Conn>>,
    sender: u32,
    submit: Submit,
}
