//! The one driver that owns time. Every caller — `replay`, `run`, `live`,
//! the studies — feeds its arrivals through a [`Scheduler`], which merges
//! them with everything else that happens during the day in one order:
//!
//! | class | what | order within the class |
//! | --- | --- | --- |
//! | 0 | controls: defaults, outages, system down/up, liquidity shocks | as listed by the caller (stable by time) |
//! | 1 | the caller's arrivals (the stream, or a replay's rows) | as the caller gives them (processing order) |
//! | 2 | follow-ups: arrivals an earlier settlement caused (returned cheques) | by the time they were scheduled |
//! | 3 | channels' scheduled runs (netting cycles, gridlock runs) | channel declaration order, each followed by a release of the gross queues |
//!
//! then the instant closes (minimum balances; [`Sink::instant_closed`]).
//! An instant exists for every time at which anything of any class is due.
//! Payments that arrive while their sender (or the whole system) is out are
//! held outside the system, in arrival order, and go in at the instant the
//! outage ends, right after that instant's controls.

use std::collections::BTreeMap;

use super::{Engine, EngineError};
use crate::ledger::{FollowUp, Payment, Sink};
use crate::time::SimTime;

/// Something that happens to the system at a time (class 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// The participant defaults: from now on none of its payments is
    /// released (held ones stay held; in a netting cycle it is unwound).
    Default {
        participant: u32,
    },
    /// The participant cannot send until its `OutageEnd`: its payments wait
    /// outside the system and go in, in order, when it recovers. It still
    /// receives.
    OutageStart {
        participant: u32,
    },
    OutageEnd {
        participant: u32,
    },
    /// The system is down until `SystemUp`: nothing enters, nothing
    /// settles, scheduled runs wait and run once each when it is back.
    SystemDown,
    SystemUp,
    /// A liquidity shock: up to `amount_fen` leaves the participant's
    /// account (never below its credit floor).
    Withdraw {
        participant: u32,
        amount_fen: i64,
    },
}

/// A control and its time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timed<T> {
    pub at: SimTime,
    pub item: T,
}

/// The engine, driven through one business day.
pub struct Scheduler {
    engine: Engine,
    /// Sorted by time (stable): consumed from `next_control`.
    controls: Vec<Timed<Control>>,
    next_control: usize,
    /// Follow-ups by (time, scheduling sequence).
    follow_ups: BTreeMap<(SimTime, u64), (usize, Payment)>,
    follow_sequence: u64,
    /// Payments waiting outside the system (their sender, or the system,
    /// is out), in arrival order, with their channel.
    outside: Vec<(usize, Payment)>,
    sender_out: Vec<bool>,
    senders_out: usize,
    system_down: bool,
    /// The instant open for arrivals, if any.
    open: Option<SimTime>,
    /// The earliest of the next control and the first follow-up, cached:
    /// checked at every instant, changed rarely.
    side_due: Option<SimTime>,
    next_key: u64,
    /// What each `Withdraw` actually took, in control order.
    withdrawn_fen: Vec<i64>,
}

impl Scheduler {
    /// A driver over `engine` with the day's `controls` (any order; sorted
    /// here, stably by time). Every control must fall within the day and
    /// name a participant that exists; outages come in start/end pairs.
    pub fn new(
        engine: Engine,
        mut controls: Vec<Timed<Control>>,
    ) -> Result<Scheduler, EngineError> {
        controls.sort_by_key(|c| c.at);
        check_controls(
            &controls,
            engine.ledger().participant_count(),
            engine.day_end(),
        )?;
        let participants = engine.ledger().participant_count();
        Ok(Scheduler {
            engine,
            controls,
            next_control: 0,
            follow_ups: BTreeMap::new(),
            follow_sequence: 0,
            outside: Vec::new(),
            sender_out: vec![false; participants],
            senders_out: 0,
            system_down: false,
            open: None,
            side_due: None,
            next_key: 0,
            withdrawn_fen: Vec::new(),
        }
        .with_side_due())
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// What each liquidity shock took, in time order.
    pub fn withdrawn_fen(&self) -> &[i64] {
        &self.withdrawn_fen
    }

    /// Payments waiting outside the system because of an outage.
    pub fn outside(&self) -> usize {
        self.outside.len()
    }

    /// The earliest time at which a control, a follow-up or a channel's
    /// run is due, after the open instant.
    #[inline]
    pub fn next_due(&self) -> Option<SimTime> {
        let due = match (self.side_due, self.engine.next_event()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match (due, self.open) {
            // Whatever is due at the open instant happens when it closes.
            (Some(t), Some(open)) if t <= open => self.next_due_after(open),
            _ => due,
        }
    }

    /// The slow path of [`Scheduler::next_due`]: the earliest time strictly
    /// after `open` at which anything is due.
    fn next_due_after(&self, open: SimTime) -> Option<SimTime> {
        let control = self.controls[self.next_control..]
            .iter()
            .map(|c| c.at)
            .find(|&t| t > open);
        let follow_up = self.follow_ups.keys().map(|k| k.0).find(|&t| t > open);
        [control, follow_up, self.engine.next_event()]
            .into_iter()
            .flatten()
            .filter(|&t| t > open)
            .min()
    }

    fn with_side_due(mut self) -> Scheduler {
        self.refresh_side_due();
        self
    }

    /// Recomputes the cached time of the next control or follow-up.
    fn refresh_side_due(&mut self) {
        let control = self.controls.get(self.next_control).map(|c| c.at);
        let follow_up = self.follow_ups.keys().next().map(|k| k.0);
        self.side_due = match (control, follow_up) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    /// Opens instant `at` for arrivals: closes the open instant, runs every
    /// instant before `at` at which something is due, then opens `at` and
    /// applies its controls. Opening the open instant again does nothing.
    #[inline]
    pub fn advance_to<S: Sink>(&mut self, at: SimTime, sink: &mut S) -> Result<(), EngineError> {
        if let Some(open) = self.open {
            if at == open {
                return Ok(());
            }
            if at < open {
                return Err(EngineError::TimeWentBack { at, now: open });
            }
        }
        if at > self.engine.day_end() {
            return Err(EngineError::AfterDayEnd {
                at,
                day_end: self.engine.day_end(),
            });
        }
        // Fast path, most instants: nothing but arrivals happens from the
        // open instant up to `at` (no run, control or follow-up due), so the
        // open instant just closes and `at` opens.
        let quiet = self.engine.next_event().is_none_or(|t| t >= at)
            && self.side_due.is_none_or(|t| t > at);
        if quiet {
            if self.open.take().is_some() {
                self.engine.end_instant(sink);
            }
            self.engine.begin_instant(at)?;
            self.open = Some(at);
            return Ok(());
        }
        self.advance_through(at, sink)
    }

    /// The general path of [`Scheduler::advance_to`]: every instant up to
    /// `at` at which something is due, in order.
    fn advance_through<S: Sink>(&mut self, at: SimTime, sink: &mut S) -> Result<(), EngineError> {
        self.close_open(sink)?;
        // Bounded: each turn runs one instant, strictly later than the last.
        while let Some(due) = self.next_due().filter(|&t| t < at) {
            self.open_instant(due, sink)?;
            self.close_open(sink)?;
        }
        self.open_instant(at, sink)
    }

    /// One of the caller's arrivals (class 1) at the open instant, which
    /// must be its order time. Returns the key it is known by from now on
    /// (it may wait outside the system first, through an outage).
    #[inline]
    pub fn arrive<S: Sink>(
        &mut self,
        channel: usize,
        mut payment: Payment,
        sink: &mut S,
    ) -> Result<u64, EngineError> {
        let Some(open) = self.open.filter(|&t| t == payment.submit) else {
            return Err(EngineError::TimeWentBack {
                at: payment.submit,
                now: self.open.unwrap_or(SimTime::MIDNIGHT),
            });
        };
        crate::invariant_eq!(open, payment.submit);
        payment.key = self.take_key();
        self.enter(channel, payment, sink)?;
        Ok(payment.key)
    }

    /// A payment ordered earlier (its `submit`, ≤ the open instant) that its
    /// bank held and submits now: an arrival (class 1) like the others,
    /// whose delays count from the order. Returns its key.
    pub fn arrive_held<S: Sink>(
        &mut self,
        channel: usize,
        mut payment: Payment,
        sink: &mut S,
    ) -> Result<u64, EngineError> {
        let Some(open) = self.open.filter(|&t| t >= payment.submit) else {
            return Err(EngineError::TimeWentBack {
                at: payment.submit,
                now: self.open.unwrap_or(SimTime::MIDNIGHT),
            });
        };
        crate::invariant!(payment.submit <= open);
        payment.key = self.take_key();
        self.enter(channel, payment, sink)?;
        Ok(payment.key)
    }

    /// The key the next arrival will be given (so that a caller can note
    /// it before the payment settles, which may happen within the call).
    pub fn next_key(&self) -> u64 {
        self.next_key
    }

    /// The day is over: closes the open instant, runs every instant still
    /// due, reports what waited outside the system as unsettled, and closes
    /// the day (whatever the channels hold is unsettled).
    pub fn finish<S: Sink>(&mut self, sink: &mut S) -> Result<(), EngineError> {
        self.close_open(sink)?;
        // Bounded: each turn runs one instant, strictly later, within the day.
        while let Some(due) = self.next_due() {
            self.open_instant(due, sink)?;
            self.close_open(sink)?;
        }
        // The day end is always an instant, so that what stays held is seen
        // held until then (it changes no balance: nothing is due).
        let day_end = self.engine.day_end();
        if self.engine.now.is_none_or(|now| now < day_end) {
            self.open_instant(day_end, sink)?;
            self.close_open(sink)?;
        }
        for (channel, payment) in std::mem::take(&mut self.outside) {
            sink.arrived(channel, &payment);
            sink.unsettled(&payment);
        }
        self.engine.close_day(sink);
        Ok(())
    }

    /// A whole day of the caller's arrivals, given in processing order.
    pub fn run_day<S, I>(&mut self, arrivals: I, sink: &mut S) -> Result<(), EngineError>
    where
        S: Sink,
        I: IntoIterator<Item = (usize, Payment)>,
    {
        for (channel, payment) in arrivals {
            self.advance_to(payment.submit, sink)?;
            self.arrive(channel, payment, sink)?;
        }
        self.finish(sink)
    }

    fn take_key(&mut self) -> u64 {
        let key = self.next_key;
        self.next_key += 1;
        key
    }

    /// A payment (keyed when accepted) enters its channel now, or waits
    /// outside while its sender or the system is out.
    #[inline(always)]
    fn enter<S: Sink>(
        &mut self,
        channel: usize,
        payment: Payment,
        sink: &mut S,
    ) -> Result<(), EngineError> {
        if self.system_down || (self.senders_out > 0 && self.is_out(payment.sender)) {
            self.outside.push((channel, payment));
            return Ok(());
        }
        self.engine.arrive(channel, payment, sink)?;
        self.collect(sink)
    }

    fn is_out(&self, participant: u32) -> bool {
        self.sender_out
            .get(participant as usize)
            .copied()
            .unwrap_or(false)
    }

    /// Takes the follow-ups the sink has; each must fall after the open
    /// instant and within the day.
    fn collect<S: Sink>(&mut self, sink: &mut S) -> Result<(), EngineError> {
        // Bounded by what the sink holds.
        while let Some(follow_up) = sink.follow_up() {
            self.schedule(follow_up)?;
        }
        Ok(())
    }

    /// Schedules an arrival (class 2) after the current instant — or, before
    /// the day's first instant, at any time of the day (follow-ups carried
    /// over from the day before).
    pub fn schedule(&mut self, follow_up: FollowUp) -> Result<(), EngineError> {
        let FollowUp {
            at,
            channel,
            payment,
        } = follow_up;
        if let Some(now) = self.engine.now
            && at <= now
        {
            return Err(EngineError::TimeWentBack { at, now });
        }
        if at > self.engine.day_end() {
            return Err(EngineError::AfterDayEnd {
                at,
                day_end: self.engine.day_end(),
            });
        }
        self.follow_ups
            .insert((at, self.follow_sequence), (channel, payment));
        self.follow_sequence += 1;
        if self.side_due.is_none_or(|t| at < t) {
            self.side_due = Some(at);
        }
        Ok(())
    }

    /// Begins instant `at` and applies its controls (class 0).
    #[inline]
    fn open_instant<S: Sink>(&mut self, at: SimTime, sink: &mut S) -> Result<(), EngineError> {
        self.engine.begin_instant(at)?;
        self.open = Some(at);
        if self.side_due != Some(at) {
            return Ok(());
        }
        // Bounded by the number of controls.
        while let Some(control) = self.controls.get(self.next_control).filter(|c| c.at == at) {
            let control = control.item;
            self.next_control += 1;
            self.apply(control, sink)?;
        }
        self.refresh_side_due();
        Ok(())
    }

    fn apply<S: Sink>(&mut self, control: Control, sink: &mut S) -> Result<(), EngineError> {
        match control {
            Control::Default { participant } => self.engine.default_participant(participant),
            Control::OutageStart { participant } => {
                if !self.sender_out[participant as usize] {
                    self.sender_out[participant as usize] = true;
                    self.senders_out += 1;
                }
            }
            Control::OutageEnd { participant } => {
                if self.sender_out[participant as usize] {
                    self.sender_out[participant as usize] = false;
                    self.senders_out -= 1;
                }
                self.let_in(sink)?;
            }
            Control::SystemDown => {
                self.system_down = true;
                self.engine.suspended = true;
            }
            Control::SystemUp => {
                self.system_down = false;
                self.engine.suspended = false;
                self.let_in(sink)?;
            }
            Control::Withdraw {
                participant,
                amount_fen,
            } => {
                let taken = self.engine.withdraw(participant, amount_fen);
                self.withdrawn_fen.push(taken);
            }
        }
        Ok(())
    }

    /// Payments waiting outside whose sender may now send go in, in the
    /// order they arrived; the others keep waiting.
    fn let_in<S: Sink>(&mut self, sink: &mut S) -> Result<(), EngineError> {
        if self.system_down {
            return Ok(());
        }
        let waiting = std::mem::take(&mut self.outside);
        for (channel, payment) in waiting {
            // Still out: `enter` puts it back outside, in order.
            self.enter(channel, payment, sink)?;
        }
        Ok(())
    }

    /// Closes the open instant: its follow-ups (class 2), then the
    /// channels' runs (class 3) and the instant's end.
    #[inline]
    fn close_open<S: Sink>(&mut self, sink: &mut S) -> Result<(), EngineError> {
        let Some(now) = self.open.take() else {
            return Ok(());
        };
        if self.side_due.is_some_and(|t| t <= now) {
            // Bounded: follow-ups collected now fall strictly later.
            while let Some(entry) = self.follow_ups.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                let (channel, mut payment) = entry.remove();
                payment.submit = now;
                payment.key = self.take_key();
                self.enter(channel, payment, sink)?;
            }
            self.refresh_side_due();
        }
        self.engine.end_instant(sink);
        self.collect(sink)
    }
}

/// Controls must name participants that exist, fall within the day, and
/// pair each outage's end with an earlier start (system outages likewise).
fn check_controls(
    controls: &[Timed<Control>],
    participants: usize,
    day_end: SimTime,
) -> Result<(), EngineError> {
    let mut out = vec![false; participants];
    let mut down = false;
    for control in controls {
        if control.at > day_end {
            return Err(EngineError::BadControl(format!(
                "{:?} at {} is after the day end {day_end}",
                control.item, control.at
            )));
        }
        let who = match control.item {
            Control::Default { participant }
            | Control::OutageStart { participant }
            | Control::OutageEnd { participant }
            | Control::Withdraw { participant, .. } => Some(participant),
            Control::SystemDown | Control::SystemUp => None,
        };
        if let Some(index) = who
            && index as usize >= participants
        {
            return Err(EngineError::BadParticipant {
                index,
                count: participants,
            });
        }
        let paired = match control.item {
            Control::OutageStart { participant } => {
                !std::mem::replace(&mut out[participant as usize], true)
            }
            Control::OutageEnd { participant } => {
                std::mem::replace(&mut out[participant as usize], false)
            }
            Control::SystemDown => !std::mem::replace(&mut down, true),
            Control::SystemUp => std::mem::replace(&mut down, false),
            Control::Withdraw { amount_fen, .. } => amount_fen >= 0,
            Control::Default { .. } => true,
        };
        if !paired {
            return Err(EngineError::BadControl(format!(
                "{:?} at {}: outages must start before they end, without overlapping, and shocks be ≥ 0",
                control.item, control.at
            )));
        }
    }
    Ok(())
}
