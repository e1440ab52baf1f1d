//! Every reported number, computed once, here. Nothing in this module reads
//! or writes files.

pub mod design;
pub mod estimate;
pub mod flow;
pub mod network;
pub mod split;

use hdrhistogram::Histogram;

use clearsim_core::time::SimTime;

/// Marks a payment that did not settle, in per-payment settle-time columns.
pub const UNSETTLED: u32 = u32::MAX;

/// Delay percentiles of settled payments, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq)]
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

/// Longest delay a histogram records exactly: 30 days (multi-day runs and
/// cheques available on a later day). Longer ones saturate.
pub const MAX_RECORDED_MS: u64 = 30 * 86_400_000;

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
        // 3 significant digits, values up to 30 days in ms: a fixed-size
        // histogram, so recording never allocates.
        let histogram = Histogram::new_with_bounds(1, MAX_RECORDED_MS, 3)
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
#[derive(Clone, Debug, PartialEq)]
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

/// Cumulative positions (received − sent) of every participant as payments
/// arrive, with the lowest position seen at the end of each instant: the
/// basis of the lower and upper liquidity bounds.
#[derive(Clone, Debug)]
pub struct Positions {
    cumulative_fen: Vec<i64>,
    lowest_fen: Vec<i64>,
    /// The lowest position after any payment, in processing order (states
    /// inside an instant count here, unlike `lowest_fen`).
    lowest_in_order_fen: Vec<i64>,
    debited: Vec<u32>,
    is_debited: Vec<bool>,
    /// The bounds sum over participants `0..counted` (the city's banks: the
    /// banks outside it, when modelled, come after and are not counted).
    counted: usize,
}

impl Positions {
    pub fn new(participants: usize) -> Positions {
        Positions {
            cumulative_fen: vec![0; participants],
            lowest_fen: vec![0; participants],
            lowest_in_order_fen: vec![0; participants],
            debited: Vec::new(),
            is_debited: vec![false; participants],
            counted: participants,
        }
    }

    /// The bounds count only the first `banks` participants.
    pub fn counting(mut self, banks: usize) -> Positions {
        clearsim_core::invariant!(banks <= self.cumulative_fen.len());
        self.counted = banks.min(self.cumulative_fen.len());
        self
    }

    /// A payment, as if settled on arrival with unlimited credit.
    #[inline]
    pub fn add(&mut self, sender: u32, receiver: u32, amount_fen: i64) {
        let sent = &mut self.cumulative_fen[sender as usize];
        *sent -= amount_fen;
        let lowest = &mut self.lowest_in_order_fen[sender as usize];
        *lowest = (*lowest).min(*sent);
        self.cumulative_fen[receiver as usize] += amount_fen;
        if !self.is_debited[sender as usize] {
            self.is_debited[sender as usize] = true;
            self.debited.push(sender);
        }
    }

    /// A participant's position moves by `net_fen` (a netting session's
    /// net, settled at once).
    #[inline]
    pub fn shift(&mut self, participant: u32, net_fen: i64) {
        let i = participant as usize;
        let position = &mut self.cumulative_fen[i];
        *position += net_fen;
        if net_fen < 0 {
            let lowest = &mut self.lowest_in_order_fen[i];
            *lowest = (*lowest).min(*position);
            if !self.is_debited[i] {
                self.is_debited[i] = true;
                self.debited.push(participant);
            }
        }
    }

    pub fn end_instant(&mut self) {
        for &i in &self.debited {
            let i = i as usize;
            self.lowest_fen[i] = self.lowest_fen[i].min(self.cumulative_fen[i]);
            self.is_debited[i] = false;
        }
        self.debited.clear();
    }

    /// Per participant: max(0, sent − received).
    pub fn participant_lower_fen(&self) -> Vec<i64> {
        self.cumulative_fen.iter().map(|&n| (-n).max(0)).collect()
    }

    /// Per participant: max(0, −lowest position at an instant end).
    pub fn participant_upper_fen(&self) -> Vec<i64> {
        self.lowest_fen.iter().map(|&m| (-m).max(0)).collect()
    }

    /// Per participant: max(0, −lowest position after any payment, in
    /// processing order): with this opening balance and no credit, gross
    /// settlement settles every payment on arrival.
    pub fn participant_need_fen(&self) -> Vec<i64> {
        self.lowest_in_order_fen
            .iter()
            .map(|&m| (-m).max(0))
            .collect()
    }

    /// Σ max(0, sent − received): liquidity for one net at day end.
    pub fn lower_bound_fen(&self) -> i64 {
        self.cumulative_fen[..self.counted]
            .iter()
            .map(|&n| (-n).max(0))
            .sum()
    }

    /// Σ max(0, −lowest position at an instant end): liquidity to settle
    /// everything on arrival.
    pub fn upper_bound_fen(&self) -> i64 {
        self.lowest_fen[..self.counted]
            .iter()
            .map(|&m| (-m).max(0))
            .sum()
    }
}

/// Both bounds of a day given as columns; `order` lists rows in processing
/// order (submit times non-decreasing). Returns `(lower, upper)`.
pub fn liquidity_bounds_fen(
    participants: usize,
    order: &[u32],
    submit: &[SimTime],
    sender: &[u32],
    receiver: &[u32],
    amount_fen: &[i64],
) -> (i64, i64) {
    let mut positions = Positions::new(participants);
    let mut previous: Option<SimTime> = None;
    for &row in order {
        let row = row as usize;
        if previous.is_some_and(|t| t != submit[row]) {
            positions.end_instant();
        }
        previous = Some(submit[row]);
        positions.add(sender[row], receiver[row], amount_fen[row]);
    }
    positions.end_instant();
    (positions.lower_bound_fen(), positions.upper_bound_fen())
}

/// Per participant: max(0, opening − min_balance), the liquidity it used.
pub fn participant_liquidity_used_fen(opening_fen: &[i64], min_balance_fen: &[i64]) -> Vec<i64> {
    opening_fen
        .iter()
        .zip(min_balance_fen)
        .map(|(&o, &m)| (o - m).max(0))
        .collect()
}

/// Σ max(0, opening − min_balance).
pub fn liquidity_used_fen(opening_fen: &[i64], min_balance_fen: &[i64]) -> i64 {
    participant_liquidity_used_fen(opening_fen, min_balance_fen)
        .iter()
        .sum()
}

/// Σ a·d / Σ a·(day_end − submit), with d = day_end − submit if unsettled.
#[derive(Clone, Debug)]
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

    /// From saved sums (Σ a·d, Σ a·(day_end − submit)), e.g. when merging.
    pub fn from_sums(numerator: i128, denominator: i128) -> DelayIndicator {
        DelayIndicator {
            numerator,
            denominator,
        }
    }

    pub fn sums(&self) -> (i128, i128) {
        (self.numerator, self.denominator)
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
