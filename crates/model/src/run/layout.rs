//! How each instrument and channel of a run treats payments, fixed for the
//! run: routing, cheques' return windows, netting sessions, cross-city
//! journeys.

use clearsim_core::ledger::{Marks, Payment};
use clearsim_core::strategy::ChannelSpec;
use clearsim_core::time::SimTime;

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

    /// The instruments of the run (flows are these, then their returns).
    pub fn instruments(&self) -> usize {
        self.cheque.len()
    }

    /// A payment's channel and flow: its instrument's, or its instrument's
    /// returns for a returned cheque.
    #[inline]
    pub fn route(&self, payment: &Payment) -> (usize, usize) {
        let instrument = usize::from(payment.instrument);
        let flow = if payment.marks.has(Marks::RETURN) {
            self.instruments() + instrument
        } else {
            instrument
        };
        (self.channel_of[instrument], flow)
    }

    /// Whether a settled payment is a cheque presented (not one going back).
    #[inline]
    pub fn is_cheque(&self, payment: &Payment) -> bool {
        self.cheque[usize::from(payment.instrument)] && !payment.marks.has(Marks::RETURN)
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

    /// Whether an unsettled payment of a netting channel arrived after the
    /// channel's last session: it waits for the next business day's first.
    pub fn missed_every_session(&self, channel: usize, payment: &Payment) -> bool {
        match &self.sessions[channel] {
            Some(cycles) => cycles.last().is_none_or(|&last| payment.submit > last),
            None => false,
        }
    }
}
