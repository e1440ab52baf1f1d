//! A scenario and what every study does with it before running: the
//! config with its overrides, its city, the designs to compare and the
//! days that cover their carry-over.

use std::path::Path;

use crate::JobError;
use clearsim_model::config::{Config, Scenario, Shock, check_shocks};
use clearsim_model::workload::city::{City, build_city};
use clearsim_study::{Design, parse_design};

/// What a study overrides in its config.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub seed: Option<u64>,
    pub days: Option<u32>,
    /// Multiplies every instrument's daily count.
    pub volume: Option<f64>,
    /// Shocks on day 1, after the config's own.
    pub shocks: Vec<Shock>,
}

/// A volume factor within (0, 1000], else `None`.
pub fn volume_factor(factor: f64) -> Option<f64> {
    (factor.is_finite() && factor > 0.0 && factor <= 1000.0).then_some(factor)
}

/// The config at `path` (or `text`, named by `path` in messages, its
/// relative files found beside it), with `overrides`' seed, days and
/// volume.
pub fn load(path: &Path, text: Option<&str>, overrides: &Overrides) -> Result<Config, JobError> {
    let mut config = match text {
        None => Config::load(path),
        Some(text) => {
            let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
            Config::parse(path, text, &base)
        }
    }
    .map_err(JobError::of)?;
    if let Some(seed) = overrides.seed {
        config.seed = seed;
    }
    if let Some(days) = overrides.days {
        config.days = days;
    }
    if let Some(volume) = overrides.volume {
        config.scenario.scale_volume(volume);
    }
    config
        .scenario
        .check_volume(config.days)
        .map_err(|e| JobError::user(format!("{}: {e}", path.display())))?;
    Ok(config)
}

/// [`load`], with the overrides' shocks, and the city; shocks must name
/// participants of the city and end by the day end.
pub fn load_with_city(
    path: &Path,
    text: Option<&str>,
    overrides: &Overrides,
) -> Result<(Config, City), JobError> {
    let mut config = load(path, text, overrides)?;
    let scenario = &mut config.scenario;
    scenario.shocks.extend(overrides.shocks.iter().cloned());
    for shock in &scenario.shocks {
        if shock.last_time() > scenario.day_end {
            return Err(JobError::user(format!(
                "{}: {shock} is after the day end {}",
                path.display(),
                scenario.day_end
            )));
        }
    }
    let city = build_city(scenario);
    city.check()
        .map_err(|e| JobError::user(format!("{}: {e}", path.display())))?;
    check_shocks(&scenario.shocks, &city.ids)
        .map_err(|e| JobError::user(format!("{}: {e}", path.display())))?;
    Ok((config, city))
}

/// Without `given_days`, a study covers its designs' carry-over: at least
/// a day after the last cycle that can carry ([`Scenario::carry_days`]),
/// so that a carried payment's in-transit time is measured, not cut off.
/// Returns the note to show when it lengthens the config's horizon.
pub fn cover_carry<'a>(
    config: &mut Config,
    given_days: Option<u32>,
    designs: impl IntoIterator<Item = &'a Scenario>,
) -> Result<Option<String>, JobError> {
    if given_days.is_some() {
        return Ok(None);
    }
    let needed = designs
        .into_iter()
        .map(Scenario::carry_days)
        .max()
        .unwrap_or(1);
    if needed <= config.days {
        return Ok(None);
    }
    let note = format!(
        "{needed} business days, not the config's {}: a payment carried past a design's last cycle settles the next day (--days sets it)",
        config.days
    );
    config.days = needed;
    config
        .scenario
        .check_volume(config.days)
        .map_err(|e| JobError::user(format!("{e}")))?;
    Ok(Some(note))
}

/// The designs of `list` (separated by spaces or semicolons, named by
/// `flag` in messages), else the config's `compare` list, else
/// `fallback`.
pub fn designs(
    scenario: &Scenario,
    list: Option<&str>,
    flag: &str,
    fallback: &[&str],
) -> Result<Vec<Design>, JobError> {
    let (names, source): (Vec<String>, String) = match list {
        Some(list) => (
            list.split([';', ' '])
                .filter(|s| !s.trim().is_empty())
                .map(String::from)
                .collect(),
            flag.to_string(),
        ),
        None if !scenario.compare.is_empty() => (
            scenario.compare.clone(),
            format!("the config's `compare` list ({})", scenario.name),
        ),
        None => (
            fallback.iter().map(|s| s.to_string()).collect(),
            "default".into(),
        ),
    };
    if names.is_empty() {
        return Err(JobError::user(format!(
            "{source}: name at least one design"
        )));
    }
    let parsed = names
        .iter()
        .map(|name| {
            parse_design(name, scenario.day_end)
                .map_err(|e| JobError::user(format!("{source}: {e}")))
        })
        .collect::<Result<Vec<Design>, JobError>>()?;
    for (i, d) in parsed.iter().enumerate() {
        if parsed[..i].iter().any(|e| e.label == d.label) {
            return Err(JobError::user(format!(
                "{source}: `{}` is listed twice",
                d.label
            )));
        }
    }
    Ok(parsed)
}
