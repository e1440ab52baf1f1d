//! Every reported number, computed once, here. Nothing in this module reads
//! or writes files.

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::time::SimTime;

/// Marks a payment that did not settle, in per-payment settle-time columns.
pub const UNSETTLED: u32 = u32::MAX;

/// Delay percentiles of settled payments, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DelayStats {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    /// Count-weighted mean, rounded to the nearest millisecond.
    pub mean: u64,
}

impl DelayStats {
    /// Percentiles from a 3-significant-digit HDR histogram (nearest rank,
    /// reported as the highest value equivalent to the bucket); max and mean
    /// exact, from the running totals.
    pub fn from_histogram(histogram: &Histogram<u64>, max_ms: u64, sum_ms: u128) -> DelayStats {
        let count = histogram.len();
        if count == 0 {
            return DelayStats::default();
        }
        let at = |q: f64| histogram.value_at_quantile(q).min(max_ms);
        DelayStats {
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            p999: at(0.999),
            max: max_ms,
            mean: ((sum_ms + u128::from(count) / 2) / u128::from(count)) as u64,
        }
    }
}

/// A delay histogram with the totals needed for exact max and mean.
#[derive(Clone, Debug)]
pub struct DelayRecorder {
    pub histogram: Histogram<u64>,
    pub max_ms: u64,
    pub sum_ms: u128,
}

impl Default for DelayRecorder {
    fn default() -> Self {
        DelayRecorder::new()
    }
}

impl DelayRecorder {
    pub fn new() -> DelayRecorder {
        // 3 significant digits, values up to one day in ms: a fixed-size
        // histogram, so recording never allocates.
        let histogram = Histogram::new_with_bounds(1, u64::from(crate::time::DAY_MS), 3)
            .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!()));
        DelayRecorder {
            histogram,
            max_ms: 0,
            sum_ms: 0,
        }
    }

    #[inline]
    pub fn record(&mut self, delay_ms: u32) {
        let delay = u64::from(delay_ms);
        self.histogram.saturating_record(delay);
        self.max_ms = self.max_ms.max(delay);
        self.sum_ms += u128::from(delay);
    }

    pub fn stats(&self) -> DelayStats {
        DelayStats::from_histogram(&self.histogram, self.max_ms, self.sum_ms)
    }
}

/// The summary the contract defines (`summary.json`, required keys).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub payments: u64,
    pub value: i64,
    pub settled: u64,
    pub settled_value: i64,
    pub unsettled: u64,
    pub unsettled_value: i64,
    pub lower_bound: i64,
    pub upper_bound: i64,
    pub liquidity_used: i64,
    pub delay_indicator: f64,
    pub delay_ms: DelayStats,
}

/// What the engine produced for one day, by file row.
pub struct DayOutcome<'a> {
    pub submit: &'a [SimTime],
    pub amount_fen: &'a [i64],
    pub settle: &'a [u32],
    pub day_end: SimTime,
}

/// Liquidity needed to settle everything by one multilateral net at day end:
/// Σ max(0, sent − received).
pub fn lower_bound_fen(
    participants: usize,
    sender: &[u32],
    receiver: &[u32],
    amount_fen: &[i64],
) -> i64 {
    let mut net = vec![0i64; participants];
    for ((&s, &r), &a) in sender.iter().zip(receiver).zip(amount_fen) {
        net[s as usize] -= a;
        net[r as usize] += a;
    }
    net.iter().map(|&n| (-n).max(0)).sum()
}

/// Liquidity needed to settle everything on arrival: Σ max(0, −m(i)) where
/// m(i) is the lowest cumulative (received − sent) at the end of an instant.
/// `order` lists rows in processing order (submit times non-decreasing).
pub fn upper_bound_fen(
    participants: usize,
    order: &[u32],
    submit: &[SimTime],
    sender: &[u32],
    receiver: &[u32],
    amount_fen: &[i64],
) -> i64 {
    let mut cumulative = vec![0i64; participants];
    let mut lowest = vec![0i64; participants];
    let mut debited: Vec<u32> = Vec::new();
    let mut is_debited = vec![false; participants];
    let mut position = 0;
    while position < order.len() {
        let instant = submit[order[position] as usize];
        while position < order.len() && submit[order[position] as usize] == instant {
            let row = order[position] as usize;
            let (s, r) = (sender[row] as usize, receiver[row] as usize);
            cumulative[s] -= amount_fen[row];
            cumulative[r] += amount_fen[row];
            if !is_debited[s] {
                is_debited[s] = true;
                debited.push(s as u32);
            }
            position += 1;
        }
        for &i in &debited {
            let i = i as usize;
            lowest[i] = lowest[i].min(cumulative[i]);
            is_debited[i] = false;
        }
        debited.clear();
    }
    lowest.iter().map(|&m| (-m).max(0)).sum()
}

/// Σ max(0, opening − min_balance).
pub fn liquidity_used_fen(opening_fen: &[i64], min_balance_fen: &[i64]) -> i64 {
    opening_fen
        .iter()
        .zip(min_balance_fen)
        .map(|(&o, &m)| (o - m).max(0))
        .sum()
}

/// Σ a·d / Σ a·(day_end − submit), with d = day_end − submit if unsettled.
pub struct DelayIndicator {
    numerator: i128,
    denominator: i128,
}

impl DelayIndicator {
    pub fn new() -> DelayIndicator {
        DelayIndicator {
            numerator: 0,
            denominator: 0,
        }
    }

    #[inline]
    pub fn add(&mut self, amount_fen: i64, delay_ms: u32, worst_ms: u32) {
        self.numerator += i128::from(amount_fen) * i128::from(delay_ms);
        self.denominator += i128::from(amount_fen) * i128::from(worst_ms);
    }

    pub fn value(&self) -> f64 {
        if self.denominator == 0 {
            0.0
        } else {
            self.numerator as f64 / self.denominator as f64
        }
    }
}

impl Default for DelayIndicator {
    fn default() -> Self {
        DelayIndicator::new()
    }
}

/// Counts, values, delays and the delay indicator of a day's outcome. The
/// bounds and liquidity used are filled in by the caller (they need the
/// participants and the ledger).
pub fn settlement_summary(outcome: &DayOutcome<'_>) -> Summary {
    let mut delays = DelayRecorder::new();
    let mut indicator = DelayIndicator::new();
    let mut summary = Summary {
        payments: 0,
        value: 0,
        settled: 0,
        settled_value: 0,
        unsettled: 0,
        unsettled_value: 0,
        lower_bound: 0,
        upper_bound: 0,
        liquidity_used: 0,
        delay_indicator: 0.0,
        delay_ms: DelayStats::default(),
    };
    for ((&submit, &amount), &settle) in outcome
        .submit
        .iter()
        .zip(outcome.amount_fen)
        .zip(outcome.settle)
    {
        let worst_ms = outcome.day_end.ms() - submit.ms();
        summary.payments += 1;
        summary.value += amount;
        if settle == UNSETTLED {
            summary.unsettled += 1;
            summary.unsettled_value += amount;
            indicator.add(amount, worst_ms, worst_ms);
        } else {
            let delay_ms = settle - submit.ms();
            summary.settled += 1;
            summary.settled_value += amount;
            delays.record(delay_ms);
            indicator.add(amount, delay_ms, worst_ms);
        }
    }
    summary.delay_indicator = indicator.value();
    summary.delay_ms = delays.stats();
    summary
}
