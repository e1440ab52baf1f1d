//! The reference implementation of `semantics.md`, written as plainly as
//! possible and kept apart from the engine it audits (no code shared with
//! the crates), with the helpers that build replay inputs. It needs only
//! clearsim-core and clearsim-model, so the crates' own tests include it
//! too (`#[path]`).

// A test reads as one story, setup to assertions: the 70-line limit is
// for the product's code.
#![allow(clippy::too_many_lines)]
#![allow(dead_code, clippy::needless_range_loop)]

use clearsim_core::time::SimTime;
use clearsim_model::input::Day;

/// One payment of a test day (row order = vector order).
#[derive(Clone, Debug)]
pub struct P {
    pub submit_ms: u32,
    pub sender: usize,
    pub receiver: usize,
    pub amount: i64,
    pub priority: u8,
}

/// A test day: participants' opening balances and credit limits, payments.
#[derive(Clone, Debug)]
pub struct TestDay {
    pub opening: Vec<i64>,
    pub credit: Vec<i64>,
    pub payments: Vec<P>,
    pub day_end_ms: u32,
}

pub fn p(submit: &str, sender: usize, receiver: usize, amount: i64) -> P {
    P {
        submit_ms: ms(submit),
        sender,
        receiver,
        amount,
        priority: 0,
    }
}

pub fn ms(text: &str) -> u32 {
    SimTime::parse(text.as_bytes()).expect("test time").ms()
}

impl TestDay {
    pub fn participants_csv(&self) -> String {
        let mut out = String::from("id,name,category,opening_balance,credit_limit\n");
        for i in 0..self.opening.len() {
            out += &format!(
                "B{i},Bank {i},test,{},{}\n",
                self.opening[i], self.credit[i]
            );
        }
        out
    }

    pub fn payments_csv(&self) -> String {
        let mut out = String::from("id,submit,sender,receiver,amount,priority\n");
        for (row, p) in self.payments.iter().enumerate() {
            out += &format!(
                "x{row},{},B{},B{},{},{}\n",
                SimTime(p.submit_ms),
                p.sender,
                p.receiver,
                p.amount,
                p.priority
            );
        }
        out
    }

    pub fn day(&self) -> Day {
        Day::parse(
            "participants.csv",
            self.participants_csv().as_bytes(),
            "payments.csv",
            self.payments_csv().as_bytes(),
            SimTime(self.day_end_ms),
        )
        .expect("valid test day")
    }
}

#[derive(Clone, Debug)]
pub enum RefStrategy {
    Rtgs {
        gridlock_every_ms: Option<u32>,
    },
    /// Bypass FIFO (clearsim's rule, docs/strategies.md): release passes over
    /// senders in index order, each queue in queue order, settling whatever
    /// is affordable when reached, until a pass settles nothing.
    RtgsBypass {
        gridlock_every_ms: Option<u32>,
    },
    /// Strict FIFO plus offsetting on queue entry (docs/strategies.md): a
    /// payment left at the head of its sender's queue settles together with
    /// the longest leading run of the receiver's queued payments to the
    /// sender that keeps both covered.
    RtgsOffset {
        gridlock_every_ms: Option<u32>,
    },
    /// Strict FIFO with sender limits (docs/strategies.md): a head settles
    /// when covered and when the sender's position (Σ paid − Σ received, to
    /// the counterparty or to all) stays within each of its limits; in a
    /// gridlock run a participant breaching a limit over `C` counts as short.
    RtgsLimits {
        gridlock_every_ms: Option<u32>,
        /// (sender, counterparty or None for multilateral, limit).
        limits: Vec<(usize, Option<usize>, i64)>,
    },
    /// Bypass FIFO with sender limits (the two composed): release passes
    /// settle whatever is covered and within the sender's limits when
    /// reached; gridlock runs as for `RtgsLimits`.
    RtgsBypassLimits {
        gridlock_every_ms: Option<u32>,
        limits: Vec<(usize, Option<usize>, i64)>,
    },
    /// CHIPS-style balanced release (docs/strategies.md): full passes over
    /// senders in index order, each queue in queue order, releasing a
    /// payment when the sender stays covered and the receiver stays within
    /// its maximum (`max_pct` % of its opening); before day end, every
    /// `every_ms` the two-sided offsetting set settles; at day end the final
    /// settlement is the gridlock run of `rtgs`.
    Chips {
        every_ms: u32,
        max_pct: i64,
    },
    Dns {
        cycles_ms: Vec<u32>,
        latest: bool,
        /// A settlement guarantee fund (fen): it pays the shortfalls of the
        /// short participants when it can cover all of them, before any
        /// (further) unwinding round.
        fund: Option<i64>,
    },
    Bilateral {
        cycles_ms: Vec<u32>,
    },
}

/// Outcome per payment (file row) and per participant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefOutcome {
    pub settle_ms: Vec<Option<u32>>,
    pub closing: Vec<i64>,
    pub min_balance: Vec<i64>,
}

struct State<'a> {
    day: &'a TestDay,
    balance: Vec<i64>,
    arrived: Vec<bool>,
    settle: Vec<Option<u32>>,
    limits: Vec<(usize, Option<usize>, i64)>,
}

impl State<'_> {
    fn avail(&self, i: usize) -> i64 {
        self.balance[i] + self.day.credit[i]
    }

    /// Σ paid − Σ received by `i` (with `r` only, if given) over the settled
    /// payments plus `extra`.
    fn position(&self, i: usize, r: Option<usize>, extra: &[usize]) -> i64 {
        (0..self.day.payments.len())
            .filter(|&row| self.settle[row].is_some() || extra.contains(&row))
            .map(|row| {
                let p = &self.day.payments[row];
                if p.sender == i && r.is_none_or(|r| p.receiver == r) {
                    p.amount
                } else if p.receiver == i && r.is_none_or(|r| p.sender == r) {
                    -p.amount
                } else {
                    0
                }
            })
            .sum()
    }

    fn within_limits(&self, i: usize, extra: &[usize]) -> bool {
        self.limits
            .iter()
            .filter(|l| l.0 == i)
            .all(|&(_, r, limit)| self.position(i, r, extra) <= limit)
    }

    fn held(&self, row: usize) -> bool {
        self.arrived[row] && self.settle[row].is_none()
    }

    /// Held payments of sender `s` in queue order.
    fn queue(&self, s: usize) -> Vec<usize> {
        let mut rows: Vec<usize> = (0..self.day.payments.len())
            .filter(|&r| self.held(r) && self.day.payments[r].sender == s)
            .collect();
        rows.sort_by_key(|&r| {
            let p = &self.day.payments[r];
            (std::cmp::Reverse(p.priority), p.submit_ms, r)
        });
        rows
    }

    fn release_bypass(&mut self, t: u32) {
        self.release_passes(t, None);
    }

    fn offset(&mut self, row: usize, t: u32) {
        let p = self.day.payments[row].clone();
        if self.settle[row].is_some() || self.queue(p.sender).first() != Some(&row) {
            return;
        }
        let run: Vec<usize> = self
            .queue(p.receiver)
            .into_iter()
            .take_while(|&o| self.day.payments[o].receiver == p.sender)
            .collect();
        let mut best = None;
        for k in 1..=run.len() {
            let total: i64 = run[..k].iter().map(|&o| self.day.payments[o].amount).sum();
            if self.avail(p.sender) - p.amount + total >= 0
                && self.avail(p.receiver) + p.amount - total >= 0
            {
                best = Some(k);
            }
        }
        if let Some(k) = best {
            let mut set = vec![row];
            set.extend(&run[..k]);
            self.settle_set(&set, t);
            self.release(t);
        }
    }

    fn max(&self, i: usize, max_pct: i64) -> i64 {
        self.day.opening[i] * max_pct / 100
    }

    fn release_balanced(&mut self, t: u32, max_pct: i64) {
        self.release_passes(t, Some(max_pct));
    }

    /// Full passes over senders in index order, each queue in queue order,
    /// settling every payment that is covered and within the sender's
    /// limits (and, with a maximum, keeps the receiver within it) when
    /// reached, until a pass settles nothing.
    fn release_passes(&mut self, t: u32, max_pct: Option<i64>) {
        loop {
            let mut progress = false;
            for s in 0..self.balance.len() {
                for row in self.queue(s) {
                    let p = self.day.payments[row].clone();
                    let fits = max_pct.is_none_or(|pct| {
                        self.balance[p.receiver] + p.amount <= self.max(p.receiver, pct)
                    });
                    if self.avail(s) >= p.amount && fits && self.within_limits(s, &[row]) {
                        self.balance[s] -= p.amount;
                        self.balance[p.receiver] += p.amount;
                        self.settle[row] = Some(t);
                        progress = true;
                    }
                }
            }
            if !progress {
                break;
            }
        }
    }

    /// The two-sided fixed point: drop at once the last sent payment of every
    /// participant below its floor and the last received payment of every
    /// net receiver above its maximum, until nobody is out of bounds.
    fn offset_set(&mut self, t: u32, max_pct: i64) {
        let key = |r: usize| {
            let p = &self.day.payments[r];
            (std::cmp::Reverse(p.priority), p.submit_ms, r)
        };
        let mut c = self.held_all();
        loop {
            let net = self.nets(&c);
            let parts = self.balance.len();
            let low: Vec<usize> = (0..parts).filter(|&i| self.avail(i) + net[i] < 0).collect();
            let high: Vec<usize> = (0..parts)
                .filter(|&i| net[i] > 0 && self.balance[i] + net[i] > self.max(i, max_pct))
                .collect();
            if low.is_empty() && high.is_empty() {
                break;
            }
            let mut picks = Vec::new();
            for i in low {
                let last = c
                    .iter()
                    .copied()
                    .filter(|&r| self.day.payments[r].sender == i)
                    .max_by_key(|&r| key(r));
                picks.extend(last);
            }
            for i in high {
                let last = c
                    .iter()
                    .copied()
                    .filter(|&r| self.day.payments[r].receiver == i)
                    .max_by_key(|&r| key(r));
                picks.extend(last);
            }
            c.retain(|r| !picks.contains(r));
        }
        self.settle_set(&c, t);
    }

    fn release(&mut self, t: u32) {
        loop {
            let mut progress = false;
            for s in 0..self.balance.len() {
                if let Some(&head) = self.queue(s).first() {
                    let p = self.day.payments[head].clone();
                    if self.avail(s) >= p.amount && self.within_limits(s, &[head]) {
                        self.balance[s] -= p.amount;
                        self.balance[p.receiver] += p.amount;
                        self.settle[head] = Some(t);
                        progress = true;
                    }
                }
            }
            if !progress {
                break;
            }
        }
    }

    fn nets(&self, c: &[usize]) -> Vec<i64> {
        let mut net = vec![0; self.balance.len()];
        for &r in c {
            let p = &self.day.payments[r];
            net[p.sender] -= p.amount;
            net[p.receiver] += p.amount;
        }
        net
    }

    fn short(&self, c: &[usize]) -> Vec<usize> {
        let net = self.nets(c);
        (0..self.balance.len())
            .filter(|&i| {
                self.avail(i) + net[i] < 0
                    || (c.iter().any(|&r| self.day.payments[r].sender == i)
                        && !self.within_limits(i, c))
            })
            .collect()
    }

    /// Removes, for every short participant at once, its last payment (queue
    /// order) still in `c`, until nobody is short.
    fn drop_latest(&self, c: &mut Vec<usize>) {
        loop {
            let short = self.short(c);
            if short.is_empty() {
                return;
            }
            self.drop_latest_round(c, &short);
        }
    }

    fn drop_latest_round(&self, c: &mut Vec<usize>, short: &[usize]) {
        {
            for &i in short {
                let mut mine: Vec<usize> = c
                    .iter()
                    .copied()
                    .filter(|&r| self.day.payments[r].sender == i)
                    .collect();
                mine.sort_by_key(|&r| {
                    let p = &self.day.payments[r];
                    (std::cmp::Reverse(p.priority), p.submit_ms, r)
                });
                let last = *mine.last().expect("a short participant sends something");
                c.retain(|&r| r != last);
            }
        }
    }

    fn settle_set(&mut self, c: &[usize], t: u32) {
        let net = self.nets(c);
        for i in 0..self.balance.len() {
            self.balance[i] += net[i];
        }
        for &r in c {
            self.settle[r] = Some(t);
        }
    }

    fn held_all(&self) -> Vec<usize> {
        (0..self.day.payments.len())
            .filter(|&r| self.held(r))
            .collect()
    }
}

/// The contract, executed naively: O(n²) and proud of it.
pub fn reference(day: &TestDay, strategy: &RefStrategy) -> RefOutcome {
    let n = day.payments.len();
    let mut instants: Vec<u32> = day.payments.iter().map(|p| p.submit_ms).collect();
    let mut events: Vec<u32> = match strategy {
        RefStrategy::Rtgs {
            gridlock_every_ms: Some(g),
        }
        | RefStrategy::RtgsBypass {
            gridlock_every_ms: Some(g),
        }
        | RefStrategy::RtgsOffset {
            gridlock_every_ms: Some(g),
        }
        | RefStrategy::RtgsLimits {
            gridlock_every_ms: Some(g),
            ..
        }
        | RefStrategy::RtgsBypassLimits {
            gridlock_every_ms: Some(g),
            ..
        } => {
            let mut ts: Vec<u32> = (1..)
                .map(|k| k * g)
                .take_while(|&t| t <= day.day_end_ms)
                .collect();
            if ts.last() != Some(&day.day_end_ms) {
                ts.push(day.day_end_ms);
            }
            ts
        }
        RefStrategy::Rtgs {
            gridlock_every_ms: None,
        }
        | RefStrategy::RtgsBypass {
            gridlock_every_ms: None,
        }
        | RefStrategy::RtgsOffset {
            gridlock_every_ms: None,
        }
        | RefStrategy::RtgsLimits {
            gridlock_every_ms: None,
            ..
        }
        | RefStrategy::RtgsBypassLimits {
            gridlock_every_ms: None,
            ..
        } => vec![],
        RefStrategy::Chips { every_ms, .. } => {
            let mut ts: Vec<u32> = (1..)
                .map(|k| k * every_ms)
                .take_while(|&t| t <= day.day_end_ms)
                .collect();
            if ts.last() != Some(&day.day_end_ms) {
                ts.push(day.day_end_ms);
            }
            ts
        }
        RefStrategy::Dns { cycles_ms, .. } | RefStrategy::Bilateral { cycles_ms } => {
            cycles_ms.clone()
        }
    };
    events.sort();
    instants.extend(&events);
    instants.sort();
    instants.dedup();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&r| day.payments[r].submit_ms);
    let mut st = State {
        day,
        balance: day.opening.clone(),
        arrived: vec![false; n],
        settle: vec![None; n],
        limits: match strategy {
            RefStrategy::RtgsLimits { limits, .. }
            | RefStrategy::RtgsBypassLimits { limits, .. } => limits.clone(),
            _ => Vec::new(),
        },
    };
    let mut min_balance = day.opening.clone();
    let mut fund_left = match strategy {
        RefStrategy::Dns { fund, .. } => *fund,
        _ => None,
    };
    for &t in &instants {
        for &r in order.iter().filter(|&&r| day.payments[r].submit_ms == t) {
            st.arrived[r] = true;
            match strategy {
                RefStrategy::Rtgs { .. } | RefStrategy::RtgsLimits { .. } => st.release(t),
                RefStrategy::RtgsBypass { .. } | RefStrategy::RtgsBypassLimits { .. } => {
                    st.release_bypass(t)
                }
                RefStrategy::Chips { max_pct, .. } => st.release_balanced(t, *max_pct),
                RefStrategy::RtgsOffset { .. } => {
                    st.release(t);
                    st.offset(r, t);
                }
                _ => {}
            }
        }
        if events.contains(&t) {
            match strategy {
                RefStrategy::Rtgs { .. }
                | RefStrategy::RtgsOffset { .. }
                | RefStrategy::RtgsLimits { .. } => {
                    let mut c = st.held_all();
                    st.drop_latest(&mut c);
                    st.settle_set(&c, t);
                    st.release(t);
                }
                RefStrategy::Chips { max_pct, .. } => {
                    if t < day.day_end_ms {
                        st.offset_set(t, *max_pct);
                    } else {
                        let mut c = st.held_all();
                        st.drop_latest(&mut c);
                        st.settle_set(&c, t);
                    }
                    st.release_balanced(t, *max_pct);
                }
                RefStrategy::RtgsBypass { .. } | RefStrategy::RtgsBypassLimits { .. } => {
                    let mut c = st.held_all();
                    st.drop_latest(&mut c);
                    st.settle_set(&c, t);
                    st.release_bypass(t);
                }
                RefStrategy::Dns { latest, .. } => {
                    let mut c = st.held_all();
                    loop {
                        let short = st.short(&c);
                        if short.is_empty() {
                            break;
                        }
                        let net = st.nets(&c);
                        let need: i64 = short.iter().map(|&i| -(st.avail(i) + net[i])).sum();
                        if let Some(left) = fund_left.as_mut()
                            && need <= *left
                        {
                            // The fund pays each shortfall; the short pay
                            // down to their credit floor.
                            *left -= need;
                            for &i in &short {
                                st.balance[i] += -(st.avail(i) + net[i]);
                            }
                            break;
                        }
                        if *latest {
                            st.drop_latest_round(&mut c, &short);
                        } else {
                            c.retain(|&r| {
                                let p = &day.payments[r];
                                !short.contains(&p.sender) && !short.contains(&p.receiver)
                            });
                        }
                    }
                    st.settle_set(&c, t);
                }
                RefStrategy::Bilateral { .. } => {
                    let parts = day.opening.len();
                    for i in 0..parts {
                        for j in i + 1..parts {
                            let pair: Vec<usize> = st
                                .held_all()
                                .into_iter()
                                .filter(|&r| {
                                    let p = &day.payments[r];
                                    (p.sender == i && p.receiver == j)
                                        || (p.sender == j && p.receiver == i)
                                })
                                .collect();
                            if pair.is_empty() {
                                continue;
                            }
                            let n: i64 = pair
                                .iter()
                                .map(|&r| {
                                    let p = &day.payments[r];
                                    if p.receiver == i { p.amount } else { -p.amount }
                                })
                                .sum();
                            let ok = match n {
                                0 => true,
                                n if n < 0 => st.avail(i) >= -n,
                                n => st.avail(j) >= n,
                            };
                            if ok {
                                st.settle_set(&pair, t);
                            }
                        }
                    }
                }
            }
        }
        for i in 0..min_balance.len() {
            min_balance[i] = min_balance[i].min(st.balance[i]);
        }
    }
    RefOutcome {
        settle_ms: st.settle,
        closing: st.balance,
        min_balance,
    }
}

/// Reference summary figures (exact).
#[derive(Clone, Debug, PartialEq)]
pub struct RefSummary {
    pub settled: u64,
    pub settled_value: i64,
    pub unsettled: u64,
    pub unsettled_value: i64,
    pub lower_bound: i64,
    pub upper_bound: i64,
    pub liquidity_used: i64,
    pub delay_indicator: f64,
    pub delay_max: u64,
}

pub fn reference_summary(day: &TestDay, out: &RefOutcome) -> RefSummary {
    let parts = day.opening.len();
    let mut s = RefSummary {
        settled: 0,
        settled_value: 0,
        unsettled: 0,
        unsettled_value: 0,
        lower_bound: 0,
        upper_bound: 0,
        liquidity_used: 0,
        delay_indicator: 0.0,
        delay_max: 0,
    };
    let (mut num, mut den) = (0i128, 0i128);
    for (p, settle) in day.payments.iter().zip(&out.settle_ms) {
        let worst = i128::from(day.day_end_ms - p.submit_ms);
        den += i128::from(p.amount) * worst;
        match settle {
            Some(t) => {
                s.settled += 1;
                s.settled_value += p.amount;
                num += i128::from(p.amount) * i128::from(t - p.submit_ms);
                s.delay_max = s.delay_max.max(u64::from(t - p.submit_ms));
            }
            None => {
                s.unsettled += 1;
                s.unsettled_value += p.amount;
                num += i128::from(p.amount) * worst;
            }
        }
    }
    s.delay_indicator = if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    };
    for i in 0..parts {
        let sent: i64 = day
            .payments
            .iter()
            .filter(|p| p.sender == i)
            .map(|p| p.amount)
            .sum();
        let recv: i64 = day
            .payments
            .iter()
            .filter(|p| p.receiver == i)
            .map(|p| p.amount)
            .sum();
        s.lower_bound += (sent - recv).max(0);
        let mut times: Vec<u32> = day.payments.iter().map(|p| p.submit_ms).collect();
        times.sort();
        times.dedup();
        let mut lowest = 0i64;
        for t in times {
            let cum: i64 = day
                .payments
                .iter()
                .filter(|p| p.submit_ms <= t)
                .map(|p| {
                    if p.receiver == i {
                        p.amount
                    } else if p.sender == i {
                        -p.amount
                    } else {
                        0
                    }
                })
                .sum();
            lowest = lowest.min(cum);
        }
        s.upper_bound += (-lowest).max(0);
        s.liquidity_used += (day.opening[i] - out.min_balance[i]).max(0);
    }
    s
}
