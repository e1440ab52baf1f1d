//! Scenario configs (TOML) and seed rosters: parsed, defaulted and checked
//! into typed values. Documented field by field in `docs/config.md`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub mod behaviour;
mod fingerprint;

pub use fingerprint::fingerprint;

pub use crate::bank::costs::CostModel;
pub use behaviour::PolicyEntry;
use clearsim_core::strategy::ChannelSpec;
use clearsim_core::strategy::options::{Options, parse_unwind};
use clearsim_core::time::{SimTime, parse_duration_ms};

/// A config problem: which file, which field, what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub message: String,
}

fn error(file: &Path, message: impl Into<String>) -> ConfigError {
    ConfigError {
        file: file.display().to_string(),
        message: message.into(),
    }
}

// ---------------------------------------------------------------- the file

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: Option<String>,
    seed: u64,
    #[serde(default = "one")]
    days: u32,
    day_end: Option<String>,
    growth_per_year: Option<f64>,
    #[serde(default = "business_days")]
    business_days_per_year: u32,
    participants: ParticipantsFile,
    #[serde(default)]
    liquidity: LiquidityFile,
    instrument: Vec<InstrumentFile>,
    channel: Vec<ChannelFile>,
    /// Strategies `clearsim compare` and `sweep` use by default.
    #[serde(default)]
    compare: Vec<String>,
    /// A participant that stops paying during the run.
    default: Option<DefaultFile>,
    /// Operational shocks on day 1: outages and liquidity shocks.
    #[serde(default)]
    shock: Vec<ShockFile>,
    /// Sender limits of the gross channel (`rtgs+limits`).
    #[serde(default)]
    limit: Vec<LimitFile>,
    /// What a day costs the banks.
    costs: Option<behaviour::CostsFile>,
    /// When banks submit their customers' orders.
    #[serde(default)]
    policy: Vec<behaviour::PolicyFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DefaultFile {
    participant: String,
    at: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShockFile {
    /// `outage`, `system_outage` or `liquidity`.
    kind: String,
    participant: Option<String>,
    from: Option<String>,
    to: Option<String>,
    at: Option<String>,
    amount_yuan: Option<f64>,
}

fn one() -> u32 {
    1
}

fn business_days() -> u32 {
    250
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParticipantsFile {
    roster: Option<String>,
    n: Option<u32>,
    #[serde(default = "unit")]
    size_exponent: f64,
    #[serde(default = "unit")]
    within_category_exponent: f64,
}

fn unit() -> f64 {
    1.0
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitFile {
    participant: String,
    counterparty: Option<String>,
    limit_yuan: Option<f64>,
    limit_share_of_opening: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LiquidityFile {
    #[serde(default = "unit")]
    scale: f64,
    #[serde(default = "default_opening_share")]
    opening_share: f64,
    #[serde(default = "default_credit_share")]
    credit_share: f64,
    /// The central bank's overnight standing facility, basis points a year.
    overnight_rate_bp: Option<u32>,
    /// Each bank also holds at least this quantile of its own daily need
    /// (its liquidity to settle a day's payments on arrival), measured over
    /// `need_days` calibration days.
    need_quantile: Option<f64>,
    #[serde(default = "default_need_days")]
    need_days: u32,
}

fn default_need_days() -> u32 {
    20
}

fn default_overnight_rate_bp() -> u32 {
    333
}

fn default_opening_share() -> f64 {
    0.10
}

fn default_credit_share() -> f64 {
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
struct InstrumentFile {
    name: String,
    #[serde(default)]
    daily_count: f64,
    #[serde(default)]
    cheque: bool,
    #[serde(default)]
    priority: u8,
    #[serde(default)]
    profile: Vec<SegmentFile>,
    /// Needed unless the instrument only has `fixed` payments.
    amount: Option<AmountFile>,
    /// The same payments every business day, besides any drawn ones
    /// (small hand-made games: docs/equilibria.md).
    #[serde(default)]
    fixed: Vec<behaviour::FixedFile>,
    #[serde(default = "unit")]
    concentration: f64,
    cutoff_bunching: Option<BunchingFile>,
    #[serde(default)]
    dishonour_rate: f64,
    /// Cheques under gross settlement: how long the paying bank may return
    /// one after it settled (default 2h, never past the day end).
    return_window: Option<String>,
    /// `out`: the city's banks pay banks elsewhere; `in`: banks elsewhere
    /// pay the city's banks (docs/model.md, "Cross-city payments").
    cross_city: Option<String>,
    /// Cross-city only: the hours of the journey outside the city's
    /// settlement system (0 to MAX_OUTSIDE_HOURS).
    outside_hours: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SegmentFile {
    from: String,
    to: String,
    weight: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AmountFile {
    median_yuan: f64,
    sigma: f64,
    #[serde(default)]
    tail_share: f64,
    #[serde(default = "default_tail_alpha")]
    tail_alpha: f64,
    tail_min_yuan: Option<f64>,
    /// The Pareto tail is truncated here (none: unbounded).
    tail_max_yuan: Option<f64>,
    /// Amounts scale with the sender's size to this power (0: they do not).
    #[serde(default)]
    size_elasticity: f64,
}

fn default_tail_alpha() -> f64 {
    1.5
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BunchingFile {
    minutes: u32,
    factor: f64,
    /// The clearing house's cut-off times the instrument's arrivals bunch
    /// before (the scenario's timetable, not the design under test).
    cutoffs: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChannelFile {
    name: String,
    strategy: String,
    gridlock_every: Option<String>,
    cycles: Option<Vec<String>>,
    unwind: Option<String>,
    /// chips only: the maximum position in % of the opening balance.
    max_position_pct: Option<u32>,
    /// dns only: a settlement guarantee fund (yuan per day).
    guarantee_fund_yuan: Option<f64>,
    instruments: Vec<String>,
}

// ------------------------------------------------------------ the roster

#[derive(Debug, Deserialize)]
struct RosterFile {
    #[serde(default)]
    money: RosterMoney,
    #[serde(default)]
    targets_2010: RosterTargets,
    category: Vec<RosterCategory>,
    #[serde(default)]
    source: toml::Table,
}

#[derive(Debug, Default, Deserialize)]
struct RosterMoney {
    deposits_yi: Option<f64>,
    #[serde(flatten)]
    _rest: toml::Table,
}

#[derive(Debug, Default, Deserialize)]
struct RosterTargets {
    deposits_growth_pct_per_year: Option<f64>,
    #[serde(flatten)]
    _rest: toml::Table,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RosterCategory {
    id: String,
    name: String,
    count: u32,
    deposit_share: f64,
    #[serde(default)]
    members: Vec<String>,
}

// ------------------------------------------------------ the typed scenario

/// How participants are made.
#[derive(Clone, Debug, PartialEq)]
pub enum Population {
    /// Categories from a seed roster, each with its count and size share.
    Roster {
        categories: Vec<Category>,
        within_category_exponent: f64,
    },
    /// `n` synthetic banks with Zipf sizes of exponent `size_exponent`.
    Synthetic { n: u32, size_exponent: f64 },
}

impl Population {
    /// Every participant's id, in index order.
    pub fn participant_ids(&self) -> Vec<String> {
        match self {
            Population::Roster { categories, .. } => categories
                .iter()
                .flat_map(|c| (0..c.count as usize).map(|k| c.member_id(k)))
                .collect(),
            Population::Synthetic { n, .. } => {
                let width = n.to_string().len();
                (1..=*n).map(|k| format!("B{k:0width$}")).collect()
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Category {
    pub id: String,
    pub name: String,
    pub count: u32,
    pub deposit_share: f64,
    pub members: Vec<String>,
}

impl Category {
    /// The id of the category's `k`-th participant (0-based): its named
    /// member, else `<category id>-<k+1>`.
    pub fn member_id(&self, k: usize) -> String {
        self.members
            .get(k)
            .cloned()
            .unwrap_or_else(|| format!("{}-{}", self.id, k + 1))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Liquidity {
    pub scale: f64,
    pub opening_share: f64,
    pub credit_share: f64,
    /// Rate of the overnight standing facility, basis points a year
    /// (interest on an actual/360 basis).
    pub overnight_rate_bp: u32,
    /// A floor on each opening balance: this quantile of the bank's own
    /// daily need over `need_days` calibration days (see docs/model.md).
    pub need_quantile: Option<f64>,
    pub need_days: u32,
}

/// Most instruments a scenario may have (a payment's tag holds the index).
pub const MAX_INSTRUMENTS: usize = 1024;

/// Most calibration days of the need-quantile liquidity policy.
pub const MAX_NEED_DAYS: u32 = 250;

/// Most participants, synthetic or from a roster.
pub const MAX_PARTICIPANTS: u32 = 1_000_000;

/// Most expected payments in one day, all instruments together, after
/// growth and `--volume`: a run streams its payments, so this bounds time
/// (about a minute a day), not memory.
pub const MAX_PAYMENTS_PER_DAY: f64 = 1e9;

/// Profile weights are relative; bounding them keeps every rate finite.
pub const MAX_PROFILE_WEIGHT: f64 = 1e9;

/// Most segments in one instrument's profile, and cut-offs in its bunching.
pub const MAX_PROFILE_SEGMENTS: usize = 1_000;

/// Yearly volume growth at most 1,000 %.
pub const MAX_GROWTH_PER_YEAR: f64 = 10.0;

/// No amount law's scale above 10¹¹ yuan (the largest tail cap).
pub const MAX_AMOUNT_YUAN: f64 = 1e11;

/// Exponents of sizes and gravity (beyond them one bank takes everything).
pub const MAX_EXPONENT: f64 = 10.0;

/// Cut-off bunching multiplies the rate by at most this.
pub const MAX_BUNCHING_FACTOR: f64 = 1_000.0;

#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    pub from: SimTime,
    pub to: SimTime,
    pub weight: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AmountLaw {
    pub median_fen: f64,
    pub sigma: f64,
    pub tail_share: f64,
    pub tail_alpha: f64,
    pub tail_min_fen: f64,
    /// The tail is truncated at this amount (infinite: not truncated).
    pub tail_max_fen: f64,
    /// A payment's amount is the law's draw times (sender's size)^this,
    /// normalised so that the instrument's mean amount stays the law's.
    pub size_elasticity: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Instrument {
    pub name: String,
    pub daily_count: f64,
    pub cheque: bool,
    pub priority: u8,
    pub profile: Vec<Segment>,
    pub amount: AmountLaw,
    pub concentration: f64,
    /// Arrivals are more frequent in the minutes before each cut-off.
    pub cutoff_bunching: Option<Bunching>,
    pub dishonour_rate: f64,
    /// Under gross settlement, how long after settling a cheque may be
    /// returned (capped at the day end).
    pub return_window_ms: u32,
    /// A payment to or from banks outside the city, when set.
    pub cross_city: Option<CrossCity>,
    /// The same payments every day, by time (see `behaviour::fixed`).
    pub fixed: Vec<behaviour::FixedPayment>,
}

/// Which way a cross-city instrument's payments go, and how long their
/// journey outside the city takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrossCity {
    pub direction: Direction,
    /// Outgoing: from the city's settlement until the payee's bank elsewhere
    /// is credited. Incoming: from the customer's order elsewhere until the
    /// payment reaches the city's system. Either way it is part of the
    /// funds' time in transit.
    pub outside_ms: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// A city bank pays a bank elsewhere.
    Out,
    /// A bank elsewhere pays a city bank.
    In,
}

/// The most hours a cross-city payment may spend outside the city (10
/// days: the slowest mail-and-satellite transfers of the period took days).
pub const MAX_OUTSIDE_HOURS: f64 = 240.0;
/// The id of the participant that stands for every bank outside the city
/// (reserved: no roster member may take it).
pub const OUTSIDE_ID: &str = "ELSEWHERE";

/// `factor` times more arrivals in the `minutes` before each of `cutoffs`.
#[derive(Clone, Debug, PartialEq)]
pub struct Bunching {
    pub minutes: u32,
    pub factor: f64,
    pub cutoffs: Vec<SimTime>,
}

/// Default return window of a cheque settled gross: 2 hours.
pub const RETURN_WINDOW_MS: u32 = 2 * 3_600_000;

#[derive(Clone, Debug, PartialEq)]
pub struct Channel {
    pub name: String,
    pub spec: ChannelSpec,
    /// Indices into `Scenario::instruments`.
    pub instruments: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub seed: u64,
    pub days: u32,
    pub day_end: SimTime,
    pub growth_per_year: f64,
    pub business_days_per_year: u32,
    pub population: Population,
    pub liquidity: Liquidity,
    pub instruments: Vec<Instrument>,
    pub channels: Vec<Channel>,
    /// Channel index of each instrument.
    pub channel_of: Vec<usize>,
    /// City deposits in fen (from the roster), if known: scales sizes.
    pub deposits_fen: Option<f64>,
    /// Strategies to compare by default (as written, e.g. `dns:hourly`).
    pub compare: Vec<String>,
    /// Defaults, outages and liquidity shocks (see [`Shock`]).
    pub shocks: Vec<Shock>,
    /// Sender limits for a gross channel with limits, as written.
    pub limits: Vec<LimitEntry>,
    /// `[costs]`, if given.
    pub costs: Option<CostModel>,
    /// `[[policy]]` entries, in order (later ones override).
    pub policies: Vec<PolicyEntry>,
}

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
    ) -> Result<clearsim_core::strategy::SenderLimits, String> {
        let index = |id: &str, at: usize| -> Result<u32, String> {
            ids.iter()
                .position(|known| known == id)
                .map(|i| i as u32)
                .ok_or_else(|| format!("limit[{at}]: `{id}` is not a participant"))
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
    pub fn parse(text: &str) -> Result<Shock, String> {
        let (kind, rest) = text.split_once(':').ok_or_else(|| {
            format!("`{text}` is not KIND:…, with KIND default, outage, system or liquidity")
        })?;
        let clock = |t: &str| {
            clearsim_core::time::parse_clock(t)
                .ok_or_else(|| format!("`{t}` is not a time HH:MM[:SS]"))
        };
        let window = |w: &str| -> Result<(SimTime, SimTime), String> {
            let (from, to) = w
                .split_once('-')
                .ok_or_else(|| format!("`{w}` is not a window HH:MM-HH:MM"))?;
            Ok((clock(from)?, clock(to)?))
        };
        let who = |w: &str| -> Result<(String, String), String> {
            let (id, rest) = w
                .split_once('@')
                .ok_or_else(|| format!("`{text}`: expected ID@…"))?;
            if id.is_empty() {
                return Err(format!("`{text}`: the participant id is empty"));
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
                ));
            }
        };
        shock.check()?;
        Ok(shock)
    }

    /// Windows must open before they close.
    fn check(&self) -> Result<(), String> {
        match self {
            Shock::Outage { from, to, .. } | Shock::SystemOutage { from, to } if from >= to => {
                Err(format!("{self}: the window must open before it closes"))
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

impl Scenario {
    /// Whether some instrument crosses the city's boundary: the city then
    /// has one more participant, [`OUTSIDE_ID`], after its banks.
    pub fn has_cross_city(&self) -> bool {
        crosses_city(&self.instruments)
    }

    /// Volume multiplier of day `day` (1-based): yearly growth spread over
    /// business days.
    pub fn volume_of_day(&self, day: u32) -> f64 {
        libm::pow(
            1.0 + self.growth_per_year,
            f64::from(day) / f64::from(self.business_days_per_year),
        )
    }

    /// Checks the derived total: expected payments on the busiest day
    /// (growth is monotone, so the first or the last) at most
    /// [`MAX_PAYMENTS_PER_DAY`]. Call it again after overriding days or
    /// volume.
    pub fn check_volume(&self) -> Result<(), String> {
        let per_day: f64 = self.instruments.iter().map(|i| i.daily_count).sum();
        for day in [1, self.days] {
            let expected = per_day * self.volume_of_day(day);
            if !(expected.is_finite() && expected <= MAX_PAYMENTS_PER_DAY) {
                return Err(format!(
                    "day {day} would have {expected:.3e} payments (Σ daily_count × growth × volume); at most {MAX_PAYMENTS_PER_DAY:.0e} a day"
                ));
            }
        }
        Ok(())
    }

    /// Reads a scenario from `path`; a roster path inside it is relative to
    /// the config file's folder.
    pub fn load(path: &Path) -> Result<Scenario, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| error(path, format!("cannot read: {e}")))?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Scenario::parse(path, &text, &base)
    }

    /// Multiplies every instrument's daily count by `factor` (> 0). Liquidity
    /// is set from expected flows, so it scales along.
    pub fn scale_volume(&mut self, factor: f64) {
        for instrument in &mut self.instruments {
            instrument.daily_count *= factor;
        }
    }

    pub fn parse(path: &Path, text: &str, base: &Path) -> Result<Scenario, ConfigError> {
        let file: ScenarioFile = toml::from_str(text).map_err(|e| error(path, e.to_string()))?;
        build(path, file, base)
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
    let text =
        std::fs::read_to_string(path).map_err(|e| error(path, format!("cannot read: {e}")))?;
    let file: LimitsFile = toml::from_str(&text).map_err(|e| error(path, e.to_string()))?;
    limits(path, &file.limit)
}

fn limits(path: &Path, files: &[LimitFile]) -> Result<Vec<LimitEntry>, ConfigError> {
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

fn build(path: &Path, file: ScenarioFile, base: &Path) -> Result<Scenario, ConfigError> {
    let day_end = match &file.day_end {
        None => SimTime::DEFAULT_DAY_END,
        Some(text) => time(path, "day_end", text)?,
    };
    if file.days == 0 || file.days > 3650 {
        return Err(error(path, "days: must be 1..=3650"));
    }
    let (population, growth_default, deposits_fen) = population(path, &file.participants, base)?;
    let mut liquidity = LiquidityFile { ..file.liquidity };
    if let Some(rate) = file.costs.as_ref().and_then(|c| c.overnight_rate_bp) {
        if liquidity
            .overnight_rate_bp
            .is_some_and(|given| given != rate)
        {
            return Err(error(
                path,
                "costs.overnight_rate_bp and liquidity.overnight_rate_bp: one rate, given twice differently",
            ));
        }
        liquidity.overnight_rate_bp = Some(rate);
    }
    let policies = behaviour::policies(
        path,
        &file.policy,
        &population,
        &population.participant_ids(),
    )?;
    let costs = match &file.costs {
        Some(c) => Some(behaviour::costs(path, c, day_end)?),
        None => None,
    };
    let shocks = shocks(path, file.default.as_ref(), &file.shock, day_end)?;
    let ids = population.participant_ids();
    for (index, shock) in shocks.iter().enumerate() {
        let field = match (file.default.is_some(), index) {
            (true, 0) => "default.participant".to_string(),
            (true, i) => format!("shock[{}].participant", i - 1),
            (false, i) => format!("shock[{i}].participant"),
        };
        check_shocks(std::slice::from_ref(shock), &ids)
            .map_err(|e| error(path, format!("{field}: {e}")))?;
    }
    for (field, value) in [
        ("liquidity.scale", liquidity.scale),
        ("liquidity.opening_share", liquidity.opening_share),
        ("liquidity.credit_share", liquidity.credit_share),
    ] {
        if !(value.is_finite() && value >= 0.0) {
            return Err(error(path, format!("{field}: must be a number ≥ 0")));
        }
    }
    if liquidity
        .need_quantile
        .is_some_and(|q| !(q.is_finite() && q > 0.0 && q <= 1.0))
    {
        return Err(error(path, "liquidity.need_quantile: must be in (0, 1]"));
    }
    if !(1..=MAX_NEED_DAYS).contains(&liquidity.need_days) {
        return Err(error(
            path,
            format!("liquidity.need_days: must be 1..={MAX_NEED_DAYS}"),
        ));
    }
    if file.instrument.len() > MAX_INSTRUMENTS {
        return Err(error(
            path,
            format!(
                "instrument: {} instruments, at most {MAX_INSTRUMENTS}",
                file.instrument.len()
            ),
        ));
    }
    let mut instruments = Vec::with_capacity(file.instrument.len());
    for (index, spec) in file.instrument.iter().enumerate() {
        instruments.push(instrument(path, index, spec, &ids)?);
    }
    if instruments.is_empty() {
        return Err(error(path, "at least one [[instrument]] is needed"));
    }
    for (index, instrument) in instruments.iter().enumerate() {
        if instrument.fixed.iter().any(|p| p.at > day_end) {
            return Err(error(
                path,
                format!(
                    "instrument[{index}] ({}).fixed: a payment after the day end {day_end}",
                    instrument.name
                ),
            ));
        }
    }
    if crosses_city(&instruments) && ids.iter().any(|id| id == OUTSIDE_ID) {
        return Err(error(
            path,
            format!(
                "participants: the id {OUTSIDE_ID} is reserved for the banks outside the city, which cross-city instruments pay and are paid by"
            ),
        ));
    }
    let (channels, channel_of) = channels(path, &file.channel, &instruments, day_end)?;
    let growth_per_year = file.growth_per_year.unwrap_or(growth_default);
    if !(growth_per_year.is_finite()
        && growth_per_year > -1.0
        && growth_per_year <= MAX_GROWTH_PER_YEAR)
    {
        return Err(error(
            path,
            format!("growth_per_year: must be a number > -1 and ≤ {MAX_GROWTH_PER_YEAR}"),
        ));
    }
    if !(1..=366).contains(&file.business_days_per_year) {
        return Err(error(path, "business_days_per_year: must be 1..=366"));
    }
    let overnight_rate_bp = liquidity
        .overnight_rate_bp
        .unwrap_or_else(default_overnight_rate_bp);
    if overnight_rate_bp > 100_000 {
        return Err(error(
            path,
            "liquidity.overnight_rate_bp: at most 100000 (1,000 % a year)",
        ));
    }
    for (index, name) in file.compare.iter().enumerate() {
        // `design` (the scenario's own channels) or one strategy.
        if name.trim() != "design" {
            clearsim_core::strategy::parse_strategy(name, day_end)
                .map_err(|e| error(path, format!("compare[{index}]: {e}")))?;
        }
    }
    let scenario = Scenario {
        name: file.name.unwrap_or_else(|| {
            path.file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
        }),
        seed: file.seed,
        days: file.days,
        day_end,
        growth_per_year,
        business_days_per_year: file.business_days_per_year,
        population,
        liquidity: Liquidity {
            scale: liquidity.scale,
            opening_share: liquidity.opening_share,
            credit_share: liquidity.credit_share,
            overnight_rate_bp,
            need_quantile: liquidity.need_quantile,
            need_days: liquidity.need_days,
        },
        instruments,
        channels,
        channel_of,
        deposits_fen,
        compare: file.compare,
        limits: limits(path, &file.limit)?,
        policies,
        costs,
        shocks,
    };
    scenario.check_volume().map_err(|e| error(path, e))?;
    Ok(scenario)
}

fn time(path: &Path, field: &str, text: &str) -> Result<SimTime, ConfigError> {
    clearsim_core::time::parse_clock(text)
        .ok_or_else(|| error(path, format!("{field}: `{text}` is not a time HH:MM[:SS]")))
}

/// The `[default]` and `[[shock]]` entries, checked: every field the kind
/// needs and no other, times within the day, windows that open before
/// they close. Participant ids are checked by the caller, which knows
/// the population.
fn shocks(
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

/// Every shock names a participant of the city (by id).
pub fn check_shocks(shocks: &[Shock], ids: &[String]) -> Result<(), String> {
    for shock in shocks {
        if let Some(id) = shock.participant()
            && !ids.iter().any(|known| known == id)
        {
            return Err(format!(
                "{shock}: `{id}` is not a participant (e.g. {})",
                ids.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    Ok(())
}

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

fn population(
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
    match (&spec.roster, spec.n) {
        (Some(roster), None) => {
            let roster_path: PathBuf = base.join(roster);
            let text = std::fs::read_to_string(&roster_path).map_err(|e| {
                error(
                    path,
                    format!(
                        "participants.roster: cannot read {}: {e}",
                        roster_path.display()
                    ),
                )
            })?;
            let file: RosterFile =
                toml::from_str(&text).map_err(|e| error(&roster_path, e.to_string()))?;
            let _ = &file.source;
            let mut categories = Vec::new();
            for category in file.category {
                if category.count == 0
                    || !(category.deposit_share.is_finite() && category.deposit_share > 0.0)
                {
                    return Err(error(
                        &roster_path,
                        format!(
                            "category {}: count and deposit_share must be positive",
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
            check_roster_ids(&roster_path, &categories, total)?;
            if total > u64::from(MAX_PARTICIPANTS) {
                return Err(error(
                    &roster_path,
                    format!(
                        "category[].count: {total} participants in all, at most {MAX_PARTICIPANTS}"
                    ),
                ));
            }
            if total < 2 {
                return Err(error(
                    &roster_path,
                    "the roster needs at least two participants",
                ));
            }
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

fn instrument(
    path: &Path,
    index: usize,
    spec: &InstrumentFile,
    ids: &[String],
) -> Result<Instrument, ConfigError> {
    let at = |field: &str| format!("instrument[{index}] ({}).{field}", spec.name);
    // The name goes into payments.csv's `instrument` column as it is.
    if !crate::input::is_token(spec.name.as_bytes()) {
        return Err(error(
            path,
            format!("{}: 1 to 64 characters of [A-Za-z0-9_.-]", at("name")),
        ));
    }
    if !(spec.daily_count.is_finite()
        && spec.daily_count >= 0.0
        && spec.daily_count <= MAX_PAYMENTS_PER_DAY)
    {
        return Err(error(
            path,
            format!(
                "{}: must be a number from 0 to {MAX_PAYMENTS_PER_DAY:.0e}",
                at("daily_count")
            ),
        ));
    }
    if spec.profile.len() > MAX_PROFILE_SEGMENTS {
        return Err(error(
            path,
            format!(
                "{}: {} segments, at most {MAX_PROFILE_SEGMENTS}",
                at("profile"),
                spec.profile.len()
            ),
        ));
    }
    let mut profile = Vec::with_capacity(spec.profile.len());
    for segment in &spec.profile {
        let from = time(path, &at("profile.from"), &segment.from)?;
        let to = time(path, &at("profile.to"), &segment.to)?;
        if from >= to || !(segment.weight >= 0.0 && segment.weight <= MAX_PROFILE_WEIGHT) {
            return Err(error(
                path,
                format!(
                    "{}: needs from < to and a weight from 0 to {MAX_PROFILE_WEIGHT:.0e}",
                    at("profile")
                ),
            ));
        }
        profile.push(Segment {
            from,
            to,
            weight: segment.weight,
        });
    }
    if profile.is_empty() {
        // Default: business hours, flat.
        profile.push(Segment {
            from: SimTime(8 * 3_600_000 + 30 * 60_000),
            to: SimTime(16 * 3_600_000 + 30 * 60_000),
            weight: 1.0,
        });
    }
    if spec.daily_count > 0.0 && profile.iter().all(|s| s.weight == 0.0) {
        return Err(error(
            path,
            format!("{}: all weights are zero", at("profile")),
        ));
    }
    let fixed_only = AmountFile {
        median_yuan: 1.0,
        sigma: 0.0,
        tail_share: 0.0,
        tail_alpha: default_tail_alpha(),
        tail_min_yuan: None,
        tail_max_yuan: None,
        size_elasticity: 0.0,
    };
    if !spec.fixed.is_empty() && spec.daily_count != 0.0 {
        return Err(error(
            path,
            format!(
                "{}: an instrument with `fixed` payments draws none (daily_count = 0)",
                at("daily_count")
            ),
        ));
    }
    let amount = match (&spec.amount, spec.fixed.is_empty()) {
        (Some(amount), _) => amount,
        (None, false) => &fixed_only,
        (None, _) => {
            return Err(error(
                path,
                format!(
                    "{}: needed (unless the instrument has only `fixed` payments)",
                    at("amount")
                ),
            ));
        }
    };
    let tail_min_yuan = amount.tail_min_yuan.unwrap_or(amount.median_yuan * 100.0);
    for (field, value, ok) in [
        (
            "amount.median_yuan",
            amount.median_yuan,
            (0.01..=MAX_AMOUNT_YUAN).contains(&amount.median_yuan),
        ),
        (
            "amount.sigma",
            amount.sigma,
            amount.sigma >= 0.0 && amount.sigma <= 5.0,
        ),
        (
            "amount.tail_share",
            amount.tail_share,
            (0.0..=1.0).contains(&amount.tail_share),
        ),
        (
            "amount.tail_alpha",
            amount.tail_alpha,
            amount.tail_alpha > 1.0 && amount.tail_alpha <= 100.0,
        ),
        (
            "amount.tail_min_yuan",
            tail_min_yuan,
            (0.01..=MAX_AMOUNT_YUAN).contains(&tail_min_yuan),
        ),
        (
            "amount.tail_max_yuan",
            amount.tail_max_yuan.unwrap_or(1e11),
            amount
                .tail_max_yuan
                .is_none_or(|max| max > tail_min_yuan && max <= 1e11),
        ),
        (
            "amount.size_elasticity",
            amount.size_elasticity,
            (0.0..=3.0).contains(&amount.size_elasticity),
        ),
        (
            "concentration",
            spec.concentration,
            (0.0..=MAX_EXPONENT).contains(&spec.concentration),
        ),
        (
            "dishonour_rate",
            spec.dishonour_rate,
            (0.0..=1.0).contains(&spec.dishonour_rate),
        ),
    ] {
        if !(value.is_finite() && ok) {
            return Err(error(
                path,
                format!("{}: out of range ({value})", at(field)),
            ));
        }
    }
    if spec.dishonour_rate > 0.0 && !spec.cheque {
        return Err(error(
            path,
            format!("{}: only cheques are dishonoured", at("dishonour_rate")),
        ));
    }
    let cutoff_bunching = match &spec.cutoff_bunching {
        None => None,
        Some(b)
            if b.minutes > 0
                && b.minutes <= 24 * 60
                && (1.0..=MAX_BUNCHING_FACTOR).contains(&b.factor)
                && b.cutoffs.len() <= MAX_PROFILE_SEGMENTS =>
        {
            let cutoffs = b
                .cutoffs
                .iter()
                .map(|t| time(path, &at("cutoff_bunching.cutoffs"), t))
                .collect::<Result<Vec<_>, _>>()?;
            if cutoffs.is_empty() {
                return Err(error(
                    path,
                    format!(
                        "{}: name the clearing house's cut-off times (bunching follows the scenario's timetable, not the design under test)",
                        at("cutoff_bunching.cutoffs")
                    ),
                ));
            }
            Some(Bunching {
                minutes: b.minutes,
                factor: b.factor,
                cutoffs,
            })
        }
        Some(_) => {
            return Err(error(
                path,
                format!(
                    "{}: minutes 1..=1440, factor from 1 to {MAX_BUNCHING_FACTOR}, at most {MAX_PROFILE_SEGMENTS} cutoffs",
                    at("cutoff_bunching")
                ),
            ));
        }
    };
    let return_window_ms = match &spec.return_window {
        None => RETURN_WINDOW_MS,
        Some(text) => parse_duration_ms(text).ok_or_else(|| {
            error(
                path,
                format!(
                    "{}: `{text}` is not a duration such as 30m or 2h",
                    at("return_window")
                ),
            )
        })?,
    };
    if spec.return_window.is_some() && !spec.cheque {
        return Err(error(
            path,
            format!("{}: only cheques are returned", at("return_window")),
        ));
    }
    let cross_city = cross_city(path, spec, &at)?;
    Ok(Instrument {
        name: spec.name.clone(),
        daily_count: spec.daily_count,
        cheque: spec.cheque,
        priority: spec.priority,
        profile,
        amount: AmountLaw {
            median_fen: amount.median_yuan * 100.0,
            sigma: amount.sigma,
            tail_share: amount.tail_share,
            tail_alpha: amount.tail_alpha,
            tail_min_fen: tail_min_yuan * 100.0,
            tail_max_fen: amount.tail_max_yuan.map_or(f64::INFINITY, |y| y * 100.0),
            size_elasticity: amount.size_elasticity,
        },
        concentration: spec.concentration,
        cutoff_bunching,
        dishonour_rate: spec.dishonour_rate,
        return_window_ms,
        cross_city,
        fixed: behaviour::fixed(path, &at("fixed"), &spec.fixed, ids)?,
    })
}

/// Whether some instrument pays across the city's boundary.
fn crosses_city(instruments: &[Instrument]) -> bool {
    instruments.iter().any(|i| i.cross_city.is_some())
}

/// `cross_city` (not for cheques) and `outside_hours`, which needs it
/// (default 0).
fn cross_city(
    path: &Path,
    spec: &InstrumentFile,
    at: &dyn Fn(&str) -> String,
) -> Result<Option<CrossCity>, ConfigError> {
    let direction = match spec.cross_city.as_deref() {
        None => {
            if spec.outside_hours.is_some() {
                let message = format!("{}: only cross-city instruments", at("outside_hours"));
                return Err(error(path, message));
            }
            return Ok(None);
        }
        Some("out") => Direction::Out,
        Some("in") => Direction::In,
        Some(other) => {
            let message = format!("{}: `{other}` is not `out` or `in`", at("cross_city"));
            return Err(error(path, message));
        }
    };
    if spec.cheque {
        let message = format!("{}: cheques are cleared in the city", at("cross_city"));
        return Err(error(path, message));
    }
    let hours = spec.outside_hours.unwrap_or(0.0);
    if !(0.0..=MAX_OUTSIDE_HOURS).contains(&hours) {
        let message = format!(
            "{}: {hours} is not within 0..={MAX_OUTSIDE_HOURS} hours",
            at("outside_hours")
        );
        return Err(error(path, message));
    }
    Ok(Some(CrossCity {
        direction,
        outside_ms: (hours * 3_600_000.0).round() as u32,
    }))
}

/// A channel's strategy and options through the one strategy grammar;
/// errors name the config field at fault.
fn channel_spec(
    path: &Path,
    file: &ChannelFile,
    cycles: Option<Vec<SimTime>>,
    day_end: SimTime,
    at: &dyn Fn(&str) -> String,
) -> Result<ChannelSpec, ConfigError> {
    let gridlock_every_ms = match &file.gridlock_every {
        None => None,
        Some(text) => Some(parse_duration_ms(text).ok_or_else(|| {
            error(
                path,
                format!(
                    "{}: `{text}` is not a duration such as 90s or 5m",
                    at("gridlock_every")
                ),
            )
        })?),
    };
    let unwind = match file.unwind.as_deref() {
        None => None,
        Some(text) => {
            Some(parse_unwind(text).map_err(|e| error(path, format!("{}: {e}", at("unwind"))))?)
        }
    };
    let guarantee_fund_fen = match file.guarantee_fund_yuan {
        None => None,
        Some(yuan) => Some(clearsim_core::money::yuan_to_fen(yuan).ok_or_else(|| {
            error(
                path,
                format!(
                    "{}: {yuan} is not an amount of yuan ≥ 0",
                    at("guarantee_fund_yuan")
                ),
            )
        })?),
    };
    let options = Options {
        gridlock_every_ms,
        cycles,
        unwind,
        guarantee_fund_fen,
        max_position_pct: file.max_position_pct,
        ..Options::default()
    };
    clearsim_core::strategy::build(&file.strategy, options, day_end).map_err(|e| {
        let field = e.opt.map_or("strategy", |opt| opt.forms().toml);
        error(path, format!("{}: {}", at(field), e.message))
    })
}

fn channels(
    path: &Path,
    files: &[ChannelFile],
    instruments: &[Instrument],
    day_end: SimTime,
) -> Result<(Vec<Channel>, Vec<usize>), ConfigError> {
    let mut channel_of = vec![usize::MAX; instruments.len()];
    let mut out = Vec::with_capacity(files.len());
    for (index, file) in files.iter().enumerate() {
        let at = |field: &str| format!("channel[{index}] ({}).{field}", file.name);
        let cycles = match &file.cycles {
            None => None,
            Some(list) => Some(
                list.iter()
                    .map(|t| time(path, &at("cycles"), t))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let spec = channel_spec(path, file, cycles, day_end, &at)?;
        let mut members = Vec::new();
        for name in &file.instruments {
            let Some(i) = instruments.iter().position(|x| &x.name == name) else {
                return Err(error(
                    path,
                    format!("{}: unknown instrument `{name}`", at("instruments")),
                ));
            };
            if channel_of[i] != usize::MAX {
                return Err(error(
                    path,
                    format!(
                        "{}: instrument `{name}` is already routed",
                        at("instruments")
                    ),
                ));
            }
            channel_of[i] = index;
            members.push(i);
        }
        out.push(Channel {
            name: file.name.clone(),
            spec,
            instruments: members,
        });
    }
    if out.iter().filter(|c| c.spec.is_gross()).count() > 1 {
        return Err(error(path, "at most one channel may be rtgs"));
    }
    for (i, instrument) in instruments.iter().enumerate() {
        if instrument.cheque && channel_of[i] != usize::MAX && out[channel_of[i]].spec.is_gross() {
            return Err(error(
                path,
                format!(
                    "instrument `{}`: cheques are exchanged at sessions; route them to a dns or bilateral channel",
                    instrument.name
                ),
            ));
        }
    }
    if let Some(i) = channel_of.iter().position(|&c| c == usize::MAX) {
        return Err(error(
            path,
            format!(
                "instrument `{}` is routed to no channel",
                instruments[i].name
            ),
        ));
    }
    Ok((out, channel_of))
}
