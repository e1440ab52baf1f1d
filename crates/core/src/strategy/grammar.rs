//! The strategy grammar: one spelling of every strategy, one builder of its
//! options, shared by scenario configs (`strategy = "rtgs+bypass"` and the
//! option fields), `replay` (`--strategy rtgs+bypass` and the option flags)
//! and `compare` (the compact form, options inline:
//! `rtgs+bypass+gridlock:5m`, `dns+latest+fund=5e7yuan:10:00,15:00`,
//! `chips+max=300:1m`).

use super::{CHIPS_EVERY_MS, CHIPS_MAX_POSITION_PCT, ChannelSpec, Unwind, check_cycles};
use crate::time::SimTime;

/// The strategies, one spelling each.
pub const NAMES: [&str; 7] = [
    "rtgs",
    "rtgs+bypass",
    "rtgs+offset",
    "rtgs+limits",
    "chips",
    "dns",
    "bilateral",
];

/// Earlier spellings, and the one to write now.
const OLD_SPELLINGS: [(&str, &str); 3] = [
    ("rtgs-bypass", "rtgs+bypass"),
    ("rtgs-offset", "rtgs+offset"),
    ("rtgs-limits", "rtgs+limits"),
];

/// A strategy's options, each `None` when not given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Options {
    /// Gross strategies: gridlock runs (`chips`: offsetting sets) every so
    /// many ms.
    pub gridlock_every_ms: Option<u32>,
    /// `dns`, `bilateral`: the cycle times.
    pub cycles: Option<Vec<SimTime>>,
    /// `dns`.
    pub unwind: Option<Unwind>,
    /// `dns`: a settlement guarantee fund per day.
    pub guarantee_fund_fen: Option<i64>,
    /// `chips`: the maximum position, % of the opening balance (≥ 100).
    pub max_position_pct: Option<u32>,
}

/// A strategy that cannot be built, naming the option at fault by its
/// field name (`gridlock_every`, `cycles`, …); callers spell it their way.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct GrammarError {
    /// The option at fault, or `strategy`.
    pub field: &'static str,
    pub message: String,
}

fn fault(field: &'static str, message: impl Into<String>) -> GrammarError {
    GrammarError {
        field,
        message: message.into(),
    }
}

/// Builds a channel's spec from a strategy name and its options, refusing
/// options the strategy does not take. Sender limits (`rtgs+limits`) come
/// empty: the caller fills them from its `[[limit]]` entries.
pub fn build(name: &str, options: Options, day_end: SimTime) -> Result<ChannelSpec, GrammarError> {
    if let Some((_, now)) = OLD_SPELLINGS.iter().find(|(old, _)| *old == name) {
        return Err(fault(
            "strategy",
            format!("`{name}` is now written `{now}`"),
        ));
    }
    if !NAMES.contains(&name) {
        return Err(fault(
            "strategy",
            format!("`{name}` is not a strategy ({})", NAMES.join(", ")),
        ));
    }
    let gross = name.starts_with("rtgs") || name == "chips";
    let refuse = |present: bool, field: &'static str, who: &str| {
        if present {
            Err(fault(
                field,
                format!("{name} takes no {field} (only {who})"),
            ))
        } else {
            Ok(())
        }
    };
    refuse(
        options.cycles.is_some() && gross,
        "cycles",
        "dns and bilateral",
    )?;
    refuse(
        options.gridlock_every_ms.is_some() && !gross,
        "gridlock_every",
        "gross strategies",
    )?;
    refuse(options.unwind.is_some() && name != "dns", "unwind", "dns")?;
    refuse(
        options.guarantee_fund_fen.is_some() && name != "dns",
        "guarantee_fund",
        "dns",
    )?;
    refuse(
        options.max_position_pct.is_some() && name != "chips",
        "max_position_pct",
        "chips",
    )?;
    if options.gridlock_every_ms == Some(0) {
        return Err(fault("gridlock_every", "the interval must be positive"));
    }
    if let Some(pct) = options.max_position_pct.filter(|&pct| pct < 100) {
        return Err(fault(
            "max_position_pct",
            format!("{pct} is below 100 (the opening balance must fit)"),
        ));
    }
    let cycles = options.cycles.unwrap_or_else(|| vec![day_end]);
    if !gross {
        check_cycles(&cycles, day_end).map_err(|e| fault("cycles", e))?;
    }
    let every = options.gridlock_every_ms;
    Ok(match name {
        "rtgs" => ChannelSpec::Rtgs {
            gridlock_every_ms: every,
        },
        "rtgs+bypass" => ChannelSpec::RtgsBypass {
            gridlock_every_ms: every,
        },
        "rtgs+offset" => ChannelSpec::RtgsOffset {
            gridlock_every_ms: every,
        },
        "rtgs+limits" => ChannelSpec::RtgsLimits {
            gridlock_every_ms: every,
            limits: Default::default(),
        },
        "chips" => ChannelSpec::Chips {
            every_ms: every.unwrap_or(CHIPS_EVERY_MS),
            max_position_pct: options.max_position_pct.unwrap_or(CHIPS_MAX_POSITION_PCT),
        },
        "dns" => ChannelSpec::Dns {
            cycles,
            unwind: options.unwind.unwrap_or_default(),
            guarantee_fund_fen: options.guarantee_fund_fen,
        },
        _ => ChannelSpec::Bilateral { cycles },
    })
}

/// `participant` or `latest`.
pub fn parse_unwind(text: &str) -> Result<Unwind, String> {
    match text {
        "participant" => Ok(Unwind::Participant),
        "latest" => Ok(Unwind::Latest),
        other => Err(format!("`{other}` is not participant or latest")),
    }
}

/// Cycle times: `hourly` (every full hour to the day end, and the day end),
/// or a list `10:00,15:30:00` (`HH:MM[:SS]`).
pub fn parse_cycles(text: &str, day_end: SimTime) -> Result<Vec<SimTime>, String> {
    if text == "hourly" {
        return Ok(hourly(day_end));
    }
    text.split(',')
        .map(|t| {
            crate::time::parse_clock(t)
                .ok_or_else(|| format!("`{}` is not a time HH:MM[:SS]", t.trim()))
        })
        .collect()
}

/// A strategy as written in the compact form (`rtgs+gridlock:5m`) and as
/// built.
#[derive(Clone, Debug, PartialEq)]
pub struct StrategyChoice {
    pub label: String,
    pub spec: ChannelSpec,
}

/// Parses the compact form: a name, `+modifiers`, then after a colon the
/// cycles (`dns`, `bilateral`) or the interval (gross strategies).
/// Modifiers: `+gridlock` (gross: the colon gives the interval), `+latest`
/// and `+fund=AMOUNT` (dns; the amount with its unit, e.g. `5e7yuan`),
/// `+max=PCT` (chips). No cycle list means one cycle at day end.
pub fn parse_strategy(text: &str, day_end: SimTime) -> Result<StrategyChoice, String> {
    let text = text.trim();
    let (head, tail) = match text.split_once(':') {
        Some((head, rest)) => (head, Some(rest)),
        None => (text, None),
    };
    let mut parts = head.split('+');
    let base = parts.next().unwrap_or_default();
    let mut name = base.to_string();
    let mut options = Options::default();
    let mut gridlock = false;
    let bad = |e: String| format!("`{text}`: {e}");
    for modifier in parts {
        match modifier {
            "bypass" | "offset" | "limits" if base == "rtgs" && name == "rtgs" => {
                name = format!("rtgs+{modifier}");
            }
            "gridlock" if base == "rtgs" => gridlock = true,
            "latest" if base == "dns" => options.unwind = Some(Unwind::Latest),
            _ if base == "dns" && modifier.starts_with("fund=") => {
                let amount = &modifier["fund=".len()..];
                let fen = crate::money::parse_amount_fen(amount).map_err(|e| {
                    bad(format!(
                        "{e} (write the fund with its unit, e.g. +fund=5e7yuan)"
                    ))
                })?;
                options.guarantee_fund_fen = Some(fen);
            }
            _ if base == "chips" && modifier.starts_with("max=") => {
                let pct = modifier["max=".len()..]
                    .parse::<u32>()
                    .map_err(|_| bad(format!("`+{modifier}` is not +max=PCT")))?;
                options.max_position_pct = Some(pct);
            }
            _ => return Err(bad(format!("`+{modifier}` is not a modifier of {base}"))),
        }
    }
    match (tail, base) {
        (None, _) if gridlock => {
            return Err(bad(format!("give the interval, e.g. {head}:5m")));
        }
        (Some(every), "rtgs" | "chips") => {
            if base == "rtgs" && !gridlock {
                return Err(bad(format!(
                    "`:{every}` needs +gridlock (e.g. {head}+gridlock:{every})"
                )));
            }
            let ms = crate::time::parse_duration_ms(every)
                .ok_or_else(|| bad(format!("`{every}` is not a duration")))?;
            options.gridlock_every_ms = Some(ms);
        }
        (Some(list), _) => options.cycles = Some(parse_cycles(list, day_end).map_err(bad)?),
        (None, _) => {}
    }
    let spec = build(&name, options, day_end).map_err(|e| bad(e.message))?;
    Ok(StrategyChoice {
        label: text.to_string(),
        spec,
    })
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
        let spec = |text: &str| parse_strategy(text, end).map(|c| c.spec);
        assert_eq!(
            spec("rtgs"),
            Ok(ChannelSpec::Rtgs {
                gridlock_every_ms: None
            })
        );
        assert_eq!(
            spec("rtgs+gridlock:5m"),
            Ok(ChannelSpec::Rtgs {
                gridlock_every_ms: Some(300_000)
            })
        );
        assert_eq!(
            spec("rtgs+bypass+gridlock:1m"),
            Ok(ChannelSpec::RtgsBypass {
                gridlock_every_ms: Some(60_000)
            })
        );
        assert_eq!(
            spec("dns:10:00,15:00"),
            Ok(ChannelSpec::Dns {
                cycles: vec![SimTime(36_000_000), SimTime(54_000_000)],
                unwind: Unwind::Participant,
                guarantee_fund_fen: None,
            })
        );
        assert_eq!(
            spec("bilateral"),
            Ok(ChannelSpec::Bilateral { cycles: vec![end] })
        );
        let Ok(ChannelSpec::Dns {
            cycles,
            unwind: Unwind::Latest,
            ..
        }) = spec("dns+latest:hourly")
        else {
            panic!("hourly dns");
        };
        assert_eq!(cycles.len(), 17);
        assert_eq!(cycles.last(), Some(&end));
        assert_eq!(
            spec("chips+max=300:1m"),
            Ok(ChannelSpec::Chips {
                every_ms: 60_000,
                max_position_pct: 300
            })
        );
        assert_eq!(
            spec("dns+latest+fund=1.5yuan:12:00"),
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
            "dns+fund=-1yuan",
            "dns+fund=lots",
            "dns+fund=5e7",
            "dns+earliest",
            "rtgs+limits:5m",
            "rtgs-bypass",
        ] {
            assert!(spec(bad).is_err(), "{bad}");
        }
        assert!(spec("dns+fund=5e7").unwrap_err().contains("+fund=5e7yuan"));
    }

    #[test]
    fn one_builder_refuses_what_a_strategy_does_not_take() {
        let end = SimTime::DEFAULT_DAY_END;
        let cycles = Options {
            cycles: Some(vec![end]),
            ..Options::default()
        };
        assert_eq!(
            build("rtgs", cycles.clone(), end).unwrap_err().field,
            "cycles"
        );
        assert!(build("dns", cycles, end).is_ok());
        let old = build("rtgs-bypass", Options::default(), end).unwrap_err();
        assert!(old.message.contains("rtgs+bypass"), "{old}");
        let fund = Options {
            guarantee_fund_fen: Some(1),
            ..Options::default()
        };
        assert_eq!(
            build("bilateral", fund, end).unwrap_err().field,
            "guarantee_fund"
        );
    }
}
