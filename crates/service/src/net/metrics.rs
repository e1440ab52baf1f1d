//! What `clearsim serve --http` shows: counters the service's threads
//! store into atomics (the engine once per turn, the publisher once per
//! SETTLED), read by `/metrics` and the dashboard's sampler. Nobody waits
//! on anybody: plain atomic stores and loads, each with one writer.

use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, MetricEncoder};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use super::protocol::Reason;
use crate::live::Clock;

/// Upper bounds of the settlement-latency buckets, µs (1-2-5 per decade,
/// 10 µs to 10 s; then +Inf).
pub const LATENCY_BOUNDS_US: [u64; 19] = [
    10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000,
    500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000,
];
const BUCKETS: usize = LATENCY_BOUNDS_US.len() + 1;
/// Reasons of REJECTED, by code (1 to 8; 0 unused).
const REASONS: usize = 9;

/// The service's live figures.
#[derive(Debug)]
pub struct Metrics {
    /// The service's clock: latency is measured on it.
    pub clock: Clock,
    /// The gross channel's name (the series' label).
    pub channel: String,
    pub accepted: AtomicU64,
    pub settled: AtomicU64,
    pub settled_fen: AtomicI64,
    rejected: [AtomicU64; REASONS],
    pub queued: AtomicU64,
    pub queued_fen: AtomicI64,
    pub connections: AtomicUsize,
    /// Failed accepts of the bank listener (each retried after a wait).
    pub accept_errors: AtomicU64,
    /// Settlement latency: from the engine turn that accepted a payment
    /// to its SETTLED leaving for the connection (after the journal).
    latency_us: [AtomicU64; BUCKETS],
    latency_sum_us: AtomicU64,
}

impl Metrics {
    pub fn new(clock: Clock, channel: String) -> Metrics {
        Metrics {
            clock,
            channel,
            accepted: AtomicU64::new(0),
            settled: AtomicU64::new(0),
            settled_fen: AtomicI64::new(0),
            rejected: Default::default(),
            queued: AtomicU64::new(0),
            queued_fen: AtomicI64::new(0),
            connections: AtomicUsize::new(0),
            accept_errors: AtomicU64::new(0),
            latency_us: Default::default(),
            latency_sum_us: AtomicU64::new(0),
        }
    }

    /// From the engine thread (its only writer): a rejection.
    pub fn rejected(&self, reason: Reason) {
        let i = (reason as usize).min(REASONS - 1);
        self.rejected[i].fetch_add(1, Ordering::Relaxed);
    }

    /// From the publisher (its only writer): one settlement's latency.
    #[inline]
    pub fn record_latency_ns(&self, ns: u64) {
        let us = ns / 1000;
        let bucket = LATENCY_BOUNDS_US.partition_point(|&bound| bound < us);
        self.latency_us[bucket].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us.fetch_add(us, Ordering::Relaxed);
    }

    pub fn rejected_total(&self) -> u64 {
        self.rejected
            .iter()
            .map(|r| r.load(Ordering::Relaxed))
            .sum()
    }

    /// Settlements per latency bucket (not cumulative), as they stand.
    pub fn latency_buckets(&self) -> [u64; BUCKETS] {
        std::array::from_fn(|i| self.latency_us[i].load(Ordering::Relaxed))
    }
}

/// A latency percentile from bucket counts (not cumulative), µs: linear
/// within the bucket it falls in, as Prometheus's `histogram_quantile`;
/// the last finite bound for the +Inf bucket; `None` without data.
pub fn percentile_us(buckets: &[u64; BUCKETS], q: f64) -> Option<f64> {
    let total: u64 = buckets.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = q * total as f64;
    let mut below = 0u64;
    for (i, &count) in buckets.iter().enumerate() {
        if count > 0 && (below + count) as f64 >= rank {
            let Some(&upper) = LATENCY_BOUNDS_US.get(i) else {
                return Some(LATENCY_BOUNDS_US[BUCKETS - 2] as f64);
            };
            let lower = if i == 0 { 0 } else { LATENCY_BOUNDS_US[i - 1] };
            let within = ((rank - below as f64) / count as f64).clamp(0.0, 1.0);
            return Some(lower as f64 + within * (upper - lower) as f64);
        }
        below += count;
    }
    None
}

/// The latency histogram as Prometheus encodes one (seconds).
struct LatencyHistogram<'a>(&'a Metrics);

impl EncodeMetric for LatencyHistogram<'_> {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        // The encoder accumulates: it takes each bucket's own count.
        let counts = self.0.latency_buckets();
        let buckets: Vec<(f64, u64)> = counts
            .iter()
            .enumerate()
            .map(|(i, &count)| {
                let bound = LATENCY_BOUNDS_US
                    .get(i)
                    .map_or(f64::INFINITY, |&us| us as f64 / 1e6);
                (bound, count)
            })
            .collect();
        let total = counts.iter().sum();
        let sum_s = self.0.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        encoder.encode_histogram::<prometheus_client::encoding::NoLabelSet>(
            sum_s, total, &buckets, None,
        )
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

impl Collector for Metrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let channel = [("channel", self.channel.as_str())];
        let counters = [
            (
                "clearsim_accepted",
                "Instructions accepted",
                load(&self.accepted),
            ),
            ("clearsim_settled", "Payments settled", load(&self.settled)),
        ];
        for (name, help, value) in counters {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            ConstCounter::new(value).encode(family.encode_family(&channel)?)?;
        }
        let settled_fen = self.settled_fen.load(Ordering::Relaxed);
        let mut family = encoder.encode_descriptor(
            "clearsim_settled_fen",
            "Value settled, fen",
            None,
            MetricType::Counter,
        )?;
        ConstCounter::new(settled_fen.max(0) as u64).encode(family.encode_family(&channel)?)?;
        let mut family = encoder.encode_descriptor(
            "clearsim_rejected",
            "Instructions rejected, by reason",
            None,
            MetricType::Counter,
        )?;
        for reason in (1..REASONS as u16).filter_map(Reason::from_u16) {
            let labels = [
                ("channel", self.channel.as_str()),
                ("reason", reason.name()),
            ];
            let value = load(&self.rejected[reason as usize]);
            ConstCounter::new(value).encode(family.encode_family(&labels)?)?;
        }
        let gauges = [
            (
                "clearsim_queued",
                "Payments waiting in the queues",
                load(&self.queued) as i64,
            ),
            (
                "clearsim_queued_fen",
                "Value waiting in the queues, fen",
                self.queued_fen.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, value) in gauges {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            ConstGauge::new(value).encode(family.encode_family(&channel)?)?;
        }
        self.encode_edge(&mut encoder)?;
        let mut family = encoder.encode_descriptor(
            "clearsim_settlement_latency_seconds",
            "From the engine turn that accepted a payment to its SETTLED leaving (after the journal)",
            None,
            MetricType::Histogram,
        )?;
        LatencyHistogram(self).encode(family.encode_family(&channel)?)
    }
}

impl Metrics {
    /// The edge's own figures, with no channel label: connections open
    /// and failed accepts.
    fn encode_edge(&self, encoder: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let connections = self.connections.load(Ordering::Relaxed) as i64;
        let family = encoder.encode_descriptor(
            "clearsim_connections",
            "Bank connections open",
            None,
            MetricType::Gauge,
        )?;
        ConstGauge::new(connections).encode(family)?;
        let family = encoder.encode_descriptor(
            "clearsim_accept_errors",
            "Failed accepts of the bank listener, each retried after a wait",
            None,
            MetricType::Counter,
        )?;
        ConstCounter::new(self.accept_errors.load(Ordering::Relaxed)).encode(family)
    }
}

/// `/metrics`: the Prometheus text format.
pub fn prometheus_text(metrics: &std::sync::Arc<Metrics>) -> String {
    let mut registry = prometheus_client::registry::Registry::default();
    registry.register_collector(Box::new(metrics.clone()));
    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_lands_in_its_bucket_and_percentiles_interpolate() {
        let m = Metrics::new(Clock::start(), "rtgs".into());
        m.record_latency_ns(15_000); // 15 µs: (10, 20]
        m.record_latency_ns(20_000); // 20 µs: (10, 20]
        m.record_latency_ns(999_000_000_000); // beyond 10 s: +Inf
        let b = m.latency_buckets();
        assert_eq!((b[1], b[BUCKETS - 1], b.iter().sum::<u64>()), (2, 1, 3));
        assert_eq!(percentile_us(&b, 0.5), Some(17.5));
        assert_eq!(percentile_us(&b, 1.0), Some(10_000_000.0));
        assert_eq!(percentile_us(&[0; BUCKETS], 0.5), None);
    }

    #[test]
    fn the_text_format_has_every_family() {
        let m = std::sync::Arc::new(Metrics::new(Clock::start(), "same-city-eft".into()));
        m.accepted.store(7, Ordering::Relaxed);
        m.rejected(Reason::QueueFull);
        m.record_latency_ns(3_000_000);
        let text = prometheus_text(&m);
        for line in [
            "clearsim_accepted_total{channel=\"same-city-eft\"} 7",
            "clearsim_rejected_total{channel=\"same-city-eft\",reason=\"queue_full\"} 1",
            "clearsim_settlement_latency_seconds_bucket{le=\"0.002\",channel=\"same-city-eft\"} 0",
            "clearsim_settlement_latency_seconds_bucket{le=\"0.005\",channel=\"same-city-eft\"} 1",
            "clearsim_settlement_latency_seconds_bucket{le=\"10.0\",channel=\"same-city-eft\"} 1",
            "clearsim_settlement_latency_seconds_bucket{le=\"+Inf\",channel=\"same-city-eft\"} 1",
            "clearsim_settlement_latency_seconds_count{channel=\"same-city-eft\"} 1",
            "clearsim_connections 0",
            "clearsim_accept_errors_total 0",
            "# EOF",
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
    }
}
