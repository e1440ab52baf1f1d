//! The synthetic payment stream of one business day, generated on the fly in
//! time order: memory O(participants + instruments), never O(payments).
//!
//! Arrivals are a non-homogeneous Poisson process with piecewise-constant
//! rates: the day is cut into segments at every boundary of every
//! instrument's profile (and of cut-off bunching windows); within a segment
//! the superposed process has rate Λ = Σ λ_k, gaps are exponential with mean
//! 1/Λ, and each arrival's instrument is drawn with probability λ_k/Λ.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

use super::sampling::{AliasTable, QuantileTable, exponential_table, normal_inverse_cdf, unit};
use crate::config::{Instrument, Scenario};
use crate::time::SimTime;

/// Flag in a generated payment's tag: the cheque will be dishonoured.
pub const TAG_DISHONOURED: u16 = 0x8000;
/// Flag in a payment's tag: a returned (dishonoured) cheque.
pub const TAG_RETURN: u16 = 0x4000;
/// Mask of the instrument index in a tag.
pub const TAG_INSTRUMENT: u16 = 0x3FFF;

/// One generated payment (before the engine assigns its key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Generated {
    pub submit: SimTime,
    pub sender: u32,
    pub receiver: u32,
    pub amount_fen: i64,
    pub priority: u8,
    pub tag: u16,
}

/// Per-instrument sampling tables, built once per run.
#[derive(Clone, Debug)]
pub struct InstrumentTables {
    counterparties: AliasTable,
    body_fen: QuantileTable,
    tail_share_bits: u64,
    tail_min_fen: f64,
    tail_inverse_alpha: f64,
    dishonour_bits: u64,
    priority: u8,
}

/// Everything the generator needs that does not change from day to day.
#[derive(Clone, Debug)]
pub struct StreamModel {
    instruments: Vec<InstrumentTables>,
    /// Segments `[from, to)` in ms, with each instrument's base rate per ms.
    segments: Vec<(f64, f64, Vec<f64>)>,
    exponential: QuantileTable,
    day_end: SimTime,
}

/// Probability `p` as a threshold on 64-bit draws.
fn threshold(p: f64) -> u64 {
    if p >= 1.0 {
        u64::MAX
    } else {
        (p.max(0.0) * 18_446_744_073_709_551_616.0) as u64
    }
}

impl StreamModel {
    /// `size` is each participant's relative size; `cycles_of[k]` the cycle
    /// times of instrument k's channel (for cut-off bunching).
    pub fn new(scenario: &Scenario, size: &[f64], cycles_of: &[Vec<SimTime>]) -> StreamModel {
        let instruments = scenario
            .instruments
            .iter()
            .map(|instrument| {
                let weights = super::city::gravity_weights(size, instrument.concentration);
                let law = &instrument.amount;
                let (median, sigma) = (law.median_fen, law.sigma);
                InstrumentTables {
                    counterparties: AliasTable::new(&weights),
                    body_fen: QuantileTable::new(|u| {
                        median * libm::exp(sigma * normal_inverse_cdf(u))
                    }),
                    tail_share_bits: threshold(law.tail_share),
                    tail_min_fen: law.tail_min_fen,
                    tail_inverse_alpha: 1.0 / law.tail_alpha,
                    dishonour_bits: threshold(instrument.dishonour_rate),
                    priority: instrument.priority,
                }
            })
            .collect();
        let segments = segments(&scenario.instruments, cycles_of, scenario.day_end);
        StreamModel {
            instruments,
            segments,
            exponential: exponential_table(),
            day_end: scenario.day_end,
        }
    }

    /// The stream of day `day` (0-based) with volumes scaled by `volume`.
    pub fn day(&self, seed: u64, day: u32, volume: f64) -> DayStream<'_> {
        // Days get independent streams: the seed is mixed with the day.
        let mixed = seed ^ u64::from(day).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut stream = DayStream {
            model: self,
            rng: Pcg64Mcg::seed_from_u64(mixed),
            volume,
            segment: 0,
            now_ms: 0.0,
            chooser: None,
            total_rate: 0.0,
        };
        stream.enter_segment();
        stream
    }

    pub fn day_end(&self) -> SimTime {
        self.day_end
    }
}

/// Cuts the day into segments where every instrument's rate is constant and
/// returns each instrument's rate per ms (normalised to its daily count).
fn segments(
    instruments: &[Instrument],
    cycles_of: &[Vec<SimTime>],
    day_end: SimTime,
) -> Vec<(f64, f64, Vec<f64>)> {
    let end = f64::from(day_end.ms());
    let mut cuts: Vec<f64> = vec![0.0, end];
    for (k, instrument) in instruments.iter().enumerate() {
        for segment in &instrument.profile {
            cuts.push(f64::from(segment.from.ms()));
            cuts.push(f64::from(segment.to.ms()));
        }
        if let Some((minutes, _)) = instrument.cutoff_bunching {
            for cycle in &cycles_of[k] {
                let at = f64::from(cycle.ms());
                cuts.push((at - f64::from(minutes) * 60_000.0).max(0.0));
                cuts.push(at);
            }
        }
    }
    cuts.retain(|&c| c <= end);
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    // Weight density of instrument k at time t (profile × bunching).
    let density = |k: usize, t: f64| -> f64 {
        let instrument = &instruments[k];
        let base: f64 = instrument
            .profile
            .iter()
            .filter(|s| f64::from(s.from.ms()) <= t && t < f64::from(s.to.ms()))
            .map(|s| s.weight)
            .sum();
        let bunched = instrument.cutoff_bunching.is_some_and(|(minutes, _)| {
            cycles_of[k].iter().any(|c| {
                let at = f64::from(c.ms());
                at - f64::from(minutes) * 60_000.0 <= t && t < at
            })
        });
        match instrument.cutoff_bunching {
            Some((_, factor)) if bunched => base * factor,
            _ => base,
        }
    };
    let pieces: Vec<(f64, f64)> = cuts
        .windows(2)
        .map(|w| (w[0], w[1]))
        .filter(|(a, b)| b > a)
        .collect();
    let mut out: Vec<(f64, f64, Vec<f64>)> = pieces
        .iter()
        .map(|&(a, b)| (a, b, vec![0.0; instruments.len()]))
        .collect();
    for (k, instrument) in instruments.iter().enumerate() {
        let mass: f64 = pieces.iter().map(|&(a, b)| density(k, a) * (b - a)).sum();
        if mass <= 0.0 {
            continue;
        }
        for (piece, &(a, _)) in out.iter_mut().zip(&pieces) {
            piece.2[k] = instrument.daily_count * density(k, a) / mass;
        }
    }
    out
}

/// One day's arrivals, in time order.
pub struct DayStream<'m> {
    model: &'m StreamModel,
    rng: Pcg64Mcg,
    volume: f64,
    segment: usize,
    now_ms: f64,
    chooser: Option<AliasTable>,
    total_rate: f64,
}

impl DayStream<'_> {
    /// Prepares the instrument chooser of the current segment.
    fn enter_segment(&mut self) {
        while let Some((from, _, rates)) = self.model.segments.get(self.segment) {
            let total: f64 = rates.iter().sum::<f64>() * self.volume;
            self.now_ms = self.now_ms.max(*from);
            if total > 0.0 {
                self.total_rate = total;
                self.chooser = Some(AliasTable::new(rates));
                return;
            }
            self.segment += 1;
        }
        self.chooser = None;
    }

    fn draw_amount(&mut self, tables: &InstrumentTables) -> i64 {
        let bits = self.rng.next_u64();
        let fen = if bits < tables.tail_share_bits {
            // Pareto tail: x_m · u^(−1/α).
            let u = 1.0 - unit(&mut self.rng);
            tables.tail_min_fen * libm::pow(u, -tables.tail_inverse_alpha)
        } else {
            tables.body_fen.sample(self.rng.next_u64())
        };
        fen.clamp(1.0, 1e13).round() as i64
    }
}

impl Iterator for DayStream<'_> {
    type Item = Generated;

    fn next(&mut self) -> Option<Generated> {
        // Bounded: each turn either yields or moves to the next segment.
        loop {
            let chooser = self.chooser.as_ref()?;
            let (_, to, _) = self.model.segments[self.segment];
            let gap = self.model.exponential.sample(self.rng.next_u64()) / self.total_rate;
            self.now_ms += gap;
            if self.now_ms >= to {
                self.now_ms = to;
                self.segment += 1;
                self.enter_segment();
                continue;
            }
            let k = chooser.sample(self.rng.next_u64()) as usize;
            let tables = &self.model.instruments[k];
            let sender = tables.counterparties.sample(self.rng.next_u64());
            let mut receiver = tables.counterparties.sample(self.rng.next_u64());
            // Gravity without self-payments: redraw; after a few tries take
            // the next participant (only matters when one bank dominates).
            let mut tries = 0;
            while receiver == sender {
                tries += 1;
                receiver = if tries < 8 {
                    tables.counterparties.sample(self.rng.next_u64())
                } else {
                    (sender + 1) % tables.counterparties.len() as u32
                };
            }
            let amount_fen = self.draw_amount(tables);
            let dishonoured =
                tables.dishonour_bits > 0 && self.rng.next_u64() < tables.dishonour_bits;
            let tag = k as u16 | if dishonoured { TAG_DISHONOURED } else { 0 };
            let submit = SimTime((self.now_ms as u32).min(self.model.day_end.ms()));
            return Some(Generated {
                submit,
                sender,
                receiver,
                amount_fen,
                priority: tables.priority,
                tag,
            });
        }
    }
}
