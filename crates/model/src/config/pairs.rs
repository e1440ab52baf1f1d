//! An instrument's observed bilateral shares: who pays whom, pair by pair,
//! instead of by gravity over the banks' sizes (`fit --observed-pairs`
//! writes them; docs/config.md, "pairs").

use std::path::Path;

use serde::Deserialize;

use super::{ConfigError, Roster, error};

/// At most this many pairs per instrument (a thousand banks, each paying
/// every other).
pub const MAX_PAIRS: usize = 1_000_000;
/// No pair weighs more than this (weights are relative; a fit writes
/// payments per day).
pub const MAX_PAIR_WEIGHT: f64 = 1e12;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PairFile {
    from: String,
    to: String,
    weight: f64,
}

/// One sender–receiver pair of an instrument and its weight: a payment
/// of the instrument is between them with probability weight / Σ weights.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pair {
    pub sender: u32,
    pub receiver: u32,
    pub weight: f64,
}

/// An instrument's `pairs`, checked and sorted by (sender, receiver) so
/// that the stream does not depend on the order they are written in.
pub(super) fn pairs(
    path: &Path,
    field: &str,
    files: &[PairFile],
    ids: &[String],
) -> Result<Vec<Pair>, ConfigError> {
    if files.len() > MAX_PAIRS {
        return Err(error(path, format!("{field}: at most {MAX_PAIRS} pairs")));
    }
    let roster = Roster::new(ids);
    let mut out = Vec::with_capacity(files.len());
    for (i, file) in files.iter().enumerate() {
        let (sender, receiver) = roster.pair(path, (field, i), &file.from, &file.to)?;
        if !(file.weight.is_finite() && file.weight > 0.0 && file.weight <= MAX_PAIR_WEIGHT) {
            return Err(error(
                path,
                format!(
                    "{field}[{i}].weight: a number > 0 and ≤ {MAX_PAIR_WEIGHT:e} ({})",
                    file.weight
                ),
            ));
        }
        out.push(Pair {
            sender,
            receiver,
            weight: file.weight,
        });
    }
    out.sort_by_key(|p| (p.sender, p.receiver));
    if let Some(twice) = out
        .windows(2)
        .find(|w| (w[0].sender, w[0].receiver) == (w[1].sender, w[1].receiver))
    {
        let (from, to) = (roster.id(twice[0].sender), roster.id(twice[0].receiver));
        return Err(error(
            path,
            format!("{field}: the pair `{from}` → `{to}` is given twice"),
        ));
    }
    Ok(out)
}
