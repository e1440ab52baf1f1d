//! The strategy grammar: one way to write a strategy with its options,
//! e.g. `rtgs+gridlock:5m`, `dns+latest:10:00,15:00`, `chips+max=300:1m`.

use super::{ChannelSpec, Unwind, check_cycles};
use crate::time::SimTime;

/// A strategy to compare, as written (`rtgs+gridlock:5m`) and as built.
#[derive(Clone, Debug, PartialEq)]
pub struct StrategyChoice {
    pub label: String,
    pub spec: ChannelSpec,
}

/// Strategies compared when neither the config nor the command line names any.
pub const DEFAULT_STRATEGIES: [&str; 5] = [
    "rtgs",
    "rtgs+gridlock:5m",
    "dns:hourly",
    "dns",
    "bilateral:hourly",
];

/// Parses `rtgs`, `rtgs+gridlock:5m`, `dns`, `dns:10:00,15:00`,
/// `dns+latest:hourly`, `bilateral:12:00,16:30`, `bilateral:hourly`.
/// Times are `HH:MM` or `HH:MM:SS`; no cycle list means one at day end.
pub fn parse_strategy(text: &str, day_end: SimTime) -> Result<StrategyChoice, String> {
    let text = text.trim();
    let (head, cycles_text) = match text.split_once(':') {
        Some((head, rest)) => (head, Some(rest)),
        None => (text, None),
    };
    let cycles = |cycles_text: Option<&str>| -> Result<Vec<SimTime>, String> {
        let cycles = match cycles_text {
            None => vec![day_end],
            Some("hourly") => hourly(day_end),
            Some(list) => list
                .split(',')
                .map(|t| clock(t.trim()))
                .collect::<Result<_, _>>()?,
        };
        check_cycles(&cycles, day_end).map_err(|e| format!("`{text}`: {e}"))?;
        Ok(cycles)
    };
    // The gridlock interval after the colon, e.g. `rtgs+gridlock:5m`.
    let interval = |name: &str| -> Result<u32, String> {
        let every =
            cycles_text.ok_or_else(|| format!("`{text}`: give the interval, e.g. {name}:5m"))?;
        crate::time::parse_duration_ms(every)
            .ok_or_else(|| format!("`{text}`: `{every}` is not a duration"))
    };
    let spec = match head {
        "rtgs" if cycles_text.is_none() => ChannelSpec::Rtgs {
            gridlock_every_ms: None,
        },
        "rtgs+gridlock" => {
            let ms = interval("rtgs+gridlock")?;
            ChannelSpec::Rtgs {
                gridlock_every_ms: Some(ms),
            }
        }
        "rtgs+offset" if cycles_text.is_none() => ChannelSpec::RtgsOffset {
            gridlock_every_ms: None,
        },
        "rtgs+offset+gridlock" => {
            let ms = interval("rtgs+offset+gridlock")?;
            ChannelSpec::RtgsOffset {
                gridlock_every_ms: Some(ms),
            }
        }
        "rtgs+limits" if cycles_text.is_none() => ChannelSpec::RtgsLimits {
            gridlock_every_ms: None,
            limits: Default::default(),
        },
        "rtgs+limits+gridlock" => {
            let ms = interval("rtgs+limits+gridlock")?;
            ChannelSpec::RtgsLimits {
                gridlock_every_ms: Some(ms),
                limits: Default::default(),
            }
        }
        "rtgs+bypass" if cycles_text.is_none() => ChannelSpec::RtgsBypass {
            gridlock_every_ms: None,
        },
        "rtgs+bypass+gridlock" => {
            let ms = interval("rtgs+bypass+gridlock")?;
            ChannelSpec::RtgsBypass {
                gridlock_every_ms: Some(ms),
            }
        }
        _ if head == "chips" || head.starts_with("chips+") => {
            let mut max_position_pct = crate::strategy::CHIPS_MAX_POSITION_PCT;
            for modifier in head.split('+').skip(1) {
                max_position_pct = modifier
                    .strip_prefix("max=")
                    .and_then(|pct| pct.parse().ok())
                    .filter(|&pct: &u32| pct >= 100)
                    .ok_or_else(|| {
                        format!("`{text}`: chips takes +max=PCT with PCT ≥ 100 (e.g. +max=300), not `+{modifier}`")
                    })?;
            }
            ChannelSpec::Chips {
                every_ms: match cycles_text {
                    None => crate::strategy::CHIPS_EVERY_MS,
                    Some(_) => interval("chips")?,
                },
                max_position_pct,
            }
        }
        _ if head == "dns" || head.starts_with("dns+") => {
            let (unwind, guarantee_fund_fen) = dns_modifiers(text, head)?;
            ChannelSpec::Dns {
                cycles: cycles(cycles_text)?,
                unwind,
                guarantee_fund_fen,
            }
        }
        "bilateral" => ChannelSpec::Bilateral {
            cycles: cycles(cycles_text)?,
        },
        _ => {
            return Err(format!(
                "`{text}` is not a strategy (rtgs, rtgs+gridlock:5m, rtgs+bypass, rtgs+offset, rtgs+limits, chips:5m, dns:10:00,15:00, dns+latest:hourly, dns+fund=5e6:hourly, bilateral:hourly)"
            ));
        }
    };
    Ok(StrategyChoice {
        label: text.to_string(),
        spec,
    })
}

/// The `+latest` and `+fund=YUAN` modifiers of `dns`, in any order.
fn dns_modifiers(text: &str, head: &str) -> Result<(Unwind, Option<i64>), String> {
    let mut unwind = Unwind::Participant;
    let mut fund_fen = None;
    for modifier in head.split('+').skip(1) {
        if modifier == "latest" {
            unwind = Unwind::Latest;
        } else if let Some(amount) = modifier.strip_prefix("fund=") {
            let fen = amount
                .parse::<f64>()
                .ok()
                .and_then(crate::money::yuan_to_fen)
                .ok_or_else(|| format!("`{text}`: `{amount}` is not an amount of yuan ≥ 0"))?;
            fund_fen = Some(fen);
        } else {
            return Err(format!(
                "`{text}`: dns takes +latest and +fund=YUAN, not `+{modifier}`"
            ));
        }
    }
    Ok((unwind, fund_fen))
}

/// `HH:MM` or `HH:MM:SS[.mmm]`.
fn clock(text: &str) -> Result<SimTime, String> {
    crate::time::parse_clock(text).ok_or_else(|| format!("`{text}` is not a time HH:MM[:SS]"))
}

/// Every full hour up to the day end, and the day end itself.
fn hourly(day_end: SimTime) -> Vec<SimTime> {
    let mut out: Vec<SimTime> = (1..24)
        .map(|h| SimTime(h * 3_600_000))
        .take_while(|&t| t <= day_end)
        .collect();
    if out.last() != Some(&day_end) {
        out.push(day_end);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strategy_names() {
        let end = SimTime::DEFAULT_DAY_END;
        assert_eq!(
            parse_strategy("rtgs", end).map(|c| c.spec),
            Ok(ChannelSpec::Rtgs {
                gridlock_every_ms: None
            })
        );
        assert_eq!(
            parse_strategy("rtgs+gridlock:5m", end).map(|c| c.spec),
            Ok(ChannelSpec::Rtgs {
                gridlock_every_ms: Some(300_000)
            })
        );
        assert_eq!(
            parse_strategy("dns:10:00,15:00", end).map(|c| c.spec),
            Ok(ChannelSpec::Dns {
                cycles: vec![SimTime(36_000_000), SimTime(54_000_000)],
                unwind: Unwind::Participant,
                guarantee_fund_fen: None,
            })
        );
        assert_eq!(
            parse_strategy("bilateral", end).map(|c| c.spec),
            Ok(ChannelSpec::Bilateral { cycles: vec![end] })
        );
        let Ok(ChannelSpec::Dns {
            cycles,
            unwind: Unwind::Latest,
            ..
        }) = parse_strategy("dns+latest:hourly", end).map(|c| c.spec)
        else {
            panic!("hourly dns");
        };
        assert_eq!(cycles.len(), 17);
        assert_eq!(cycles.last(), Some(&end));
        assert_eq!(
            parse_strategy("chips+max=300:1m", end).map(|c| c.spec),
            Ok(ChannelSpec::Chips {
                every_ms: 60_000,
                max_position_pct: 300
            })
        );
        assert_eq!(
            parse_strategy("dns+latest+fund=1.5:12:00", end).map(|c| c.spec),
            Ok(ChannelSpec::Dns {
                cycles: vec![SimTime(12 * 3_600_000)],
                unwind: Unwind::Latest,
                guarantee_fund_fen: Some(150),
            })
        );
        for bad in [
            "gross",
            "rtgs:5m",
            "rtgs+gridlock",
            "dns:15:00,10:00",
            "dns:25:00",
            "bilateral:noon",
            "chips+max=50",
            "chips+min=5",
            "chips:0s",
            "dns+fund=-1",
            "dns+fund=lots",
            "dns+earliest",
            "rtgs+limits:5m",
        ] {
            assert!(parse_strategy(bad, end).is_err(), "{bad}");
        }
    }
}
