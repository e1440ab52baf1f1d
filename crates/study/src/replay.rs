//! A replay's summary: the contract's figures of one day and what was
//! run (its saved form: `schema::replay_v1`).

use clearsim_model::metrics::Summary;

pub use crate::schema::replay_v1::SCHEMA as REPLAY_SCHEMA;

/// `summary.json` of a replay: the contract's keys plus what was run.
#[derive(Clone, Debug)]
pub struct ReplaySummary {
    pub schema: String,
    pub clearsim_version: String,
    /// The strategy with its options, or the scenario's channels.
    pub strategy: String,
    pub day_end: String,
    pub participants_file: String,
    pub payments_file: String,
    pub summary: Summary,
    /// With an `order_time` column: the settled payments' bank delay and
    /// system delay.
    pub delay_split: Option<DelaySplit>,
    /// The day's figures as `run` states them.
    pub as_run: Option<clearsim_model::replay::RunFigures>,
}

/// Value-weighted means and maxima of the two parts of a payment's delay.
#[derive(Clone, Debug, PartialEq)]
pub struct DelaySplit {
    pub bank_delay_ms_mean: f64,
    pub system_delay_ms_mean: f64,
    pub bank_delay_ms_max: u32,
    pub system_delay_ms_max: u32,
    /// Payments submitted after their order.
    pub held_by_bank: u64,
}

impl DelaySplit {
    pub fn of(split: &clearsim_model::metrics::split::SplitDelay) -> DelaySplit {
        let (bank, system) = split.means_ms();
        DelaySplit {
            bank_delay_ms_mean: bank,
            system_delay_ms_mean: system,
            bank_delay_ms_max: split.bank_delay_ms_max,
            system_delay_ms_max: split.system_delay_ms_max,
            held_by_bank: split.held,
        }
    }
}
