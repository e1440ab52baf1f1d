//! The synthetic payment stream of one business day, generated on the fly in
//! time order: memory O(participants + instruments), never O(payments).
//!
//! **Common random numbers.** The stream is a function of (scenario, seed,
//! day) alone: nothing about the channels or the strategy under test enters
//! it. Each instrument is its own non-homogeneous Poisson process with its
//! own PRNG, seeded from (seed, day, instrument name), so that adding an
//! instrument or changing a design changes no other instrument's draws.
//! Whether a cheque will be dishonoured is a hash of (seed, day, instrument
//! name, the cheque's number in its instrument's stream): it does not
//! depend on any other draw. Cut-off bunching follows the instrument's own
//! `cutoffs` (the clearing house's timetable in the scenario), never a
//! channel's cycles. The instruments' streams are merged by (time,
//! instrument index).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

use super::sampling::{AliasTable, QuantileTable, exponential_table, normal_inverse_cdf, unit};
use crate::config::{Direction, Instrument, Scenario};
use clearsim_core::ledger::{Marks, Payment};
use clearsim_core::time::SimTime;

// Every instrument index of a valid scenario fits a payment's.
const _: () = assert!(crate::config::MAX_INSTRUMENTS <= u16::MAX as usize + 1);

/// Separate PRNG streams per purpose.
const PURPOSE_ARRIVALS: u64 = 1;
const PURPOSE_DISHONOUR: u64 = 2;

/// SplitMix64's finaliser: a portable, well-mixed 64-bit hash step.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A key from several parts, each mixed in turn.
#[inline]
pub fn key_of(parts: &[u64]) -> u64 {
    parts.iter().fold(0, |h, &p| mix(h ^ p))
}

/// FNV-1a of a name: instruments are keyed by name, not position.
fn name_key(name: &str) -> u64 {
    name.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

/// Everything needed to draw one instrument's payments.
#[derive(Clone, Debug)]
struct InstrumentModel {
    name_key: u64,
    counterparties: Draw,
    body_fen: QuantileTable,
    tail_share_bits: u64,
    tail_min_fen: f64,
    tail_inverse_alpha: f64,
    /// 1 − (min/max)^α: the share of the untruncated tail's mass kept.
    tail_kept: f64,
    /// No amount exceeds this, after scaling by size either.
    max_fen: f64,
    dishonour_bits: u64,
    priority: u8,
    /// Cross-city: the direction; one city bank is drawn, the other side
    /// is the banks outside, the participant right after the city's.
    cross_city: Option<Direction>,
    /// The city's banks: participants `0..banks` (the outside, if any, is
    /// participant `banks`).
    banks: u32,
    /// How amounts scale with the two banks' sizes.
    scale: super::amounts::PairScale,
    /// Pieces `[from, to)` of the day (ms) with the arrival rate per ms at
    /// volume 1, covering `[0, day_end)`.
    segments: Vec<(f64, f64, f64)>,
    /// The same payments every day (the instrument draws none then).
    fixed: Vec<crate::config::behaviour::FixedPayment>,
}

/// How an instrument draws its sender and receiver.
#[derive(Clone, Debug)]
enum Draw {
    /// Each side by gravity weights over the participants.
    Gravity(AliasTable),
    /// One of the observed pairs, by weight.
    Pairs {
        table: AliasTable,
        pairs: Vec<(u32, u32)>,
    },
}

impl Draw {
    fn new(size: &[f64], instrument: &crate::config::Instrument) -> Draw {
        if instrument.pairs.is_empty() {
            let weights = super::amounts::gravity_weights(size, instrument.concentration);
            return Draw::Gravity(AliasTable::new(&weights));
        }
        let weights: Vec<f64> = instrument.pairs.iter().map(|p| p.weight).collect();
        Draw::Pairs {
            table: AliasTable::new(&weights),
            pairs: instrument
                .pairs
                .iter()
                .map(|p| (p.sender, p.receiver))
                .collect(),
        }
    }
}

/// Everything the generator needs that does not change from day to day.
#[derive(Clone, Debug)]
pub struct StreamModel {
    instruments: Vec<InstrumentModel>,
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
    /// `size` is each participant's relative size.
    pub fn new(scenario: &Scenario, size: &[f64]) -> StreamModel {
        let instruments = scenario
            .instruments
            .iter()
            .map(|instrument| {
                let law = &instrument.amount;
                let (median, sigma) = (law.median_fen, law.sigma);
                InstrumentModel {
                    name_key: name_key(&instrument.name),
                    counterparties: Draw::new(size, instrument),
                    body_fen: QuantileTable::new(|u| {
                        median * libm::exp(sigma * normal_inverse_cdf(u))
                    }),
                    tail_share_bits: threshold(law.tail_share),
                    tail_min_fen: law.tail_min_fen,
                    tail_kept: 1.0 - libm::pow(law.tail_min_fen / law.tail_max_fen, law.tail_alpha),
                    max_fen: law.tail_max_fen,
                    tail_inverse_alpha: 1.0 / law.tail_alpha,
                    dishonour_bits: threshold(instrument.dishonour_rate),
                    priority: instrument.priority,
                    cross_city: instrument.cross_city.map(|c| c.direction),
                    banks: (size.len() - usize::from(scenario.has_cross_city())) as u32,
                    scale: super::amounts::PairScale::new(size, instrument),
                    segments: segments(instrument, scenario.day_end),
                    fixed: instrument.fixed.clone(),
                }
            })
            .collect();
        StreamModel {
            instruments,
            exponential: exponential_table(),
            day_end: scenario.day_end,
        }
    }

    /// The stream of day `day` (0-based) with volumes scaled by `volume`.
    pub fn day(&self, seed: u64, day: u32, volume: f64) -> DayStream<'_> {
        let streams: Vec<SubStream> = self
            .instruments
            .iter()
            .map(|instrument| SubStream {
                rng: Pcg64Mcg::seed_from_u64(key_of(&[
                    seed,
                    u64::from(day),
                    instrument.name_key,
                    PURPOSE_ARRIVALS,
                ])),
                dishonour_key: key_of(&[
                    seed,
                    u64::from(day),
                    instrument.name_key,
                    PURPOSE_DISHONOUR,
                ]),
                segment: 0,
                now_ms: 0.0,
                number: 0,
            })
            .collect();
        let mut stream = DayStream {
            model: self,
            streams,
            volume,
            next: Vec::with_capacity(self.instruments.len()),
            heap: BinaryHeap::with_capacity(self.instruments.len()),
        };
        for k in 0..self.instruments.len() {
            let first = stream.draw(k);
            stream.next.push(first);
            if self.instruments.len() > SCAN_MERGE
                && let Some(g) = first
            {
                stream.heap.push(Reverse((g.submit, k as u32)));
            }
        }
        stream
    }

    pub fn day_end(&self) -> SimTime {
        self.day_end
    }

    /// Expected payments of a day at volume 1, all instruments: the
    /// integral of the rates over `[0, day_end)`.
    pub fn expected_per_day(&self) -> f64 {
        self.instruments
            .iter()
            .flat_map(|i| &i.segments)
            .map(|&(from, to, rate)| (to - from) * rate)
            .sum()
    }
}

/// Cuts `[0, day_end)` into pieces where the instrument's rate is constant
/// and returns each piece with its rate per ms (normalised to the daily
/// count): the profile's weights, times the bunching factor in the window
/// before each of the instrument's cut-offs.
fn segments(instrument: &Instrument, day_end: SimTime) -> Vec<(f64, f64, f64)> {
    let end = f64::from(day_end.ms());
    let mut cuts: Vec<f64> = vec![0.0, end];
    for segment in &instrument.profile {
        cuts.push(f64::from(segment.from.ms()));
        cuts.push(f64::from(segment.to.ms()));
    }
    if let Some(bunching) = &instrument.cutoff_bunching {
        for cutoff in &bunching.cutoffs {
            let at = f64::from(cutoff.ms());
            cuts.push((at - f64::from(bunching.minutes) * 60_000.0).max(0.0));
            cuts.push(at);
        }
    }
    cuts.retain(|&c| c <= end);
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    let density = |t: f64| -> f64 {
        let base: f64 = instrument
            .profile
            .iter()
            .filter(|s| f64::from(s.from.ms()) <= t && t < f64::from(s.to.ms()))
            .map(|s| s.weight)
            .sum();
        match &instrument.cutoff_bunching {
            Some(b)
                if b.cutoffs.iter().any(|c| {
                    let at = f64::from(c.ms());
                    at - f64::from(b.minutes) * 60_000.0 <= t && t < at
                }) =>
            {
                base * b.factor
            }
            _ => base,
        }
    };
    let pieces: Vec<(f64, f64)> = cuts
        .windows(2)
        .map(|w| (w[0], w[1]))
        .filter(|(a, b)| b > a)
        .collect();
    let mass: f64 = pieces.iter().map(|&(a, b)| density(a) * (b - a)).sum();
    pieces
        .iter()
        .map(|&(a, b)| {
            let rate = if mass > 0.0 {
                instrument.daily_count * density(a) / mass
            } else {
                0.0
            };
            (a, b, rate)
        })
        .collect()
}

/// One instrument's position in its own stream.
struct SubStream {
    rng: Pcg64Mcg,
    dishonour_key: u64,
    segment: usize,
    now_ms: f64,
    /// How many payments it has drawn today (the cheque's number).
    number: u64,
}

/// One day's arrivals, in time order (their keys are given by the
/// scheduler that takes them).
pub struct DayStream<'m> {
    model: &'m StreamModel,
    streams: Vec<SubStream>,
    volume: f64,
    /// Each instrument's next payment, if any.
    next: Vec<Option<Payment>>,
    /// (time, instrument) of each pending next payment: the merge, when
    /// there are more instruments than a scan handles faster.
    heap: BinaryHeap<Reverse<(SimTime, u32)>>,
}

impl DayStream<'_> {
    /// Draws instrument `k`'s next payment, or `None` when its day is over.
    #[inline]
    fn draw(&mut self, k: usize) -> Option<Payment> {
        let model = &self.model.instruments[k];
        let exponential = &self.model.exponential;
        let stream = &mut self.streams[k];
        if !model.fixed.is_empty() {
            let fixed = model.fixed.get(stream.number as usize)?;
            stream.number += 1;
            return Some(Payment {
                priority: model.priority,
                instrument: k as u16,
                ..Payment::new(fixed.at, fixed.sender, fixed.receiver, fixed.amount_fen)
            });
        }
        // Bounded: each turn either yields or moves to the next segment.
        loop {
            let &(_, to, rate) = model.segments.get(stream.segment)?;
            let rate = rate * self.volume;
            if rate <= 0.0 {
                stream.now_ms = to;
                stream.segment += 1;
                continue;
            }
            stream.now_ms += exponential.sample(stream.rng.next_u64()) / rate;
            if stream.now_ms >= to {
                // Memoryless: the next segment starts afresh at its start.
                stream.now_ms = to;
                stream.segment += 1;
                continue;
            }
            let (sender, receiver) = draw_pair(model, &mut stream.rng);
            let amount_fen = draw_amount(model, sender, receiver, &mut stream.rng);
            let number = stream.number;
            stream.number += 1;
            let dishonoured = model.dishonour_bits > 0
                && key_of(&[stream.dishonour_key, number]) < model.dishonour_bits;
            let submit = SimTime((stream.now_ms as u32).min(self.model.day_end.ms()));
            return Some(Payment {
                priority: model.priority,
                instrument: k as u16,
                marks: if dishonoured {
                    Marks::DISHONOURED
                } else {
                    Marks::NONE
                },
                ..Payment::new(submit, sender, receiver, amount_fen)
            });
        }
    }
}

/// Sender and receiver: by gravity among the city's banks, without
/// self-payments (redraw; after a few tries take the next participant, which
/// only matters when one bank dominates); or, cross-city, one city bank and
/// the banks outside; or one observed pair (one draw).
#[inline]
fn draw_pair(model: &InstrumentModel, rng: &mut Pcg64Mcg) -> (u32, u32) {
    let gravity = match &model.counterparties {
        Draw::Gravity(table) => table,
        Draw::Pairs { table, pairs } => return pairs[table.sample(rng.next_u64()) as usize],
    };
    let sender = gravity.sample(rng.next_u64());
    match model.cross_city {
        Some(Direction::Out) => return (sender, model.banks),
        Some(Direction::In) => return (model.banks, sender),
        None => {}
    }
    let mut receiver = gravity.sample(rng.next_u64());
    let mut tries = 0;
    while receiver == sender {
        tries += 1;
        receiver = if tries < 8 {
            gravity.sample(rng.next_u64())
        } else {
            (sender + 1) % model.banks.max(1)
        };
    }
    (sender, receiver)
}

fn draw_amount(model: &InstrumentModel, sender: u32, receiver: u32, rng: &mut Pcg64Mcg) -> i64 {
    let bits = rng.next_u64();
    let fen = if bits < model.tail_share_bits {
        // Pareto tail, truncated: x_m · (1 − v·kept)^(−1/α) for v in [0, 1)
        // (kept = 1 untruncated: the plain x_m · u^(−1/α)).
        let u = 1.0 - unit(rng) * model.tail_kept;
        model.tail_min_fen * libm::pow(u, -model.tail_inverse_alpha)
    } else {
        model.body_fen.sample(rng.next_u64())
    };
    let factor = model.scale.of(sender, receiver);
    let fen = if factor == 1.0 {
        fen
    } else {
        (fen * factor).min(model.max_fen)
    };
    fen.clamp(1.0, 1e13).round() as i64
}

/// Up to this many instruments the merge scans them; beyond, a heap.
const SCAN_MERGE: usize = 8;

impl Iterator for DayStream<'_> {
    type Item = Payment;

    #[inline]
    fn next(&mut self) -> Option<Payment> {
        let k = if self.next.len() <= SCAN_MERGE {
            // The earliest by (time, instrument index): ties go to the lower
            // index, as in the heap.
            let mut best: Option<(SimTime, usize)> = None;
            for (k, g) in self.next.iter().enumerate() {
                if let Some(g) = g
                    && best.is_none_or(|(t, _)| g.submit < t)
                {
                    best = Some((g.submit, k));
                }
            }
            best?.1
        } else {
            let Reverse((_, k)) = self.heap.pop()?;
            k as usize
        };
        let out = self.next[k];
        let following = self.draw(k);
        self.next[k] = following;
        if self.next.len() > SCAN_MERGE
            && let Some(g) = following
        {
            self.heap.push(Reverse((g.submit, k as u32)));
        }
        out
    }
}
