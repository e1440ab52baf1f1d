//! The options of strategies: one vocabulary, each option written in three
//! forms — a scenario's TOML field, a `replay` flag, and the compact form
//! of `compare` and friends (`rtgs+bypass+gridlock:5m`,
//! `dns+latest+fund=5e7yuan:10:00,15:00`, `chips+max=300:1m`) — and parsed
//! from text by one function per option. A strategy's table in the
//! catalog ([`super::StrategyDef`]) lists the options it takes; nothing
//! else knows which strategy takes what.

use super::{QueueRule, SenderLimits, Unwind};
use crate::ParseError;
use crate::time::SimTime;

/// An option of a strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Opt {
    /// Gross: the queue discipline (`+bypass`, `+offset`; strict FIFO
    /// without either).
    Queue,
    /// Gross: periodic gridlock runs (`chips`: its offsetting sets).
    GridlockEvery,
    /// Gross: sender limits (`+limits`, filled from `[[limit]]` entries).
    Limits,
    /// `chips`: the maximum position, % of the opening balance.
    MaxPositionPct,
    /// Deferred: the cycle times.
    Cycles,
    /// `dns`: how a short participant's payments are unwound.
    Unwind,
    /// `dns`: a settlement guarantee fund per day.
    GuaranteeFund,
}

/// How an option is written in each form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionForms {
    pub opt: Opt,
    /// The scenario's `[[channel]]` field (`strategy` where the option is
    /// part of the strategy's name).
    pub toml: &'static str,
    /// The `replay` flag.
    pub flag: &'static str,
    /// How the compact form writes it.
    pub compact: &'static str,
    /// What it is, for help texts and docs.
    pub help: &'static str,
}

/// Every option's forms, in the order flags are written.
pub const FORMS: [OptionForms; 7] = [
    OptionForms {
        opt: Opt::Queue,
        toml: "strategy",
        flag: "--strategy",
        compact: "+bypass or +offset",
        help: "the queue discipline of a gross channel: strict FIFO, bypass FIFO or offsetting on entry",
    },
    OptionForms {
        opt: Opt::Limits,
        toml: "strategy",
        flag: "--limits",
        compact: "+limits",
        help: "sender limits of a gross channel, from [[limit]] entries",
    },
    OptionForms {
        opt: Opt::GridlockEvery,
        toml: "gridlock_every",
        flag: "--gridlock-every",
        compact: "+gridlock:5m (chips: :5m)",
        help: "gridlock runs (chips: offsetting sets) at every multiple of this interval and at day end",
    },
    OptionForms {
        opt: Opt::MaxPositionPct,
        toml: "max_position_pct",
        flag: "--max-position-pct",
        compact: "+max=300",
        help: "the maximum position, in % of the opening balance (at least 100)",
    },
    OptionForms {
        opt: Opt::Cycles,
        toml: "cycles",
        flag: "--cycles",
        compact: ":10:00,15:00 or :hourly",
        help: "netting cycle times (default: one cycle at day end)",
    },
    OptionForms {
        opt: Opt::Unwind,
        toml: "unwind",
        flag: "--unwind",
        compact: "+latest",
        help: "how a cycle unwinds when a participant cannot cover its net debit: participant or latest",
    },
    OptionForms {
        opt: Opt::GuaranteeFund,
        toml: "guarantee_fund_yuan",
        flag: "--guarantee-fund",
        compact: "+fund=5e7yuan",
        help: "a settlement guarantee fund that covers short participants' net debits before any unwinding",
    },
];

impl Opt {
    /// Its forms.
    pub fn forms(self) -> &'static OptionForms {
        FORMS
            .iter()
            .find(|f| f.opt == self)
            .unwrap_or_else(|| unreachable!("every option has its forms"))
    }

    /// The grammar's word for it in messages (`gridlock_every`, `cycles`…):
    /// its TOML field, or for the parts of a name, what they set.
    pub fn word(self) -> &'static str {
        match self {
            Opt::Queue => "queue",
            Opt::Limits => "limits",
            Opt::GuaranteeFund => "guarantee_fund",
            other => other.forms().toml,
        }
    }
}

/// A strategy's options as written, each `None` when not given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub queue: Option<QueueRule>,
    pub gridlock_every_ms: Option<u32>,
    /// Sender limits: present (perhaps still empty, to be filled from
    /// `[[limit]]` entries) when the channel enforces them.
    pub limits: Option<SenderLimits>,
    pub max_position_pct: Option<u32>,
    pub cycles: Option<Vec<SimTime>>,
    pub unwind: Option<Unwind>,
    pub guarantee_fund_fen: Option<i64>,
}

impl Options {
    /// The options given, in [`FORMS`] order.
    pub fn given(&self) -> Vec<Opt> {
        let present = |opt: Opt| match opt {
            Opt::Queue => self.queue.is_some(),
            Opt::GridlockEvery => self.gridlock_every_ms.is_some(),
            Opt::Limits => self.limits.is_some(),
            Opt::MaxPositionPct => self.max_position_pct.is_some(),
            Opt::Cycles => self.cycles.is_some(),
            Opt::Unwind => self.unwind.is_some(),
            Opt::GuaranteeFund => self.guarantee_fund_fen.is_some(),
        };
        FORMS
            .iter()
            .map(|f| f.opt)
            .filter(|&o| present(o))
            .collect()
    }

    /// The value of `opt` as a flag takes it, `None` when not given or not
    /// written inline (sender limits live in a file).
    pub fn flag_value(&self, opt: Opt) -> Option<String> {
        match opt {
            Opt::Queue | Opt::Limits => None,
            Opt::GridlockEvery => self.gridlock_every_ms.map(|ms| format!("{ms}ms")),
            Opt::MaxPositionPct => self.max_position_pct.map(|p| p.to_string()),
            Opt::Cycles => self.cycles.as_ref().map(|c| {
                c.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            }),
            Opt::Unwind => self.unwind.map(|u| u.word().to_string()),
            Opt::GuaranteeFund => self.guarantee_fund_fen.map(|f| format!("{f}fen")),
        }
    }
}

/// A strategy that cannot be built as written, naming the option at fault
/// (`None`: the strategy's name); each front end spells it its own way
/// ([`OptionForms`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StrategyError {
    pub opt: Option<Opt>,
    pub message: String,
}

impl crate::Blamed for StrategyError {
    /// A strategy as written: the user's to fix.
    fn blame(&self) -> crate::Blame {
        crate::Blame::User
    }
}

impl StrategyError {
    pub fn new(opt: Option<Opt>, message: impl std::fmt::Display) -> StrategyError {
        StrategyError {
            opt,
            message: message.to_string(),
        }
    }

    /// The grammar's word for what is at fault (`strategy`, `cycles`…).
    pub fn field(&self) -> &'static str {
        self.opt.map_or("strategy", Opt::word)
    }
}

// ------------------------------------------------------------ the parsers

/// `participant` or `latest`.
pub fn parse_unwind(text: &str) -> Result<Unwind, ParseError> {
    match text {
        "participant" => Ok(Unwind::Participant),
        "latest" => Ok(Unwind::Latest),
        other => Err(format!("`{other}` is not participant or latest").into()),
    }
}

/// Cycle times: `hourly` (every full hour to the day end, and the day end),
/// or a list `10:00,15:30:00` (`HH:MM[:SS]`).
pub fn parse_cycles(text: &str, day_end: SimTime) -> Result<Vec<SimTime>, ParseError> {
    if text == "hourly" {
        return Ok(hourly(day_end));
    }
    text.split(',')
        .map(|t| {
            crate::time::parse_clock(t)
                .ok_or_else(|| ParseError(format!("`{}` is not a time HH:MM[:SS]", t.trim())))
        })
        .collect()
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

/// Cycle times must be strictly increasing and within the day.
pub fn check_cycles(cycles: &[SimTime], day_end: SimTime) -> Result<(), ParseError> {
    if let Some(pair) = cycles.windows(2).find(|pair| pair[0] >= pair[1]) {
        let what = if pair[0] == pair[1] {
            "duplicate"
        } else {
            "unsorted"
        };
        return Err(format!("cycle times are {what}: {} then {}", pair[0], pair[1]).into());
    }
    if let Some(late) = cycles.iter().find(|&&t| t > day_end) {
        return Err(format!("cycle time {late} is after the day end {day_end}").into());
    }
    Ok(())
}

/// A strategy's name split: its base (`rtgs`) and the options its `+`
/// parts set (`+bypass`, `+limits`, `+latest`), as every form writes a
/// name. Parts that are not options of a name are returned for the
/// compact form to read (`gridlock`, `fund=…`, `max=…`).
pub fn split_name(name: &str) -> (&str, Vec<&str>) {
    let mut parts = name.split('+');
    let base = parts.next().unwrap_or_default();
    (base, parts.collect())
}

/// Sets the option a `+part` of a name stands for, if it is one
/// (`bypass`, `offset`, `limits`, `latest`); returns whether it was.
pub fn set_name_part(options: &mut Options, part: &str) -> Result<bool, ParseError> {
    let queue = |options: &mut Options, rule: QueueRule| {
        if options.queue.is_some_and(|q| q != rule) {
            return Err("`+bypass` and `+offset` are two queue disciplines: choose one".into());
        }
        options.queue = Some(rule);
        Ok(true)
    };
    match part {
        "bypass" => queue(options, QueueRule::Bypass),
        "offset" => queue(options, QueueRule::Offset),
        "limits" => {
            options.limits = Some(SenderLimits::default());
            Ok(true)
        }
        "latest" => {
            options.unwind = Some(Unwind::Latest);
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// The `+key=value` parts of the compact form: `fund=AMOUNT` (with its
/// unit) and `max=PCT`. Returns whether `part` was one.
pub fn set_compact_part(options: &mut Options, part: &str) -> Result<bool, ParseError> {
    if let Some(amount) = part.strip_prefix("fund=") {
        let fen = crate::money::parse_amount_fen(amount)
            .map_err(|e| format!("{e} (write the fund with its unit, e.g. +fund=5e7yuan)"))?;
        options.guarantee_fund_fen = Some(fen);
        return Ok(true);
    }
    if let Some(pct) = part.strip_prefix("max=") {
        let pct = pct
            .parse::<u32>()
            .map_err(|_| format!("`+{part}` is not +max=PCT"))?;
        options.max_position_pct = Some(pct);
        return Ok(true);
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_has_one_set_of_forms() {
        for (i, form) in FORMS.iter().enumerate() {
            assert_eq!(form.opt.forms(), form);
            assert!(FORMS[..i].iter().all(|f| f.opt != form.opt));
            assert!(form.flag.starts_with("--"));
        }
    }

    #[test]
    fn name_parts_set_their_options() {
        let mut options = Options::default();
        assert_eq!(set_name_part(&mut options, "bypass"), Ok(true));
        assert_eq!(set_name_part(&mut options, "limits"), Ok(true));
        assert_eq!(set_name_part(&mut options, "gridlock"), Ok(false));
        assert!(set_name_part(&mut options, "offset").is_err());
        assert_eq!(options.given(), vec![Opt::Queue, Opt::Limits]);
        assert_eq!(set_compact_part(&mut options, "max=300"), Ok(true));
        assert_eq!(options.max_position_pct, Some(300));
        assert!(set_compact_part(&mut options, "fund=5e7").is_err());
    }
}
