//! A scenario's `[costs]` and `[[policy]]` sections: what a day costs the
//! banks, and when each bank submits its customers' orders.

use std::path::Path;

use serde::Deserialize;

use super::{ConfigError, Population, error};
use crate::bank::costs::{CostModel, Credit};
use crate::bank::policy::{Policy, parse_policy};
use clearsim_core::time::{SimTime, parse_clock};

/// At most this many fixed payments per instrument.
pub const MAX_FIXED: usize = 100_000;

/// At most this many `[[policy]]` entries, delay classes and pricing times.
pub const MAX_POLICIES: usize = 10_000;
pub const MAX_DELAY_CLASSES: usize = 256;
pub const MAX_PRICING_TIMES: usize = 96;
/// No rate above this many basis points (per day, per minute or per use).
pub const MAX_RATE_BP: f64 = 1e6;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CostsFile {
    #[serde(default)]
    liquidity_bp_per_day: f64,
    /// `free`, `priced` or `collateral`.
    #[serde(default = "free")]
    credit: String,
    overdraft_fee_bp: Option<f64>,
    pricing_times: Option<Vec<String>>,
    collateral_haircut: Option<f64>,
    collateral_bp_per_day: Option<f64>,
    #[serde(default)]
    delay_bp_per_minute: Vec<f64>,
    #[serde(default)]
    unsettled_bp: f64,
    /// The standing facility's rate: the same figure as
    /// `liquidity.overnight_rate_bp`, which it sets.
    pub(super) overnight_rate_bp: Option<u32>,
}

fn free() -> String {
    "free".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PolicyFile {
    participant: Option<String>,
    category: Option<String>,
    rule: String,
}

/// One `[[policy]]`: the banks it names (one participant, a category, or
/// everyone) and their policy. Later entries override earlier ones.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyEntry {
    pub participant: Option<String>,
    pub category: Option<String>,
    pub policy: Policy,
}

impl PolicyEntry {
    /// Each participant's policy (`None`: immediate), given their ids and
    /// categories.
    pub fn resolve(
        entries: &[PolicyEntry],
        ids: &[String],
        categories: &[String],
    ) -> Vec<Option<Policy>> {
        let mut out = vec![None; ids.len()];
        for entry in entries {
            for (i, slot) in out.iter_mut().enumerate() {
                let named = match (&entry.participant, &entry.category) {
                    (Some(p), _) => ids[i] == *p,
                    (None, Some(c)) => categories.get(i) == Some(c),
                    (None, None) => true,
                };
                if named {
                    *slot = Some(entry.policy.clone());
                }
            }
        }
        out
    }
}

fn rate(path: &Path, field: &str, value: f64) -> Result<f64, ConfigError> {
    if value.is_finite() && (0.0..=MAX_RATE_BP).contains(&value) {
        Ok(value)
    } else {
        Err(error(
            path,
            format!("costs.{field}: must be a number from 0 to {MAX_RATE_BP} (basis points)"),
        ))
    }
}

/// `[costs]`, checked.
pub(super) fn costs(
    path: &Path,
    file: &CostsFile,
    day_end: SimTime,
) -> Result<CostModel, ConfigError> {
    let credit = match file.credit.as_str() {
        "free" => Credit::Free,
        "priced" => Credit::Priced {
            fee_bp: rate(
                path,
                "overdraft_fee_bp",
                file.overdraft_fee_bp.unwrap_or(0.0),
            )?,
            at: pricing_times(path, file.pricing_times.as_deref(), day_end)?,
        },
        "collateral" => {
            let haircut = file.collateral_haircut.unwrap_or(0.0);
            if !(haircut.is_finite() && (0.0..0.99).contains(&haircut)) {
                return Err(error(
                    path,
                    "costs.collateral_haircut: must be in [0, 0.99)",
                ));
            }
            Credit::Collateral {
                haircut,
                cost_bp_per_day: rate(
                    path,
                    "collateral_bp_per_day",
                    file.collateral_bp_per_day.unwrap_or(0.0),
                )?,
            }
        }
        other => {
            return Err(error(
                path,
                format!("costs.credit: `{other}` is not free, priced or collateral"),
            ));
        }
    };
    if file.delay_bp_per_minute.len() > MAX_DELAY_CLASSES {
        return Err(error(
            path,
            format!(
                "costs.delay_bp_per_minute: at most {MAX_DELAY_CLASSES} rates (one per priority)"
            ),
        ));
    }
    let mut delay = Vec::with_capacity(file.delay_bp_per_minute.len());
    for &value in &file.delay_bp_per_minute {
        delay.push(rate(path, "delay_bp_per_minute", value)?);
    }
    Ok(CostModel {
        liquidity_bp_per_day: rate(path, "liquidity_bp_per_day", file.liquidity_bp_per_day)?,
        credit,
        delay_bp_per_minute: delay,
        unsettled_bp: rate(path, "unsettled_bp", file.unsettled_bp)?,
    })
}

/// Priced credit's pricing times: as given (increasing, within the day), or
/// every full hour from 09:00 before the day end. The day end is always one.
fn pricing_times(
    path: &Path,
    given: Option<&[String]>,
    day_end: SimTime,
) -> Result<Vec<SimTime>, ConfigError> {
    let Some(given) = given else {
        return Ok((9..24)
            .map(|h| SimTime(h * 3_600_000))
            .filter(|&t| t < day_end)
            .collect());
    };
    if given.len() > MAX_PRICING_TIMES {
        return Err(error(
            path,
            format!("costs.pricing_times: at most {MAX_PRICING_TIMES}"),
        ));
    }
    let mut out: Vec<SimTime> = Vec::with_capacity(given.len());
    for (i, text) in given.iter().enumerate() {
        let at = parse_clock(text).filter(|&t| t <= day_end).ok_or_else(|| {
            error(
                path,
                format!("costs.pricing_times[{i}]: `{text}` is not a time HH:MM within the day"),
            )
        })?;
        if out.last().is_some_and(|&last| at <= last) {
            return Err(error(
                path,
                format!("costs.pricing_times[{i}]: times must increase"),
            ));
        }
        out.push(at);
    }
    Ok(out)
}

/// `[[policy]]` entries, checked against the population.
pub(super) fn policies(
    path: &Path,
    files: &[PolicyFile],
    population: &Population,
    ids: &[String],
) -> Result<Vec<PolicyEntry>, ConfigError> {
    if files.len() > MAX_POLICIES {
        return Err(error(
            path,
            format!("policy: {} entries, at most {MAX_POLICIES}", files.len()),
        ));
    }
    let categories: Vec<&str> = match population {
        Population::Roster { categories, .. } => categories.iter().map(|c| c.id.as_str()).collect(),
        Population::Synthetic { .. } => Vec::new(),
    };
    let mut out = Vec::with_capacity(files.len());
    for (i, file) in files.iter().enumerate() {
        let policy =
            parse_policy(&file.rule).map_err(|e| error(path, format!("policy[{i}].rule: {e}")))?;
        match (&file.participant, &file.category) {
            (Some(_), Some(_)) => {
                return Err(error(
                    path,
                    format!("policy[{i}]: name a participant or a category, not both"),
                ));
            }
            (Some(p), None) if !ids.contains(p) => {
                return Err(error(
                    path,
                    format!("policy[{i}].participant: no participant `{p}`"),
                ));
            }
            (None, Some(c)) if !categories.contains(&c.as_str()) => {
                return Err(error(
                    path,
                    format!("policy[{i}].category: no category `{c}`"),
                ));
            }
            _ => {}
        }
        out.push(PolicyEntry {
            participant: file.participant.clone(),
            category: file.category.clone(),
            policy,
        });
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FixedFile {
    at: String,
    from: String,
    to: String,
    amount_yuan: f64,
}

/// One payment an instrument makes every business day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedPayment {
    pub at: SimTime,
    pub sender: u32,
    pub receiver: u32,
    pub amount_fen: i64,
}

/// An instrument's `fixed` payments, checked and sorted by time (stably:
/// same-time payments keep the order written).
pub(super) fn fixed(
    path: &Path,
    field: &str,
    files: &[FixedFile],
    ids: &[String],
) -> Result<Vec<FixedPayment>, ConfigError> {
    if files.len() > MAX_FIXED {
        return Err(error(
            path,
            format!("{field}: at most {MAX_FIXED} payments"),
        ));
    }
    let roster = super::Roster::new(ids);
    let mut out = Vec::with_capacity(files.len());
    for (i, file) in files.iter().enumerate() {
        let at = parse_clock(&file.at).ok_or_else(|| {
            error(
                path,
                format!("{field}[{i}].at: `{}` is not a time HH:MM", file.at),
            )
        })?;
        let (sender, receiver) = roster.pair(path, (field, i), &file.from, &file.to)?;
        let amount_fen = clearsim_core::money::yuan_to_fen(file.amount_yuan)
            .filter(|&f| f > 0 && f <= (super::MAX_AMOUNT_YUAN * 100.0) as i64)
            .ok_or_else(|| {
                error(
                    path,
                    format!(
                        "{field}[{i}].amount_yuan: an amount > 0 and ≤ {:e} yuan",
                        super::MAX_AMOUNT_YUAN
                    ),
                )
            })?;
        out.push(FixedPayment {
            at,
            sender,
            receiver,
            amount_fen,
        });
    }
    out.sort_by_key(|p| p.at);
    Ok(out)
}
