//! The banks' own queues: a customer's order reaches the sending bank, whose
//! policy ([`Policy`]) decides when it goes to the settlement system.
//!
//! The desk stands between a run's stream and the one scheduler: the run
//! gives it each order at its instant, and before each instant's new orders
//! asks it what it releases now. What the desk submits is, to the
//! scheduler, the caller's arrivals (class 1): held ones first (they are
//! older), then the instant's new orders, each in the order the desk gives.
//! The desk reads balances as the instant opens (after every earlier
//! instant closed) and hears every settlement (for `reciprocal`).
//!
//! Only payments a bank sends on its own account pass through it: not
//! cheques (the payee's bank presents them) and not payments from the banks
//! outside the city. Banks without a policy, or with `immediate`, submit at
//! once, and a run without any policy has no desk at all (results stay
//! byte-identical).

use super::policy::Policy;
use clearsim_core::ledger::{Ledger, Payment};
use clearsim_core::time::SimTime;

/// No policy: the bank submits at once.
const IMMEDIATE: u16 = u16::MAX;

/// An order the bank holds: its channel and the payment (its `submit` is
/// the order time).
#[derive(Clone, Copy, Debug)]
struct Order {
    channel: usize,
    payment: Payment,
}

/// The banks' queues over one business day (see the module docs).
#[derive(Clone, Debug)]
pub struct Desk {
    policies: Vec<Policy>,
    /// Per participant: an index into `policies`, or [`IMMEDIATE`].
    policy_of: Vec<u16>,
    /// Per instrument: whether its payments pass through the desk.
    in_scope: Vec<bool>,
    /// Per participant, held orders in queue order (priority descending,
    /// then order of arrival).
    held: Vec<Vec<Order>>,
    /// Participants holding anything, for the per-instant look.
    holding: Vec<u32>,
    /// Per participant: the value it expects to be ordered today (the
    /// throughput guideline's denominator), and what it submitted so far.
    expected_fen: Vec<i64>,
    submitted_fen: Vec<i64>,
    /// `reciprocal` banks: row per bank (`net_row`), column per
    /// counterparty: received from it less paid to it, settled today.
    net_row: Vec<u32>,
    net_fen: Vec<i64>,
    /// Per participant: its balance when the desk last looked, and whether
    /// it heard of a settlement of the bank's since.
    looked_fen: Vec<i64>,
    changed: Vec<bool>,
    day_end: SimTime,
}

impl Desk {
    /// A desk for `policy_of` (per participant, `None` = immediate) over
    /// the instruments `in_scope`; `None` when no bank holds anything back.
    pub fn new(
        policy_of: &[Option<Policy>],
        in_scope: Vec<bool>,
        day_end: SimTime,
    ) -> Option<Desk> {
        let mut policies: Vec<Policy> = Vec::new();
        let mut index = Vec::with_capacity(policy_of.len());
        for policy in policy_of {
            index.push(match policy {
                None | Some(Policy::Immediate) => IMMEDIATE,
                Some(p) => match policies.iter().position(|q| q == p) {
                    Some(i) => i as u16,
                    None => {
                        policies.push(p.clone());
                        (policies.len() - 1) as u16
                    }
                },
            });
        }
        if policies.is_empty() {
            return None;
        }
        let n = policy_of.len();
        let mut net_row = vec![u32::MAX; n];
        let mut rows = 0u32;
        for (i, &p) in index.iter().enumerate() {
            if p != IMMEDIATE && matches!(policies[p as usize], Policy::Reciprocal { .. }) {
                net_row[i] = rows;
                rows += 1;
            }
        }
        Some(Desk {
            policies,
            policy_of: index,
            in_scope,
            held: vec![Vec::new(); n],
            holding: Vec::new(),
            expected_fen: vec![0; n],
            submitted_fen: vec![0; n],
            net_row,
            net_fen: vec![0; rows as usize * n],
            looked_fen: vec![0; n],
            changed: vec![false; n],
            day_end,
        })
    }

    /// A new business day: nothing is held (the day end released it all),
    /// `expected_fen` is each participant's expected value ordered today.
    pub fn new_day(&mut self, expected_fen: &[i64]) {
        clearsim_core::invariant!(self.holding.is_empty());
        self.expected_fen.copy_from_slice(expected_fen);
        self.submitted_fen.fill(0);
        self.net_fen.fill(0);
    }

    fn policy(&self, participant: u32) -> Option<&Policy> {
        let index = *self.policy_of.get(participant as usize)?;
        self.policies.get(usize::from(index))
    }

    /// A customer's order at instant `now` (its `submit`): returned when
    /// the bank submits it now, else held.
    pub fn order(&mut self, channel: usize, payment: Payment, ledger: &Ledger) -> Option<Payment> {
        let sender = payment.sender as usize;
        let in_scope = self
            .in_scope
            .get(usize::from(payment.instrument))
            .copied()
            .unwrap_or(false);
        let Some(policy) = self.policy(payment.sender).filter(|_| in_scope) else {
            return Some(payment);
        };
        let now = payment.submit;
        let at_once = match policy {
            Policy::Immediate => true,
            Policy::Deadline { cutoff } => payment.priority >= 1 || now >= *cutoff,
            // Behind anything already held: the queue order decides.
            _ => {
                self.held[sender].is_empty()
                    && self.fits(payment.sender, &payment, ledger, &Pending::default())
            }
        };
        if at_once || now >= self.day_end {
            self.note_submitted(&payment);
            return Some(payment);
        }
        if self.held[sender].is_empty() {
            self.holding.push(payment.sender);
            self.looked_fen[sender] = ledger.balances_fen()[sender];
            self.changed[sender] = false;
        }
        let queue = &mut self.held[sender];
        let at = queue.partition_point(|o| o.payment.priority >= payment.priority);
        queue.insert(at, Order { channel, payment });
        None
    }

    /// Whether `payment` may go now on its balance or bilateral position,
    /// with `pending` already submitted in this look (in total, and to each
    /// receiver), which has not settled yet as far as the desk knows.
    fn fits(&self, sender: u32, payment: &Payment, ledger: &Ledger, pending: &Pending) -> bool {
        let balance = ledger.balances_fen()[sender as usize].saturating_sub(pending.total_fen);
        // The balance-reading rules are liquidity checks: noted (see
        // `Ledger::note_margin`).
        let margin = |floor_fen: i64| {
            let margin =
                i128::from(balance) - i128::from(payment.amount_fen) - i128::from(floor_fen);
            ledger.note_margin(sender, margin);
            margin >= 0
        };
        match self.policy(sender) {
            Some(Policy::Reserve { reserve_fen }) => margin(*reserve_fen),
            Some(Policy::Throughput { .. }) => margin(0),
            Some(Policy::Reciprocal { .. }) => {
                self.net(sender, payment.receiver)
                    .saturating_sub(pending.to(payment.receiver))
                    >= payment.amount_fen
            }
            _ => false,
        }
    }

    fn net(&self, bank: u32, counterparty: u32) -> i64 {
        let row = self.net_row[bank as usize];
        if row == u32::MAX {
            return 0;
        }
        self.net_fen[row as usize * self.policy_of.len() + counterparty as usize]
    }

    fn note_submitted(&mut self, payment: &Payment) {
        let s = &mut self.submitted_fen[payment.sender as usize];
        *s = s.saturating_add(payment.amount_fen);
    }

    /// A payment settled: `reciprocal` banks keep their bilateral positions.
    #[inline]
    pub fn settled(&mut self, payment: &Payment) {
        let n = self.policy_of.len();
        for (bank, other, signed) in [
            (payment.receiver, payment.sender, payment.amount_fen),
            (payment.sender, payment.receiver, -payment.amount_fen),
        ] {
            let row = self.net_row[bank as usize];
            if row != u32::MAX {
                let cell = &mut self.net_fen[row as usize * n + other as usize];
                *cell = cell.saturating_add(signed);
                self.changed[bank as usize] = true;
            }
        }
    }

    /// The earliest time after `now` at which the desk looks again without
    /// a new order: a cut-off, a timeout, a guideline's checkpoint, the day
    /// end — or the next millisecond, when a bank holding payments saw its
    /// balance or bilateral position change since its last look (a bank
    /// reacts to what it received one millisecond later).
    pub fn next_due(&self, now: SimTime, ledger: &Ledger) -> Option<SimTime> {
        let mut due: Option<SimTime> = None;
        let mut keep = |t: SimTime| {
            if t > now && due.is_none_or(|d| t < d) {
                due = Some(t);
            }
        };
        for &bank in &self.holding {
            let b = bank as usize;
            if self.changed[b] || ledger.balances_fen()[b] != self.looked_fen[b] {
                keep(SimTime(now.ms().saturating_add(1).min(self.day_end.ms())));
            }
            let queue = &self.held[b];
            keep(self.day_end);
            match self.policy(bank) {
                Some(Policy::Deadline { cutoff }) => keep(*cutoff),
                Some(Policy::Reciprocal { timeout_ms }) => {
                    let first = queue.iter().map(|o| o.payment.submit).min();
                    if let Some(first) = first {
                        keep(SimTime(first.ms().saturating_add(*timeout_ms)));
                    }
                }
                Some(Policy::Throughput { checkpoints }) => {
                    if let Some(&(at, _)) = checkpoints.iter().find(|(at, _)| *at > now) {
                        keep(at);
                    }
                }
                _ => {}
            }
        }
        due
    }

    /// What the banks submit at instant `now`, before its new orders, in
    /// bank order then queue order, appended to `out` as (channel, payment).
    pub fn release(&mut self, now: SimTime, ledger: &Ledger, out: &mut Vec<(usize, Payment)>) {
        let holding = std::mem::take(&mut self.holding);
        let mut still = Vec::with_capacity(holding.len());
        for bank in holding {
            let b = bank as usize;
            let balance = ledger.balances_fen()[b];
            let looked = balance == self.looked_fen[b] && !self.changed[b];
            if !looked || self.timer_due(bank, now) {
                self.release_bank(bank, now, ledger, out);
            }
            self.looked_fen[b] = balance;
            self.changed[b] = false;
            if !self.held[b].is_empty() {
                still.push(bank);
            }
        }
        self.holding = still;
    }

    /// Whether something of `bank`'s must go at `now` whatever its balance.
    fn timer_due(&self, bank: u32, now: SimTime) -> bool {
        if now >= self.day_end {
            return true;
        }
        match self.policy(bank) {
            Some(Policy::Deadline { cutoff }) => now >= *cutoff,
            Some(Policy::Reciprocal { timeout_ms }) => self.held[bank as usize]
                .iter()
                .any(|o| o.payment.submit.ms().saturating_add(*timeout_ms) <= now.ms()),
            Some(Policy::Throughput { checkpoints }) => {
                checkpoints.iter().any(|(at, _)| *at <= now)
            }
            _ => false,
        }
    }

    /// One bank's look at its queue at `now`.
    fn release_bank(
        &mut self,
        bank: u32,
        now: SimTime,
        ledger: &Ledger,
        out: &mut Vec<(usize, Payment)>,
    ) {
        let b = bank as usize;
        let target_fen = self.target_fen(bank, now);
        let queue = std::mem::take(&mut self.held[b]);
        let mut kept = Vec::with_capacity(queue.len());
        let mut pending = Pending::default();
        for order in queue {
            let payment = order.payment;
            let forced = now >= self.day_end
                || match self.policy(bank) {
                    Some(Policy::Deadline { cutoff }) => now >= *cutoff,
                    Some(Policy::Reciprocal { timeout_ms }) => {
                        payment.submit.ms().saturating_add(*timeout_ms) <= now.ms()
                    }
                    Some(Policy::Throughput { .. }) => self.submitted_fen[b] < target_fen,
                    _ => false,
                };
            if forced || self.fits(bank, &payment, ledger, &pending) {
                pending.add(&payment);
                self.note_submitted(&payment);
                out.push((order.channel, payment));
            } else {
                kept.push(order);
            }
        }
        self.held[b] = kept;
    }

    /// `throughput`: the value the guideline wants submitted by `now` (the
    /// share of the last checkpoint passed, of the day's expected value).
    fn target_fen(&self, bank: u32, now: SimTime) -> i64 {
        let Some(Policy::Throughput { checkpoints }) = self.policy(bank) else {
            return 0;
        };
        let permille = checkpoints
            .iter()
            .take_while(|(at, _)| *at <= now)
            .map(|&(_, p)| p)
            .last()
            .unwrap_or(0);
        let expected = i128::from(self.expected_fen[bank as usize]);
        (expected * i128::from(permille) / 1000) as i64
    }
}

/// What one look at a bank's queue submitted so far: in total, and to each
/// receiver (few: a look submits what it can, rarely many).
#[derive(Default)]
struct Pending {
    total_fen: i64,
    by_receiver: Vec<(u32, i64)>,
}

impl Pending {
    fn add(&mut self, payment: &Payment) {
        self.total_fen = self.total_fen.saturating_add(payment.amount_fen);
        match self
            .by_receiver
            .iter_mut()
            .find(|(r, _)| *r == payment.receiver)
        {
            Some((_, fen)) => *fen = fen.saturating_add(payment.amount_fen),
            None => self
                .by_receiver
                .push((payment.receiver, payment.amount_fen)),
        }
    }

    fn to(&self, receiver: u32) -> i64 {
        self.by_receiver
            .iter()
            .find(|(r, _)| *r == receiver)
            .map_or(0, |&(_, fen)| fen)
    }
}
