//! The amount law of an instrument fitted to observed amounts: a
//! log-normal body and a Pareto tail above a threshold, mixed as the
//! stream draws them (docs/model.md, "Amounts"), by maximum likelihood;
//! the threshold by the least Kolmogorov–Smirnov distance (Clauset,
//! Shalizi and Newman, 2009), docs/decisions.md.

/// The model's bounds on the law (docs/config.md): the fit maximises the
/// likelihood within them, and says when one binds.
pub const ALPHA_MIN: f64 = 1.05;
pub const ALPHA_MAX: f64 = 100.0;
pub const SIGMA_MAX: f64 = 5.0;

/// At most this many order statistics choose the threshold (a quantile
/// sketch of the amounts; the law itself is fitted on all of them).
const SKETCH: usize = 20_000;
/// A tail has at least this many amounts of the sketch at or above its
/// threshold (fewer cannot say what α is).
const MIN_TAIL: usize = 30;
/// Expectation–maximisation stops after this many rounds, or when the
/// log-likelihood gains less than `TOLERANCE` per amount.
const MAX_ROUNDS: usize = 300;
const TOLERANCE: f64 = 1e-9;

/// A fitted amount law, in the units of the amounts given (fen).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Law {
    /// Body: ln amount ~ N(mu, sigma²); the median is e^mu.
    pub mu: f64,
    pub sigma: f64,
    /// The tail's share of payments, its threshold and exponent (share 0:
    /// no tail).
    pub tail_share: f64,
    pub tail_min: f64,
    pub alpha: f64,
    /// The tail's bound (the largest amount, its maximum-likelihood
    /// estimate; infinite: untruncated).
    pub tail_max: f64,
    /// Whether α or σ sits at its bound (the unconstrained optimum lies
    /// outside the model's range).
    pub at_bound: bool,
}

impl Law {
    pub fn median(&self) -> f64 {
        self.mu.exp()
    }

    /// P(amount ≤ x).
    pub fn cdf(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        let body = normal_cdf((x.ln() - self.mu) / self.sigma.max(1e-9));
        let tail = if x >= self.tail_max {
            1.0
        } else if x >= self.tail_min && self.tail_share > 0.0 {
            (1.0 - (self.tail_min / x).powf(self.alpha)) / self.kept()
        } else {
            0.0
        };
        (1.0 - self.tail_share) * body + self.tail_share * tail
    }

    /// The tail's mass below its bound in the untruncated law:
    /// 1 − (min/max)^α.
    fn kept(&self) -> f64 {
        -libm::expm1(-self.alpha * (self.tail_max / self.tail_min).ln())
    }

    /// The amount at probability `q` in (0, 1), by bisection on ln x.
    pub fn quantile(&self, q: f64) -> f64 {
        let (mut low, mut high) = (self.mu - 40.0, (self.tail_min.max(1.0)).ln() + 80.0);
        high = high.max(self.mu + 40.0);
        // Bounded: 200 halvings of a finite interval.
        for _ in 0..200 {
            let mid = 0.5 * (low + high);
            if self.cdf(mid.exp()) < q {
                low = mid;
            } else {
                high = mid;
            }
        }
        (0.5 * (low + high)).exp()
    }

    /// The Kolmogorov–Smirnov distance between the law and the amounts
    /// (`sorted`, ascending, positive).
    pub fn ks_distance(&self, sorted: &[f64]) -> f64 {
        let n = sorted.len() as f64;
        let mut distance: f64 = 0.0;
        let mut i = 0;
        // Bounded: each turn moves past one group of equal amounts.
        while i < sorted.len() {
            let mut j = i;
            while j < sorted.len() && sorted[j] == sorted[i] {
                j += 1;
            }
            let f = self.cdf(sorted[i]);
            let below = i as f64 / n;
            let at = j as f64 / n;
            distance = distance.max((f - below).abs()).max((f - at).abs());
            i = j;
        }
        distance
    }
}

/// The Kolmogorov–Smirnov distance between two samples (each sorted
/// ascending): the largest gap between their empirical distribution
/// functions. 1 when either is empty.
pub fn ks_two_sample(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 1.0;
    }
    let (n, m) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0, 0);
    let mut distance: f64 = 0.0;
    // Bounded: each turn moves past every value equal to the least one.
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        distance = distance.max((i as f64 / n - j as f64 / m).abs());
    }
    distance
}

/// Φ, the standard normal distribution function.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

/// Sufficient statistics of ln x for the amounts below a threshold (they
/// are the body's for certain: the tail starts at the threshold).
#[derive(Clone, Copy, Default)]
struct Below {
    count: f64,
    sum: f64,
    squares: f64,
}

impl Below {
    /// The statistics of `amounts`.
    fn of(amounts: &[f64]) -> Below {
        let mut below = Below::default();
        for &x in amounts {
            let l = x.ln();
            below.count += 1.0;
            below.sum += l;
            below.squares += l * l;
        }
        below
    }

    /// The mean of ln x and its variance (unfloored; of none, 0 and 0).
    fn mean_variance(&self) -> (f64, f64) {
        let count = self.count.max(1.0);
        let mean = self.sum / count;
        (mean, self.squares / count - mean * mean)
    }
}

/// The law fitted to `sorted` amounts (ascending, positive, at least 2):
/// the threshold chosen on a sketch of them, then every amount.
pub fn fit(sorted: &[f64]) -> Law {
    debug_assert!(sorted.windows(2).all(|w| w[0] <= w[1]));
    let sketch = sketch(sorted);
    let mut best = (body_only(&sketch), f64::INFINITY);
    best.1 = best.0.ks_distance(&sketch);
    for start in thresholds(&sketch) {
        let law = fit_at(&sketch, start, true);
        let distance = law.ks_distance(&sketch);
        if distance < best.1 {
            best = (law, distance);
        }
    }
    if best.0.tail_share == 0.0 {
        return body_only(sorted);
    }
    let start = sorted.partition_point(|&x| x < best.0.tail_min);
    let truncated = fit_at(sorted, start, true);
    let open = fit_at(sorted, start, false);
    if truncated_tail(&open, sorted[sorted.len() - 1], sorted.len()) {
        truncated
    } else {
        open
    }
}

/// Whether the tail is truncated (Aban, Meerschaert and Panorska, 2006):
/// under the untruncated fit, the chance that none of its T amounts
/// passes the largest seen is (1 − (u/max)^α)^T ≈ e^{−T(u/max)^α}; below
/// 1 %, the largest amount is too small for an open tail, and it bounds
/// the tail (its maximum-likelihood estimate). Otherwise the tail is
/// left open: truncating at the largest draw of a sample would cut the
/// law's mass above it, which the bounds and delays of heavy-tailed
/// days depend on.
fn truncated_tail(open: &Law, largest: f64, n: usize) -> bool {
    let tail = open.tail_share * n as f64;
    let chance = (-tail * (open.tail_min / largest).powf(open.alpha)).exp();
    chance < 0.01
}

/// Evenly spaced order statistics of `sorted`: all of them when there are
/// few.
fn sketch(sorted: &[f64]) -> Vec<f64> {
    if sorted.len() <= SKETCH {
        return sorted.to_vec();
    }
    (0..SKETCH)
        .map(|k| sorted[k * (sorted.len() - 1) / (SKETCH - 1)])
        .collect()
}

/// Candidate thresholds, as the index of the first amount at or above
/// each: tails of `MIN_TAIL` amounts up to half of them, growing by 8 %,
/// at distinct amounts.
fn thresholds(sorted: &[f64]) -> Vec<usize> {
    let n = sorted.len();
    let mut starts = Vec::new();
    let mut tail = MIN_TAIL as f64;
    // Bounded: the tail grows by 8 % a turn up to n/2.
    while (tail as usize) <= n / 2 {
        let start = sorted.partition_point(|&x| x < sorted[n - tail as usize]);
        if starts.last() != Some(&start) && n - start >= MIN_TAIL && start > 1 {
            starts.push(start);
        }
        tail *= 1.08;
    }
    starts
}

/// The log-normal alone, by maximum likelihood.
fn body_only(sorted: &[f64]) -> Law {
    let (mu, variance) = Below::of(sorted).mean_variance();
    let sigma = variance.max(0.0).sqrt();
    Law {
        mu,
        sigma: sigma.min(SIGMA_MAX),
        tail_share: 0.0,
        tail_min: sorted.last().copied().unwrap_or(1.0) * 10.0,
        alpha: 1.5,
        tail_max: f64::INFINITY,
        at_bound: sigma > SIGMA_MAX,
    }
}

/// The mixture with its tail from `sorted[start]` (`truncated`: at the
/// largest amount; else open), by
/// expectation–maximisation: below the threshold every amount is the
/// body's; at or above, each is the tail's with its responsibility.
fn fit_at(sorted: &[f64], start: usize, truncated: bool) -> Law {
    let n = sorted.len() as f64;
    let u = sorted[start];
    let (below_part, tail_part) = sorted.split_at(start);
    let below = Below::of(below_part);
    let (mu, variance) = below.mean_variance();
    let logs: Vec<f64> = tail_part.iter().map(|x| x.ln()).collect();
    let ln_u = u.ln();
    let excess: f64 = logs.iter().map(|l| l - ln_u).sum::<f64>();
    let mut law = Law {
        mu,
        sigma: variance.max(1e-6).sqrt(),
        tail_share: logs.len() as f64 / n,
        tail_min: u,
        alpha: (logs.len() as f64 / excess.max(1e-12)).clamp(ALPHA_MIN, ALPHA_MAX),
        tail_max: if truncated {
            sorted[sorted.len() - 1].max(u * (1.0 + 1e-9))
        } else {
            f64::INFINITY
        },
        at_bound: false,
    };
    let mut responsibility = vec![0.0; logs.len()];
    let mut previous = f64::NEG_INFINITY;
    for _ in 0..MAX_ROUNDS {
        let likelihood = expect(&law, &logs, ln_u, &below, &mut responsibility);
        maximise(&mut law, &logs, ln_u, &below, &responsibility, n);
        if (likelihood - previous).abs() < TOLERANCE * n {
            break;
        }
        previous = likelihood;
    }
    law
}

/// α of a Pareto tail truncated at its largest amount, by maximum
/// likelihood: the root of T/α − S − T·L/(e^{αL} − 1) = 0 (T the tail's
/// weight, S its weighted Σ ln(x/u), L = ln(max/u)), decreasing in α (the
/// log-likelihood of a truncated exponential family is concave), by
/// bisection; the unbounded Hill estimate T/S when the tail is long.
fn truncated_alpha(tail: f64, excess: f64, span: f64) -> f64 {
    if !span.is_finite() {
        return tail / excess.max(1e-12);
    }
    let slope = |alpha: f64| tail / alpha - excess - tail * span / libm::expm1(alpha * span);
    let (mut low, mut high) = (1e-6, ALPHA_MAX * 2.0);
    if slope(high) > 0.0 {
        return high;
    }
    if slope(low) < 0.0 {
        return low;
    }
    // Bounded: 100 halvings.
    for _ in 0..100 {
        let mid = 0.5 * (low + high);
        if slope(mid) > 0.0 {
            low = mid;
        } else {
            high = mid;
        }
    }
    0.5 * (low + high)
}

/// The E step: each tail-region amount's responsibility of the tail; the
/// log-likelihood of every amount under `law`.
fn expect(law: &Law, logs: &[f64], ln_u: f64, below: &Below, out: &mut [f64]) -> f64 {
    let (p, alpha) = (law.tail_share, law.alpha);
    let sigma = law.sigma.max(1e-9);
    // Per-amount constants, taken once: ln of the weights and normalisers.
    let body_constant = (1.0 - p).ln() - sigma.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln();
    let tail_constant = p.ln() + alpha.ln() + alpha * ln_u - law.kept().ln();
    let mut likelihood = 0.0;
    for (l, r) in logs.iter().zip(out.iter_mut()) {
        let z = (l - law.mu) / sigma;
        let body = body_constant - 0.5 * z * z - l;
        let tail = tail_constant - (alpha + 1.0) * l;
        // ln(e^body + e^tail) and the tail's share, with one exp.
        let e = (-(body - tail).abs()).exp();
        *r = if tail >= body {
            1.0 / (1.0 + e)
        } else {
            e / (1.0 + e)
        };
        likelihood += body.max(tail) + e.ln_1p();
    }
    // The amounts below the threshold: the body's, all of them.
    let squares = below.squares - 2.0 * law.mu * below.sum + below.count * law.mu * law.mu;
    likelihood += below.count
        * ((1.0 - p).ln() - sigma.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln())
        - 0.5 * squares / (sigma * sigma)
        - below.sum;
    likelihood
}

/// The M step: the share, α (Hill's estimator, weighted) and the body's
/// moments of ln x, weighted by the body's responsibilities; within the
/// model's bounds.
fn maximise(law: &mut Law, logs: &[f64], ln_u: f64, below: &Below, r: &[f64], n: f64) {
    let (mut tail, mut tail_excess) = (0.0, 0.0);
    let (mut count, mut sum) = (below.count, below.sum);
    for (l, r) in logs.iter().zip(r) {
        tail += r;
        tail_excess += r * (l - ln_u);
        count += 1.0 - r;
        sum += (1.0 - r) * l;
    }
    let mu = sum / count.max(1e-12);
    let mut squares = below.squares - 2.0 * mu * below.sum + below.count * mu * mu;
    for (l, r) in logs.iter().zip(r) {
        squares += (1.0 - r) * (l - mu) * (l - mu);
    }
    let sigma = (squares / count.max(1e-12)).max(0.0).sqrt();
    let alpha = truncated_alpha(tail, tail_excess, (law.tail_max.ln() - ln_u).max(1e-12));
    law.mu = mu;
    law.sigma = sigma.clamp(1e-6, SIGMA_MAX);
    law.tail_share = (tail / n).clamp(1e-12, 1.0 - 1e-12);
    law.alpha = alpha.clamp(ALPHA_MIN, ALPHA_MAX);
    law.at_bound = !(ALPHA_MIN..=ALPHA_MAX).contains(&alpha) || sigma > SIGMA_MAX;
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn unit(rng: &mut rand_pcg::Pcg64Mcg) -> f64 {
        (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Draws `n` amounts from a law as the stream does (inverse Pareto,
    /// Box–Muller body).
    fn draw(law: &Law, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
        let mut out: Vec<f64> = (0..n)
            .map(|_| {
                if unit(&mut rng) < law.tail_share {
                    let kept = 1.0 - (law.tail_min / law.tail_max).powf(law.alpha);
                    law.tail_min * (1.0 - unit(&mut rng) * kept).powf(-1.0 / law.alpha)
                } else {
                    let (a, b) = (unit(&mut rng), unit(&mut rng));
                    let z = (-2.0 * (1.0 - a).ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos();
                    (law.mu + law.sigma * z).exp()
                }
            })
            .collect();
        out.sort_by(f64::total_cmp);
        out
    }

    #[test]
    fn recovers_a_known_mixture() {
        let truth = Law {
            mu: (100_000.0f64).ln(),
            sigma: 1.2,
            tail_share: 0.02,
            tail_min: 5e6,
            alpha: 1.6,
            tail_max: f64::INFINITY,
            at_bound: false,
        };
        let amounts = draw(&truth, 200_000, 7);
        let law = fit(&amounts);
        assert!((law.mu - truth.mu).abs() < 0.02, "{law:?}");
        assert!((law.sigma - truth.sigma).abs() < 0.02, "{law:?}");
        assert!(
            (law.tail_share / truth.tail_share - 1.0).abs() < 0.15,
            "{law:?}"
        );
        assert!((law.alpha - truth.alpha).abs() < 0.15, "{law:?}");
        assert!((law.tail_min / truth.tail_min - 1.0).abs() < 0.3, "{law:?}");
        assert!(law.ks_distance(&amounts) < 0.01);
    }

    #[test]
    fn recovers_a_truncated_tail() {
        let truth = Law {
            mu: (2_000_000.0f64).ln(),
            sigma: 1.5,
            tail_share: 0.01,
            tail_min: 2e8,
            alpha: 1.5,
            tail_max: 2e9,
            at_bound: false,
        };
        let amounts = draw(&truth, 300_000, 11);
        let law = fit(&amounts);
        assert!((law.alpha - truth.alpha).abs() < 0.25, "{law:?}");
        assert!(
            (law.tail_share / truth.tail_share - 1.0).abs() < 0.2,
            "{law:?}"
        );
        assert!(law.tail_max <= truth.tail_max, "{law:?}");
        // An open tail stays open.
        let open = Law {
            tail_max: f64::INFINITY,
            ..truth
        };
        let law = fit(&draw(&open, 300_000, 12));
        assert!(law.tail_max.is_infinite(), "{law:?}");
        assert!(law.ks_distance(&amounts) < 0.01);
    }

    #[test]
    fn a_pure_log_normal_needs_no_real_tail() {
        let truth = Law {
            mu: 5.0,
            sigma: 0.8,
            tail_share: 0.0,
            tail_min: 1e12,
            alpha: 2.0,
            tail_max: f64::INFINITY,
            at_bound: false,
        };
        let amounts = draw(&truth, 50_000, 3);
        let law = fit(&amounts);
        assert!((law.mu - 5.0).abs() < 0.02, "{law:?}");
        assert!((law.sigma - 0.8).abs() < 0.02, "{law:?}");
        // A tail, if any is kept, carries almost nothing.
        assert!(law.tail_share < 0.01, "{law:?}");
    }

    #[test]
    fn two_sample_ks_by_hand() {
        assert_eq!(ks_two_sample(&[1.0, 2.0], &[1.0, 2.0]), 0.0);
        // After 1: 1/2 of a, 0 of b; after 3: 1 and 1/2.
        assert_eq!(ks_two_sample(&[1.0, 3.0], &[2.0, 4.0]), 0.5);
        assert_eq!(ks_two_sample(&[1.0], &[5.0, 6.0]), 1.0);
        assert_eq!(ks_two_sample(&[], &[1.0]), 1.0);
    }

    #[test]
    fn cdf_quantile_and_ks_by_hand() {
        let law = Law {
            mu: 0.0,
            sigma: 1.0,
            tail_share: 0.0,
            tail_min: 1e9,
            alpha: 2.0,
            tail_max: f64::INFINITY,
            at_bound: false,
        };
        // The median of a log-normal of mu 0 is 1; Φ(1) = 0.841344…
        assert!((law.cdf(1.0) - 0.5).abs() < 1e-12);
        assert!((law.cdf(std::f64::consts::E) - 0.841_344_746).abs() < 1e-8);
        assert!((law.quantile(0.5) - 1.0).abs() < 1e-9);
        // One amount at the median: the distance is 1/2 either side.
        assert!((law.ks_distance(&[1.0]) - 0.5).abs() < 1e-12);
        let tailed = Law {
            tail_share: 1.0,
            tail_min: 10.0,
            ..law
        };
        // Pareto of α 2 from 10: P(x ≤ 20) = 1 − (1/2)² = 3/4.
        assert!((tailed.cdf(20.0) - 0.75).abs() < 1e-12);
    }
}
