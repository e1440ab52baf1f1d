//! Scenario configs (TOML) and seed rosters: parsed, defaulted and checked
//! into typed values. Documented field by field in `docs/config.md`.

//!
//! A config file holds a [`Scenario`] (what is simulated: the city, its
//! streams, its channels, its shocks and costs) and the run it asks for
//! by default (its seed and number of days): [`Config`]. The scenario
//! carries neither: a run takes them as arguments.
//!
//! `file` is the TOML schema; `build` checks a file into a scenario, one
//! concern per module (`population`, `instruments`, `channels`, `limits`,
//! `shocks`, `behaviour`).

use clearsim_core::ParseError;
use std::path::Path;

pub mod behaviour;
mod build;
mod channels;
mod file;
mod fingerprint;
mod instruments;
mod limits;
mod pairs;
mod population;
mod shocks;

pub use fingerprint::fingerprint;
pub use limits::{LimitAmount, LimitEntry, load_limits};
pub use pairs::{MAX_PAIR_WEIGHT, MAX_PAIRS, Pair};
pub use shocks::{Shock, check_shocks};

pub use crate::bank::costs::CostModel;
pub use behaviour::PolicyEntry;
use clearsim_core::strategy::ChannelSpec;
use clearsim_core::time::SimTime;

/// Which replication of a scenario a run is: its seed (the stream is a
/// function of scenario, seed and day alone) and how many business days
/// it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replication {
    pub seed: u64,
    pub days: u32,
}

/// A config problem: which file, which field, what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub message: String,
}

fn error(file: &Path, message: impl std::fmt::Display) -> ConfigError {
    ConfigError {
        file: file.display().to_string(),
        message: message.to_string(),
    }
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
    /// `Some(source note)` when its time in transit rests on a modelling
    /// choice (`assumed = true` in the config).
    pub assumed: Option<String>,
    /// Who pays whom, pair by pair (sorted by sender, receiver); empty:
    /// by gravity of exponent `concentration` over the banks' sizes.
    pub pairs: Vec<Pair>,
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

/// What a config simulates: everything but which replication runs and for
/// how long (its seed and days: [`Config`], and the runs' arguments).
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub name: String,
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

impl Scenario {
    /// Whether a payment can be carried to the next business day: some
    /// netting channel's last session is before the day end, so what
    /// arrives after it waits for the next morning's first.
    pub fn can_carry(&self) -> bool {
        self.channels.iter().any(|c| {
            c.spec
                .cycles()
                .is_some_and(|cycles| cycles.last().is_none_or(|&last| last < self.day_end))
        })
    }

    /// The fewest business days that see this scenario's carried payments
    /// settle: a day after the last cycle that can carry (2), else 1.
    pub fn carry_days(&self) -> u32 {
        if self.can_carry() { 2 } else { 1 }
    }

    /// Whether some instrument crosses the city's boundary: the city then
    /// has one more participant, [`OUTSIDE_ID`], after its banks.
    pub fn has_cross_city(&self) -> bool {
        instruments::crosses_city(&self.instruments)
    }

    /// Volume multiplier of day `day` (1-based): yearly growth spread over
    /// business days.
    pub fn volume_of_day(&self, day: u32) -> f64 {
        libm::pow(
            1.0 + self.growth_per_year,
            f64::from(day) / f64::from(self.business_days_per_year),
        )
    }

    /// Checks the derived total over a run of `days`: expected payments on
    /// the busiest day (growth is monotone, so the first or the last) at
    /// most [`MAX_PAYMENTS_PER_DAY`]. Call it again after overriding days
    /// or volume.
    pub fn check_volume(&self, days: u32) -> Result<(), ParseError> {
        let per_day: f64 = self.instruments.iter().map(|i| i.daily_count).sum();
        for day in [1, days] {
            let expected = per_day * self.volume_of_day(day);
            if !(expected.is_finite() && expected <= MAX_PAYMENTS_PER_DAY) {
                return Err(format!(
                    "day {day} would have {expected:.3e} payments (Σ daily_count × growth × volume); at most {MAX_PAYMENTS_PER_DAY:.0e} a day"
                ).into());
            }
        }
        Ok(())
    }

    /// Multiplies every instrument's daily count by `factor` (> 0). Liquidity
    /// is set from expected flows, so it scales along.
    pub fn scale_volume(&mut self, factor: f64) {
        for instrument in &mut self.instruments {
            instrument.daily_count *= factor;
        }
    }
}

/// The business days a run may have at most.
pub const MAX_DAYS: u32 = 3650;

/// A config file: its scenario, and the run it asks for by default.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub scenario: Scenario,
    /// The first replication's seed.
    pub seed: u64,
    /// Business days per replication (1 to [`MAX_DAYS`]).
    pub days: u32,
}

impl Config {
    /// Reads a config from `path`; a roster path inside it is relative to
    /// the config file's folder.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = crate::input::read_regular_string(path)
            .map_err(|e| error(path, format!("cannot read: {e}")))?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Config::parse(path, &text, &base)
    }

    /// The run the config asks for by default.
    pub fn replication(&self) -> Replication {
        Replication {
            seed: self.seed,
            days: self.days,
        }
    }

    /// Its scenario, and the run it asks for.
    pub fn split(self) -> (Scenario, Replication) {
        let replication = self.replication();
        (self.scenario, replication)
    }

    /// A config from its text; `path` names it in errors, `base` is the
    /// folder relative paths inside it start from.
    pub fn parse(path: &Path, text: &str, base: &Path) -> Result<Config, ConfigError> {
        let file: file::ScenarioFile =
            toml::from_str(text).map_err(|e| error(path, e.to_string()))?;
        build::build(path, file, base)
    }
}

/// The roster's ids by name, for the fields that name a sender and a
/// receiver (`fixed` payments, observed `pairs`).
struct Roster<'a> {
    ids: &'a [String],
    position: std::collections::HashMap<&'a str, u32>,
}

impl<'a> Roster<'a> {
    fn new(ids: &'a [String]) -> Roster<'a> {
        let position = ids
            .iter()
            .enumerate()
            .map(|(k, id)| (id.as_str(), k as u32))
            .collect();
        Roster { ids, position }
    }

    fn id(&self, participant: u32) -> &str {
        &self.ids[participant as usize]
    }

    /// `from` and `to` of the entry `field[i]` (`instrument[0]
    /// (t).fixed[3]`): two different banks of the city's roster.
    fn pair(
        &self,
        path: &Path,
        (field, i): (&str, usize),
        from: &str,
        to: &str,
    ) -> Result<(u32, u32), ConfigError> {
        let index = |which: &str, id: &str| {
            self.position.get(id).copied().ok_or_else(|| {
                let message = format!("{field}[{i}].{which}: no participant `{id}` in the city");
                error(path, message)
            })
        };
        let (sender, receiver) = (index("from", from)?, index("to", to)?);
        if sender == receiver {
            let message = format!("{field}[{i}]: a bank does not pay itself");
            return Err(error(path, message));
        }
        Ok((sender, receiver))
    }
}

fn time(path: &Path, field: &str, text: &str) -> Result<SimTime, ConfigError> {
    clearsim_core::time::parse_clock(text)
        .ok_or_else(|| error(path, format!("{field}: `{text}` is not a time HH:MM[:SS]")))
}

impl clearsim_core::Blamed for ConfigError {
    /// A config the user wrote.
    fn blame(&self) -> clearsim_core::Blame {
        clearsim_core::Blame::User
    }
}
