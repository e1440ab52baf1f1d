//! Who pays whom, fitted: the sizes the scenario gives the banks, the
//! gravity exponent of each instrument's counterparties, and how its
//! amounts scale with the smaller bank's size.

use super::Sized;
use crate::config::Pair;
use crate::input::Day;

/// Exponents are fitted within the scenario's range (docs/config.md).
const MAX_EXPONENT: f64 = crate::config::MAX_EXPONENT;
const MAX_ELASTICITY: f64 = 3.0;
/// No bank's share is below this (a roster's shares are positive).
const LEAST_SHARE: f64 = 1e-12;

/// The sizes the fitted scenario gives the city's banks (in `city`
/// order), as `build_city` computes them: each bank its observed share
/// (a category of its own); or, when the participants file groups them
/// in categories, each category its share split by Zipf within it, with
/// the exponent fitted (returned). Members are ranked by observed size.
pub(super) fn model_sizes(day: &Day, city: &[usize], observed: &[f64]) -> (Vec<f64>, Option<f64>) {
    let floored: Vec<f64> = observed.iter().map(|s| s.max(LEAST_SHARE)).collect();
    let groups = categories(day, city, observed);
    let Some(groups) = groups else {
        let total: f64 = floored.iter().sum();
        return (floored.iter().map(|s| s / total).collect(), None);
    };
    let exponent = within_exponent(&groups, &floored);
    let shares: Vec<f64> = groups
        .iter()
        .map(|members| {
            members
                .iter()
                .map(|&k| observed[k])
                .sum::<f64>()
                .max(LEAST_SHARE)
        })
        .collect();
    let total: f64 = shares.iter().sum();
    let mut sizes = vec![0.0; city.len()];
    for (members, share) in groups.iter().zip(&shares) {
        let raw: Vec<f64> = (0..members.len())
            .map(|k| libm::pow((k + 1) as f64, -exponent))
            .collect();
        let sum: f64 = raw.iter().sum();
        for (&k, w) in members.iter().zip(&raw) {
            sizes[k] = w * (share / total) / sum;
        }
    }
    (sizes, Some(exponent))
}

/// The city's banks (indexes into `city`) by category, in order of first
/// appearance, each largest first (ties by file order); `None` when the
/// file names no categories, or each bank's is its own.
pub(super) fn categories(day: &Day, city: &[usize], observed: &[f64]) -> Option<Vec<Vec<usize>>> {
    let category = |k: usize| day.participants.categories[city[k]].as_str();
    if (0..city.len()).any(|k| category(k).is_empty()) {
        return None;
    }
    let mut names: Vec<&str> = Vec::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for k in 0..city.len() {
        match names.iter().position(|n| *n == category(k)) {
            Some(g) => groups[g].push(k),
            None => {
                names.push(category(k));
                groups.push(vec![k]);
            }
        }
    }
    if groups.len() == city.len() {
        return None;
    }
    for members in &mut groups {
        // Stable: equal sizes keep the file's order.
        members.sort_by(|&a, &b| observed[b].total_cmp(&observed[a]));
    }
    Some(groups)
}

/// The Zipf exponent x of sizes within categories, s_k ∝ k^−x (rank k
/// from 1): least squares of ln(s_k/s_1) on −ln k, pooled over the
/// categories with two members or more; within [0, MAX_EXPONENT].
fn within_exponent(groups: &[Vec<usize>], sizes: &[f64]) -> f64 {
    let (mut cross, mut squares) = (0.0, 0.0);
    for members in groups.iter().filter(|m| m.len() >= 2) {
        let top = sizes[members[0]];
        for (rank, &k) in members.iter().enumerate().skip(1) {
            let t = ((rank + 1) as f64).ln();
            cross += -(sizes[k] / top).ln() * t;
            squares += t * t;
        }
    }
    if squares > 0.0 {
        (cross / squares).clamp(0.0, MAX_EXPONENT)
    } else {
        1.0
    }
}

/// How often each city bank sends or receives one of `rows`' payments.
pub(super) fn appearances(sized: &Sized<'_>, rows: &[u32]) -> Vec<f64> {
    appearances_in(
        sized.day,
        sized.position,
        sized.sizes.len(),
        rows.iter().map(|&r| r as usize),
    )
}

/// How often each of the `banks` city banks (`position`: each
/// participant's index among them) sends or receives a payment of `rows`.
pub(super) fn appearances_in(
    day: &Day,
    position: &[usize],
    banks: usize,
    rows: impl Iterator<Item = usize>,
) -> Vec<f64> {
    let payments = &day.payments;
    let mut counts = vec![0.0; banks];
    for r in rows {
        for p in [payments.sender[r], payments.receiver[r]] {
            if let Some(c) = counts.get_mut(position[p as usize]) {
                *c += 1.0;
            }
        }
    }
    counts
}

/// The gravity exponent c by maximum likelihood: bank k takes part in a
/// payment with probability s_k^c / Σ s^c (the stream draws senders and
/// receivers so), given how often each did; the log-likelihood is concave
/// in c, so a golden-section search over [0, MAX_EXPONENT] finds it.
pub(super) fn concentration(sizes: &[f64], counts: &[f64]) -> f64 {
    let logs = log_sizes(sizes);
    let total: f64 = counts.iter().sum();
    let likelihood = |c: f64| {
        let weighted: f64 = counts.iter().zip(&logs).map(|(n, l)| n * c * l).sum();
        let mass: f64 = logs.iter().map(|l| (c * l).exp()).sum();
        weighted - total * mass.ln()
    };
    golden_max(likelihood, 0.0, MAX_EXPONENT)
}

/// The maximum of a unimodal function on [low, high].
fn golden_max(f: impl Fn(f64) -> f64, mut low: f64, mut high: f64) -> f64 {
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    // Bounded: 100 shrinks by the golden ratio (to 1e-20 of the range).
    for _ in 0..100 {
        let a = high - ratio * (high - low);
        let b = low + ratio * (high - low);
        if f(a) < f(b) {
            low = a;
        } else {
            high = b;
        }
    }
    0.5 * (low + high)
}

/// ln(size/largest) of the bank that sets a payment's pair factor: the
/// smaller of the two, or the city's one across the boundary.
fn pair_log_size(sized: &Sized<'_>, logs: &[f64], r: usize) -> f64 {
    let payments = &sized.day.payments;
    let of = |p: u32| logs.get(sized.position[p as usize]).copied();
    match (of(payments.sender[r]), of(payments.receiver[r])) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => 0.0,
    }
}

fn log_sizes(sizes: &[f64]) -> Vec<f64> {
    let largest = sizes.iter().copied().fold(0.0, f64::max);
    sizes.iter().map(|s| (s / largest).ln()).collect()
}

/// The size elasticity e: the slope of ln amount on ln(size/largest) of
/// the pair's smaller bank, by least squares (the stream's amount is its
/// law's draw, independent of the pair, times (size/largest)^e / E);
/// within [0, MAX_ELASTICITY].
pub(super) fn elasticity(sized: &Sized<'_>, rows: &[u32]) -> f64 {
    let logs = log_sizes(sized.sizes);
    let n = rows.len() as f64;
    let (mut st, mut sy, mut stt, mut sty) = (0.0, 0.0, 0.0, 0.0);
    for &r in rows {
        let t = pair_log_size(sized, &logs, r as usize);
        let y = (sized.day.payments.amount_fen[r as usize] as f64).ln();
        st += t;
        sy += y;
        stt += t * t;
        sty += t * y;
    }
    let variance = stt / n - (st / n).powi(2);
    if variance <= 1e-12 {
        return 0.0;
    }
    ((sty / n - st * sy / (n * n)) / variance).clamp(0.0, MAX_ELASTICITY)
}

/// The amounts of `rows` without their pair factor h/E: the draws of the
/// instrument's law.
pub(super) fn descaled_amounts(
    sized: &Sized<'_>,
    rows: &[u32],
    elasticity: f64,
    mean: f64,
) -> Vec<f64> {
    let logs = log_sizes(sized.sizes);
    rows.iter()
        .map(|&r| {
            let amount = sized.day.payments.amount_fen[r as usize] as f64;
            let factor = (elasticity * pair_log_size(sized, &logs, r as usize)).exp() / mean;
            amount / factor
        })
        .collect()
}

/// Each sender–receiver pair of the city's banks among `rows`, weighing
/// its payments per business day, sorted by (sender, receiver): the
/// observed bilateral shares.
pub(super) fn observed_pairs(sized: &Sized<'_>, rows: &[u32], days: usize) -> Vec<Pair> {
    let payments = &sized.day.payments;
    let banks = sized.sizes.len();
    let mut keys: Vec<u64> = rows
        .iter()
        .filter_map(|&r| {
            let s = *sized.position.get(payments.sender[r as usize] as usize)?;
            let t = *sized.position.get(payments.receiver[r as usize] as usize)?;
            (s < banks && t < banks && s != t).then_some(((s as u64) << 32) | t as u64)
        })
        .collect();
    keys.sort_unstable();
    let mut pairs: Vec<Pair> = Vec::new();
    for key in keys {
        let (sender, receiver) = ((key >> 32) as u32, key as u32);
        match pairs.last_mut() {
            Some(p) if (p.sender, p.receiver) == (sender, receiver) => p.weight += 1.0,
            _ => pairs.push(Pair {
                sender,
                receiver,
                weight: 1.0,
            }),
        }
    }
    for p in &mut pairs {
        p.weight /= days as f64;
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concentration_by_hand() {
        // Sizes 1 and 1/4; counts 2:1 say weights ∝ s^c with 4^c = 2.
        let c = concentration(&[0.8, 0.2], &[200.0, 100.0]);
        assert!((c - 0.5).abs() < 1e-6, "{c}");
        // Counts equal to sizes: c = 1.
        let c = concentration(&[0.5, 0.3, 0.2], &[50.0, 30.0, 20.0]);
        assert!((c - 1.0).abs() < 1e-6, "{c}");
    }

    #[test]
    fn within_exponent_by_hand() {
        // One category, sizes ∝ k^−1.5 exactly.
        let sizes: Vec<f64> = (1..=5).map(|k| f64::from(k).powf(-1.5)).collect();
        let x = within_exponent(&[vec![0, 1, 2, 3, 4]], &sizes);
        assert!((x - 1.5).abs() < 1e-9, "{x}");
    }
}
