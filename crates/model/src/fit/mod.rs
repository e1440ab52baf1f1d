//! `fit`: a scenario fitted to real payments (docs/model.md, "A scenario
//! fitted to data"). Each law the stream draws from is estimated from a
//! replay day (or days): the participants' sizes from their payments, each
//! instrument's arrival profile, amount law, gravity exponent and size
//! elasticity, and the liquidity policy's shares from the openings. The
//! result is a scenario `run` takes ([`toml`]), and what the fit report
//! shows beside the data.

pub mod law;
mod network;
mod toml;

pub use law::Law;
pub use toml::{liquidity_shares, scenario_toml};

use crate::config::{OUTSIDE_ID, Pair};
use crate::input::Day;
use crate::replay::OUTSIDE_CATEGORY;
use crate::workload::amounts::Counterparties;

/// The width of the fitted arrival profile's steps.
pub const PROFILE_STEP_MS: u32 = 30 * 60_000;

/// What cannot be fitted, naming the file and what in it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FitError(pub String);

impl clearsim_core::Blamed for FitError {
    /// Every fit error is about the data given.
    fn blame(&self) -> clearsim_core::Blame {
        clearsim_core::Blame::User
    }
}

/// A fitted participant (a city bank; the banks outside the city are
/// the scenario's own `ELSEWHERE`).
#[derive(Clone, Debug, PartialEq)]
pub struct Bank {
    pub id: String,
    pub name: String,
    pub category: String,
    /// Its share of the city's payments: (payments sent + received) / 2
    /// over all the city's (counts, not value: a day's value is a few
    /// heavy-tailed amounts, its counts are steady).
    pub observed_size: f64,
    /// Its size in the fitted scenario (the observed one, or its
    /// category's Zipf split).
    pub size: f64,
    pub opening_fen: i64,
    pub credit_limit_fen: i64,
}

/// How a cross-city instrument crosses (as the scenario writes it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Crossing {
    Out,
    In,
}

/// One instrument as fitted.
#[derive(Clone, Debug, PartialEq)]
pub struct Instrument {
    pub name: String,
    pub payments: u64,
    pub daily_count: f64,
    /// The most common priority of its payments.
    pub priority: u8,
    pub crossing: Option<Crossing>,
    /// The gravity exponent: who pays, and is paid, ∝ size^concentration.
    pub concentration: f64,
    /// When asked (and within the city): the observed pairs, each weighing
    /// its payments per day, in place of gravity. Senders and receivers
    /// are indexes into [`Fitted::banks`].
    pub pairs: Vec<Pair>,
    /// Amounts scale with the smaller bank's size to this power.
    pub size_elasticity: f64,
    /// The mean pair factor E of the fitted sizes (the stream multiplies
    /// its law's draw by h/E).
    pub pair_mean: f64,
    /// The law of amounts without their pair factor, in fen.
    pub law: Law,
    /// The law's Kolmogorov–Smirnov distance to those amounts.
    pub ks_law: f64,
    /// Steps of [`PROFILE_STEP_MS`] (from, to, payments per hour per day).
    pub profile: Vec<(u32, u32, f64)>,
    /// Sorted amounts without their pair factor (fen): the data the law
    /// is fitted to.
    pub amounts_fen: Vec<f64>,
    /// Sorted amounts as paid (fen).
    pub observed_fen: Vec<f64>,
    /// Sorted submit times (ms), the arrivals the profile is compared with.
    pub submits_ms: Vec<u32>,
}

/// A fitted scenario, before it is written.
#[derive(Clone, Debug, PartialEq)]
pub struct Fitted {
    pub banks: Vec<Bank>,
    /// The participants file's categories, with the fitted Zipf exponent
    /// of sizes within them; `None`: every bank is a category of its own.
    pub within_category_exponent: Option<f64>,
    pub instruments: Vec<Instrument>,
    /// Business days the data spans (its dates, else 1).
    pub days: usize,
    pub day_end: clearsim_core::time::SimTime,
    /// Whether the data pays across the city's boundary (`ELSEWHERE`).
    pub outside: bool,
}

/// What a fit is asked to do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Each value of the `instrument` column is an instrument of its own,
    /// else every payment is one instrument, `payments`.
    pub by_instrument: bool,
    /// Who pays whom as the observed bilateral shares, not by gravity.
    pub observed_pairs: bool,
}

/// The fit of `day` (one or several business days), as `options` ask.
/// `file` names the payments in messages.
pub fn fit(day: &Day, options: Options, file: &str) -> Result<Fitted, FitError> {
    let people = &day.participants;
    let outside = outside_index(day)?;
    let city: Vec<usize> = (0..people.len()).filter(|&p| Some(p) != outside).collect();
    if city.len() < 2 {
        return Err(FitError(format!(
            "{file}: a fit needs at least two of the city's banks"
        )));
    }
    let groups = instrument_rows(day, options.by_instrument);
    if groups.iter().all(|(_, rows)| rows.is_empty()) {
        return Err(FitError(format!("{file}: no payments to fit")));
    }
    let mut position = vec![usize::MAX; people.len()];
    for (k, &p) in city.iter().enumerate() {
        position[p] = k;
    }
    let observed = observed_sizes(day, &position, city.len());
    let (sizes, within) = network::model_sizes(day, &city, &observed);
    let days = day.payments.dates.len().max(1);
    let mut instruments = Vec::with_capacity(groups.len());
    for (name, rows) in groups.iter().filter(|(_, rows)| !rows.is_empty()) {
        let sized = Sized {
            day,
            position: &position,
            outside,
            sizes: &sizes,
        };
        let group = (name.as_str(), rows.as_slice());
        instruments.push(instrument(&sized, group, days, options, file)?);
    }
    let banks = city
        .iter()
        .enumerate()
        .map(|(k, &p)| Bank {
            id: people.ids[p].clone(),
            name: people.names[p].clone(),
            category: people.categories[p].clone(),
            observed_size: observed[k],
            size: sizes[k],
            opening_fen: people.opening_fen[p],
            credit_limit_fen: people.credit_limit_fen[p],
        })
        .collect();
    Ok(Fitted {
        banks,
        within_category_exponent: within,
        instruments,
        days,
        day_end: day.day_end,
        outside: outside.is_some(),
    })
}

/// The participant standing for the banks outside the city: id
/// `ELSEWHERE` or category `outside`, at most one.
fn outside_index(day: &Day) -> Result<Option<usize>, FitError> {
    let people = &day.participants;
    let found: Vec<usize> = (0..people.len())
        .filter(|&p| people.ids[p] == OUTSIDE_ID || people.categories[p] == OUTSIDE_CATEGORY)
        .collect();
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        more => Err(FitError(format!(
            "participants: {} participants stand for the banks outside the city (id `{OUTSIDE_ID}` or category `{OUTSIDE_CATEGORY}`): `{}` and `{}`; a scenario has one",
            more.len(),
            people.ids[more[0]],
            people.ids[more[1]]
        ))),
    }
}

/// Rows of each instrument, in file order.
fn instrument_rows(day: &Day, by_instrument: bool) -> Vec<(String, Vec<u32>)> {
    let payments = &day.payments;
    if !by_instrument || payments.instruments.is_empty() {
        return vec![("payments".into(), (0..payments.len() as u32).collect())];
    }
    let mut groups: Vec<(String, Vec<u32>)> = payments
        .instruments
        .iter()
        .map(|name| (name.clone(), Vec::new()))
        .collect();
    for (row, &k) in payments.instrument.iter().enumerate() {
        groups[usize::from(k)].1.push(row as u32);
    }
    groups
}

/// Each city bank's share of the payments it sends or receives (payments
/// with the outside count for the city bank alone).
fn observed_sizes(day: &Day, position: &[usize], banks: usize) -> Vec<f64> {
    let flow = network::appearances_in(day, position, banks, 0..day.payments.len());
    let total: f64 = flow.iter().sum();
    flow.iter()
        .map(|f| if total > 0.0 { f / total } else { 0.0 })
        .collect()
}

/// The day and the fitted sizes an instrument's fit reads.
struct Sized<'a> {
    day: &'a Day,
    /// Each participant's index among the city's banks (`usize::MAX`:
    /// the outside).
    position: &'a [usize],
    outside: Option<usize>,
    sizes: &'a [f64],
}

/// One instrument's fit: its `(name, rows)`; with observed pairs when
/// `options` ask and it stays within the city, whose pair mean E (and so
/// the law without the pair factor) follows them.
fn instrument(
    sized: &Sized<'_>,
    (name, rows): (&str, &[u32]),
    days: usize,
    options: Options,
    file: &str,
) -> Result<Instrument, FitError> {
    let payments = &sized.day.payments;
    let crossing = crossing(sized, name, rows, file)?;
    let counts = network::appearances(sized, rows);
    let concentration = network::concentration(sized.sizes, &counts);
    let elasticity = network::elasticity(sized, rows);
    let pairs = if options.observed_pairs && crossing.is_none() {
        observed_pairs(sized, (name, rows), days, file)?
    } else {
        Vec::new()
    };
    let counterparties = if pairs.is_empty() {
        Counterparties::Gravity(concentration)
    } else {
        Counterparties::Pairs(&pairs)
    };
    let pair_mean = crate::workload::amounts::mean_pair_factor(
        sized.sizes,
        counterparties,
        elasticity,
        crossing.is_some(),
    );
    let mut amounts = network::descaled_amounts(sized, rows, elasticity, pair_mean);
    amounts.sort_by(f64::total_cmp);
    let law = law::fit(&amounts);
    let ks_law = law.ks_distance(&amounts);
    let mut observed: Vec<f64> = rows
        .iter()
        .map(|&r| payments.amount_fen[r as usize] as f64)
        .collect();
    observed.sort_by(f64::total_cmp);
    let mut submits: Vec<u32> = rows
        .iter()
        .map(|&r| payments.submit[r as usize].ms())
        .collect();
    submits.sort_unstable();
    Ok(Instrument {
        name: name.to_string(),
        payments: rows.len() as u64,
        daily_count: rows.len() as f64 / days as f64,
        priority: mode_priority(&payments.priority, rows),
        crossing,
        concentration,
        pairs,
        size_elasticity: elasticity,
        pair_mean,
        law,
        ks_law,
        profile: profile(&submits, sized.day.day_end.ms(), days),
        amounts_fen: amounts,
        observed_fen: observed,
        submits_ms: submits,
    })
}

/// The instrument's sender–receiver pairs within the city, as observed
/// (at most what a scenario takes).
fn observed_pairs(
    sized: &Sized<'_>,
    (name, rows): (&str, &[u32]),
    days: usize,
    file: &str,
) -> Result<Vec<Pair>, FitError> {
    let pairs = network::observed_pairs(sized, rows, days);
    if pairs.len() > crate::config::MAX_PAIRS {
        return Err(FitError(format!(
            "{file}: instrument `{name}` has {} sender–receiver pairs, more than a scenario takes ({}); fit it by gravity (without --observed-pairs)",
            pairs.len(),
            crate::config::MAX_PAIRS
        )));
    }
    Ok(pairs)
}

/// Whether an instrument crosses the city's boundary: all its payments
/// from the outside (`in`), all to it (`out`), or none.
fn crossing(
    sized: &Sized<'_>,
    name: &str,
    rows: &[u32],
    file: &str,
) -> Result<Option<Crossing>, FitError> {
    let Some(outside) = sized.outside else {
        return Ok(None);
    };
    let payments = &sized.day.payments;
    let is_outside = |p: u32| p as usize == outside;
    let from = rows
        .iter()
        .filter(|&&r| is_outside(payments.sender[r as usize]))
        .count();
    let to = rows
        .iter()
        .filter(|&&r| is_outside(payments.receiver[r as usize]))
        .count();
    match (from, to) {
        (0, 0) => Ok(None),
        (n, 0) if n == rows.len() => Ok(Some(Crossing::In)),
        (0, n) if n == rows.len() => Ok(Some(Crossing::Out)),
        _ => Err(FitError(format!(
            "{file}: instrument `{name}` mixes payments within the city with payments to or from `{}` ({from} from it, {to} to it, of {}); a cross-city instrument has them all one way: give each its own `instrument` value and fit with --instrument-column",
            sized.day.participants.ids[outside],
            rows.len()
        ))),
    }
}

/// The most common priority (the lowest of equals).
fn mode_priority(priority: &[u8], rows: &[u32]) -> u8 {
    if priority.is_empty() {
        return 0;
    }
    let mut counts = [0u64; 256];
    for &r in rows {
        counts[usize::from(priority[r as usize])] += 1;
    }
    let mut best = 0;
    for (p, &count) in counts.iter().enumerate() {
        if count > counts[best] {
            best = p;
        }
    }
    best as u8
}

/// The arrival profile: steps of [`PROFILE_STEP_MS`] on the clock from the
/// first arrival's to the last's, each at its payments per hour per day
/// (the maximum-likelihood density of a step function on that grid).
fn profile(sorted_ms: &[u32], day_end_ms: u32, days: usize) -> Vec<(u32, u32, f64)> {
    let (Some(&first), Some(&last)) = (sorted_ms.first(), sorted_ms.last()) else {
        return Vec::new();
    };
    let start = first / PROFILE_STEP_MS * PROFILE_STEP_MS;
    let mut steps = Vec::new();
    let mut from = start;
    let mut k = 0;
    // Bounded: each turn moves one step up to the day end.
    while from <= last && from < day_end_ms {
        let to = (from + PROFILE_STEP_MS).min(day_end_ms);
        let begin = k;
        while k < sorted_ms.len() && sorted_ms[k] < to {
            k += 1;
        }
        let hours = f64::from(to - from) / 3_600_000.0;
        steps.push((from, to, (k - begin) as f64 / hours / days as f64));
        from = to;
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_by_hand() {
        // 08:10, 08:20 and 09:05 (ms of the day), one day ending 17:00.
        let h = 3_600_000;
        let at = [8 * h + 600_000, 8 * h + 1_200_000, 9 * h + 300_000];
        let steps = profile(&at, 17 * h, 1);
        assert_eq!(
            steps,
            vec![
                (8 * h, 8 * h + h / 2, 4.0),
                (8 * h + h / 2, 9 * h, 0.0),
                (9 * h, 9 * h + h / 2, 2.0)
            ]
        );
        // Over two days, half the rate.
        assert_eq!(profile(&at, 17 * h, 2)[0].2, 2.0);
    }

    #[test]
    fn priority_mode_takes_the_lowest_of_equals() {
        assert_eq!(mode_priority(&[1, 0, 1, 0, 2], &[0, 1, 2, 3, 4]), 0);
        assert_eq!(mode_priority(&[1, 1, 0], &[0, 1, 2]), 1);
        assert_eq!(mode_priority(&[], &[]), 0);
    }
}
