//! A scenario file checked into a typed [`Config`]: each part checked in
//! turn, and the first fault reported with its field.

use std::path::Path;

use clearsim_core::time::SimTime;

use super::file::{LiquidityFile, ScenarioFile, default_overnight_rate_bp};
use super::instruments::{crosses_city, instrument};
use super::shocks::{Shock, check_shocks, shocks};
use super::{
    Config, ConfigError, Instrument, Liquidity, MAX_DAYS, MAX_GROWTH_PER_YEAR, MAX_INSTRUMENTS,
    MAX_NEED_DAYS, OUTSIDE_ID, Scenario, behaviour, channels, error, limits, population, time,
};

pub(super) fn build(path: &Path, file: ScenarioFile, base: &Path) -> Result<Config, ConfigError> {
    let day_end = match &file.day_end {
        None => SimTime::DEFAULT_DAY_END,
        Some(text) => time(path, "day_end", text)?,
    };
    if file.days == 0 || file.days > MAX_DAYS {
        return Err(error(path, format!("days: must be 1..={MAX_DAYS}")));
    }
    let (population, growth_default, deposits_fen) =
        population::population(path, &file.participants, base)?;
    let liquidity = liquidity_file(path, &file)?;
    let ids = population.participant_ids();
    let policies = behaviour::policies(path, &file.policy, &population, &ids)?;
    let costs = match &file.costs {
        Some(c) => Some(behaviour::costs(path, c, day_end)?),
        None => None,
    };
    let shocks = shocks_of(path, &file, &ids, day_end)?;
    check_liquidity(path, &liquidity)?;
    let instruments = instruments_of(path, &file, &ids, day_end)?;
    let (channels, channel_of) = channels::channels(path, &file.channel, &instruments, day_end)?;
    let growth_per_year = growth(path, &file, growth_default)?;
    let overnight_rate_bp = overnight_rate_bp(path, &liquidity)?;
    check_compare(path, &file.compare, day_end)?;
    let scenario = Scenario {
        name: file.name.clone().unwrap_or_else(|| {
            path.file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
        }),
        day_end,
        growth_per_year,
        business_days_per_year: file.business_days_per_year,
        population,
        liquidity: Liquidity {
            scale: liquidity.scale,
            opening_share: liquidity.opening_share,
            credit_share: liquidity.credit_share,
            overnight_rate_bp,
            need_quantile: liquidity.need_quantile,
            need_days: liquidity.need_days,
        },
        instruments,
        channels,
        channel_of,
        deposits_fen,
        compare: file.compare,
        limits: limits::limits(path, &file.limit)?,
        policies,
        costs,
        shocks,
    };
    scenario
        .check_volume(file.days)
        .map_err(|e| error(path, e))?;
    Ok(Config {
        scenario,
        seed: file.seed,
        days: file.days,
    })
}

/// `[liquidity]`, with the overnight rate `[costs]` may give instead.
fn liquidity_file(path: &Path, file: &ScenarioFile) -> Result<LiquidityFile, ConfigError> {
    let mut liquidity = file.liquidity.clone();
    if let Some(rate) = file.costs.as_ref().and_then(|c| c.overnight_rate_bp) {
        if liquidity
            .overnight_rate_bp
            .is_some_and(|given| given != rate)
        {
            return Err(error(
                path,
                "costs.overnight_rate_bp and liquidity.overnight_rate_bp: one rate, given twice differently",
            ));
        }
        liquidity.overnight_rate_bp = Some(rate);
    }
    Ok(liquidity)
}

/// `[default]` and `[[shock]]`, each naming a participant of the city.
fn shocks_of(
    path: &Path,
    file: &ScenarioFile,
    ids: &[String],
    day_end: SimTime,
) -> Result<Vec<Shock>, ConfigError> {
    let shocks = shocks(path, file.default.as_ref(), &file.shock, day_end)?;
    for (index, shock) in shocks.iter().enumerate() {
        let field = match (file.default.is_some(), index) {
            (true, 0) => "default.participant".to_string(),
            (true, i) => format!("shock[{}].participant", i - 1),
            (false, i) => format!("shock[{i}].participant"),
        };
        check_shocks(std::slice::from_ref(shock), ids)
            .map_err(|e| error(path, format!("{field}: {e}")))?;
    }
    Ok(shocks)
}

fn check_liquidity(path: &Path, liquidity: &LiquidityFile) -> Result<(), ConfigError> {
    for (field, value) in [
        ("liquidity.scale", liquidity.scale),
        ("liquidity.opening_share", liquidity.opening_share),
        ("liquidity.credit_share", liquidity.credit_share),
    ] {
        if !(value.is_finite() && value >= 0.0) {
            return Err(error(path, format!("{field}: must be a number ≥ 0")));
        }
    }
    if liquidity
        .need_quantile
        .is_some_and(|q| !(q.is_finite() && q > 0.0 && q <= 1.0))
    {
        return Err(error(path, "liquidity.need_quantile: must be in (0, 1]"));
    }
    if !(1..=MAX_NEED_DAYS).contains(&liquidity.need_days) {
        return Err(error(
            path,
            format!("liquidity.need_days: must be 1..={MAX_NEED_DAYS}"),
        ));
    }
    Ok(())
}

/// The `[[instrument]]`s: at least one, at most [`MAX_INSTRUMENTS`], fixed
/// payments within the day, and the outside id free when some cross the
/// city's boundary.
fn instruments_of(
    path: &Path,
    file: &ScenarioFile,
    ids: &[String],
    day_end: SimTime,
) -> Result<Vec<Instrument>, ConfigError> {
    if file.instrument.len() > MAX_INSTRUMENTS {
        let count = file.instrument.len();
        let message = format!("instrument: {count} instruments, at most {MAX_INSTRUMENTS}");
        return Err(error(path, message));
    }
    let instruments = file
        .instrument
        .iter()
        .enumerate()
        .map(|(index, spec)| instrument(path, index, spec, ids))
        .collect::<Result<Vec<_>, _>>()?;
    if instruments.is_empty() {
        return Err(error(path, "at least one [[instrument]] is needed"));
    }
    for (index, instrument) in instruments.iter().enumerate() {
        if instrument.fixed.iter().any(|p| p.at > day_end) {
            let message = format!(
                "instrument[{index}] ({}).fixed: a payment after the day end {day_end}",
                instrument.name
            );
            return Err(error(path, message));
        }
    }
    if crosses_city(&instruments) && ids.iter().any(|id| id == OUTSIDE_ID) {
        return Err(error(
            path,
            format!(
                "participants: the id {OUTSIDE_ID} is reserved for the banks outside the city, which cross-city instruments pay and are paid by"
            ),
        ));
    }
    Ok(instruments)
}

/// Yearly growth (the roster's, unless given), and business days a year.
fn growth(path: &Path, file: &ScenarioFile, default: f64) -> Result<f64, ConfigError> {
    let growth_per_year = file.growth_per_year.unwrap_or(default);
    if !(growth_per_year.is_finite()
        && growth_per_year > -1.0
        && growth_per_year <= MAX_GROWTH_PER_YEAR)
    {
        return Err(error(
            path,
            format!("growth_per_year: must be a number > -1 and ≤ {MAX_GROWTH_PER_YEAR}"),
        ));
    }
    if !(1..=366).contains(&file.business_days_per_year) {
        return Err(error(path, "business_days_per_year: must be 1..=366"));
    }
    Ok(growth_per_year)
}

fn overnight_rate_bp(path: &Path, liquidity: &LiquidityFile) -> Result<u32, ConfigError> {
    let rate = liquidity
        .overnight_rate_bp
        .unwrap_or_else(default_overnight_rate_bp);
    if rate > 100_000 {
        return Err(error(
            path,
            "liquidity.overnight_rate_bp: at most 100000 (1,000 % a year)",
        ));
    }
    Ok(rate)
}

/// The `compare` list: `design` (the scenario's own channels) or strategies.
fn check_compare(path: &Path, compare: &[String], day_end: SimTime) -> Result<(), ConfigError> {
    for (index, name) in compare.iter().enumerate() {
        if name.trim() != "design" {
            clearsim_core::strategy::parse_strategy(name, day_end)
                .map_err(|e| error(path, format!("compare[{index}]: {e}")))?;
        }
    }
    Ok(())
}
