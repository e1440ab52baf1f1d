//! The engine's side of live mode, shared by the lock-free pipeline and the
//! mutex baseline: instructions in, settlement events out.

use hashbrown::HashMap;

use clearsim_core::engine::{Engine, EngineError, Scheduler};
use clearsim_core::ledger::{Payment, Sink};
use clearsim_core::time::SimTime;

/// A payment instruction from a bank, with its caller's ticket: what the
/// caller wants back with the instruction's outcome. `live` passes the
/// instant it was created (ns since the start of the run: latency runs from
/// it); `serve` the payment's sequence number and its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instruction<T = u64> {
    pub sender: u32,
    pub receiver: u32,
    pub amount_fen: i64,
    /// Queue order among a sender's waiting payments (higher first).
    pub priority: u8,
    pub instrument: u16,
    pub ticket: T,
}

/// What happened to an instruction, with its ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event<T = u64> {
    pub ticket: T,
    pub outcome: Outcome,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Settled,
    /// Still queued when the run closed.
    QueuedAtClose,
    /// Refused on arrival: the queues were full.
    Rejected,
}

/// The payments waiting in the queues: each one's ticket by its key (only
/// queued payments are here: a table as long as the run is not needed),
/// and their count and value, in all and per sender (i128: any number of
/// any amounts may queue without overflow). What is still queued when the
/// run closes stays counted: it was queued at close.
struct Queued<T> {
    tickets: HashMap<u64, T, foldhash::fast::FixedState>,
    count: usize,
    value_fen: i128,
    by_sender: Vec<(u32, i128)>,
}

impl<T> Queued<T> {
    /// A payment of `sender`'s joins (+1) or leaves (-1) the queues.
    fn change(&mut self, sender: u32, amount_fen: i64, sign: i32) {
        if let Some(q) = self.by_sender.get_mut(sender as usize) {
            q.0 = q.0.wrapping_add_signed(sign);
            q.1 += i128::from(sign) * i128::from(amount_fen);
        }
        self.count = self.count.wrapping_add_signed(sign as isize);
        self.value_fen += i128::from(sign) * i128::from(amount_fen);
    }
}

/// The single writer of the ledger: admits instructions into the engine and
/// turns its settlements into events.
pub struct Settler<T = u64> {
    scheduler: Scheduler,
    /// Arrival sequence: the engine's payment key (strictly increasing).
    next_key: u64,
    queued: Queued<T>,
    max_queued: usize,
    /// Of those, one sender's at most.
    max_queued_per_sender: usize,
    now: SimTime,
}

impl<T> Settler<T> {
    /// `engine` has one gross channel (index 0); at most `max_queued`
    /// payments wait in its queues, further arrivals are rejected.
    pub fn new(engine: Engine, max_queued: usize) -> Result<Settler<T>, EngineError> {
        let mut tickets = HashMap::with_hasher(foldhash::fast::FixedState::default());
        tickets.reserve(max_queued.min(1 << 20));
        let participants = engine.ledger().participant_count();
        Ok(Settler {
            scheduler: Scheduler::new(engine, Vec::new())?,
            next_key: 0,
            queued: Queued {
                tickets,
                count: 0,
                value_fen: 0,
                by_sender: vec![(0, 0); participants],
            },
            max_queued,
            max_queued_per_sender: max_queued,
            now: SimTime::MIDNIGHT,
        })
    }

    /// At most `limit` of the queued payments may be one sender's (the
    /// others keep the rest of the queue).
    pub fn with_sender_share(mut self, limit: usize) -> Settler<T> {
        self.max_queued_per_sender = limit.clamp(1, self.max_queued.max(1));
        self
    }

    pub fn engine(&self) -> &Engine {
        self.scheduler.engine()
    }

    /// The open instant.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Payments waiting in the queues (after the close: queued at close).
    pub fn queued(&self) -> usize {
        self.queued.count
    }

    /// Their value.
    pub fn queued_fen(&self) -> i128 {
        self.queued.value_fen
    }

    /// `participant`'s queued payments: how many, and their value.
    pub fn queued_of(&self, participant: u32) -> (u32, i128) {
        self.queued
            .by_sender
            .get(participant as usize)
            .copied()
            .unwrap_or_default()
    }

    /// Moves to instant `now` (wall-clock ms since the start): the open
    /// instant closes (its gridlock run, if due), every run due in between
    /// takes place at its own time, and `now` opens for arrivals. The one
    /// driver, [`Scheduler`], orders it all as in a replay.
    pub fn advance<F: FnMut(Event<T>)>(
        &mut self,
        now: SimTime,
        emit: F,
    ) -> Result<(), EngineError> {
        let now = now.max(self.now).min(self.engine().day_end());
        let mut sink = EventSink {
            queued: &mut self.queued,
            current: None,
            emit,
        };
        self.scheduler.advance_to(now, &mut sink)?;
        self.now = now;
        Ok(())
    }

    /// Whether a scheduled run falls due by `now` that an advance would
    /// take: an idle engine thread checks this on the wall clock.
    pub fn run_due(&self, now: SimTime) -> bool {
        now > self.now && self.engine().next_event().is_some_and(|t| t <= now)
    }

    /// One arrival at the current instant. When the queues are full, or
    /// hold the sender's share, only an instruction that settles at once
    /// is admitted (it cannot add to them); any other is rejected.
    #[inline]
    pub fn submit<F: FnMut(Event<T>)>(
        &mut self,
        instruction: Instruction<T>,
        mut emit: F,
    ) -> Result<(), EngineError> {
        let key = self.next_key;
        let payment = Payment {
            key,
            priority: instruction.priority,
            instrument: instruction.instrument,
            ..Payment::new(
                self.now,
                instruction.sender,
                instruction.receiver,
                instruction.amount_fen,
            )
        };
        let engine = self.scheduler.engine();
        let (senders, _) = self.queued_of(instruction.sender);
        let full =
            engine.held() >= self.max_queued || senders as usize >= self.max_queued_per_sender;
        if full && !engine.settles_on_arrival(0, &payment) {
            emit(Event {
                ticket: instruction.ticket,
                outcome: Outcome::Rejected,
            });
            return Ok(());
        }
        self.next_key += 1;
        let mut sink = EventSink {
            queued: &mut self.queued,
            current: Some((key, Some(instruction.ticket))),
            emit,
        };
        let entered = self.scheduler.arrive(0, payment, &mut sink)?;
        clearsim_core::invariant_eq!(entered, key, "the scheduler numbers arrivals in order");
        if let Some((_, Some(ticket))) = sink.current.take() {
            // It queued: its ticket waits for its settlement.
            self.queued.change(payment.sender, payment.amount_fen, 1);
            self.queued.tickets.insert(key, ticket);
        }
        Ok(())
    }

    /// The run is over: whatever is queued is reported as queued at close
    /// (and stays counted as queued).
    pub fn close<F: FnMut(Event<T>)>(&mut self, emit: F) -> Result<(), EngineError> {
        let mut sink = EventSink {
            queued: &mut self.queued,
            current: None,
            emit,
        };
        self.scheduler.finish(&mut sink)
    }
}

/// Maps the engine's settlements to events with their tickets.
struct EventSink<'a, T, F: FnMut(Event<T>)> {
    queued: &'a mut Queued<T>,
    /// The arriving payment: its key, and its ticket until it settles.
    current: Option<(u64, Option<T>)>,
    emit: F,
}

impl<T, F: FnMut(Event<T>)> EventSink<'_, T, F> {
    /// The ticket of `payment`: the arriving one's, or a queued one's.
    /// Every queued payment's ticket was kept when it queued.
    #[inline]
    fn ticket(&mut self, payment: &Payment) -> Option<T> {
        if let Some((key, ticket)) = self.current.as_mut()
            && *key == payment.key
        {
            return ticket.take();
        }
        self.queued.tickets.remove(&payment.key)
    }
}

impl<T, F: FnMut(Event<T>)> Sink for EventSink<'_, T, F> {
    #[inline]
    fn settled(&mut self, payment: &Payment, _at: SimTime) {
        let arriving = self
            .current
            .as_ref()
            .is_some_and(|(key, _)| *key == payment.key);
        if let Some(ticket) = self.ticket(payment) {
            if !arriving {
                self.queued.change(payment.sender, payment.amount_fen, -1);
            }
            (self.emit)(Event {
                ticket,
                outcome: Outcome::Settled,
            });
        }
    }

    fn unsettled(&mut self, payment: &Payment) {
        if let Some(ticket) = self.ticket(payment) {
            (self.emit)(Event {
                ticket,
                outcome: Outcome::QueuedAtClose,
            });
        }
    }
}
