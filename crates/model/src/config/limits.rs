//! Sender limits: `[[limit]]` entries as written, and resolved against a
//! city's participants into the limits a gross channel enforces.

use clearsim_core::ParseError;
use std::path::Path;

use serde::Deserialize;

use super::file::LimitFile;
use super::{ConfigError, error};

/// One `[[limit]]`: `participant` (an id, or `*` for everyone) may pay out at
/// most `amount` more than it received — to `counterparty` alone, or to all.
#[derive(Clone, Debug, PartialEq)]
pub struct LimitEntry {
    pub participant: String,
    pub counterparty: Option<String>,
    pub amount: LimitAmount,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LimitAmount {
    Fen(i64),
    /// A share of the participant's opening balance on day 1.
    ShareOfOpening(f64),
}

impl LimitEntry {
    /// Resolves the entries against the participants' ids: `*` entries first,
    /// then the named ones, which override them. Errors name the entry.
    pub fn resolve(
        entries: &[LimitEntry],
        ids: &[String],
        opening_fen: &[i64],
    ) -> Result<clearsim_core::strategy::SenderLimits, ParseError> {
        let index = |id: &str, at: usize| -> Result<u32, ParseError> {
            ids.iter()
                .position(|known| known == id)
                .map(|i| i as u32)
                .ok_or_else(|| ParseError(format!("limit[{at}]: `{id}` is not a participant")))
        };
        let mut multilateral: Vec<Option<i64>> = vec![None; ids.len()];
        let mut bilateral: std::collections::BTreeMap<(u32, u32), i64> = Default::default();
        let wildcard_first = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.participant == "*")
            .chain(
                entries
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.participant != "*"),
            );
        for (at, entry) in wildcard_first {
            let senders: Vec<u32> = if entry.participant == "*" {
                (0..ids.len() as u32).collect()
            } else {
                vec![index(&entry.participant, at)?]
            };
            let receiver = match &entry.counterparty {
                None => None,
                Some(id) => Some(index(id, at)?),
            };
            for sender in senders {
                if receiver == Some(sender) {
                    continue;
                }
                let limit_fen = match entry.amount {
                    LimitAmount::Fen(fen) => fen,
                    LimitAmount::ShareOfOpening(share) => {
                        let fen = (opening_fen[sender as usize] as f64 * share).round();
                        // Below 9.2e18 the cast is exact.
                        fen.min(9.2e18) as i64
                    }
                };
                match receiver {
                    None => multilateral[sender as usize] = Some(limit_fen),
                    Some(receiver) => {
                        bilateral.insert((sender, receiver), limit_fen);
                    }
                }
            }
        }
        let mut limits = clearsim_core::strategy::SenderLimits::default();
        for (sender, limit) in multilateral.iter().enumerate() {
            if let Some(limit_fen) = limit {
                limits.entries.push(clearsim_core::strategy::SenderLimit {
                    sender: sender as u32,
                    receiver: None,
                    limit_fen: *limit_fen,
                });
            }
        }
        for (&(sender, receiver), &limit_fen) in &bilateral {
            limits.entries.push(clearsim_core::strategy::SenderLimit {
                sender,
                receiver: Some(receiver),
                limit_fen,
            });
        }
        Ok(limits)
    }
}

/// A file of `[[limit]]` entries alone (for `replay --limits`), in the same
/// form as a scenario's.
pub fn load_limits(path: &Path) -> Result<Vec<LimitEntry>, ConfigError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct LimitsFile {
        limit: Vec<LimitFile>,
    }
    let text = crate::input::read_regular_string(path)
        .map_err(|e| error(path, format!("cannot read: {e}")))?;
    let file: LimitsFile = toml::from_str(&text).map_err(|e| error(path, e.to_string()))?;
    limits(path, &file.limit)
}

pub(super) fn limits(path: &Path, files: &[LimitFile]) -> Result<Vec<LimitEntry>, ConfigError> {
    let mut out = Vec::with_capacity(files.len());
    for (index, file) in files.iter().enumerate() {
        let at = |field: &str| format!("limit[{index}].{field}");
        if file.participant.is_empty() {
            return Err(error(path, format!("{}: empty", at("participant"))));
        }
        if file.counterparty.as_deref() == Some("*") {
            return Err(error(
                path,
                format!(
                    "{}: name one participant (or leave it out for a multilateral limit)",
                    at("counterparty")
                ),
            ));
        }
        let amount = match (file.limit_yuan, file.limit_share_of_opening) {
            (Some(yuan), None) => {
                LimitAmount::Fen(clearsim_core::money::yuan_to_fen(yuan).ok_or_else(|| {
                    error(
                        path,
                        format!("{}: {yuan} is not an amount of yuan ≥ 0", at("limit_yuan")),
                    )
                })?)
            }
            (None, Some(share)) if share.is_finite() && share >= 0.0 => {
                LimitAmount::ShareOfOpening(share)
            }
            (None, Some(share)) => {
                return Err(error(
                    path,
                    format!(
                        "{}: {share} is not a number ≥ 0",
                        at("limit_share_of_opening")
                    ),
                ));
            }
            _ => {
                return Err(error(
                    path,
                    format!(
                        "limit[{index}]: give exactly one of limit_yuan and limit_share_of_opening"
                    ),
                ));
            }
        };
        out.push(LimitEntry {
            participant: file.participant.clone(),
            counterparty: file.counterparty.clone(),
            amount,
        });
    }
    Ok(out)
}
