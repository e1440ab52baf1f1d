//! The modelled banks: ids, sizes, opening balances and credit limits.

use crate::config::{Instrument, Population, Scenario};

/// Participants of a run, indexed as in the ledger.
#[derive(Clone, Debug, PartialEq)]
pub struct City {
    pub ids: Vec<String>,
    pub names: Vec<String>,
    pub categories: Vec<String>,
    /// Relative size (share of the city's deposits), summing to 1.
    pub size: Vec<f64>,
    pub opening_fen: Vec<i64>,
    pub credit_limit_fen: Vec<i64>,
}

impl City {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Zipf weights 1/(k+1)^s for k in 0..n, normalised to sum to `total`.
fn zipf(n: u32, exponent: f64, total: f64) -> Vec<f64> {
    let raw: Vec<f64> = (0..n)
        .map(|k| libm::pow(f64::from(k + 1), -exponent))
        .collect();
    let sum: f64 = raw.iter().sum();
    raw.iter().map(|w| w * total / sum).collect()
}

/// Builds the participants and sets their liquidity by the scenario's policy.
pub fn build_city(scenario: &Scenario) -> City {
    let mut city = City {
        ids: Vec::new(),
        names: Vec::new(),
        categories: Vec::new(),
        size: Vec::new(),
        opening_fen: Vec::new(),
        credit_limit_fen: Vec::new(),
    };
    match &scenario.population {
        Population::Roster {
            categories,
            within_category_exponent,
        } => {
            let total_share: f64 = categories.iter().map(|c| c.deposit_share).sum();
            for category in categories {
                let sizes = zipf(
                    category.count,
                    *within_category_exponent,
                    category.deposit_share / total_share,
                );
                for (k, size) in sizes.into_iter().enumerate() {
                    let id = category
                        .members
                        .get(k)
                        .cloned()
                        .unwrap_or_else(|| format!("{}-{}", category.id, k + 1));
                    city.names.push(format!("{} {}", category.name, id));
                    city.ids.push(id);
                    city.categories.push(category.id.clone());
                    city.size.push(size);
                }
            }
        }
        Population::Synthetic { n, size_exponent } => {
            let width = n.to_string().len();
            for (k, size) in zipf(*n, *size_exponent, 1.0).into_iter().enumerate() {
                city.ids.push(format!("B{:0width$}", k + 1));
                city.names.push(format!("Synthetic bank {}", k + 1));
                city.categories.push("synthetic".into());
                city.size.push(size);
            }
        }
    }
    let outflow_fen = expected_daily_outflow_fen(scenario, &city.size);
    let liquidity = &scenario.liquidity;
    let need_fen = match liquidity.need_quantile {
        Some(q) => need_quantile_fen(scenario, &city.size, q, liquidity.need_days),
        None => vec![0.0; city.len()],
    };
    for (outflow, need) in outflow_fen.iter().zip(need_fen) {
        let opening = (liquidity.opening_share * outflow).max(need);
        city.opening_fen.push(to_fen(liquidity.scale * opening));
        city.credit_limit_fen
            .push(to_fen(liquidity.scale * liquidity.credit_share * outflow));
    }
    city
}

/// Calibration days are drawn from fixed seeds, never the study's: the
/// city (and so every replication's liquidity) is the same for every seed.
const CALIBRATION: u64 = 0xCA11_B8A7_E000_0000;

/// Per participant: the `quantile` of its daily need over `days`
/// calibration days of the scenario's stream (day 1 volumes). A day's need
/// is Σ over the scenario's channels of the opening balance that would
/// settle that channel's payments on arrival, in processing order: netting
/// or mixing channels never needs more, so a bank holding it is covered
/// whatever its channels' sessions do to the timing of its receipts.
fn need_quantile_fen(scenario: &Scenario, size: &[f64], quantile: f64, days: u32) -> Vec<f64> {
    let model = super::stream::StreamModel::new(scenario, size);
    let mut needs: Vec<Vec<i64>> = vec![Vec::with_capacity(days as usize); size.len()];
    for day in 0..days {
        let seed = super::stream::key_of(&[CALIBRATION, u64::from(day)]);
        let mut per_channel: Vec<crate::metrics::Positions> = scenario
            .channels
            .iter()
            .map(|_| crate::metrics::Positions::new(size.len()))
            .collect();
        for payment in model.day(seed, 0, 1.0) {
            let instrument = usize::from(payment.tag & super::stream::TAG_INSTRUMENT);
            per_channel[scenario.channel_of[instrument]].add(
                payment.sender,
                payment.receiver,
                payment.amount_fen,
            );
        }
        let mut total = vec![0i64; size.len()];
        for positions in &per_channel {
            for (sum, need) in total.iter_mut().zip(positions.participant_need_fen()) {
                *sum = sum.saturating_add(need);
            }
        }
        for (list, need) in needs.iter_mut().zip(total) {
            list.push(need);
        }
    }
    let rank = ((quantile * f64::from(days)).ceil() as usize).clamp(1, days as usize) - 1;
    needs
        .into_iter()
        .map(|mut list| {
            list.sort_unstable();
            list[rank] as f64
        })
        .collect()
}

/// Rounds a non-negative amount to whole fen, capped so that sums stay far
/// from `i64::MAX`.
fn to_fen(value: f64) -> i64 {
    value.clamp(0.0, 1e15).round() as i64
}

/// Gravity weights size^c, computed on sizes relative to the largest so that
/// no exponent can underflow them all to zero (the largest weighs 1).
pub fn gravity_weights(size: &[f64], concentration: f64) -> Vec<f64> {
    let largest = size.iter().copied().fold(0.0f64, f64::max);
    size.iter()
        .map(|s| {
            if largest > 0.0 {
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
/// draws them (gravity, i ≠ j), so the instrument's mean amount stays the
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
        let w = gravity_weights(size, instrument.concentration);
        let h = gravity_weights(size, elasticity);
        let total: f64 = w.iter().sum();
        // Σ over j ≠ i of w(j)·h(min(i, j)), for each i, by sorted sums.
        let within = min_weighted_sums(&w, &h);
        let pairs: f64 = w.iter().zip(&within).map(|(wi, s)| wi * s).sum();
        let weight: f64 = w.iter().map(|wi| wi * (total - wi)).sum();
        let mean = pairs / weight;
        let mean = if mean > 0.0 && mean.is_finite() {
            mean
        } else {
            1.0
        };
        PairScale {
            factor: h.iter().map(|x| x / mean).collect(),
        }
    }

    /// The factor of a payment between `sender` and `receiver`.
    #[inline]
    pub fn of(&self, sender: u32, receiver: u32) -> f64 {
        self.factor[sender as usize].min(self.factor[receiver as usize])
    }

    /// Per participant: the mean factor of its payments, over receivers
    /// drawn by gravity.
    fn mean_as_sender(&self, weights: &[f64]) -> Vec<f64> {
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

/// Expected value each participant pays out on the first day: Σ over
/// instruments of count × mean amount × the participant's chance of being
/// the sender (its gravity weight).
pub fn expected_daily_outflow_fen(scenario: &Scenario, size: &[f64]) -> Vec<f64> {
    let mut outflow = vec![0.0; size.len()];
    for instrument in &scenario.instruments {
        let weights = gravity_weights(size, instrument.concentration);
        let multipliers = PairScale::new(size, instrument).mean_as_sender(&weights);
        let total: f64 = weights.iter().sum();
        let value = instrument.daily_count * mean_amount_fen(instrument);
        for ((out, weight), m) in outflow.iter_mut().zip(&weights).zip(&multipliers) {
            *out += value * weight * m / total;
        }
    }
    outflow
}
