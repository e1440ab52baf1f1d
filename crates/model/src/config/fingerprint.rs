//! A scenario's fingerprint: a hash of everything in it but its seed. Two
//! summaries merge only when their fingerprints agree, so the text hashed
//! is frozen: it is the scenario as clearsim wrote it when summaries got
//! fingerprints (the `Debug` form of the scenario of schema v2, channels
//! in that version's strategy variants). Summaries written by any version
//! since then keep merging; a scenario's new fields enter it only where
//! they are set (as `[costs]`, `[[policy]]` and an instrument's `pairs`
//! do).

use std::fmt;

use clearsim_core::strategy::{ChannelSpec, Options, QueueRule, SenderLimits, Unwind};
use clearsim_core::time::SimTime;

use super::{Channel, Scenario};

/// The fingerprint of `scenario` run over `days` business days.
pub fn fingerprint(scenario: &Scenario, days: u32) -> String {
    let frozen = format!("{:?}", Frozen { scenario, days });
    // Without `[costs]` or `[[policy]]` a scenario keeps the fingerprint it
    // had before those sections existed.
    let text = frozen.replace(", costs: None, policies: []", "");
    // Likewise an instrument without observed `pairs`.
    let text = text.replace(", pairs: [] }", " }");
    let hash = text.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    });
    format!("{hash:016x}")
}

/// The scenario as the frozen text writes it (seed 0).
struct Frozen<'a> {
    scenario: &'a Scenario,
    days: u32,
}

impl fmt::Debug for Frozen<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.scenario;
        let channels: Vec<FrozenChannel> = s.channels.iter().map(FrozenChannel).collect();
        f.debug_struct("Scenario")
            .field("name", &s.name)
            .field("seed", &0u64)
            .field("days", &self.days)
            .field("day_end", &s.day_end)
            .field("growth_per_year", &s.growth_per_year)
            .field("business_days_per_year", &s.business_days_per_year)
            .field("population", &s.population)
            .field("liquidity", &s.liquidity)
            .field("instruments", &s.instruments)
            .field("channels", &channels)
            .field("channel_of", &s.channel_of)
            .field("deposits_fen", &s.deposits_fen)
            .field("compare", &s.compare)
            .field("shocks", &s.shocks)
            .field("limits", &s.limits)
            .field("costs", &s.costs)
            .field("policies", &s.policies)
            .finish()
    }
}

struct FrozenChannel<'a>(&'a Channel);

impl fmt::Debug for FrozenChannel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel")
            .field("name", &self.0.name)
            .field("spec", &FrozenSpec::of(&self.0.spec))
            .field("instruments", &self.0.instruments)
            .finish()
    }
}

/// The strategy variants of schema v2, and one for each composition or
/// strategy that came later. Read through its `Debug` form only.
#[derive(Debug)]
#[allow(dead_code)]
enum FrozenSpec<'a> {
    Rtgs {
        gridlock_every_ms: Option<u32>,
    },
    Dns {
        cycles: &'a [SimTime],
        unwind: Unwind,
        guarantee_fund_fen: Option<i64>,
    },
    Bilateral {
        cycles: &'a [SimTime],
    },
    RtgsBypass {
        gridlock_every_ms: Option<u32>,
    },
    RtgsOffset {
        gridlock_every_ms: Option<u32>,
    },
    Chips {
        every_ms: u32,
        max_position_pct: u32,
    },
    RtgsLimits {
        gridlock_every_ms: Option<u32>,
        limits: &'a SenderLimits,
    },
    RtgsBypassLimits {
        gridlock_every_ms: Option<u32>,
        limits: &'a SenderLimits,
    },
    Other {
        strategy: &'static str,
        options: &'a Options,
    },
}

impl<'a> FrozenSpec<'a> {
    fn of(spec: &'a ChannelSpec) -> FrozenSpec<'a> {
        let o = spec.options();
        let every = o.gridlock_every_ms;
        let cycles = o.cycles.as_deref().unwrap_or_default();
        match (spec.def().name, o.queue, &o.limits) {
            ("rtgs", None, None) => FrozenSpec::Rtgs {
                gridlock_every_ms: every,
            },
            ("rtgs", Some(QueueRule::Bypass), None) => FrozenSpec::RtgsBypass {
                gridlock_every_ms: every,
            },
            ("rtgs", Some(QueueRule::Offset), None) => FrozenSpec::RtgsOffset {
                gridlock_every_ms: every,
            },
            ("rtgs", None, Some(limits)) => FrozenSpec::RtgsLimits {
                gridlock_every_ms: every,
                limits,
            },
            ("rtgs", Some(QueueRule::Bypass), Some(limits)) => FrozenSpec::RtgsBypassLimits {
                gridlock_every_ms: every,
                limits,
            },
            ("chips", _, _) => FrozenSpec::Chips {
                every_ms: every.unwrap_or_default(),
                max_position_pct: o.max_position_pct.unwrap_or_default(),
            },
            ("dns", _, _) => FrozenSpec::Dns {
                cycles,
                unwind: o.unwind.unwrap_or_default(),
                guarantee_fund_fen: o.guarantee_fund_fen,
            },
            ("bilateral", _, _) => FrozenSpec::Bilateral { cycles },
            (strategy, _, _) => FrozenSpec::Other {
                strategy,
                options: o,
            },
        }
    }
}
