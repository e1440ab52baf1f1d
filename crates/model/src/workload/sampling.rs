//! Portable sampling primitives: the same draws on every machine.
//!
//! Floating point appears only while *building* tables (with `libm`, a pure
//! Rust libm, so transcendental functions give the same bits everywhere);
//! draws use integer arithmetic and table lookups, plus basic IEEE operations
//! (which are exact and portable).

use rand::Rng;

/// Walker's alias table over `n` weights, with integer thresholds.
#[derive(Clone, Debug)]
pub struct AliasTable {
    /// Per column: keep the column if the 32-bit draw is below `threshold`.
    threshold: Vec<u64>,
    alias: Vec<u32>,
}

impl AliasTable {
    /// `weights` must be finite, ≥ 0 and not all zero.
    pub fn new(weights: &[f64]) -> AliasTable {
        let n = weights.len();
        assert!(n > 0 && n < u32::MAX as usize);
        let total: f64 = weights.iter().sum();
        assert!(
            total > 0.0 && total.is_finite(),
            "weights must have a positive finite sum"
        );
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut threshold = vec![1u64 << 32; n];
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..n).partition(|&i| scaled[i] < 1.0);
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            threshold[s] = (scaled[s] * 4_294_967_296.0) as u64;
            alias[s] = l as u32;
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        AliasTable { threshold, alias }
    }

    pub fn len(&self) -> usize {
        self.threshold.len()
    }

    pub fn is_empty(&self) -> bool {
        self.threshold.is_empty()
    }

    /// One draw from one 64-bit random number.
    #[inline]
    pub fn sample(&self, bits: u64) -> u32 {
        let column = ((u128::from(bits >> 32) * self.threshold.len() as u128) >> 32) as usize;
        if (bits & 0xFFFF_FFFF) < self.threshold[column] {
            column as u32
        } else {
            self.alias[column]
        }
    }
}

/// Quantile table of a distribution: `QUANTILES + 1` points of its inverse
/// CDF, linearly interpolated between them.
#[derive(Clone, Debug)]
pub struct QuantileTable {
    points: Vec<f64>,
}

const QUANTILE_BITS: u32 = 14;
const QUANTILES: usize = 1 << QUANTILE_BITS;

impl QuantileTable {
    /// `inverse_cdf(u)` for u in (0, 1); evaluated at the midpoints of the
    /// table's cells, so the extreme tails are cut at 1/(2·QUANTILES).
    pub fn new(inverse_cdf: impl Fn(f64) -> f64) -> QuantileTable {
        let points = (0..=QUANTILES)
            .map(|i| {
                let u = (i as f64 + 0.5) / (QUANTILES as f64 + 1.0);
                inverse_cdf(u)
            })
            .collect();
        QuantileTable { points }
    }

    #[inline]
    pub fn sample(&self, bits: u64) -> f64 {
        let index = (bits >> (64 - QUANTILE_BITS)) as usize;
        let fraction = ((bits >> (64 - QUANTILE_BITS - 24)) & 0xFF_FFFF) as f64 / 16_777_216.0;
        let low = self.points[index];
        let high = self.points[index + 1];
        low + (high - low) * fraction
    }
}

/// Exponential with mean 1: −ln(1 − u), tabulated.
pub fn exponential_table() -> QuantileTable {
    QuantileTable::new(|u| -libm::log(1.0 - u))
}

/// Standard normal inverse CDF (Acklam's rational approximation, relative
/// error below 1.2e-9), used only to build tables.
pub fn normal_inverse_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let low = 0.02425;
    if p < low {
        let q = libm::sqrt(-2.0 * libm::log(p));
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -normal_inverse_cdf(1.0 - p)
    }
}

/// A uniform draw in [0, 1) with 53 bits.
#[inline]
pub fn unit<R: Rng>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 / 9_007_199_254_740_992.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn alias_table_follows_its_weights() {
        let table = AliasTable::new(&[1.0, 2.0, 0.0, 7.0]);
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
        let mut counts = [0u32; 4];
        for _ in 0..100_000 {
            counts[table.sample(rng.next_u64()) as usize] += 1;
        }
        assert_eq!(counts[2], 0);
        for (count, expected) in counts.iter().zip([10_000.0, 20_000.0, 0.0, 70_000.0]) {
            assert!(
                (f64::from(*count) - expected).abs() <= 1_000.0,
                "{counts:?}"
            );
        }
    }

    #[test]
    fn normal_quantiles_are_right() {
        assert!(normal_inverse_cdf(0.5).abs() < 1e-12);
        assert!((normal_inverse_cdf(0.975) - 1.959_963_985).abs() < 1e-6);
        assert!((normal_inverse_cdf(0.001) + 3.090_232_306).abs() < 1e-6);
    }

    #[test]
    fn exponential_table_has_mean_one() {
        let table = exponential_table();
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(9);
        let mean: f64 = (0..200_000)
            .map(|_| table.sample(rng.next_u64()))
            .sum::<f64>()
            / 200_000.0;
        assert!((mean - 1.0).abs() < 0.01, "{mean}");
    }
}
