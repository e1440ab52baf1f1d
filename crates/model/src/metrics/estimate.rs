//! Means and 95 % confidence intervals over replications.
//!
//! Each replication (one seed) gives one value of a figure; replications
//! are independent, so the interval is Student's t: mean ± t(0.975, n−1) ·
//! s/√n, with s the sample standard deviation. For a paired difference the
//! values are the per-seed differences of two designs on the same stream.
//! Only IEEE arithmetic and a fixed table are used, so the same values give
//! the same bits on every machine.

/// A figure over replications: its mean and, from two replications on, a
/// 95 % confidence interval `[low, high]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    pub ci95: Option<[f64; 2]>,
    /// Replications behind it.
    pub n: u32,
}

/// t(0.975, df) for df = 1..=30.
const T_975: [f64; 30] = [
    12.706_204_736_174_7,
    4.302_652_729_749_464,
    3.182_446_305_284_263,
    2.776_445_105_197_799,
    2.570_581_835_636_314,
    2.446_911_851_144_969,
    2.364_624_251_592_785,
    2.306_004_135_204_166,
    2.262_157_162_798_205,
    2.228_138_851_986_274,
    2.200_985_160_082_949,
    2.178_812_829_667_228,
    2.160_368_656_461_013,
    2.144_786_687_916_926,
    2.131_449_545_559_323,
    2.119_905_299_221_011,
    2.109_815_577_833_181,
    2.100_922_040_241_036,
    2.093_024_054_408_263,
    2.085_963_447_265_837,
    2.079_613_844_727_662,
    2.073_873_067_904_015,
    2.068_657_610_419_041,
    2.063_898_561_628_021,
    2.059_538_552_753_294,
    2.055_529_438_642_871,
    2.051_830_516_480_283,
    2.048_407_141_795_244,
    2.045_229_642_132_703,
    2.042_272_456_301_238,
];

/// The 97.5 % quantile of the standard normal distribution.
const Z_975: f64 = 1.959_963_984_540_054;

/// t(0.975, df): the table up to 30, then the Cornish–Fisher expansion in
/// 1/df (error below 1e-6 from df = 31 on).
pub fn t_975(df: u32) -> f64 {
    match df {
        0 => f64::INFINITY,
        1..=30 => T_975[df as usize - 1],
        _ => {
            let z = Z_975;
            let d = f64::from(df);
            let (z3, z5, z7) = (z * z * z, z * z * z * z * z, z * z * z * z * z * z * z);
            z + (z3 + z) / (4.0 * d)
                + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * d * d)
                + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * d * d * d)
        }
    }
}

/// Where a figure can lie: a share in [0, 1], an amount or a time from 0
/// up. A t interval is symmetric, so for a figure near its edge (unsettled
/// value near 0, settled share near 100 %) it would reach values the
/// figure cannot take; such an interval is cut at the edge.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Range {
    Any,
    NonNegative,
    Share,
}

impl Range {
    fn clamp(self, x: f64) -> f64 {
        match self {
            Range::Any => x,
            Range::NonNegative => x.max(0.0),
            Range::Share => x.clamp(0.0, 1.0),
        }
    }
}

/// Mean and 95 % interval of `values`, which may be of any sign.
pub fn estimate(values: &[f64]) -> Estimate {
    estimate_within(values, Range::Any)
}

/// Mean and 95 % interval of `values`, the interval cut to `range`.
/// Values are summed in the order given (callers pass them in seed order,
/// so the bits do not depend on scheduling).
pub fn estimate_within(values: &[f64], range: Range) -> Estimate {
    let n = values.len();
    if n == 0 {
        return Estimate {
            mean: 0.0,
            ci95: None,
            n: 0,
        };
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let ci95 = (n >= 2).then(|| {
        let squares: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
        let sd = (squares / (n - 1) as f64).sqrt();
        let half = t_975((n - 1) as u32) * sd / (n as f64).sqrt();
        [range.clamp(mean - half), range.clamp(mean + half)]
    });
    Estimate {
        mean,
        ci95,
        n: n as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_by_hand() {
        // 1, 2, 3: mean 2, s = 1, half-width t(2)/√3 = 4.3027/1.7321.
        let e = estimate(&[1.0, 2.0, 3.0]);
        assert_eq!(e.mean, 2.0);
        let [low, high] = e.ci95.expect("n = 3");
        assert!((high - 2.0 - 4.302_652_729_749_464 / 3f64.sqrt()).abs() < 1e-12);
        assert!((2.0 - low - (high - 2.0)).abs() < 1e-12);
        assert_eq!(estimate(&[5.0]).ci95, None);
        assert_eq!(estimate(&[4.0, 4.0, 4.0]).ci95, Some([4.0, 4.0]));
    }

    #[test]
    fn intervals_stop_at_the_edge_of_the_range() {
        // 0, 0, 3: mean 1, s = √3, half-width 4.3027 > 1, so the low end
        // would be negative.
        let free = estimate(&[0.0, 0.0, 3.0]).ci95.expect("n = 3");
        assert!(free[0] < 0.0);
        let cut = estimate_within(&[0.0, 0.0, 3.0], Range::NonNegative);
        assert_eq!(cut.ci95.expect("n = 3"), [0.0, free[1]]);
        let share = estimate_within(&[1.0, 1.0, 0.97], Range::Share);
        let [low, high] = share.ci95.expect("n = 3");
        assert!(low < 0.99 && high == 1.0);
    }

    #[test]
    fn large_df_matches_the_normal_limit() {
        // Known values: t(0.975, 40) = 2.021075, t(0.975, 120) = 1.979930.
        assert!((t_975(40) - 2.021_075_390_306_273).abs() < 1e-5);
        assert!((t_975(120) - 1.979_930_405_052_777).abs() < 1e-6);
        assert!(t_975(1_000_000) - Z_975 < 1e-5);
    }
}
