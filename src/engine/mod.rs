//! The settlement engine: a deterministic state machine that advances through
//! the instants of one business day and settles payments through channels.
//!
//! The engine does no I/O, reads no clock and draws no random numbers. It
//! sees payments one at a time, in processing order, and reports every
//! settlement to a [`Sink`]. Memory is O(participants + payments held in
//! queues), never O(payments of the day).

use crate::ledger::{Ctx, Ledger, Payment, Sink, Slab};
use crate::strategy::{Channel, ChannelSpec, Strategy};
use crate::time::SimTime;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EngineError {
    #[error("instant {at} is before the current instant {now}: time cannot go back")]
    TimeWentBack { at: SimTime, now: SimTime },
    #[error("payment submitted at {at}, after the day end {day_end}")]
    AfterDayEnd { at: SimTime, day_end: SimTime },
    #[error("channel {0} does not exist")]
    UnknownChannel(usize),
    #[error("{0}")]
    BadChannel(String),
    #[error("unknown participant `{0}`")]
    UnknownParticipant(String),
    #[error(
        "the opening balances plus the payments' amounts exceed i64 fen: amounts this large cannot be settled exactly"
    )]
    AmountsOverflow,
}

/// Ledger plus channels, advancing through the instants of a day.
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
            return Err(EngineError::BadChannel(
                "at least one channel is needed".into(),
            ));
        }
        let gross = specs.iter().filter(|s| s.is_gross()).count();
        if gross > 1 {
            return Err(EngineError::BadChannel(
                "at most one channel may be rtgs".into(),
            ));
        }
        let channels = specs
            .iter()
            .map(|spec| spec.build(&ledger, day_end))
            .collect::<Result<Vec<_>, String>>()
            .map_err(EngineError::BadChannel)?;
        let mut channels = channels;
        for channel in &mut channels {
            channel.reserve(hold_capacity);
        }
        let next_event = Engine::earliest_event(&channels);
        Ok(Engine {
            ledger,
            slab: Slab::with_capacity(hold_capacity),
            channels,
            day_end,
            now: None,
            next_event,
        })
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn day_end(&self) -> SimTime {
        self.day_end
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

    /// Replays a whole day: `payments` must come in processing order
    /// (`(submit, file row)`), each with the index of its channel.
    pub fn run_day<S, I>(&mut self, payments: I, sink: &mut S) -> Result<(), EngineError>
    where
        S: Sink,
        I: IntoIterator<Item = (usize, Payment)>,
    {
        let mut payments = payments.into_iter().peekable();
        loop {
            let next_arrival = payments.peek().map(|(_, p)| p.submit);
            let Some(at) = min_time(next_arrival, self.next_event()) else {
                break;
            };
            self.begin_instant(at)?;
            while let Some((channel, payment)) = payments.next_if(|(_, p)| p.submit == at) {
                self.arrive(channel, payment, sink)?;
            }
            self.end_instant(sink);
        }
        self.close_day(sink);
        Ok(())
    }

    /// Time of the next scheduled event over all channels.
    pub fn next_event(&self) -> Option<SimTime> {
        self.next_event
    }

    fn earliest_event(channels: &[Channel]) -> Option<SimTime> {
        channels.iter().filter_map(Strategy::next_event).min()
    }

    /// Opens instant `at`. Instants only move forward and stay within the day.
    pub fn begin_instant(&mut self, at: SimTime) -> Result<(), EngineError> {
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

    /// Step 1 of an instant: one arrival into its channel.
    #[inline]
    pub fn arrive<S: Sink>(
        &mut self,
        channel: usize,
        payment: Payment,
        sink: &mut S,
    ) -> Result<(), EngineError> {
        let now = self.now.unwrap_or(SimTime::MIDNIGHT);
        if payment.submit != now {
            return Err(EngineError::TimeWentBack {
                at: payment.submit,
                now,
            });
        }
        let Some(target) = self.channels.get_mut(channel) else {
            return Err(EngineError::UnknownChannel(channel));
        };
        let mut cx = Ctx {
            ledger: &mut self.ledger,
            slab: &mut self.slab,
            sink,
            now,
        };
        target.arrive(&mut cx, payment);
        Ok(())
    }

    /// Steps 2 and 3 of an instant: events due now in channel declaration
    /// order, each followed by a release of the gross queues; then the
    /// instant's balances count towards minimum balances.
    pub fn end_instant<S: Sink>(&mut self, sink: &mut S) {
        let now = self.now.unwrap_or(SimTime::MIDNIGHT);
        if self.next_event == Some(now) {
            self.run_events(now, sink);
        }
        self.ledger.end_instant();
    }

    /// Runs every channel's event due `now`, in declaration order.
    fn run_events<S: Sink>(&mut self, now: SimTime, sink: &mut S) {
        for index in 0..self.channels.len() {
            if self.channels[index].next_event() != Some(now) {
                continue;
            }
            let mut cx = Ctx {
                ledger: &mut self.ledger,
                slab: &mut self.slab,
                sink,
                now,
            };
            self.channels[index].run_event(&mut cx);
            for channel in self.channels.iter_mut().filter(|c| c.is_gross()) {
                channel.release(&mut cx);
            }
        }
        self.next_event = Engine::earliest_event(&self.channels);
    }

    /// `participant` defaults now: none of its outgoing payments is released
    /// from here on (queued ones stay queued; in a netting cycle it is
    /// unwound as if short; a bilateral pair with its payments waits).
    pub fn default_participant(&mut self, participant: u32) {
        self.ledger.freeze(participant);
    }

    /// Day end: whatever is still held is unsettled.
    pub fn close_day<S: Sink>(&mut self, sink: &mut S) {
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
        debug_assert_eq!(self.slab.len(), 0);
        debug_assert_eq!(self.ledger.check_invariants(), Ok(()));
    }
}

fn min_time(a: Option<SimTime>, b: Option<SimTime>) -> Option<SimTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}
