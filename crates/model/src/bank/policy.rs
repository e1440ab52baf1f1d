//! The grammar of a bank's queue policy: when the bank submits a customer's
//! order to the settlement system. One spelling each:
//!
//! | policy | spelling | submits a payment |
//! | --- | --- | --- |
//! | immediate | `immediate` | when ordered (the default) |
//! | reserve | `reserve:5e6yuan` | while its balance after the payment stays ≥ the reserve |
//! | throughput | `throughput:12:00=50%,14:30=75%` | when its balance covers it, or when the bank is behind its guideline (share of its expected day's value submitted by each time) |
//! | reciprocal | `reciprocal:30m` | when what the counterparty paid it today, less what it paid the counterparty, covers it; or once held that long |
//! | deadline | `deadline:15:00` | urgent ones (priority ≥ 1) when ordered, the rest at the cut-off |
//!
//! Every policy submits whatever it still holds at the day end (the
//! system's close), so nothing stays with the bank overnight.

use clearsim_core::ParseError;
use clearsim_core::money::parse_amount_fen;
use clearsim_core::time::{SimTime, parse_clock, parse_duration_ms};

/// At most this many checkpoints in a throughput guideline.
pub const MAX_CHECKPOINTS: usize = 24;

/// A bank's queue policy (see the module table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Policy {
    Immediate,
    Reserve {
        reserve_fen: i64,
    },
    /// (time, per-mille of the expected day's value submitted by then),
    /// times strictly increasing, shares non-decreasing.
    Throughput {
        checkpoints: Vec<(SimTime, u32)>,
    },
    Reciprocal {
        timeout_ms: u32,
    },
    Deadline {
        cutoff: SimTime,
    },
}

impl std::fmt::Display for Policy {
    /// The spelling [`parse_policy`] reads back.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Policy::Immediate => write!(f, "immediate"),
            Policy::Reserve { reserve_fen } => write!(f, "reserve:{reserve_fen}fen"),
            Policy::Throughput { checkpoints } => {
                write!(f, "throughput:")?;
                for (i, (at, permille)) in checkpoints.iter().enumerate() {
                    let sep = if i == 0 { "" } else { "," };
                    let (whole, tenth) = (permille / 10, permille % 10);
                    let clock = at.to_string();
                    let clock = clock.trim_end_matches(":00.000").trim_end_matches(".000");
                    if tenth == 0 {
                        write!(f, "{sep}{clock}={whole}%")?;
                    } else {
                        write!(f, "{sep}{clock}={whole}.{tenth}%")?;
                    }
                }
                Ok(())
            }
            Policy::Reciprocal { timeout_ms } => write!(f, "reciprocal:{timeout_ms}ms"),
            Policy::Deadline { cutoff } => {
                let clock = cutoff.to_string();
                write!(f, "deadline:{}", clock.trim_end_matches(".000"))
            }
        }
    }
}

/// Reads one policy (module table). Errors say what is wrong, for the caller
/// to prefix with the field.
pub fn parse_policy(text: &str) -> Result<Policy, ParseError> {
    let text = text.trim();
    let (name, parameter) = match text.split_once(':') {
        Some((name, parameter)) => (name, Some(parameter)),
        None => (text, None),
    };
    let needs = |what: &str| ParseError(format!("`{name}` needs {what}, e.g. `{}`", example(name)));
    match (name, parameter) {
        ("immediate", None) => Ok(Policy::Immediate),
        ("reserve", Some(p)) => Ok(Policy::Reserve {
            reserve_fen: parse_amount_fen(p)?,
        }),
        ("throughput", Some(p)) => throughput(p),
        ("reciprocal", Some(p)) => Ok(Policy::Reciprocal {
            timeout_ms: parse_duration_ms(p)
                .ok_or_else(|| format!("`{p}` is not a duration such as 30m or 90s"))?,
        }),
        ("deadline", Some(p)) => Ok(Policy::Deadline {
            cutoff: parse_clock(p).ok_or_else(|| format!("`{p}` is not a time HH:MM[:SS]"))?,
        }),
        ("immediate", Some(_)) => Err("`immediate` takes no parameter".into()),
        ("reserve", None) => Err(needs("an amount")),
        ("throughput", None) => Err(needs("checkpoints")),
        ("reciprocal", None) => Err(needs("a timeout")),
        ("deadline", None) => Err(needs("a cut-off time")),
        _ => Err(format!(
            "unknown policy `{name}`: immediate, reserve:AMOUNT, throughput:HH:MM=P%,…, reciprocal:DURATION or deadline:HH:MM"
        ).into()),
    }
}

fn example(name: &str) -> &'static str {
    match name {
        "reserve" => "reserve:5e6yuan",
        "throughput" => "throughput:12:00=50%,14:30=75%",
        "reciprocal" => "reciprocal:30m",
        _ => "deadline:15:00",
    }
}

/// `12:00=50%,14:30=75%`: times strictly increasing, shares 0–100 % (to a
/// tenth of a per cent) and non-decreasing.
fn throughput(text: &str) -> Result<Policy, ParseError> {
    let mut checkpoints: Vec<(SimTime, u32)> = Vec::new();
    for item in text.split(',') {
        let (clock, share) = item
            .split_once('=')
            .ok_or_else(|| format!("`{item}`: a checkpoint is HH:MM=P%"))?;
        let at = parse_clock(clock).ok_or_else(|| format!("`{clock}` is not a time HH:MM"))?;
        let percent: f64 = share
            .trim()
            .strip_suffix('%')
            .and_then(|p| p.parse().ok())
            .filter(|p: &f64| (0.0..=100.0).contains(p))
            .ok_or_else(|| format!("`{share}` is not a share 0%–100%"))?;
        let permille = (percent * 10.0).round() as u32;
        if let Some(&(last_at, last_share)) = checkpoints.last()
            && (at <= last_at || permille < last_share)
        {
            return Err(format!(
                "`{item}`: checkpoints go forward in time with shares that do not fall"
            )
            .into());
        }
        checkpoints.push((at, permille));
        if checkpoints.len() > MAX_CHECKPOINTS {
            return Err(format!("at most {MAX_CHECKPOINTS} checkpoints").into());
        }
    }
    Ok(Policy::Throughput { checkpoints })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_policy_and_writes_it_back() {
        for (text, want) in [
            ("immediate", Policy::Immediate),
            (
                "reserve:5e6yuan",
                Policy::Reserve {
                    reserve_fen: 500_000_000,
                },
            ),
            (
                "throughput:12:00=50%,14:30=75%",
                Policy::Throughput {
                    checkpoints: vec![
                        (parse_clock("12:00").unwrap(), 500),
                        (parse_clock("14:30").unwrap(), 750),
                    ],
                },
            ),
            (
                "reciprocal:30m",
                Policy::Reciprocal {
                    timeout_ms: 1_800_000,
                },
            ),
            (
                "deadline:15:00",
                Policy::Deadline {
                    cutoff: parse_clock("15:00").unwrap(),
                },
            ),
        ] {
            let policy = parse_policy(text).unwrap();
            assert_eq!(policy, want, "{text}");
            assert_eq!(parse_policy(&policy.to_string()).unwrap(), want, "{policy}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for bad in [
            "later",
            "reserve",
            "reserve:5e6",
            "immediate:1",
            "throughput:12:00=50",
            "throughput:14:00=50%,12:00=75%",
            "throughput:12:00=75%,14:00=50%",
            "throughput:12:00=150%",
            "reciprocal:soon",
            "deadline:25:00",
        ] {
            assert!(parse_policy(bad).is_err(), "{bad}");
        }
    }
}
