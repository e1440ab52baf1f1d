//! Shocks: defaults, outages and liquidity shocks, as the command line
//! and `[default]`/`[[shock]]` write them.

use clearsim_core::ParseError;
use std::path::Path;

use clearsim_core::time::SimTime;

use super::file::{DefaultFile, ShockFile};
use super::{ConfigError, error, time};

/// A shock to the system, measured against the same run without it.
/// Every shock happens on day 1; a default lasts for the rest of the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shock {
    /// From `at`, none of the participant's payments is released.
    Default { participant: String, at: SimTime },
    /// From `from` to `to` the participant cannot send (it still receives);
    /// its payments wait and go in, in order, at `to`.
    Outage {
        participant: String,
        from: SimTime,
        to: SimTime,
    },
    /// From `from` to `to` nothing enters or settles; scheduled runs wait.
    SystemOutage { from: SimTime, to: SimTime },
    /// At `at`, up to `amount_fen` leaves the participant's account.
    Liquidity {
        participant: String,
        at: SimTime,
        amount_fen: i64,
    },
}

impl Shock {
    /// Parses the command line's forms: `default:ID@HH:MM`,
    /// `outage:ID@HH:MM-HH:MM`, `system:HH:MM-HH:MM`,
    /// `liquidity:ID@HH:MM=AMOUNT` (an amount with its unit, e.g. 5e8yuan).
    pub fn parse(text: &str) -> Result<Shock, ParseError> {
        let (kind, rest) = text.split_once(':').ok_or_else(|| {
            format!("`{text}` is not KIND:…, with KIND default, outage, system or liquidity")
        })?;
        let clock = |t: &str| {
            clearsim_core::time::parse_clock(t)
                .ok_or_else(|| format!("`{t}` is not a time HH:MM[:SS]"))
        };
        let window = |w: &str| -> Result<(SimTime, SimTime), ParseError> {
            let (from, to) = w
                .split_once('-')
                .ok_or_else(|| format!("`{w}` is not a window HH:MM-HH:MM"))?;
            Ok((clock(from)?, clock(to)?))
        };
        let who = |w: &str| -> Result<(String, String), ParseError> {
            let (id, rest) = w
                .split_once('@')
                .ok_or_else(|| format!("`{text}`: expected ID@…"))?;
            if id.is_empty() {
                return Err(format!("`{text}`: the participant id is empty").into());
            }
            Ok((id.to_string(), rest.to_string()))
        };
        let shock = match kind {
            "default" => {
                let (participant, at) = who(rest)?;
                Shock::Default {
                    participant,
                    at: clock(&at)?,
                }
            }
            "outage" => {
                let (participant, w) = who(rest)?;
                let (from, to) = window(&w)?;
                Shock::Outage {
                    participant,
                    from,
                    to,
                }
            }
            "system" => {
                let (from, to) = window(rest)?;
                Shock::SystemOutage { from, to }
            }
            "liquidity" => {
                let (participant, w) = who(rest)?;
                let (at, amount) = w
                    .split_once('=')
                    .ok_or_else(|| format!("`{text}`: expected ID@HH:MM=AMOUNT"))?;
                Shock::Liquidity {
                    participant,
                    at: clock(at)?,
                    amount_fen: clearsim_core::money::parse_amount_fen(amount)?,
                }
            }
            other => {
                return Err(format!(
                    "`{other}` is not a shock: default, outage, system or liquidity"
                )
                .into());
            }
        };
        shock.check()?;
        Ok(shock)
    }

    /// Windows must open before they close.
    fn check(&self) -> Result<(), ParseError> {
        match self {
            Shock::Outage { from, to, .. } | Shock::SystemOutage { from, to } if from >= to => {
                Err(format!("{self}: the window must open before it closes").into())
            }
            _ => Ok(()),
        }
    }

    /// The participant it strikes, if one.
    pub fn participant(&self) -> Option<&str> {
        match self {
            Shock::Default { participant, .. }
            | Shock::Outage { participant, .. }
            | Shock::Liquidity { participant, .. } => Some(participant),
            Shock::SystemOutage { .. } => None,
        }
    }

    /// The latest time it names (checked against the day end).
    pub fn last_time(&self) -> SimTime {
        match self {
            Shock::Default { at, .. } | Shock::Liquidity { at, .. } => *at,
            Shock::Outage { to, .. } | Shock::SystemOutage { to, .. } => *to,
        }
    }
}

impl std::fmt::Display for Shock {
    /// The command line's form, times in full.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shock::Default { participant, at } => write!(f, "default:{participant}@{at}"),
            Shock::Outage {
                participant,
                from,
                to,
            } => write!(f, "outage:{participant}@{from}-{to}"),
            Shock::SystemOutage { from, to } => write!(f, "system:{from}-{to}"),
            Shock::Liquidity {
                participant,
                at,
                amount_fen,
            } => write!(f, "liquidity:{participant}@{at}={amount_fen}fen"),
        }
    }
}

/// The `[default]` and `[[shock]]` entries, checked: every field the kind
/// needs and no other, times within the day, windows that open before
/// they close. Participant ids are checked by the caller, which knows
/// the population.
pub(super) fn shocks(
    path: &Path,
    default: Option<&DefaultFile>,
    files: &[ShockFile],
    day_end: SimTime,
) -> Result<Vec<Shock>, ConfigError> {
    let mut out = Vec::new();
    if let Some(d) = default {
        out.push(Shock::Default {
            participant: d.participant.clone(),
            at: time(path, "default.at", &d.at)?,
        });
    }
    for (index, file) in files.iter().enumerate() {
        let shock = shock(path, index, file)?;
        shock
            .check()
            .map_err(|e| error(path, format!("shock[{index}]: {e}")))?;
        out.push(shock);
    }
    for shock in &out {
        if shock.last_time() > day_end {
            return Err(error(path, format!("{shock}: after the day end {day_end}")));
        }
    }
    Ok(out)
}

/// One `[[shock]]` entry: the fields its kind needs, and no other.
fn shock(path: &Path, index: usize, file: &ShockFile) -> Result<Shock, ConfigError> {
    let at = |field: &str| format!("shock[{index}].{field}");
    let need = |value: &Option<String>, field: &str| -> Result<String, ConfigError> {
        value.clone().ok_or_else(|| {
            error(
                path,
                format!("{}: missing for kind `{}`", at(field), file.kind),
            )
        })
    };
    let unexpected = |present: bool, field: &str| -> Result<(), ConfigError> {
        if present {
            return Err(error(
                path,
                format!("{}: not used by kind `{}`", at(field), file.kind),
            ));
        }
        Ok(())
    };
    let shock = match file.kind.as_str() {
        "outage" | "system_outage" => {
            unexpected(file.at.is_some(), "at")?;
            unexpected(file.amount_yuan.is_some(), "amount_yuan")?;
            let from = time(path, &at("from"), &need(&file.from, "from")?)?;
            let to = time(path, &at("to"), &need(&file.to, "to")?)?;
            if file.kind == "outage" {
                Shock::Outage {
                    participant: need(&file.participant, "participant")?,
                    from,
                    to,
                }
            } else {
                unexpected(file.participant.is_some(), "participant")?;
                Shock::SystemOutage { from, to }
            }
        }
        "liquidity" => {
            unexpected(file.from.is_some(), "from")?;
            unexpected(file.to.is_some(), "to")?;
            let amount_fen = file
                .amount_yuan
                .and_then(clearsim_core::money::yuan_to_fen)
                .ok_or_else(|| {
                    error(
                        path,
                        format!("{}: an amount of yuan ≥ 0", at("amount_yuan")),
                    )
                })?;
            Shock::Liquidity {
                participant: need(&file.participant, "participant")?,
                at: time(path, &at("at"), &need(&file.at, "at")?)?,
                amount_fen,
            }
        }
        other => {
            return Err(error(
                path,
                format!(
                    "{}: `{other}` is not outage, system_outage or liquidity",
                    at("kind")
                ),
            ));
        }
    };
    Ok(shock)
}

/// Every shock names a participant of the city (by id).
pub fn check_shocks(shocks: &[Shock], ids: &[String]) -> Result<(), ParseError> {
    for shock in shocks {
        if let Some(id) = shock.participant()
            && !ids.iter().any(|known| known == id)
        {
            return Err(format!(
                "{shock}: `{id}` is not a participant (e.g. {})",
                ids.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
            )
            .into());
        }
    }
    Ok(())
}
