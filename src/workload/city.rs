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
    for outflow in outflow_fen {
        city.opening_fen
            .push(to_fen(liquidity.scale * liquidity.opening_share * outflow));
        city.credit_limit_fen
            .push(to_fen(liquidity.scale * liquidity.credit_share * outflow));
    }
    city
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

/// Mean amount of an instrument's law: log-normal body plus Pareto tail.
pub fn mean_amount_fen(instrument: &Instrument) -> f64 {
    let law = &instrument.amount;
    let body = law.median_fen * libm::exp(law.sigma * law.sigma / 2.0);
    let tail = law.tail_alpha * law.tail_min_fen / (law.tail_alpha - 1.0);
    (1.0 - law.tail_share) * body + law.tail_share * tail
}

/// Expected value each participant pays out on the first day: Σ over
/// instruments of count × mean amount × the participant's chance of being
/// the sender (its gravity weight).
pub fn expected_daily_outflow_fen(scenario: &Scenario, size: &[f64]) -> Vec<f64> {
    let mut outflow = vec![0.0; size.len()];
    for instrument in &scenario.instruments {
        let weights = gravity_weights(size, instrument.concentration);
        let total: f64 = weights.iter().sum();
        let value = instrument.daily_count * mean_amount_fen(instrument);
        for (out, weight) in outflow.iter_mut().zip(&weights) {
            *out += value * weight / total;
        }
    }
    outflow
}
