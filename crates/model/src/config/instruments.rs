//! A scenario's instruments: their streams, amounts, cheques and
//! cross-city journeys, checked field by field.

use std::path::Path;

use clearsim_core::time::{SimTime, parse_duration_ms};

use super::file::{AmountFile, InstrumentFile, default_tail_alpha};
use super::{
    AmountLaw, Bunching, ConfigError, CrossCity, Direction, Instrument, MAX_AMOUNT_YUAN,
    MAX_BUNCHING_FACTOR, MAX_EXPONENT, MAX_OUTSIDE_HOURS, MAX_PAYMENTS_PER_DAY,
    MAX_PROFILE_SEGMENTS, MAX_PROFILE_WEIGHT, RETURN_WINDOW_MS, Segment, behaviour, error, time,
};

/// The field's name in messages: `instrument[3] (cheque).amount.sigma`.
type At<'a> = &'a dyn Fn(&str) -> String;

pub(super) fn instrument(
    path: &Path,
    index: usize,
    spec: &InstrumentFile,
    ids: &[String],
) -> Result<Instrument, ConfigError> {
    let at = |field: &str| format!("instrument[{index}] ({}).{field}", spec.name);
    name_and_count(path, spec, &at)?;
    let profile = profile(path, spec, &at)?;
    let (amount, tail_min_yuan) = amount_file(path, spec, &at)?;
    let cutoff_bunching = cutoff_bunching(path, spec, &at)?;
    let return_window_ms = return_window_ms(path, spec, &at)?;
    let cross_city = cross_city(path, spec, &at)?;
    let assumed = assumed(path, spec, &at)?;
    let pairs = counterparties(path, spec, &at, ids)?;
    Ok(Instrument {
        name: spec.name.clone(),
        daily_count: spec.daily_count,
        cheque: spec.cheque,
        priority: spec.priority,
        profile,
        amount: AmountLaw {
            median_fen: amount.median_yuan * 100.0,
            sigma: amount.sigma,
            tail_share: amount.tail_share,
            tail_alpha: amount.tail_alpha,
            tail_min_fen: tail_min_yuan * 100.0,
            tail_max_fen: amount.tail_max_yuan.map_or(f64::INFINITY, |y| y * 100.0),
            size_elasticity: amount.size_elasticity,
        },
        concentration: spec.concentration.unwrap_or(1.0),
        cutoff_bunching,
        dishonour_rate: spec.dishonour_rate,
        return_window_ms,
        cross_city,
        fixed: behaviour::fixed(path, &at("fixed"), &spec.fixed, ids)?,
        assumed,
        pairs,
    })
}

/// Observed pairs, when given, stand for the gravity law: not with a
/// `concentration`, and only where the stream draws both sides among the
/// city's banks (not cross-city, not `fixed`).
fn counterparties(
    path: &Path,
    spec: &InstrumentFile,
    at: At,
    ids: &[String],
) -> Result<Vec<super::Pair>, ConfigError> {
    if spec.pairs.is_empty() {
        return Ok(Vec::new());
    }
    let clash = if spec.concentration.is_some() {
        Some("`concentration` (the pairs say who pays whom)")
    } else if spec.cross_city.is_some() {
        Some("`cross_city` (its other side is the banks outside)")
    } else if !spec.fixed.is_empty() {
        Some("`fixed` payments (it draws none)")
    } else {
        None
    };
    if let Some(clash) = clash {
        let message = format!("{}: not with {clash}", at("pairs"));
        return Err(error(path, message));
    }
    super::pairs::pairs(path, &at("pairs"), &spec.pairs, ids)
}

/// Longest source note, in bytes.
const MAX_SOURCE_BYTES: usize = 1000;

/// `assumed = true` needs a `source` note saying what the choice is.
fn assumed(path: &Path, spec: &InstrumentFile, at: At) -> Result<Option<String>, ConfigError> {
    let source = spec.source.as_deref().map(str::trim);
    if source.is_some_and(|s| s.len() > MAX_SOURCE_BYTES) {
        let message = format!("{}: at most {MAX_SOURCE_BYTES} bytes", at("source"));
        return Err(error(path, message));
    }
    match (spec.assumed, source) {
        (false, _) => Ok(None),
        (true, Some(note)) if !note.is_empty() => Ok(Some(note.to_string())),
        (true, _) => Err(error(
            path,
            format!(
                "{}: an assumed instrument needs a source note saying what the choice is",
                at("source")
            ),
        )),
    }
}

/// The name (a token: it goes into payments.csv's `instrument` column as
/// it is) and the daily count.
fn name_and_count(path: &Path, spec: &InstrumentFile, at: At) -> Result<(), ConfigError> {
    if !crate::input::is_token(spec.name.as_bytes()) {
        return Err(error(
            path,
            format!("{}: 1 to 64 characters of [A-Za-z0-9_.-]", at("name")),
        ));
    }
    if !(spec.daily_count.is_finite()
        && spec.daily_count >= 0.0
        && spec.daily_count <= MAX_PAYMENTS_PER_DAY)
    {
        return Err(error(
            path,
            format!(
                "{}: must be a number from 0 to {MAX_PAYMENTS_PER_DAY:.0e}",
                at("daily_count")
            ),
        ));
    }
    Ok(())
}

/// The intraday profile: business hours, flat, unless the file says.
fn profile(path: &Path, spec: &InstrumentFile, at: At) -> Result<Vec<Segment>, ConfigError> {
    if spec.profile.len() > MAX_PROFILE_SEGMENTS {
        return Err(error(
            path,
            format!(
                "{}: {} segments, at most {MAX_PROFILE_SEGMENTS}",
                at("profile"),
                spec.profile.len()
            ),
        ));
    }
    let mut profile = Vec::with_capacity(spec.profile.len());
    for segment in &spec.profile {
        let from = time(path, &at("profile.from"), &segment.from)?;
        let to = time(path, &at("profile.to"), &segment.to)?;
        if from >= to || !(segment.weight >= 0.0 && segment.weight <= MAX_PROFILE_WEIGHT) {
            return Err(error(
                path,
                format!(
                    "{}: needs from < to and a weight from 0 to {MAX_PROFILE_WEIGHT:.0e}",
                    at("profile")
                ),
            ));
        }
        profile.push(Segment {
            from,
            to,
            weight: segment.weight,
        });
    }
    if profile.is_empty() {
        // Default: business hours, flat.
        profile.push(Segment {
            from: SimTime(8 * 3_600_000 + 30 * 60_000),
            to: SimTime(16 * 3_600_000 + 30 * 60_000),
            weight: 1.0,
        });
    }
    if spec.daily_count > 0.0 && profile.iter().all(|s| s.weight == 0.0) {
        return Err(error(
            path,
            format!("{}: all weights are zero", at("profile")),
        ));
    }
    Ok(profile)
}

/// The amount law's fields, checked (with the tail's lower bound, which
/// defaults to 100 medians), and the instrument's other rates.
fn amount_file<'s>(
    path: &Path,
    spec: &'s InstrumentFile,
    at: At,
) -> Result<(std::borrow::Cow<'s, AmountFile>, f64), ConfigError> {
    let fixed_only = AmountFile {
        median_yuan: 1.0,
        sigma: 0.0,
        tail_share: 0.0,
        tail_alpha: default_tail_alpha(),
        tail_min_yuan: None,
        tail_max_yuan: None,
        size_elasticity: 0.0,
    };
    if !spec.fixed.is_empty() && spec.daily_count != 0.0 {
        return Err(error(
            path,
            format!(
                "{}: an instrument with `fixed` payments draws none (daily_count = 0)",
                at("daily_count")
            ),
        ));
    }
    let amount = match (&spec.amount, spec.fixed.is_empty()) {
        (Some(amount), _) => std::borrow::Cow::Borrowed(amount),
        (None, false) => std::borrow::Cow::Owned(fixed_only),
        (None, _) => {
            return Err(error(
                path,
                format!(
                    "{}: needed (unless the instrument has only `fixed` payments)",
                    at("amount")
                ),
            ));
        }
    };
    let tail_min_yuan = amount.tail_min_yuan.unwrap_or(amount.median_yuan * 100.0);
    ranges(path, spec, &amount, tail_min_yuan, at)?;
    Ok((amount, tail_min_yuan))
}

/// Every rate and amount within its range.
fn ranges(
    path: &Path,
    spec: &InstrumentFile,
    amount: &AmountFile,
    tail_min_yuan: f64,
    at: At,
) -> Result<(), ConfigError> {
    for (field, value, ok) in [
        (
            "amount.median_yuan",
            amount.median_yuan,
            (0.01..=MAX_AMOUNT_YUAN).contains(&amount.median_yuan),
        ),
        (
            "amount.sigma",
            amount.sigma,
            amount.sigma >= 0.0 && amount.sigma <= 5.0,
        ),
        (
            "amount.tail_share",
            amount.tail_share,
            (0.0..=1.0).contains(&amount.tail_share),
        ),
        (
            "amount.tail_alpha",
            amount.tail_alpha,
            amount.tail_alpha > 1.0 && amount.tail_alpha <= 100.0,
        ),
        (
            "amount.tail_min_yuan",
            tail_min_yuan,
            (0.01..=MAX_AMOUNT_YUAN).contains(&tail_min_yuan),
        ),
        (
            "amount.tail_max_yuan",
            amount.tail_max_yuan.unwrap_or(1e11),
            amount
                .tail_max_yuan
                .is_none_or(|max| max > tail_min_yuan && max <= 1e11),
        ),
        (
            "amount.size_elasticity",
            amount.size_elasticity,
            (0.0..=3.0).contains(&amount.size_elasticity),
        ),
        (
            "concentration",
            spec.concentration.unwrap_or(1.0),
            (0.0..=MAX_EXPONENT).contains(&spec.concentration.unwrap_or(1.0)),
        ),
        (
            "dishonour_rate",
            spec.dishonour_rate,
            (0.0..=1.0).contains(&spec.dishonour_rate),
        ),
    ] {
        if !(value.is_finite() && ok) {
            return Err(error(
                path,
                format!("{}: out of range ({value})", at(field)),
            ));
        }
    }
    if spec.dishonour_rate > 0.0 && !spec.cheque {
        return Err(error(
            path,
            format!("{}: only cheques are dishonoured", at("dishonour_rate")),
        ));
    }
    Ok(())
}

/// Payments bunched before the clearing house's cut-offs, if any.
fn cutoff_bunching(
    path: &Path,
    spec: &InstrumentFile,
    at: At,
) -> Result<Option<Bunching>, ConfigError> {
    Ok(match &spec.cutoff_bunching {
        None => None,
        Some(b)
            if b.minutes > 0
                && b.minutes <= 24 * 60
                && (1.0..=MAX_BUNCHING_FACTOR).contains(&b.factor)
                && b.cutoffs.len() <= MAX_PROFILE_SEGMENTS =>
        {
            let cutoffs = b
                .cutoffs
                .iter()
                .map(|t| time(path, &at("cutoff_bunching.cutoffs"), t))
                .collect::<Result<Vec<_>, _>>()?;
            if cutoffs.is_empty() {
                return Err(error(
                    path,
                    format!(
                        "{}: name the clearing house's cut-off times (bunching follows the scenario's timetable, not the design under test)",
                        at("cutoff_bunching.cutoffs")
                    ),
                ));
            }
            Some(Bunching {
                minutes: b.minutes,
                factor: b.factor,
                cutoffs,
            })
        }
        Some(_) => {
            return Err(error(
                path,
                format!(
                    "{}: minutes 1..=1440, factor from 1 to {MAX_BUNCHING_FACTOR}, at most {MAX_PROFILE_SEGMENTS} cutoffs",
                    at("cutoff_bunching")
                ),
            ));
        }
    })
}

/// How long after presentment a dishonoured cheque comes back.
fn return_window_ms(path: &Path, spec: &InstrumentFile, at: At) -> Result<u32, ConfigError> {
    let return_window_ms = match &spec.return_window {
        None => RETURN_WINDOW_MS,
        Some(text) => parse_duration_ms(text).ok_or_else(|| {
            error(
                path,
                format!(
                    "{}: `{text}` is not a duration such as 30m or 2h",
                    at("return_window")
                ),
            )
        })?,
    };
    if spec.return_window.is_some() && !spec.cheque {
        return Err(error(
            path,
            format!("{}: only cheques are returned", at("return_window")),
        ));
    }
    Ok(return_window_ms)
}

/// Whether some instrument pays across the city's boundary.
pub(super) fn crosses_city(instruments: &[Instrument]) -> bool {
    instruments.iter().any(|i| i.cross_city.is_some())
}

/// `cross_city` (not for cheques) and `outside_hours`, which needs it
/// (default 0).
fn cross_city(
    path: &Path,
    spec: &InstrumentFile,
    at: At,
) -> Result<Option<CrossCity>, ConfigError> {
    let direction = match spec.cross_city.as_deref() {
        None => {
            if spec.outside_hours.is_some() {
                let message = format!("{}: only cross-city instruments", at("outside_hours"));
                return Err(error(path, message));
            }
            return Ok(None);
        }
        Some("out") => Direction::Out,
        Some("in") => Direction::In,
        Some(other) => {
            let message = format!("{}: `{other}` is not `out` or `in`", at("cross_city"));
            return Err(error(path, message));
        }
    };
    if spec.cheque {
        let message = format!("{}: cheques are cleared in the city", at("cross_city"));
        return Err(error(path, message));
    }
    let hours = spec.outside_hours.unwrap_or(0.0);
    if !(0.0..=MAX_OUTSIDE_HOURS).contains(&hours) {
        let message = format!(
            "{}: {hours} is not within 0..={MAX_OUTSIDE_HOURS} hours",
            at("outside_hours")
        );
        return Err(error(path, message));
    }
    Ok(Some(CrossCity {
        direction,
        outside_ms: (hours * 3_600_000.0).round() as u32,
    }))
}
