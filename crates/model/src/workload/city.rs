//! The modelled banks: ids, sizes, opening balances and credit limits.

use super::amounts::{PairScale, gravity_weights, mean_amount_fen};
use crate::config::{Direction, OUTSIDE_ID, Population, Scenario};

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
    /// How many of the participants are the city's banks: all of them, or
    /// all but the last, [`OUTSIDE_ID`], when the scenario pays across the
    /// city's boundary. Liquidity figures count the banks only.
    pub banks: usize,
    /// Why the scenario's liquidity policy gives an account more than
    /// [`MAX_LIQUIDITY_FEN`], if it does: [`City::check`] refuses it.
    pub over_limit: Option<String>,
}

/// An opening balance or credit limit the liquidity policy may set, at
/// most: 10^15 fen (10 trillion yuan), far from `i64::MAX` so that a day's
/// sums stay exact.
pub const MAX_LIQUIDITY_FEN: f64 = 1e15;

impl City {
    /// Refuses a city whose liquidity policy went past its limit (it is
    /// never silently clamped).
    pub fn check(&self) -> Result<(), String> {
        match &self.over_limit {
            Some(why) => Err(why.clone()),
            None => Ok(()),
        }
    }

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
        banks: 0,
        over_limit: None,
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
                    let id = category.member_id(k);
                    city.names.push(format!("{} {}", category.name, id));
                    city.ids.push(id);
                    city.categories.push(category.id.clone());
                    city.size.push(size);
                }
            }
        }
        Population::Synthetic { n, size_exponent } => {
            let ids = scenario.population.participant_ids();
            for ((k, size), id) in zipf(*n, *size_exponent, 1.0)
                .into_iter()
                .enumerate()
                .zip(ids)
            {
                city.ids.push(id);
                city.names.push(format!("Synthetic bank {}", k + 1));
                city.categories.push("synthetic".into());
                city.size.push(size);
            }
        }
    }
    city.banks = city.ids.len();
    if scenario.has_cross_city() {
        // The rest of the country, through the national system: size 0
        // (never drawn as a city bank), liquidity below.
        city.ids.push(OUTSIDE_ID.to_string());
        city.names.push("Banks outside the city".into());
        city.categories.push("outside".into());
        city.size.push(0.0);
    }
    set_liquidity(scenario, &mut city);
    city
}

/// Openings and credit limits by the scenario's policy; the banks outside
/// the city, if any, with none and unlimited credit.
fn set_liquidity(scenario: &Scenario, city: &mut City) {
    let outflow_fen = expected_daily_outflow_fen(scenario, &city.size);
    let liquidity = &scenario.liquidity;
    let need_fen = match liquidity.need_quantile {
        Some(q) => need_quantile_fen(scenario, &city.size, q, liquidity.need_days),
        None => vec![0.0; city.len()],
    };
    for (p, (outflow, need)) in outflow_fen.iter().zip(need_fen).enumerate() {
        let opening = liquidity.scale * (liquidity.opening_share * outflow).max(need);
        let credit = liquidity.scale * liquidity.credit_share * outflow;
        for (what, value) in [
            ("an opening balance of", opening),
            ("a credit limit of", credit),
        ] {
            if city.over_limit.is_none() && value > MAX_LIQUIDITY_FEN && p < city.banks {
                city.over_limit = Some(format!(
                    "[liquidity]: participant `{}` would get {what} {value:.3e} fen, past the limit of 10^15 fen (10 trillion yuan): it is refused, not clamped; lower `scale`, `opening_share` or `credit_share`, or the volumes",
                    city.ids[p]
                ));
            }
        }
        city.opening_fen.push(to_fen(opening));
        city.credit_limit_fen.push(to_fen(credit));
    }
    if city.len() > city.banks {
        // The national system never runs short on the city's account:
        // unlimited credit (available liquidity saturates), no opening.
        city.opening_fen[city.banks] = 0;
        city.credit_limit_fen[city.banks] = i64::MAX;
    }
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
            let instrument = usize::from(payment.instrument);
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

/// Rounds a non-negative amount to whole fen, within the limit (a city
/// past it is refused by [`City::check`] before it is used).
fn to_fen(value: f64) -> i64 {
    value.clamp(0.0, MAX_LIQUIDITY_FEN).round() as i64
}

/// Expected value each participant pays out on the first day: Σ over
/// instruments of count × mean amount × the participant's chance of being
/// the sender (its gravity weight, or its observed pairs' share).
pub fn expected_daily_outflow_fen(scenario: &Scenario, size: &[f64]) -> Vec<f64> {
    expected_outflow_of(scenario, size, |_| true)
}

/// [`expected_daily_outflow_fen`] over the instruments `keep` keeps.
pub fn expected_outflow_of(
    scenario: &Scenario,
    size: &[f64],
    keep: impl Fn(&crate::config::Instrument) -> bool,
) -> Vec<f64> {
    let mut outflow = vec![0.0; size.len()];
    for instrument in scenario.instruments.iter().filter(|i| keep(i)) {
        for fixed in &instrument.fixed {
            outflow[fixed.sender as usize] += fixed.amount_fen as f64;
        }
        if !instrument.fixed.is_empty() {
            continue;
        }
        let scale = PairScale::new(size, instrument);
        let value = instrument.daily_count * mean_amount_fen(instrument);
        if !instrument.pairs.is_empty() {
            // Each pair its share of the payments, at its own factor.
            let total: f64 = instrument.pairs.iter().map(|p| p.weight).sum();
            for p in &instrument.pairs {
                let factor = scale.of(p.sender, p.receiver);
                outflow[p.sender as usize] += value * p.weight * factor / total;
            }
            continue;
        }
        let weights = gravity_weights(size, instrument.concentration);
        let multipliers = match instrument.cross_city.map(|c| c.direction) {
            // Paid by the banks elsewhere: no outflow of the city's banks.
            Some(Direction::In) => continue,
            Some(Direction::Out) => (0..size.len()).map(|i| scale.own(i)).collect(),
            None => scale.mean_as_sender(&weights),
        };
        let total: f64 = weights.iter().sum();
        for ((out, weight), m) in outflow.iter_mut().zip(&weights).zip(&multipliers) {
            *out += value * weight * m / total;
        }
    }
    outflow
}
