//! The participants of a scenario: a seed roster's categories, or
//! synthetic banks.

use std::path::Path;

use super::file::{ParticipantsFile, RosterFile};
use super::{Category, ConfigError, MAX_EXPONENT, MAX_PARTICIPANTS, Population, error};

/// Every participant id a roster makes follows replay's id rule and is
/// unique; a category names at most `count` members.
fn check_roster_ids(path: &Path, categories: &[Category], total: u64) -> Result<(), ConfigError> {
    if total > u64::from(MAX_PARTICIPANTS) {
        return Ok(()); // Refused by the caller, with its own message.
    }
    let mut seen = std::collections::BTreeSet::new();
    for (index, category) in categories.iter().enumerate() {
        let at = |field: &str| format!("category[{index}] ({}).{field}", category.id);
        // Room for "-1000000" after the id.
        if category.id.len() > 56 || !crate::input::is_token(category.id.as_bytes()) {
            return Err(error(
                path,
                format!("{}: 1 to 56 characters of [A-Za-z0-9_.-]", at("id")),
            ));
        }
        if category.members.len() > category.count as usize {
            return Err(error(
                path,
                format!(
                    "{}: {} members for a count of {}",
                    at("members"),
                    category.members.len(),
                    category.count
                ),
            ));
        }
        for k in 0..category.count as usize {
            let id = category.member_id(k);
            if !crate::input::is_token(id.as_bytes()) {
                return Err(error(
                    path,
                    format!(
                        "{}: `{id}` is not 1 to 64 characters of [A-Za-z0-9_.-]",
                        at("members")
                    ),
                ));
            }
            if !seen.insert(id.clone()) {
                return Err(error(
                    path,
                    format!(
                        "{}: the id `{id}` appears twice in the roster",
                        at("members")
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A roster's categories, checked: counts and shares positive, ids by
/// replay's rule and unique, 2 to MAX_PARTICIPANTS participants in all.
/// `field` prefixes field names in messages (`participants.` inline).
fn categories_of(
    path: &Path,
    field: &str,
    file: Vec<super::file::RosterCategory>,
) -> Result<Vec<Category>, ConfigError> {
    let mut categories = Vec::with_capacity(file.len());
    for category in file {
        if category.count == 0
            || !(category.deposit_share.is_finite() && category.deposit_share > 0.0)
        {
            return Err(error(
                path,
                format!(
                    "{field}category {}: count and deposit_share must be positive",
                    category.id
                ),
            ));
        }
        categories.push(Category {
            id: category.id,
            name: category.name,
            count: category.count,
            deposit_share: category.deposit_share,
            members: category.members,
        });
    }
    let total: u64 = categories.iter().map(|c| u64::from(c.count)).sum();
    check_roster_ids(path, &categories, total)?;
    if total > u64::from(MAX_PARTICIPANTS) {
        return Err(error(
            path,
            format!(
                "{field}category[].count: {total} participants in all, at most {MAX_PARTICIPANTS}"
            ),
        ));
    }
    if total < 2 {
        return Err(error(path, "the roster needs at least two participants"));
    }
    Ok(categories)
}

/// A population from a roster file (categories of named banks), with the
/// roster's deposit growth and deposits.
fn roster_population(
    path: &Path,
    roster_path: &Path,
    spec: &ParticipantsFile,
) -> Result<(Population, f64, Option<f64>), ConfigError> {
    let text = crate::input::read_regular_string(roster_path).map_err(|e| {
        // A relative roster is found from the config file's directory,
        // not the working directory: say so, and where that led.
        let tried = std::path::absolute(roster_path).unwrap_or_else(|_| roster_path.to_path_buf());
        error(
            path,
            format!(
                "participants.roster: cannot read {} ({e}); a relative roster path is relative to the config file's directory",
                tried.display()
            ),
        )
    })?;
    let file: RosterFile = toml::from_str(&text).map_err(|e| error(roster_path, e.to_string()))?;
    let _ = &file.source;
    let categories = categories_of(roster_path, "", file.category)?;
    let growth = file
        .targets_2010
        .deposits_growth_pct_per_year
        .map_or(0.0, |pct| pct / 100.0);
    let deposits_fen = file.money.deposits_yi.map(|yi| yi * 1e10);
    Ok((
        Population::Roster {
            categories,
            within_category_exponent: spec.within_category_exponent,
        },
        growth,
        deposits_fen,
    ))
}

pub(super) fn population(
    path: &Path,
    spec: &ParticipantsFile,
    base: &Path,
) -> Result<(Population, f64, Option<f64>), ConfigError> {
    for (field, value) in [
        ("participants.size_exponent", spec.size_exponent),
        (
            "participants.within_category_exponent",
            spec.within_category_exponent,
        ),
    ] {
        if !(0.0..=MAX_EXPONENT).contains(&value) {
            return Err(error(
                path,
                format!("{field}: must be a number from 0 to {MAX_EXPONENT}"),
            ));
        }
    }
    let inline = !spec.category.is_empty();
    match (&spec.roster, spec.n) {
        (None, None) if inline => Ok((
            Population::Roster {
                categories: categories_of(path, "participants.", spec.category.clone())?,
                within_category_exponent: spec.within_category_exponent,
            },
            0.0,
            None,
        )),
        _ if inline => Err(error(
            path,
            "participants: give exactly one of `roster`, `n` or `[[participants.category]]`",
        )),
        (Some(roster), None) => roster_population(path, &base.join(roster), spec),
        (None, Some(n)) if (2..=MAX_PARTICIPANTS).contains(&n) => Ok((
            Population::Synthetic {
                n,
                size_exponent: spec.size_exponent,
            },
            0.0,
            None,
        )),
        (None, Some(_)) => Err(error(
            path,
            format!("participants.n: must be 2..={MAX_PARTICIPANTS}"),
        )),
        _ => Err(error(
            path,
            "participants: give exactly one of `roster` or `n`",
        )),
    }
}
