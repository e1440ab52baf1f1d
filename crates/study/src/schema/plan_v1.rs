//! Schema `clearsim.plan.v1`: the plan's report. Frozen: a change an
//! older reader cannot read is a new version (an optional key, absent in
//! older files, is not).

use serde::{Deserialize, Serialize};

use super::twins;
use super::v2::Estimate;

pub const SCHEMA: &str = "clearsim.plan.v1";

/// A figure of both designs, and the paired change (after − before).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    pub before: Estimate,
    pub after: Estimate,
    pub change: Estimate,
}

/// In-transit figures of one instrument (or of every customer payment).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransitRow {
    pub flow: String,
    pub value_weighted_mean_h: Pair,
    /// Count-weighted 99th percentile of the payments' times in transit.
    pub p99_h: Pair,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanReport {
    pub schema: String,
    pub before: String,
    pub after: String,
    pub seeds: Vec<u64>,
    /// Every customer payment, then each instrument either design has (an
    /// instrument one design lacks counts as 0 there and has no change).
    pub transit: Vec<TransitRow>,
    /// The largest day's figures of each design.
    pub liquidity_used_fen: Pair,
    pub lower_bound_fen: Pair,
    pub upper_bound_fen: Pair,
    /// "funds-in-transit time, value-weighted: X h in 2005 → Y h in 2010 (−Z %)".
    pub headline: String,
    /// The change split (shift-share); absent in reports before 0.9.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decomposition: Option<Decomposition>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decomposition {
    pub change_h: Estimate,
    pub speed_h: Estimate,
    pub mix_h: Estimate,
    pub assumed_h: Estimate,
    pub instruments: Vec<InstrumentShare>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstrumentShare {
    pub flow: String,
    pub assumed: bool,
    pub speed_h: Estimate,
    pub mix_h: Estimate,
}

twins!(Decomposition <=> crate::plan::Decomposition { change_h, speed_h, mix_h, assumed_h, instruments });
twins!(InstrumentShare <=> crate::plan::InstrumentShare { flow, assumed, speed_h, mix_h });

twins!(Pair <=> crate::plan::Pair { before, after, change });
twins!(TransitRow <=> crate::plan::TransitRow { flow, value_weighted_mean_h, p99_h });
twins!(PlanReport <=> crate::plan::PlanReport { schema, before, after, seeds, transit, liquidity_used_fen, lower_bound_fen, upper_bound_fen, headline, decomposition });
