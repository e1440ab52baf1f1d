//! Carry-over between business days: a payment that reaches a netting
//! channel after its last session waits for the next business day's first
//! (or, on a run's last day, is carried past the run's end). Its time in
//! transit runs on across the night.

use std::collections::VecDeque;

use clearsim_core::ledger::{FollowUp, Marks, Payment};
use clearsim_core::time::{DAY_MS, SimTime};

#[derive(Default)]
pub struct CarryOver {
    /// Order times (ms of the day before) of the payments carried into
    /// today, in the order they were scheduled, then by their key today.
    orders: VecDeque<u32>,
    of_key: hashbrown::HashMap<u64, u32, foldhash::fast::FixedState>,
    /// Value carried out of today (to the next day or past the run's end).
    today_fen: i64,
    /// Whether this is the run's last day (nothing can be carried over).
    last_day: bool,
}

impl CarryOver {
    /// A new business day, the run's last one or not.
    pub fn new_day(&mut self, last_day: bool) {
        self.last_day = last_day;
        self.of_key.clear();
    }

    /// `payment` arrives: one carried from the day before is matched with
    /// its order time (counted that day; it is known by its key today).
    /// Returns whether it was carried.
    #[inline]
    pub fn arrived(&mut self, payment: &Payment) -> bool {
        if !payment.marks.has(Marks::CARRIED) {
            return false;
        }
        if let Some(order) = self.orders.pop_front() {
            self.of_key.insert(payment.key, order);
        }
        true
    }

    /// Milliseconds a payment had been in transit before today: those of the
    /// day before, for one carried over.
    #[inline]
    pub fn before_today_ms(&self, payment: &Payment) -> u64 {
        if !payment.marks.has(Marks::CARRIED) {
            return 0;
        }
        self.of_key
            .get(&payment.key)
            .map_or(0, |&order| u64::from(DAY_MS - order))
    }

    /// `payment` missed every session of `channel` today: carried. Returns
    /// its arrival at the next business day's opening, or `None` on the
    /// run's last day (carried past the end).
    pub fn carry(&mut self, channel: usize, payment: &Payment) -> Option<FollowUp> {
        self.today_fen += payment.amount_fen;
        if self.last_day {
            return None;
        }
        self.orders.push_back(payment.submit.ms());
        Some(FollowUp {
            at: SimTime::MIDNIGHT,
            channel,
            payment: Payment {
                submit: SimTime::MIDNIGHT,
                marks: payment.marks.with(Marks::CARRIED),
                ..*payment
            },
        })
    }

    /// The value carried out of today; it starts afresh.
    pub fn take_today_fen(&mut self) -> i64 {
        std::mem::take(&mut self.today_fen)
    }
}
