//! What a run hears from the engine, through collectors that each own
//! their figures: the flows' statistics ([`Flows`]), the liquidity
//! positions behind the bounds ([`Bounds`]), the cheque life cycle
//! ([`super::cheques`]), carry-over between days ([`CarryOver`]), what
//! stayed unsettled between participants no shock struck ([`KnockOn`]),
//! the banks' side ([`BankSide`]) and the caller's [`Observer`]. The sink
//! only routes each outcome to them, in a fixed order.

use std::collections::VecDeque;

use super::Observer;
use super::behaviour::BankSide;
use super::carry::CarryOver;
use super::cheques::{self, Fate};
use super::flows::Flows;
use super::layout::Layout;
use crate::metrics::Positions;
use crate::metrics::design::DesignPositions;
use clearsim_core::ledger::{FollowUp, Payment, Sink};
use clearsim_core::time::SimTime;

/// Payments left unsettled between participants that no shock struck.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Untouched {
    pub unsettled: u64,
    pub unsettled_value_fen: i64,
}

/// The knock-on of shocks: what stays unsettled between the others.
pub struct KnockOn<'a> {
    /// Participants some shock strikes (the same in the shocked run and
    /// its baseline, so that the two count the same payments).
    pub struck: &'a [bool],
    pub untouched: Untouched,
    /// Per participant, the value of those payments it was to pay or be
    /// paid (so that a shocked run and its baseline tell which
    /// participants the shock touched). Empty when nothing is struck.
    pub by_participant_fen: Vec<i64>,
}

impl KnockOn<'_> {
    fn unsettled(&mut self, payment: &Payment) {
        if !self.struck[payment.sender as usize] && !self.struck[payment.receiver as usize] {
            self.untouched.unsettled += 1;
            self.untouched.unsettled_value_fen += payment.amount_fen;
            for party in [payment.sender, payment.receiver] {
                if let Some(value) = self.by_participant_fen.get_mut(party as usize) {
                    *value = value.saturating_add(payment.amount_fen);
                }
            }
        }
    }
}

/// The liquidity positions of the day: under the design's own channels
/// (the day's lower and upper bounds), per channel on arrival, and on the
/// run's first day every payment on arrival (what a run reports of its
/// first day for the sweep's levels: `RunResult::day1_*`).
pub struct Bounds {
    pub design: DesignPositions,
    /// `Some` on the run's first day only: no later day reads it.
    pub first_day: Option<Positions>,
    pub per_channel: Vec<Positions>,
}

impl Bounds {
    /// Empty positions of `participants` for the channels' `sessions`,
    /// counting the city's `banks` alone in the totals; `first_day` keeps
    /// the on-arrival positions too.
    pub fn new(
        participants: usize,
        sessions: &[Option<Vec<SimTime>>],
        banks: usize,
        first_day: bool,
    ) -> Bounds {
        Bounds {
            design: DesignPositions::new(participants, sessions, banks),
            first_day: first_day.then(|| Positions::new(participants).counting(banks)),
            per_channel: sessions
                .iter()
                .map(|_| Positions::new(participants).counting(banks))
                .collect(),
        }
    }

    #[inline]
    fn add(&mut self, channel: usize, payment: &Payment) {
        self.design.arrived(
            channel,
            payment.submit,
            payment.sender,
            payment.receiver,
            payment.amount_fen,
        );
        if let Some(all) = &mut self.first_day {
            all.add(payment.sender, payment.receiver, payment.amount_fen);
        }
        self.per_channel[channel].add(payment.sender, payment.receiver, payment.amount_fen);
    }

    fn end_instant(&mut self, at: SimTime) {
        self.design.instant_closed(at);
        if let Some(all) = &mut self.first_day {
            all.end_instant();
        }
        for positions in &mut self.per_channel {
            positions.end_instant();
        }
    }

    pub fn channel_lower_fen(&self) -> Vec<i64> {
        self.per_channel
            .iter()
            .map(Positions::lower_bound_fen)
            .collect()
    }

    pub fn channel_upper_fen(&self) -> Vec<i64> {
        self.per_channel
            .iter()
            .map(Positions::upper_bound_fen)
            .collect()
    }
}

pub struct RunSink<'a, O: Observer> {
    pub layout: &'a Layout,
    pub flows: Flows,
    pub bounds: Bounds,
    pub carry: CarryOver,
    pub knock_on: KnockOn<'a>,
    /// The banks' queues, the split of delays, the cost bases.
    pub bank: BankSide,
    pub observer: &'a mut O,
    /// The business day (0-based).
    pub day: u32,
    /// Returned cheques due later today.
    today: VecDeque<FollowUp>,
    /// What the next business day starts with: returns at its sessions and
    /// payments carried over, in the order they arose.
    pub tomorrow: Vec<FollowUp>,
}

impl<'a, O: Observer> RunSink<'a, O> {
    pub fn new(
        layout: &'a Layout,
        knock_on: KnockOn<'a>,
        bank: BankSide,
        observer: &'a mut O,
        participants: usize,
    ) -> RunSink<'a, O> {
        let channels = layout.sessions.len();
        RunSink {
            layout,
            flows: Flows::new(channels, 2 * layout.instruments()),
            // Replaced as each day opens (run::day::open).
            bounds: Bounds::new(participants, &layout.sessions, layout.banks, false),
            carry: CarryOver::default(),
            knock_on,
            bank,
            observer,
            day: 0,
            today: VecDeque::new(),
            tomorrow: Vec::new(),
        }
    }

    /// A payment's flow (its instrument's, or its returns').
    pub(super) fn flow_index(&self, payment: &Payment) -> usize {
        self.layout.route(payment).1
    }

    /// Where a settled payment's funds go next: available now (plus its
    /// time outside the city and before today), or, for a cheque, at the
    /// end of its return window unless it goes back then.
    fn after_settlement(&mut self, route: (usize, usize), payment: &Payment, at: SimTime) {
        let delay_ms = at.ms() - payment.submit.ms();
        if !self.layout.is_cheque(payment) {
            let outside_ms = self.layout.outside_ms[usize::from(payment.instrument)];
            let transit_ms =
                (u64::from(delay_ms) + self.carry.before_today_ms(payment) + u64::from(outside_ms))
                    .min(u64::from(u32::MAX)) as u32;
            self.flows.available(route, payment.amount_fen, transit_ms);
            return;
        }
        match cheques::fate(self.layout, payment, route.0, at) {
            None => {}
            Some(Fate::Available { transit_ms }) => {
                self.flows.available(route, payment.amount_fen, transit_ms);
            }
            Some(Fate::Returns { back, next_day }) => {
                self.flows.dishonoured(route);
                if next_day {
                    self.tomorrow.push(back);
                } else {
                    self.today.push_back(back);
                }
            }
        }
    }
}

impl<O: Observer> Sink for RunSink<'_, O> {
    #[inline]
    fn arrived(&mut self, channel: usize, payment: &Payment) {
        // A carried payment was counted the day it was ordered.
        if !self.carry.arrived(payment) {
            let (_, flow) = self.layout.route(payment);
            self.flows.arrived(channel, flow, payment.amount_fen);
        }
        self.bounds.add(channel, payment);
    }

    #[inline]
    fn settled(&mut self, payment: &Payment, at: SimTime) {
        let route = self.layout.route(payment);
        let delay_ms = at.ms() - payment.submit.ms();
        let worst_ms = self.layout.day_end.ms() - payment.submit.ms();
        self.flows
            .settled(route, payment.amount_fen, at, delay_ms, worst_ms);
        self.observer.settled(self.day, payment.key, at);
        if self.bank.active() {
            let before_today_ms = self.carry.before_today_ms(payment);
            self.bank.settled(route.1, payment, at, before_today_ms);
        }
        self.after_settlement(route, payment, at);
    }

    fn unsettled(&mut self, payment: &Payment) {
        let route = self.layout.route(payment);
        let carried = payment.marks.has(clearsim_core::ledger::Marks::CARRIED);
        if !carried && self.layout.missed_every_session(route.0, payment) {
            match self.carry.carry(route.0, payment) {
                Some(tomorrow) => self.tomorrow.push(tomorrow),
                None => {
                    self.flows.carried_past_the_end(route, payment.amount_fen);
                    if self.bank.active() {
                        self.bank.carried_past_the_end(payment);
                    }
                }
            }
            return;
        }
        let worst_ms = self.layout.day_end.ms() - payment.submit.ms();
        if self.bank.active() {
            self.bank.unsettled(payment);
        }
        self.flows.unsettled(route, payment.amount_fen, worst_ms);
        self.knock_on.unsettled(payment);
    }

    fn instant_closed(&mut self, at: SimTime) {
        self.bounds.end_instant(at);
        self.flows.instant_closed(at);
    }

    #[inline]
    fn follow_up(&mut self) -> Option<FollowUp> {
        self.today.pop_front()
    }
}
