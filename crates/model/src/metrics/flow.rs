//! The statistics of one flow of payments (a channel, an instrument, a
//! strategy in a compare): counts, values, in-transit times, the delay
//! indicator, what was held and when value settled through the day.
//!
//! [`FlowStats`] accumulates during a run; [`FlowReport`] is what is saved.
//! Every derived figure is computed in one place, [`FlowReport::derive`],
//! for one run and for pooled runs alike, and reports pool exactly
//! ([`FlowReport::pool`]): counts, sums, histograms and timelines add.

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};

use super::{DelayIndicator, DelayRecorder, DelayStats};
use clearsim_core::time::SimTime;

/// Width of a timeline bucket: 15 minutes.
pub const BUCKET_MS: u32 = 15 * 60_000;
const BUCKETS: usize = (clearsim_core::time::DAY_MS / BUCKET_MS) as usize;

/// Counts, values and times of one flow, accumulated as a run goes.
#[derive(Clone, Debug)]
pub struct FlowStats {
    counts: FlowCounts,
    in_transit: DelayRecorder,
    /// Σ amount · in-transit time, and Σ amount, of payments whose funds
    /// became available: the value-weighted mean in-transit time.
    transit_weighted: i128,
    transit_value: i128,
    indicator: DelayIndicator,
    held: u64,
    held_fen: i64,
    timeline: Timeline,
}

impl Default for FlowStats {
    fn default() -> Self {
        FlowStats::new()
    }
}

impl FlowStats {
    pub fn new() -> FlowStats {
        FlowStats {
            counts: FlowCounts::default(),
            in_transit: DelayRecorder::new(),
            transit_weighted: 0,
            transit_value: 0,
            indicator: DelayIndicator::new(),
            held: 0,
            held_fen: 0,
            timeline: Timeline::new(),
        }
    }

    pub fn counts(&self) -> &FlowCounts {
        &self.counts
    }

    /// A payment of the flow entered its channel (or was given and never
    /// could enter).
    #[inline]
    pub fn arrived(&mut self, amount_fen: i64) {
        self.counts.payments += 1;
        self.counts.value_fen += amount_fen;
        self.held += 1;
        self.held_fen += amount_fen;
    }

    /// It settled at `at`, `delay_ms` after its order; `worst_ms` is the
    /// delay it would have had unsettled (day end − order).
    #[inline]
    pub fn settled(&mut self, amount_fen: i64, at: SimTime, delay_ms: u32, worst_ms: u32) {
        self.counts.settled += 1;
        self.counts.settled_value_fen += amount_fen;
        self.held -= 1;
        self.held_fen -= amount_fen;
        self.indicator.add(amount_fen, delay_ms, worst_ms);
        let bucket = &mut self.timeline.settled_value_fen[Timeline::bucket(at)];
        *bucket = bucket.saturating_add(amount_fen);
    }

    /// Its funds became available to the payee `transit_ms` after the order.
    #[inline]
    pub fn available(&mut self, amount_fen: i64, transit_ms: u32) {
        self.in_transit.record(transit_ms);
        self.transit_weighted += i128::from(amount_fen) * i128::from(transit_ms);
        self.transit_value += i128::from(amount_fen);
    }

    /// A settled cheque was dishonoured: returned, never available.
    pub fn dishonoured(&mut self) {
        self.counts.dishonoured += 1;
    }

    /// Still pending when the run ends, with no session left for it today.
    pub fn carried_past_the_end(&mut self, amount_fen: i64) {
        self.counts.carried += 1;
        self.counts.carried_value_fen += amount_fen;
        self.held -= 1;
        self.held_fen -= amount_fen;
    }

    pub fn unsettled(&mut self, amount_fen: i64, worst_ms: u32) {
        self.counts.unsettled += 1;
        self.counts.unsettled_value_fen += amount_fen;
        self.held -= 1;
        self.held_fen -= amount_fen;
        self.indicator.add(amount_fen, worst_ms, worst_ms);
    }

    /// The instant `at` is over: what is held now was held since the last.
    pub fn instant_closed(&mut self, at: SimTime) {
        self.counts.peak_queued = self.counts.peak_queued.max(self.held);
        self.counts.peak_queued_value_fen = self.counts.peak_queued_value_fen.max(self.held_fen);
        self.timeline.held_until(at, self.held_fen);
    }

    /// The timeline bucket of instant `at` (a caller that closes many
    /// flows can skip those whose held value has not changed within one
    /// bucket: closing them again changes nothing).
    pub fn bucket_of(at: SimTime) -> usize {
        Timeline::bucket(at)
    }

    /// The day is over (after its close): the timeline starts afresh.
    pub fn new_day(&mut self) {
        self.timeline.last_bucket = None;
    }

    /// The reported figures of this flow.
    pub fn report(&self) -> FlowReport {
        let (delay_weighted, delay_weight) = self.indicator.sums();
        let sums = FlowSums {
            delay_weighted,
            delay_weight,
            transit_weighted: self.transit_weighted,
            transit_value: self.transit_value,
            transit_total_ms: self.in_transit.sum_ms,
            transit_max_ms: self.in_transit.max_ms,
        };
        FlowReport::derive(
            self.counts,
            sums,
            &self.in_transit.histogram,
            self.timeline.clone(),
        )
    }
}

/// Value settled, and the peak value queued or pending, in each 15-minute
/// bucket of the business day (summed, resp. the largest, over days).
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    pub bucket_ms: u32,
    pub settled_value_fen: Vec<i64>,
    pub peak_queued_value_fen: Vec<i64>,
    /// The bucket of the last instant end seen today.
    last_bucket: Option<usize>,
}

impl Timeline {
    /// A timeline as reported: its buckets, none of today's open.
    pub fn reported(
        bucket_ms: u32,
        settled_value_fen: Vec<i64>,
        peak_queued_value_fen: Vec<i64>,
    ) -> Timeline {
        Timeline {
            bucket_ms,
            settled_value_fen,
            peak_queued_value_fen,
            last_bucket: None,
        }
    }

    fn new() -> Timeline {
        Timeline {
            bucket_ms: BUCKET_MS,
            settled_value_fen: vec![0; BUCKETS],
            peak_queued_value_fen: vec![0; BUCKETS],
            last_bucket: None,
        }
    }

    fn bucket(at: SimTime) -> usize {
        ((at.ms() / BUCKET_MS) as usize).min(BUCKETS - 1)
    }

    /// `held_fen` was held from the last instant end until `at`.
    fn held_until(&mut self, at: SimTime, held_fen: i64) {
        let now = Timeline::bucket(at);
        let from = self.last_bucket.map_or(now, |b| b + 1);
        for peak in &mut self.peak_queued_value_fen[from.min(now)..=now] {
            *peak = (*peak).max(held_fen);
        }
        self.last_bucket = Some(now);
    }

    /// Adds another timeline (pooling runs).
    pub fn add(&mut self, other: &Timeline) {
        for (a, b) in self
            .settled_value_fen
            .iter_mut()
            .zip(&other.settled_value_fen)
        {
            *a = a.saturating_add(*b);
        }
        for (a, b) in self
            .peak_queued_value_fen
            .iter_mut()
            .zip(&other.peak_queued_value_fen)
        {
            *a = (*a).max(*b);
        }
    }
}

/// Counts and values of a flow (additive over runs, but for the peaks).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FlowCounts {
    pub payments: u64,
    pub value_fen: i64,
    pub settled: u64,
    pub settled_value_fen: i64,
    pub unsettled: u64,
    pub unsettled_value_fen: i64,
    pub dishonoured: u64,
    /// Still pending at the end of the run because no session was left for
    /// them that day (they would be exchanged the next business day):
    /// neither settled nor failed.
    pub carried: u64,
    pub carried_value_fen: i64,
    /// The most payments, and the most value, held at an instant's end.
    pub peak_queued: u64,
    pub peak_queued_value_fen: i64,
}

/// Flows that do not pool: their sums overflow, or a saved one holds an
/// unreadable histogram.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    #[error("pooled {0} overflow")]
    Overflow(&'static str),
    #[error("a summary holds an unreadable histogram")]
    Histogram,
    #[error("histograms do not pool: {0}")]
    Histograms(String),
    #[error("no flow to pool")]
    Nothing,
}

impl FlowCounts {
    fn pool(a: FlowCounts, b: FlowCounts) -> Result<FlowCounts, PoolError> {
        let value = |x: i64, y: i64| x.checked_add(y).ok_or(PoolError::Overflow("values (i64)"));
        let count = |x: u64, y: u64| x.checked_add(y).ok_or(PoolError::Overflow("counts (u64)"));
        Ok(FlowCounts {
            payments: count(a.payments, b.payments)?,
            value_fen: value(a.value_fen, b.value_fen)?,
            settled: count(a.settled, b.settled)?,
            settled_value_fen: value(a.settled_value_fen, b.settled_value_fen)?,
            unsettled: count(a.unsettled, b.unsettled)?,
            unsettled_value_fen: value(a.unsettled_value_fen, b.unsettled_value_fen)?,
            dishonoured: count(a.dishonoured, b.dishonoured)?,
            carried: count(a.carried, b.carried)?,
            carried_value_fen: value(a.carried_value_fen, b.carried_value_fen)?,
            peak_queued: a.peak_queued.max(b.peak_queued),
            peak_queued_value_fen: a.peak_queued_value_fen.max(b.peak_queued_value_fen),
        })
    }
}

/// The exact sums behind a flow's means and delay indicator, kept in the
/// summary so that runs pool exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FlowSums {
    /// Σ amount · delay, and Σ amount · (day end − order): the delay indicator.
    pub delay_weighted: i128,
    pub delay_weight: i128,
    /// Σ amount · in-transit time, and Σ amount, over payments made available.
    pub transit_weighted: i128,
    pub transit_value: i128,
    /// Σ in-transit time (ms) and its maximum.
    pub transit_total_ms: u128,
    pub transit_max_ms: u64,
}

impl FlowSums {
    fn pool(a: FlowSums, b: FlowSums) -> Result<FlowSums, PoolError> {
        let sum = |x: i128, y: i128| x.checked_add(y).ok_or(PoolError::Overflow("sums (i128)"));
        Ok(FlowSums {
            delay_weighted: sum(a.delay_weighted, b.delay_weighted)?,
            delay_weight: sum(a.delay_weight, b.delay_weight)?,
            transit_weighted: sum(a.transit_weighted, b.transit_weighted)?,
            transit_value: sum(a.transit_value, b.transit_value)?,
            transit_total_ms: a
                .transit_total_ms
                .checked_add(b.transit_total_ms)
                .ok_or(PoolError::Overflow("sums (u128)"))?,
            transit_max_ms: a.transit_max_ms.max(b.transit_max_ms),
        })
    }
}

/// In-transit times (ms): percentiles, max, mean and value-weighted mean.
#[derive(Clone, Debug, PartialEq)]
pub struct TransitReport {
    pub stats: DelayStats,
    pub value_weighted_mean: u64,
}

/// What is saved of a flow: its counts and sums, every derived figure, the
/// timeline and the in-transit histogram (HDR V2, base64), so that flows
/// pool exactly and percentiles are recomputed from the pooled payments.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowReport {
    pub counts: FlowCounts,
    pub in_transit_ms: TransitReport,
    pub delay_indicator: f64,
    pub sums: FlowSums,
    pub timeline: Timeline,
    pub in_transit_histogram: String,
}

impl FlowReport {
    /// Every derived figure of a flow, from its counts, sums and histogram:
    /// the one place they are computed (for a run and for pooled runs).
    pub fn derive(
        counts: FlowCounts,
        sums: FlowSums,
        histogram: &Histogram<u64>,
        timeline: Timeline,
    ) -> FlowReport {
        FlowReport {
            counts,
            in_transit_ms: TransitReport {
                stats: DelayStats::from_histogram(
                    histogram,
                    sums.transit_max_ms,
                    sums.transit_total_ms,
                ),
                value_weighted_mean: if sums.transit_value == 0 {
                    0
                } else {
                    ((sums.transit_weighted + sums.transit_value / 2) / sums.transit_value) as u64
                },
            },
            delay_indicator: DelayIndicator::from_sums(sums.delay_weighted, sums.delay_weight)
                .value(),
            sums,
            timeline,
            in_transit_histogram: encode_histogram(histogram),
        }
    }

    /// Two reports pooled: counts, sums, timelines and histograms add (peaks
    /// take the larger); every derived figure is recomputed.
    pub fn pool(&self, other: &FlowReport) -> Result<FlowReport, PoolError> {
        let mut histogram =
            decode_histogram(&self.in_transit_histogram).ok_or(PoolError::Histogram)?;
        let theirs = decode_histogram(&other.in_transit_histogram).ok_or(PoolError::Histogram)?;
        histogram
            .add(&theirs)
            .map_err(|e| PoolError::Histograms(format!("{e:?}")))?;
        let mut timeline = self.timeline.clone();
        timeline.add(&other.timeline);
        Ok(FlowReport::derive(
            FlowCounts::pool(self.counts, other.counts)?,
            FlowSums::pool(self.sums, other.sums)?,
            &histogram,
            timeline,
        ))
    }

    /// Share of the flow's value that settled, of what could have: the
    /// value carried past the end of the run had no session left (1 when
    /// there was nothing).
    pub fn settled_value_share(&self) -> f64 {
        let due = self.counts.value_fen - self.counts.carried_value_fen;
        if due <= 0 {
            1.0
        } else {
            self.counts.settled_value_fen as f64 / due as f64
        }
    }

    /// The in-transit histogram, decoded.
    pub fn histogram(&self) -> Option<Histogram<u64>> {
        decode_histogram(&self.in_transit_histogram)
    }
}

/// A histogram as HDR V2 bytes in base64 (empty if it cannot be written).
pub fn encode_histogram(histogram: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    // Serialising into memory cannot fail for a valid histogram; an empty
    // string marks the impossible case rather than aborting a report.
    if V2Serializer::new()
        .serialize(histogram, &mut bytes)
        .is_err()
    {
        return String::new();
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes a histogram written by [`encode_histogram`].
pub fn decode_histogram(text: &str) -> Option<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    Deserializer::new().deserialize(&mut bytes.as_slice()).ok()
}

impl clearsim_core::Blamed for PoolError {
    /// Flows from saved summaries that do not pool (a run's own flows always do: an experiment reports a failure of its own as a bug).
    fn blame(&self) -> clearsim_core::Blame {
        clearsim_core::Blame::User
    }
}
