//! The engine's side of live mode, shared by the lock-free pipeline and the
//! mutex baseline: instructions in, settlement events out.

use hashbrown::HashMap;

use clearsim_core::engine::{Engine, EngineError, Scheduler};
use clearsim_core::ledger::{Payment, Sink};
use clearsim_core::time::SimTime;

/// A payment instruction from a bank gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instruction {
    pub sender: u32,
    pub receiver: u32,
    pub amount_fen: i64,
    /// When it was created (closed loop) or meant to be sent (open loop), in
    /// ns since the start of the run: latency is measured from here. To the
    /// settler an opaque tag, echoed in the instruction's events (`serve`
    /// puts its sequence number there).
    pub created_ns: u64,
    /// Queue order among a sender's waiting payments (higher first).
    pub priority: u8,
}

/// What happened to an instruction, as the reporter learns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub created_ns: u64,
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

/// The single writer of the ledger: admits instructions into the engine and
/// turns its settlements into events.
pub struct Settler {
    scheduler: Scheduler,
    /// Arrival sequence: the engine's payment key (strictly increasing).
    next_key: u64,
    /// Creation times of queued payments, by key (flat lookups would need a
    /// table as long as the run; only queued payments are here).
    created_of_queued: HashMap<u64, u64, foldhash::fast::FixedState>,
    max_queued: usize,
    now: SimTime,
}

impl Settler {
    /// `engine` has one gross channel (index 0); at most `max_queued`
    /// payments wait in its queues, further arrivals are rejected.
    pub fn new(engine: Engine, max_queued: usize) -> Result<Settler, EngineError> {
        let mut created_of_queued = HashMap::with_hasher(foldhash::fast::FixedState::default());
        created_of_queued.reserve(max_queued.min(1 << 20));
        Ok(Settler {
            scheduler: Scheduler::new(engine, Vec::new())?,
            next_key: 0,
            created_of_queued,
            max_queued,
            now: SimTime::MIDNIGHT,
        })
    }

    pub fn engine(&self) -> &Engine {
        self.scheduler.engine()
    }

    /// The open instant.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Moves to instant `now` (wall-clock ms since the start): the open
    /// instant closes (its gridlock run, if due), every run due in between
    /// takes place at its own time, and `now` opens for arrivals. The one
    /// driver, [`Scheduler`], orders it all as in a replay.
    pub fn advance<F: FnMut(Event)>(&mut self, now: SimTime, emit: F) -> Result<(), EngineError> {
        let now = now.max(self.now).min(self.engine().day_end());
        let mut sink = EventSink {
            created_of_queued: &mut self.created_of_queued,
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

    /// One arrival at the current instant. When the queues are full, only
    /// an instruction that settles at once is admitted (it cannot add to
    /// them); any other is rejected.
    #[inline]
    pub fn submit<F: FnMut(Event)>(
        &mut self,
        instruction: &Instruction,
        mut emit: F,
    ) -> Result<(), EngineError> {
        let key = self.next_key;
        let payment = Payment {
            key,
            submit: self.now,
            sender: instruction.sender,
            receiver: instruction.receiver,
            amount_fen: instruction.amount_fen,
            priority: instruction.priority,
            tag: 0,
        };
        let engine = self.scheduler.engine();
        if engine.held() >= self.max_queued && !engine.settles_on_arrival(0, &payment) {
            emit(Event {
                created_ns: instruction.created_ns,
                outcome: Outcome::Rejected,
            });
            return Ok(());
        }
        self.next_key += 1;
        let mut sink = EventSink {
            created_of_queued: &mut self.created_of_queued,
            current: Some((key, instruction.created_ns, false)),
            emit,
        };
        let entered = self.scheduler.arrive(0, payment, &mut sink)?;
        clearsim_core::invariant_eq!(entered, key, "the scheduler numbers arrivals in order");
        if let Some((_, created_ns, false)) = sink.current {
            // It queued: remember when it was created for its settlement.
            self.created_of_queued.insert(key, created_ns);
        }
        Ok(())
    }

    /// The run is over: whatever is queued is reported as queued at close.
    pub fn close<F: FnMut(Event)>(&mut self, emit: F) -> Result<(), EngineError> {
        let mut sink = EventSink {
            created_of_queued: &mut self.created_of_queued,
            current: None,
            emit,
        };
        self.scheduler.finish(&mut sink)
    }
}

/// Maps the engine's settlements to events with their creation times.
struct EventSink<'a, F: FnMut(Event)> {
    created_of_queued: &'a mut HashMap<u64, u64, foldhash::fast::FixedState>,
    /// The arriving payment: (key, created, settled yet).
    current: Option<(u64, u64, bool)>,
    emit: F,
}

impl<F: FnMut(Event)> EventSink<'_, F> {
    #[inline]
    fn created_ns(&mut self, key: u64) -> u64 {
        match self.current.as_mut() {
            Some((current, created_ns, settled)) if *current == key => {
                *settled = true;
                *created_ns
            }
            // Every held payment was recorded when it queued.
            _ => self.created_of_queued.remove(&key).unwrap_or(0),
        }
    }
}

impl<F: FnMut(Event)> Sink for EventSink<'_, F> {
    #[inline]
    fn settled(&mut self, payment: &Payment, _at: SimTime) {
        let created_ns = self.created_ns(payment.key);
        (self.emit)(Event {
            created_ns,
            outcome: Outcome::Settled,
        });
    }

    fn unsettled(&mut self, payment: &Payment) {
        let created_ns = self.created_ns(payment.key);
        (self.emit)(Event {
            created_ns,
            outcome: Outcome::QueuedAtClose,
        });
    }
}
