//! The settlement engine: a deterministic state machine that advances through
//! the instants of one business day and settles payments through channels.
//!
//! [`Engine`] holds the ledger and the channels and knows how to run one
//! instant's steps; [`Scheduler`] is the one driver that owns time: it merges
//! every source of arrivals (the caller's stream, follow-ups such as returned
//! cheques, payments held through an outage) with the channels' scheduled
//! events and the day's controls (defaults, outages, shocks), in the order
//! `(time, class, sequence)` documented in `docs/ARCHITECTURE.md`.
//!
//! The engine does no I/O, reads no clock and draws no random numbers. It
//! sees payments one at a time and reports every outcome to a [`Sink`].
//! Memory is O(participants + payments held), never O(payments of the day).

mod schedule;

pub use schedule::{Control, Scheduler, Timed};

use crate::ledger::{Ctx, Ledger, Payment, Sink, Slab};
use crate::strategy::{Channel, ChannelSpec, Strategy, StrategyError};
use crate::time::SimTime;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EngineError {
    #[error("instant {at} is before the current instant {now}: time cannot go back")]
    TimeWentBack { at: SimTime, now: SimTime },
    #[error("payment submitted at {at}, after the day end {day_end}")]
    AfterDayEnd { at: SimTime, day_end: SimTime },
    #[error("a payment ordered at {at} cannot arrive at the earlier instant {now}")]
    NotYet { at: SimTime, now: SimTime },
    #[error("channel {0} does not exist")]
    UnknownChannel(usize),
    #[error("participant index {index} is not below the {count} participants")]
    BadParticipant { index: u32, count: usize },
    /// The design cannot run as given (no channel, two gross ones, sender
    /// limits without entries, a service without a gross channel…): the
    /// user's to fix.
    #[error("{0}")]
    Design(String),
    /// A channel's strategy cannot be built as configured.
    #[error("{0}")]
    Strategy(#[from] StrategyError),
    #[error("unknown participant `{0}`")]
    UnknownParticipant(String),
    #[error("{0}")]
    BadControl(String),
    #[error(
        "the opening balances plus the payments' amounts exceed i64 fen: amounts this large cannot be settled exactly"
    )]
    AmountsOverflow,
    /// A broken invariant: a bug.
    #[error("a broken invariant (a bug, please report it): {0}")]
    Invariant(String),
    /// What the engine depends on failed (a journal's disk): not the user's
    /// input, and not a wrong result either.
    #[error("{0}")]
    Failed(String),
}

impl crate::Blamed for EngineError {
    /// The user's: what comes from a scenario, a design or a replay file
    /// (its amounts, its participants, its strategies, its shocks). The
    /// rest is clearsim's: times out of order and unknown indices cannot
    /// come from checked input.
    fn blame(&self) -> crate::Blame {
        match self {
            EngineError::Design(_)
            | EngineError::UnknownParticipant(_)
            | EngineError::BadControl(_)
            | EngineError::AmountsOverflow
            | EngineError::Strategy(_) => crate::Blame::User,
            EngineError::TimeWentBack { .. }
            | EngineError::AfterDayEnd { .. }
            | EngineError::NotYet { .. }
            | EngineError::UnknownChannel(_)
            | EngineError::BadParticipant { .. }
            | EngineError::Invariant(_)
            | EngineError::Failed(_) => crate::Blame::Bug,
        }
    }
}

/// What a channel's scheduled runs (gridlock runs, netting cycles,
/// offsetting-set runs) did over a day: how often they ran, and what they
/// settled that would otherwise still be waiting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventCounts {
    /// Scheduled runs that took place.
    pub runs: u64,
    /// Runs that settled at least one payment.
    pub runs_settling: u64,
    /// Payments, and their value, settled by the runs themselves.
    pub settled_by_runs: u64,
    pub settled_by_runs_value_fen: i64,
    /// Payments, and their value, that the gross release right after a run
    /// settled (the run's settlements unblocked them).
    pub released_after_runs: u64,
    pub released_after_runs_value_fen: i64,
}

impl EventCounts {
    /// Adds another day's (or run's) counts.
    pub fn add(&mut self, other: &EventCounts) -> Option<()> {
        self.runs = self.runs.checked_add(other.runs)?;
        self.runs_settling = self.runs_settling.checked_add(other.runs_settling)?;
        self.settled_by_runs = self.settled_by_runs.checked_add(other.settled_by_runs)?;
        self.settled_by_runs_value_fen = self
            .settled_by_runs_value_fen
            .checked_add(other.settled_by_runs_value_fen)?;
        self.released_after_runs = self
            .released_after_runs
            .checked_add(other.released_after_runs)?;
        self.released_after_runs_value_fen = self
            .released_after_runs_value_fen
            .checked_add(other.released_after_runs_value_fen)?;
        Some(())
    }
}

/// Forwards to the caller's sink while counting what settles: wraps the
/// sink during scheduled runs only, never on the per-payment path.
struct Counting<'a, S: Sink> {
    inner: &'a mut S,
    settled: u64,
    value_fen: i64,
}

impl<S: Sink> Sink for Counting<'_, S> {
    #[inline]
    fn settled(&mut self, payment: &Payment, at: SimTime) {
        self.settled += 1;
        // Σ of a day's amounts fits i64 (checked at input).
        self.value_fen = self.value_fen.saturating_add(payment.amount_fen);
        self.inner.settled(payment, at);
    }
    fn unsettled(&mut self, payment: &Payment) {
        self.inner.unsettled(payment);
    }
}

/// Ledger plus channels: the steps of one instant. Time is owned by the
/// [`Scheduler`], which calls these in order.
pub struct Engine {
    ledger: Ledger,
    slab: Slab,
    channels: Vec<Channel>,
    day_end: SimTime,
    /// The instant being processed, or the last one processed.
    now: Option<SimTime>,
    /// The earliest scheduled event over all channels, cached: it changes
    /// only when an event runs, and most instants have none.
    next_event: Option<SimTime>,
    /// While the system is down, scheduled runs wait (they run, once each,
    /// at the instant it comes back).
    suspended: bool,
    /// Per channel, what its scheduled runs did today.
    events: Vec<EventCounts>,
}

impl Engine {
    /// Builds an engine over the given accounts. `hold_capacity` is a hint:
    /// how many payments may be held in queues at once (pre-allocated so that
    /// settling allocates nothing).
    pub fn new(
        ledger: Ledger,
        specs: &[ChannelSpec],
        day_end: SimTime,
        hold_capacity: usize,
    ) -> Result<Engine, EngineError> {
        if specs.is_empty() {
            return Err(EngineError::Design("at least one channel is needed".into()));
        }
        if specs.iter().filter(|s| s.is_gross()).count() > 1 {
            return Err(EngineError::Design(
                "at most one channel may be rtgs".into(),
            ));
        }
        let mut channels = specs
            .iter()
            .map(|spec| spec.build(&ledger, day_end))
            .collect::<Result<Vec<_>, StrategyError>>()?;
        for channel in &mut channels {
            channel.reserve(hold_capacity);
        }
        let next_event = Engine::earliest_event(&channels);
        Ok(Engine {
            ledger,
            slab: Slab::with_capacity(hold_capacity),
            events: vec![EventCounts::default(); channels.len()],
            channels,
            day_end,
            now: None,
            next_event,
            suspended: false,
        })
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn day_end(&self) -> SimTime {
        self.day_end
    }

    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// Per channel, what its scheduled runs did so far today.
    pub fn event_counts(&self) -> &[EventCounts] {
        &self.events
    }

    /// Payments currently held (queued or pending) over all channels.
    pub fn held(&self) -> usize {
        self.slab.len()
    }

    /// Whether `payment` would settle the moment it arrives in `channel`
    /// (so admitting it cannot add to what is held).
    pub fn settles_on_arrival(&self, channel: usize, payment: &Payment) -> bool {
        self.channels
            .get(channel)
            .is_some_and(|c| c.settles_on_arrival(&self.ledger, payment))
    }

    /// Time of the next scheduled event over all channels (none while the
    /// system is down).
    pub fn next_event(&self) -> Option<SimTime> {
        if self.suspended {
            None
        } else {
            self.next_event
        }
    }

    fn earliest_event(channels: &[Channel]) -> Option<SimTime> {
        channels.iter().filter_map(Strategy::next_event).min()
    }

    /// Opens instant `at`. Instants only move forward and stay within the day.
    fn begin_instant(&mut self, at: SimTime) -> Result<(), EngineError> {
        if let Some(now) = self.now
            && at < now
        {
            return Err(EngineError::TimeWentBack { at, now });
        }
        if at > self.day_end {
            return Err(EngineError::AfterDayEnd {
                at,
                day_end: self.day_end,
            });
        }
        self.now = Some(at);
        Ok(())
    }

    fn now(&self) -> SimTime {
        self.now.unwrap_or(SimTime::MIDNIGHT)
    }

    /// Step 1 of an instant: one arrival into its channel. Its order time
    /// may be earlier than now (held through an outage), never later.
    #[inline]
    fn arrive<S: Sink>(
        &mut self,
        channel: usize,
        payment: Payment,
        sink: &mut S,
    ) -> Result<(), EngineError> {
        let now = self.now();
        if payment.submit > now {
            return Err(EngineError::NotYet {
                at: payment.submit,
                now,
            });
        }
        let count = self.ledger.participant_count();
        for index in [payment.sender, payment.receiver] {
            if index as usize >= count {
                return Err(EngineError::BadParticipant { index, count });
            }
        }
        let Some(target) = self.channels.get_mut(channel) else {
            return Err(EngineError::UnknownChannel(channel));
        };
        sink.arrived(channel, &payment);
        let mut cx = Ctx {
            ledger: &mut self.ledger,
            slab: &mut self.slab,
            sink,
            now,
        };
        target.arrive(&mut cx, payment);
        Ok(())
    }

    /// Steps 2 and 3 of an instant: events due by now (overdue ones after
    /// an outage) in channel declaration order, each followed by a release
    /// of the gross queues; then the instant's balances count towards
    /// minimum balances.
    fn end_instant<S: Sink>(&mut self, sink: &mut S) {
        let now = self.now();
        if !self.suspended && self.next_event.is_some_and(|t| t <= now) {
            self.run_events(now, sink);
        }
        self.ledger.end_instant();
        sink.instant_closed(now);
    }

    /// Runs every channel's event due by `now`, in declaration order; a
    /// channel with several overdue (after an outage) runs each in turn.
    fn run_events<S: Sink>(&mut self, now: SimTime, sink: &mut S) {
        for index in 0..self.channels.len() {
            // Bounded: each run moves the channel's schedule strictly later.
            while self.channels[index].next_event().is_some_and(|t| t <= now) {
                let mut counting = Counting {
                    inner: &mut *sink,
                    settled: 0,
                    value_fen: 0,
                };
                let mut cx = Ctx {
                    ledger: &mut self.ledger,
                    slab: &mut self.slab,
                    sink: &mut counting,
                    now,
                };
                self.channels[index].run_event(&mut cx);
                let (run_count, run_value) = (counting.settled, counting.value_fen);
                counting.settled = 0;
                counting.value_fen = 0;
                let mut cx = Ctx {
                    ledger: &mut self.ledger,
                    slab: &mut self.slab,
                    sink: &mut counting,
                    now,
                };
                for channel in self.channels.iter_mut().filter(|c| c.is_gross()) {
                    channel.release(&mut cx);
                }
                let counts = &mut self.events[index];
                counts.runs += 1;
                counts.runs_settling += u64::from(run_count > 0);
                counts.settled_by_runs += run_count;
                counts.settled_by_runs_value_fen += run_value;
                counts.released_after_runs += counting.settled;
                counts.released_after_runs_value_fen += counting.value_fen;
            }
        }
        self.next_event = Engine::earliest_event(&self.channels);
    }

    /// A liquidity shock: takes up to `amount_fen` out of `participant`'s
    /// account (see [`Ledger::withdraw`]); returns what was taken. Its
    /// balance fell, which balanced release must see at once (a maximum
    /// position has more room).
    pub(crate) fn withdraw(&mut self, participant: u32, amount_fen: i64) -> i64 {
        let taken = self.ledger.withdraw(participant, amount_fen);
        if taken > 0 {
            for channel in &mut self.channels {
                channel.balance_fell(&self.ledger, participant);
            }
        }
        taken
    }

    /// `participant` defaults now: none of its outgoing payments is released
    /// from here on (queued ones stay queued; in a netting cycle it is
    /// unwound as if short; a bilateral pair with its payments waits).
    fn default_participant(&mut self, participant: u32) {
        self.ledger.freeze(participant);
    }

    /// Day end: whatever is still held is unsettled.
    fn close_day<S: Sink>(&mut self, sink: &mut S) {
        let now = self.now.unwrap_or(self.day_end);
        let mut cx = Ctx {
            ledger: &mut self.ledger,
            slab: &mut self.slab,
            sink,
            now,
        };
        for channel in &mut self.channels {
            channel.close(&mut cx);
        }
        crate::invariant_eq!(self.slab.len(), 0);
        crate::invariant_eq!(self.ledger.check_invariants(), Ok(()));
    }
}
