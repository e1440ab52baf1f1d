//! What a run keeps of the banks' behaviour and costs: the banks' queues
//! ([`Desk`]), when each payment a bank held entered the system (to split
//! its time into bank delay and system delay), and each bank's measured
//! day ([`CostMeter`]). The sink holds it; [`super::feed`] drives it.

use crate::bank::costs::{BankDay, CostBreakdown, CostModel};
use crate::bank::desk::Desk;
pub use crate::metrics::split::SplitDelay;
use clearsim_core::ledger::Payment;
use clearsim_core::time::{DAY_MS, SimTime};

/// Each bank's day as it goes ([`BankDay`]): its customers' delays and
/// unsettled value, its balance at the pricing times.
#[derive(Clone, Debug)]
pub struct CostMeter {
    pub model: CostModel,
    /// The standing facility's rate (the scenario's `[liquidity]`).
    pub overnight_rate_bp: u32,
    banks: usize,
    classes: usize,
    /// bank × class.
    delay_fen_ms: Vec<i128>,
    unsettled_fen: Vec<i64>,
    /// Per bank, its balance at each pricing time so far today.
    priced_fen: Vec<Vec<i64>>,
}

impl CostMeter {
    pub fn new(model: CostModel, overnight_rate_bp: u32, banks: usize) -> CostMeter {
        let classes = model.delay_classes();
        CostMeter {
            model,
            overnight_rate_bp,
            banks,
            classes,
            delay_fen_ms: vec![0; banks * classes],
            unsettled_fen: vec![0; banks],
            priced_fen: vec![Vec::new(); banks],
        }
    }

    /// `payment` settled at `at`, having waited `before_today_ms` before
    /// today (a carried payment's night: its delay runs on).
    #[inline]
    fn settled(&mut self, payment: &Payment, at: SimTime, before_today_ms: u64) {
        let delay_ms = u64::from(at.ms().saturating_sub(payment.submit.ms())) + before_today_ms;
        self.delay(payment, delay_ms);
    }

    /// Prices `delay_ms` of `payment`'s delay to its sender.
    #[inline]
    fn delay(&mut self, payment: &Payment, delay_ms: u64) {
        let sender = payment.sender as usize;
        if sender < self.banks {
            let class = self.model.delay_class(payment.priority);
            self.delay_fen_ms[sender * self.classes + class] +=
                i128::from(payment.amount_fen) * i128::from(delay_ms);
        }
    }

    fn unsettled(&mut self, payment: &Payment) {
        if let Some(fen) = self.unsettled_fen.get_mut(payment.sender as usize) {
            *fen = fen.saturating_add(payment.amount_fen);
        }
    }

    /// A pricing time: each bank's balance now counts.
    pub fn price_overdrafts(&mut self, balances_fen: &[i64]) {
        for (priced, &balance) in self.priced_fen.iter_mut().zip(balances_fen) {
            priced.push(balance);
        }
    }

    /// The day is over: each bank's day, given its opening, lowest and
    /// closing balances and the margins of its liquidity checks; the meter
    /// starts afresh.
    pub fn close_day(
        &mut self,
        ledger: &clearsim_core::ledger::Ledger,
        opening_fen: &[i64],
    ) -> Vec<BankDay> {
        let margins_fen = ledger.margins_fen();
        let days = (0..self.banks)
            .map(|b| BankDay {
                opening_fen: opening_fen[b],
                min_balance_fen: ledger.min_balances_fen()[b],
                closing_fen: ledger.balances_fen()[b],
                priced_fen: std::mem::take(&mut self.priced_fen[b]),
                delay_fen_ms: self.delay_fen_ms[b * self.classes..(b + 1) * self.classes].to_vec(),
                unsettled_fen: self.unsettled_fen[b],
                margin_fen: margins_fen[b],
            })
            .collect();
        self.delay_fen_ms.fill(0);
        self.unsettled_fen.fill(0);
        days
    }

    /// Each bank's day, priced.
    pub fn price(&self, days: &[BankDay]) -> Vec<CostBreakdown> {
        days.iter()
            .map(|day| self.model.price_day(day, self.overnight_rate_bp))
            .collect()
    }
}

/// The banks' side of a run (inactive, and free, without policies or costs).
#[derive(Clone, Debug, Default)]
pub struct BankSide {
    pub desk: Option<Desk>,
    pub meter: Option<CostMeter>,
    /// Today's key → entry time of each payment the desk held, while it is
    /// in the system.
    pub entered: hashbrown::HashMap<u64, SimTime, foldhash::fast::FixedState>,
    /// Per flow (as the run's flows: instruments, then returns).
    pub split: Vec<SplitDelay>,
}

impl BankSide {
    pub fn new(desk: Option<Desk>, meter: Option<CostMeter>, flows: usize) -> BankSide {
        BankSide {
            desk,
            meter,
            entered: Default::default(),
            split: vec![SplitDelay::default(); flows],
        }
    }

    /// Whether a run must tell it about settlements.
    #[inline]
    pub fn active(&self) -> bool {
        self.desk.is_some() || self.meter.is_some()
    }

    /// `payment` of `flow` settled at `at`, `before_today_ms` after its
    /// order if it was carried into today.
    pub fn settled(&mut self, flow: usize, payment: &Payment, at: SimTime, before_today_ms: u64) {
        let entered = if self.entered.is_empty() {
            payment.submit
        } else {
            self.entered.remove(&payment.key).unwrap_or(payment.submit)
        };
        let bank_ms = entered.ms().saturating_sub(payment.submit.ms());
        let system_ms = at.ms().saturating_sub(entered.ms());
        self.split[flow].record(payment.amount_fen, bank_ms, system_ms);
        if let Some(desk) = &mut self.desk {
            desk.settled(payment);
        }
        if let Some(meter) = &mut self.meter {
            meter.settled(payment, at, before_today_ms);
        }
    }

    /// `payment` was carried past the run's last day: its delay is priced
    /// until the next business day's opening (midnight), the least it can
    /// be (docs/decisions.md, "optimise prices carried delay").
    pub fn carried_past_the_end(&mut self, payment: &Payment) {
        if !self.entered.is_empty() {
            self.entered.remove(&payment.key);
        }
        if let Some(meter) = &mut self.meter {
            let night_ms = u64::from(DAY_MS.saturating_sub(payment.submit.ms()));
            meter.delay(payment, night_ms);
        }
    }

    /// `payment` stayed unsettled at the day end.
    pub fn unsettled(&mut self, payment: &Payment) {
        if !self.entered.is_empty() {
            self.entered.remove(&payment.key);
        }
        if let Some(meter) = &mut self.meter {
            meter.unsettled(payment);
        }
    }

    /// A payment the desk held entered the system at `at` with `key`.
    pub fn entered(&mut self, flow: usize, key: u64, at: SimTime) {
        self.entered.insert(key, at);
        self.split[flow].held += 1;
    }
}
