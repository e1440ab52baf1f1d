//! Who pays whom and how much, as laws over the participants' sizes:
//! gravity weights, the size factor of a payment's amount, and the mean
//! amount of an instrument's law. Shared by the stream, which draws from
//! them, and the city, which sets liquidity from their expectations.

use crate::config::{Instrument, Pair};

/// Who pays whom in an instrument's stream: by gravity of an exponent
/// over the banks' sizes, or by observed pairs.
#[derive(Clone, Copy, Debug)]
pub enum Counterparties<'a> {
    Gravity(f64),
    Pairs(&'a [Pair]),
}

impl<'a> Counterparties<'a> {
    pub fn of(instrument: &'a Instrument) -> Counterparties<'a> {
        if instrument.pairs.is_empty() {
            Counterparties::Gravity(instrument.concentration)
        } else {
            Counterparties::Pairs(&instrument.pairs)
        }
    }
}

/// Gravity weights size^c, computed on sizes relative to the largest so that
/// no exponent can underflow them all to zero (the largest weighs 1). A
/// participant of size 0 (the banks outside the city) weighs 0: it is never
/// drawn as a city bank.
pub fn gravity_weights(size: &[f64], concentration: f64) -> Vec<f64> {
    let largest = size.iter().copied().fold(0.0f64, f64::max);
    size.iter()
        .map(|s| {
            if *s <= 0.0 {
                0.0
            } else if largest > 0.0 {
                libm::pow(s / largest, concentration)
            } else {
                1.0
            }
        })
        .collect()
}

/// Amounts scale with the size of the smaller bank of a payment: the law's
/// draw times h(min(size_i, size_j))/E, with h(s) = (s/largest)^elasticity
/// and E the mean of h(min) over sender–receiver pairs drawn as the stream
/// draws them (gravity, i ≠ j, or the observed pairs), so the instrument's mean amount stays the
/// law's. A small bank's customers make small payments whoever they pay,
/// and i pays j as much as j pays i, on average. All 1 when the elasticity
/// is 0.
#[derive(Clone, Debug)]
pub struct PairScale {
    /// h(size)/E per participant; a pair's factor is the smaller one's.
    factor: Vec<f64>,
}

impl PairScale {
    pub fn new(size: &[f64], instrument: &Instrument) -> PairScale {
        let elasticity = instrument.amount.size_elasticity;
        if elasticity == 0.0 || size.len() < 2 {
            return PairScale {
                factor: vec![1.0; size.len()],
            };
        }
        let cross_city = instrument.cross_city.is_some();
        let mean = mean_pair_factor(size, Counterparties::of(instrument), elasticity, cross_city);
        let h = gravity_weights(size, elasticity);
        PairScale {
            factor: h
                .iter()
                .zip(size)
                .map(|(h, &s)| {
                    if cross_city && s <= 0.0 {
                        // The banks outside never make the amount smaller.
                        f64::INFINITY
                    } else {
                        h / mean
                    }
                })
                .collect(),
        }
    }

    /// The factor of a participant's own payments (cross-city ones).
    pub fn own(&self, participant: usize) -> f64 {
        self.factor[participant].min(1e300)
    }

    /// The factor of a payment between `sender` and `receiver`.
    #[inline]
    pub fn of(&self, sender: u32, receiver: u32) -> f64 {
        self.factor[sender as usize].min(self.factor[receiver as usize])
    }

    /// Per participant: the mean factor of its payments, over receivers
    /// drawn by gravity.
    pub fn mean_as_sender(&self, weights: &[f64]) -> Vec<f64> {
        let total: f64 = weights.iter().sum();
        min_weighted_sums(weights, &self.factor)
            .iter()
            .zip(weights)
            .map(|(sum, w)| {
                let others = total - w;
                if others > 0.0 { sum / others } else { 1.0 }
            })
            .collect()
    }
}

/// E, the mean of h(min(size_i, size_j)) = (min/largest)^elasticity over
/// the pairs the stream draws: by gravity, i ≠ j; cross-city, one city
/// bank drawn by gravity, whose own h counts (the banks outside, of size
/// 0, never make an amount smaller); or the observed pairs, each by its
/// weight. 1 when it is not a positive number. `fit` divides observed
/// amounts by h/E with the same E the stream multiplies by.
pub fn mean_pair_factor(
    size: &[f64],
    counterparties: Counterparties<'_>,
    elasticity: f64,
    cross_city: bool,
) -> f64 {
    let h = gravity_weights(size, elasticity);
    let concentration = match counterparties {
        Counterparties::Gravity(concentration) => concentration,
        Counterparties::Pairs(pairs) => return positive_or_one(mean_over_pairs(pairs, &h)),
    };
    let w = gravity_weights(size, concentration);
    let total: f64 = w.iter().sum();
    let mean = if cross_city {
        w.iter().zip(&h).map(|(w, h)| w * h).sum::<f64>() / total
    } else {
        // Σ over j ≠ i of w(j)·h(min(i, j)), for each i, by sorted sums.
        let within = min_weighted_sums(&w, &h);
        let pairs: f64 = w.iter().zip(&within).map(|(wi, s)| wi * s).sum();
        let weight: f64 = w.iter().map(|wi| wi * (total - wi)).sum();
        pairs / weight
    };
    positive_or_one(mean)
}

/// Σ weight·h(min(sender, receiver)) / Σ weight over observed pairs.
fn mean_over_pairs(pairs: &[Pair], h: &[f64]) -> f64 {
    let (mut sum, mut weight) = (0.0, 0.0);
    for p in pairs {
        sum += p.weight * h[p.sender as usize].min(h[p.receiver as usize]);
        weight += p.weight;
    }
    sum / weight
}

fn positive_or_one(mean: f64) -> f64 {
    if mean > 0.0 && mean.is_finite() {
        mean
    } else {
        1.0
    }
}

/// For each i: Σ over j ≠ i of w(j)·min(h(i), h(j)), in O(n log n): sorted
/// by h, it is h(i)·(weight at or above i) + Σ below of w·h, less i itself.
fn min_weighted_sums(w: &[f64], h: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..w.len()).collect();
    order.sort_by(|&a, &b| h[a].total_cmp(&h[b]));
    let total: f64 = w.iter().sum();
    let mut out = vec![0.0; w.len()];
    let (mut below_wh, mut below_w) = (0.0, 0.0);
    let mut k = 0;
    // Equal h's form one group: none of them is "below" another.
    while k < order.len() {
        let mut end = k;
        while end < order.len() && h[order[end]] == h[order[k]] {
            end += 1;
        }
        for &i in &order[k..end] {
            out[i] = h[i] * (total - below_w) + below_wh - w[i] * h[i];
        }
        for &i in &order[k..end] {
            below_wh += w[i] * h[i];
            below_w += w[i];
        }
        k = end;
    }
    out
}

/// Mean amount of an instrument's law: log-normal body plus Pareto tail.
pub fn mean_amount_fen(instrument: &Instrument) -> f64 {
    let law = &instrument.amount;
    let body = law.median_fen * libm::exp(law.sigma * law.sigma / 2.0);
    let tail = pareto_mean(law.tail_min_fen, law.tail_max_fen, law.tail_alpha);
    (1.0 - law.tail_share) * body + law.tail_share * tail
}

/// Mean of a Pareto law of minimum `min`, exponent `alpha` > 1, truncated
/// at `max` (infinite: not truncated).
pub fn pareto_mean(min: f64, max: f64, alpha: f64) -> f64 {
    if !max.is_finite() {
        return alpha * min / (alpha - 1.0);
    }
    let ratio = libm::pow(min / max, alpha);
    alpha / (alpha - 1.0) * min * (1.0 - libm::pow(min / max, alpha - 1.0)) / (1.0 - ratio)
}
