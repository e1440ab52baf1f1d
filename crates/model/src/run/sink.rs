//! What a run hears from the engine: per-flow statistics, liquidity
//! positions for the bounds, the cheque life cycle (availability and
//! returns) and the payments left unsettled between participants that no
//! shock struck.

use std::collections::VecDeque;

use super::Observer;
use super::behaviour::BankSide;
use crate::metrics::Positions;
use crate::metrics::flow::FlowStats;
use clearsim_core::ledger::{FollowUp, Marks, Payment, Sink};
use clearsim_core::strategy::ChannelSpec;
use clearsim_core::time::{DAY_MS, SimTime};

/// How each instrument and channel treats payments, fixed for a run.
#[derive(Clone, Debug)]
pub struct Layout {
    /// Channel of each instrument.
    pub channel_of: Vec<usize>,
    pub cheque: Vec<bool>,
    /// Per instrument: the return window of a cheque settled gross.
    pub return_window_ms: Vec<u32>,
    /// Per channel: its session times when it nets, `None` when gross.
    pub sessions: Vec<Option<Vec<SimTime>>>,
    pub day_end: SimTime,
    /// Per instrument: the hours a cross-city payment spends outside the
    /// city's system, in ms (0 for the city's own instruments): part of its
    /// time in transit.
    pub outside_ms: Vec<u32>,
    /// The city's banks: participants `0..banks` (see `City::banks`).
    pub banks: usize,
}

impl Layout {
    pub fn new(
        specs: &[ChannelSpec],
        scenario_instruments: &[crate::config::Instrument],
        channel_of: &[usize],
        day_end: SimTime,
        banks: usize,
    ) -> Layout {
        Layout {
            channel_of: channel_of.to_vec(),
            cheque: scenario_instruments.iter().map(|i| i.cheque).collect(),
            return_window_ms: scenario_instruments
                .iter()
                .map(|i| i.return_window_ms)
                .collect(),
            sessions: specs
                .iter()
                .map(|s| s.cycles().map(<[SimTime]>::to_vec))
                .collect(),
            day_end,
            outside_ms: scenario_instruments
                .iter()
                .map(|i| i.cross_city.map_or(0, |c| c.outside_ms))
                .collect(),
            banks,
        }
    }

    /// When the paying bank's right to return a cheque of `instrument`,
    /// settled in `channel` at `at`, runs out: under an exchange, the
    /// channel's next session strictly after `at` (else its first one the
    /// next business day); under gross settlement, `at` plus the return
    /// window, at the latest the day end (a cheque settled at the day end
    /// itself: the next business day's opening, 00:00). The flag says
    /// "the next business day".
    pub fn return_deadline(
        &self,
        channel: usize,
        instrument: usize,
        at: SimTime,
    ) -> Option<(SimTime, bool)> {
        match &self.sessions[channel] {
            Some(cycles) => match cycles.iter().find(|&&c| c > at) {
                Some(&c) => Some((c, false)),
                None => cycles.first().map(|&c| (c, true)),
            },
            None => {
                let end = (u64::from(at.ms()) + u64::from(self.return_window_ms[instrument]))
                    .min(u64::from(self.day_end.ms()));
                if end > u64::from(at.ms()) {
                    Some((SimTime(end as u32), false))
                } else {
                    Some((SimTime::MIDNIGHT, true))
                }
            }
        }
    }
}

/// Payments left unsettled between participants that no shock struck.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Untouched {
    pub unsettled: u64,
    pub unsettled_value_fen: i64,
}

pub struct RunSink<'a, O: Observer> {
    pub layout: &'a Layout,
    pub channels: Vec<FlowStats>,
    /// Instruments, then the returned cheques of each.
    pub flows: Vec<FlowStats>,
    pub all: Positions,
    pub per_channel: Vec<Positions>,
    pub day: u32,
    /// Returns due later today, and at the next day's sessions.
    pub today: VecDeque<FollowUp>,
    pub tomorrow: Vec<FollowUp>,
    /// Participants some shock strikes (the same in the shocked run and its
    /// baseline, so that the two count the same payments).
    pub struck: &'a [bool],
    pub untouched: Untouched,
    pub observer: &'a mut O,
    /// Whether this is the run's last day (nothing can be carried over).
    pub last_day: bool,
    /// Order times (ms of the day before) of the payments carried into
    /// today, in the order they were scheduled, then by their key today.
    pub carried_orders: VecDeque<u32>,
    pub carried_of_key: hashbrown::HashMap<u64, u32, foldhash::fast::FixedState>,
    /// Value carried out of today (to the next day or past the run's end).
    pub carried_today_fen: i64,
    /// The banks' queues, the split of delays, the cost bases.
    pub bank: BankSide,
    /// Flows whose held value changed in the open instant.
    pub touched: Touched,
}

/// The channels and flows whose held value changed since the last instant
/// closed, and the timeline bucket of that instant: an instant in the same
/// bucket closes only those (closing the others would change nothing).
#[derive(Clone, Debug, Default)]
pub struct Touched {
    channel: Vec<bool>,
    flow: Vec<bool>,
    list: Vec<(bool, u32)>,
    /// The bucket of the last instant closed today (`None`: none yet).
    pub bucket: Option<usize>,
}

impl Touched {
    pub fn new(channels: usize, flows: usize) -> Touched {
        Touched {
            channel: vec![false; channels],
            flow: vec![false; flows],
            list: Vec::with_capacity(channels + flows),
            bucket: None,
        }
    }

    #[inline]
    fn mark(&mut self, channel: usize, flow: usize) {
        if !std::mem::replace(&mut self.channel[channel], true) {
            self.list.push((true, channel as u32));
        }
        if !std::mem::replace(&mut self.flow[flow], true) {
            self.list.push((false, flow as u32));
        }
    }
}

impl<O: Observer> RunSink<'_, O> {
    pub(super) fn flow_index(&self, payment: &Payment) -> usize {
        let instrument = usize::from(payment.instrument);
        if payment.marks.has(Marks::RETURN) {
            self.layout.cheque.len() + instrument
        } else {
            instrument
        }
    }

    /// Milliseconds a payment had been in transit before today: those of the
    /// day before, for one carried over.
    fn before_today_ms(&self, payment: &Payment) -> u64 {
        if !payment.marks.has(Marks::CARRIED) {
            return 0;
        }
        self.carried_of_key
            .get(&payment.key)
            .map_or(0, |&order| u64::from(DAY_MS - order))
    }

    /// Whether an unsettled payment of a netting channel arrived after the
    /// channel's last session: it waits for the next business day's first.
    fn missed_every_session(&self, channel: usize, payment: &Payment) -> bool {
        match &self.layout.sessions[channel] {
            Some(cycles) => cycles.last().is_none_or(|&last| payment.submit > last),
            None => false,
        }
    }

    /// A settled cheque: its funds become available when the return window
    /// closes, unless it is dishonoured and goes back then.
    fn cheque_settled(&mut self, payment: &Payment, channel: usize, at: SimTime) {
        let instrument = usize::from(payment.instrument);
        let flow = self.flow_index(payment);
        let Some((deadline, next_day)) = self.layout.return_deadline(channel, instrument, at)
        else {
            return;
        };
        if payment.marks.has(Marks::DISHONOURED) {
            self.flows[flow].dishonoured();
            self.channels[channel].dishonoured();
            let back = FollowUp {
                at: deadline,
                channel,
                payment: Payment {
                    key: 0,
                    submit: deadline,
                    sender: payment.receiver,
                    receiver: payment.sender,
                    amount_fen: payment.amount_fen,
                    priority: payment.priority,
                    instrument: payment.instrument,
                    marks: Marks::RETURN,
                },
            };
            if next_day {
                self.tomorrow.push(back);
            } else {
                self.today.push_back(back);
            }
            return;
        }
        let available_ms = u64::from(deadline.ms()) + if next_day { u64::from(DAY_MS) } else { 0 };
        let transit_ms = (available_ms.saturating_sub(u64::from(payment.submit.ms())))
            .min(u64::from(u32::MAX)) as u32;
        self.channels[channel].available(payment.amount_fen, transit_ms);
        self.flows[flow].available(payment.amount_fen, transit_ms);
    }
}

impl<O: Observer> Sink for RunSink<'_, O> {
    #[inline]
    fn arrived(&mut self, channel: usize, payment: &Payment) {
        if payment.marks.has(Marks::CARRIED) {
            // Counted the day it was ordered; still held since.
            if let Some(order) = self.carried_orders.pop_front() {
                self.carried_of_key.insert(payment.key, order);
            }
        } else {
            let flow = self.flow_index(payment);
            self.channels[channel].arrived(payment.amount_fen);
            self.flows[flow].arrived(payment.amount_fen);
            self.touched.mark(channel, flow);
        }
        self.all
            .add(payment.sender, payment.receiver, payment.amount_fen);
        self.per_channel[channel].add(payment.sender, payment.receiver, payment.amount_fen);
    }

    #[inline]
    fn settled(&mut self, payment: &Payment, at: SimTime) {
        let instrument = usize::from(payment.instrument);
        let channel = self.layout.channel_of[instrument];
        let delay_ms = at.ms() - payment.submit.ms();
        let worst_ms = self.layout.day_end.ms() - payment.submit.ms();
        let flow = self.flow_index(payment);
        self.channels[channel].settled(payment.amount_fen, at, delay_ms, worst_ms);
        self.flows[flow].settled(payment.amount_fen, at, delay_ms, worst_ms);
        self.touched.mark(channel, flow);
        self.observer.settled(self.day, payment.key, at);
        if self.bank.active() {
            self.bank.settled(flow, payment, at);
        }
        if self.layout.cheque[instrument] && !payment.marks.has(Marks::RETURN) {
            self.cheque_settled(payment, channel, at);
        } else {
            let transit_ms = (u64::from(delay_ms)
                + self.before_today_ms(payment)
                + u64::from(self.layout.outside_ms[instrument]))
            .min(u64::from(u32::MAX)) as u32;
            self.channels[channel].available(payment.amount_fen, transit_ms);
            self.flows[flow].available(payment.amount_fen, transit_ms);
        }
    }

    fn unsettled(&mut self, payment: &Payment) {
        let instrument = usize::from(payment.instrument);
        let channel = self.layout.channel_of[instrument];
        let flow = self.flow_index(payment);
        if !payment.marks.has(Marks::CARRIED) && self.missed_every_session(channel, payment) {
            self.carried_today_fen += payment.amount_fen;
            if self.last_day {
                self.channels[channel].carried_past_the_end(payment.amount_fen);
                self.flows[flow].carried_past_the_end(payment.amount_fen);
                self.touched.mark(channel, flow);
            } else {
                // Presented at the next business day's first session.
                self.carried_orders.push_back(payment.submit.ms());
                self.tomorrow.push(FollowUp {
                    at: SimTime::MIDNIGHT,
                    channel,
                    payment: Payment {
                        submit: SimTime::MIDNIGHT,
                        marks: payment.marks.with(Marks::CARRIED),
                        ..*payment
                    },
                });
            }
            return;
        }
        let worst_ms = self.layout.day_end.ms() - payment.submit.ms();
        if self.bank.active() {
            self.bank.unsettled(payment);
        }
        self.channels[channel].unsettled(payment.amount_fen, worst_ms);
        self.flows[flow].unsettled(payment.amount_fen, worst_ms);
        self.touched.mark(channel, flow);
        if !self.struck[payment.sender as usize] && !self.struck[payment.receiver as usize] {
            self.untouched.unsettled += 1;
            self.untouched.unsettled_value_fen += payment.amount_fen;
        }
    }

    fn instant_closed(&mut self, at: SimTime) {
        self.all.end_instant();
        for positions in &mut self.per_channel {
            positions.end_instant();
        }
        let bucket = FlowStats::bucket_of(at);
        let touched = &mut self.touched;
        if touched.bucket == Some(bucket) {
            for (is_channel, index) in touched.list.drain(..) {
                let index = index as usize;
                if is_channel {
                    touched.channel[index] = false;
                    self.channels[index].instant_closed(at);
                } else {
                    touched.flow[index] = false;
                    self.flows[index].instant_closed(at);
                }
            }
            return;
        }
        for (is_channel, index) in touched.list.drain(..) {
            if is_channel {
                touched.channel[index as usize] = false;
            } else {
                touched.flow[index as usize] = false;
            }
        }
        touched.bucket = Some(bucket);
        for flow in self.channels.iter_mut().chain(self.flows.iter_mut()) {
            flow.instant_closed(at);
        }
    }

    #[inline]
    fn follow_up(&mut self) -> Option<FollowUp> {
        self.today.pop_front()
    }
}
