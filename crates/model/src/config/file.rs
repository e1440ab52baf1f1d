//! The TOML schema of scenario configs and seed rosters, as serde reads
//! them: every field of docs/config.md, unknown ones refused. Nothing here
//! is checked; `build` turns a file into a typed [`super::Scenario`].

use serde::Deserialize;

use super::behaviour;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ScenarioFile {
    pub(super) name: Option<String>,
    pub(super) seed: u64,
    #[serde(default = "one")]
    pub(super) days: u32,
    pub(super) day_end: Option<String>,
    pub(super) growth_per_year: Option<f64>,
    #[serde(default = "business_days")]
    pub(super) business_days_per_year: u32,
    pub(super) participants: ParticipantsFile,
    #[serde(default)]
    pub(super) liquidity: LiquidityFile,
    pub(super) instrument: Vec<InstrumentFile>,
    pub(super) channel: Vec<ChannelFile>,
    /// Strategies `clearsim compare` and `sweep` use by default.
    #[serde(default)]
    pub(super) compare: Vec<String>,
    /// A participant that stops paying during the run.
    pub(super) default: Option<DefaultFile>,
    /// Operational shocks on day 1: outages and liquidity shocks.
    #[serde(default)]
    pub(super) shock: Vec<ShockFile>,
    /// Sender limits of the gross channel (`rtgs+limits`).
    #[serde(default)]
    pub(super) limit: Vec<LimitFile>,
    /// What a day costs the banks.
    pub(super) costs: Option<behaviour::CostsFile>,
    /// When banks submit their customers' orders.
    #[serde(default)]
    pub(super) policy: Vec<behaviour::PolicyFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DefaultFile {
    pub(super) participant: String,
    pub(super) at: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ShockFile {
    /// `outage`, `system_outage` or `liquidity`.
    pub(super) kind: String,
    pub(super) participant: Option<String>,
    pub(super) from: Option<String>,
    pub(super) to: Option<String>,
    pub(super) at: Option<String>,
    pub(super) amount_yuan: Option<f64>,
}

pub(super) fn one() -> u32 {
    1
}

pub(super) fn business_days() -> u32 {
    250
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ParticipantsFile {
    pub(super) roster: Option<String>,
    pub(super) n: Option<u32>,
    #[serde(default = "unit")]
    pub(super) size_exponent: f64,
    #[serde(default = "unit")]
    pub(super) within_category_exponent: f64,
    /// A roster's categories written in the scenario itself (what `fit`
    /// writes: one file that `run` takes).
    #[serde(default)]
    pub(super) category: Vec<RosterCategory>,
}

pub(super) fn unit() -> f64 {
    1.0
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LimitFile {
    pub(super) participant: String,
    pub(super) counterparty: Option<String>,
    pub(super) limit_yuan: Option<f64>,
    pub(super) limit_share_of_opening: Option<f64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LiquidityFile {
    #[serde(default = "unit")]
    pub(super) scale: f64,
    #[serde(default = "default_opening_share")]
    pub(super) opening_share: f64,
    #[serde(default = "default_credit_share")]
    pub(super) credit_share: f64,
    /// The central bank's overnight standing facility, basis points a year.
    pub(super) overnight_rate_bp: Option<u32>,
    /// Each bank also holds at least this quantile of its own daily need
    /// (its liquidity to settle a day's payments on arrival), measured over
    /// `need_days` calibration days.
    pub(super) need_quantile: Option<f64>,
    #[serde(default = "default_need_days")]
    pub(super) need_days: u32,
}

pub(super) fn default_need_days() -> u32 {
    20
}

pub(super) fn default_overnight_rate_bp() -> u32 {
    333
}

pub(super) fn default_opening_share() -> f64 {
    0.10
}

pub(super) fn default_credit_share() -> f64 {
    0.05
}

impl Default for LiquidityFile {
    fn default() -> Self {
        LiquidityFile {
            scale: 1.0,
            opening_share: default_opening_share(),
            credit_share: default_credit_share(),
            overnight_rate_bp: None,
            need_quantile: None,
            need_days: default_need_days(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct InstrumentFile {
    pub(super) name: String,
    #[serde(default)]
    pub(super) daily_count: f64,
    #[serde(default)]
    pub(super) cheque: bool,
    #[serde(default)]
    pub(super) priority: u8,
    #[serde(default)]
    pub(super) profile: Vec<SegmentFile>,
    /// Needed unless the instrument only has `fixed` payments.
    pub(super) amount: Option<AmountFile>,
    /// The same payments every business day, besides any drawn ones
    /// (small hand-made games: docs/equilibria.md).
    #[serde(default)]
    pub(super) fixed: Vec<behaviour::FixedFile>,
    /// The gravity exponent (default 1); not with `pairs`.
    pub(super) concentration: Option<f64>,
    /// Observed bilateral shares instead of gravity.
    #[serde(default)]
    pub(super) pairs: Vec<super::pairs::PairFile>,
    pub(super) cutoff_bunching: Option<BunchingFile>,
    #[serde(default)]
    pub(super) dishonour_rate: f64,
    /// Cheques under gross settlement: how long the paying bank may return
    /// one after it settled (default 2h, never past the day end).
    pub(super) return_window: Option<String>,
    /// `out`: the city's banks pay banks elsewhere; `in`: banks elsewhere
    /// pay the city's banks (docs/model.md, "Cross-city payments").
    pub(super) cross_city: Option<String>,
    /// Cross-city only: the hours of the journey outside the city's
    /// settlement system (0 to MAX_OUTSIDE_HOURS).
    pub(super) outside_hours: Option<f64>,
    /// Its time in transit rests on a modelling choice, not a source (its
    /// leg outside the city, say): `plan` shows its part apart.
    #[serde(default)]
    pub(super) assumed: bool,
    /// Where the instrument's figures come from, or why they are a choice
    /// (needed with `assumed = true`).
    pub(super) source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SegmentFile {
    pub(super) from: String,
    pub(super) to: String,
    pub(super) weight: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AmountFile {
    pub(super) median_yuan: f64,
    pub(super) sigma: f64,
    #[serde(default)]
    pub(super) tail_share: f64,
    #[serde(default = "default_tail_alpha")]
    pub(super) tail_alpha: f64,
    pub(super) tail_min_yuan: Option<f64>,
    /// The Pareto tail is truncated here (none: unbounded).
    pub(super) tail_max_yuan: Option<f64>,
    /// Amounts scale with the sender's size to this power (0: they do not).
    #[serde(default)]
    pub(super) size_elasticity: f64,
}

pub(super) fn default_tail_alpha() -> f64 {
    1.5
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BunchingFile {
    pub(super) minutes: u32,
    pub(super) factor: f64,
    /// The clearing house's cut-off times the instrument's arrivals bunch
    /// before (the scenario's timetable, not the design under test).
    pub(super) cutoffs: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ChannelFile {
    pub(super) name: String,
    pub(super) strategy: String,
    pub(super) gridlock_every: Option<String>,
    pub(super) cycles: Option<Vec<String>>,
    pub(super) unwind: Option<String>,
    /// chips only: the maximum position in % of the opening balance.
    pub(super) max_position_pct: Option<u32>,
    /// dns only: a settlement guarantee fund (yuan per day).
    pub(super) guarantee_fund_yuan: Option<f64>,
    pub(super) instruments: Vec<String>,
}

// ------------------------------------------------------------ the roster

#[derive(Debug, Deserialize)]
pub(super) struct RosterFile {
    #[serde(default)]
    pub(super) money: RosterMoney,
    #[serde(default)]
    pub(super) targets_2010: RosterTargets,
    pub(super) category: Vec<RosterCategory>,
    #[serde(default)]
    pub(super) source: toml::Table,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RosterMoney {
    pub(super) deposits_yi: Option<f64>,
    #[serde(flatten)]
    pub(super) _rest: toml::Table,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RosterTargets {
    pub(super) deposits_growth_pct_per_year: Option<f64>,
    #[serde(flatten)]
    pub(super) _rest: toml::Table,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RosterCategory {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) count: u32,
    pub(super) deposit_share: f64,
    #[serde(default)]
    pub(super) members: Vec<String>,
}
