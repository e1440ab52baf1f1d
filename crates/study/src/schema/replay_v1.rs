//! Schema `clearsim.replay.v1`: a replay's `summary.json`, the contract's
//! keys plus what was run. Frozen: a change an older reader cannot read
//! is a new version (an optional key, absent in older files, is not).

use serde::{Deserialize, Serialize};

use super::twins;
use super::v2::DelayStats;

pub const SCHEMA: &str = "clearsim.replay.v1";

/// `summary.json` of a replay: the contract's keys plus what was run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReplaySummaryFile {
    pub schema: String,
    pub clearsim_version: String,
    /// The strategy with its options, or the scenario's channels.
    pub strategy: String,
    pub day_end: String,
    pub participants_file: String,
    pub payments_file: String,
    #[serde(flatten)]
    pub summary: Summary,
    /// With an `order_time` column: the settled payments' bank delay and
    /// system delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_split: Option<DelaySplit>,
    /// The day's figures as `run` states them (carried apart from
    /// unsettled, the design's bounds, the city's banks alone); absent in
    /// summaries of clearsim before 0.9.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_run: Option<RunFigures>,
}

/// `as_run`: see [`clearsim_model::replay::RunFigures`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunFigures {
    pub settled: u64,
    pub settled_value: i64,
    pub unsettled: u64,
    pub unsettled_value: i64,
    pub carried: u64,
    pub carried_value: i64,
    pub city_participants: u64,
    pub liquidity_used: i64,
    pub lower_bound: i64,
    pub upper_bound: i64,
}

impl super::Save for clearsim_model::replay::RunFigures {
    type Saved = RunFigures;
    fn save(&self) -> RunFigures {
        RunFigures {
            settled: self.settled,
            settled_value: self.settled_value_fen,
            unsettled: self.unsettled,
            unsettled_value: self.unsettled_value_fen,
            carried: self.carried,
            carried_value: self.carried_value_fen,
            city_participants: self.city_participants,
            liquidity_used: self.liquidity_used_fen,
            lower_bound: self.lower_bound_fen,
            upper_bound: self.upper_bound_fen,
        }
    }
    fn load(saved: RunFigures) -> Self {
        Self {
            settled: saved.settled,
            settled_value_fen: saved.settled_value,
            unsettled: saved.unsettled,
            unsettled_value_fen: saved.unsettled_value,
            carried: saved.carried,
            carried_value_fen: saved.carried_value,
            city_participants: saved.city_participants,
            liquidity_used_fen: saved.liquidity_used,
            lower_bound_fen: saved.lower_bound,
            upper_bound_fen: saved.upper_bound,
        }
    }
}

/// Value-weighted means and maxima of the two parts of a payment's delay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DelaySplit {
    pub bank_delay_ms_mean: f64,
    pub system_delay_ms_mean: f64,
    pub bank_delay_ms_max: u32,
    pub system_delay_ms_max: u32,
    /// Payments submitted after their order.
    pub held_by_bank: u64,
}

/// The summary the contract defines (`summary.json`, required keys).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub payments: u64,
    pub value: i64,
    pub settled: u64,
    pub settled_value: i64,
    pub unsettled: u64,
    pub unsettled_value: i64,
    pub lower_bound: i64,
    pub upper_bound: i64,
    pub liquidity_used: i64,
    pub delay_indicator: f64,
    pub delay_ms: DelayStats,
}

twins!(Summary <=> clearsim_model::metrics::Summary { payments, value, settled, settled_value, unsettled, unsettled_value, lower_bound, upper_bound, liquidity_used, delay_indicator, delay_ms });
twins!(ReplaySummaryFile <=> crate::replay::ReplaySummary { schema, clearsim_version, strategy, day_end, participants_file, payments_file, summary, delay_split, as_run });
twins!(DelaySplit <=> crate::replay::DelaySplit { bank_delay_ms_mean, system_delay_ms_mean, bank_delay_ms_max, system_delay_ms_max, held_by_bank });
