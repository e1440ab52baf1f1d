//! Schema v2: `clearsim.run.v2`, `clearsim.compare.v2` and
//! `clearsim.sweep.v2`, with the records, flows, days and figures inside
//! them (docs/schemas.md). Frozen: a change is a new version.

use serde::{Deserialize, Serialize};

use super::{Save, twins};

pub const RUN_SCHEMA: &str = "clearsim.run.v2";
pub const COMPARE_SCHEMA: &str = "clearsim.compare.v2";
pub const SWEEP_SCHEMA: &str = "clearsim.sweep.v2";

/// What a channel's scheduled runs did (see the core's `EventCounts`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EventCounts {
    pub runs: u64,
    pub runs_settling: u64,
    pub settled_by_runs: u64,
    pub settled_by_runs_value_fen: i64,
    pub released_after_runs: u64,
    pub released_after_runs_value_fen: i64,
}

/// Value settled, and the peak value queued or pending, in each 15-minute
/// bucket of the business day (summed, resp. the largest, over days).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    pub bucket_ms: u32,
    pub settled_value_fen: Vec<i64>,
    pub peak_queued_value_fen: Vec<i64>,
}

/// Counts and values of a flow (additive over runs, but for the peaks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FlowCounts {
    pub payments: u64,
    pub value_fen: i64,
    pub settled: u64,
    pub settled_value_fen: i64,
    pub unsettled: u64,
    pub unsettled_value_fen: i64,
    pub dishonoured: u64,
    /// Still pending at the end of the run because no session was left for
    /// them that day (they would be exchanged the next business day):
    /// neither settled nor failed.
    pub carried: u64,
    pub carried_value_fen: i64,
    /// The most payments, and the most value, held at an instant's end.
    pub peak_queued: u64,
    pub peak_queued_value_fen: i64,
}

/// The exact sums behind a flow's means and delay indicator, kept in the
/// summary so that runs pool exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FlowSums {
    /// Σ amount · delay, and Σ amount · (day end − order): the delay indicator.
    pub delay_weighted: i128,
    pub delay_weight: i128,
    /// Σ amount · in-transit time, and Σ amount, over payments made available.
    pub transit_weighted: i128,
    pub transit_value: i128,
    /// Σ in-transit time (ms) and its maximum.
    pub transit_total_ms: u128,
    pub transit_max_ms: u64,
}

/// In-transit times (ms): percentiles, max, mean and value-weighted mean.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransitReport {
    #[serde(flatten)]
    pub stats: DelayStats,
    pub value_weighted_mean: u64,
}

/// What is saved of a flow: its counts and sums, every derived figure, the
/// timeline and the in-transit histogram (HDR V2, base64), so that flows
/// pool exactly and percentiles are recomputed from the pooled payments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowReport {
    /// Nested, not flattened: a flattened field would route the whole
    /// struct, 128-bit sums included, through serde's buffering.
    pub counts: FlowCounts,
    pub in_transit_ms: TransitReport,
    pub delay_indicator: f64,
    pub sums: FlowSums,
    pub timeline: Timeline,
    pub in_transit_histogram: String,
}

/// Delay percentiles of settled payments, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DelayStats {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    /// Count-weighted mean, rounded to the nearest millisecond.
    pub mean: u64,
}

/// A figure over replications: its mean and, from two replications on, a
/// 95 % confidence interval `[low, high]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub mean: f64,
    pub ci95: Option<[f64; 2]>,
    /// Replications behind it.
    pub n: u32,
}

/// One flow's settled payments, their time split at submission: customer
/// order → submission (bank delay), submission → settlement (system delay).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitDelay {
    pub settled_value_fen: i128,
    /// Σ amount × delay, fen·ms.
    pub bank_weighted_fen_ms: i128,
    pub system_weighted_fen_ms: i128,
    pub bank_delay_ms_max: u32,
    pub system_delay_ms_max: u32,
    /// Payments its bank held before submitting (all of them settled or not).
    pub held: u64,
}

/// One business day (fen).
///
/// Of the value due today, `settled_value_fen` settled, `unsettled_value_fen`
/// failed and `carried_value_fen` waits for a later session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayReport {
    /// 1-based.
    pub day: u32,
    pub payments: u64,
    pub value_fen: i64,
    pub settled_value_fen: i64,
    pub unsettled_value_fen: i64,
    /// Pending at the day end with no session left for it today: presented
    /// at the next business day's first session (or, on the last day,
    /// carried past the end of the run).
    pub carried_value_fen: i64,
    pub opening_total_fen: i64,
    pub liquidity_used_fen: i64,
    pub lower_bound_fen: i64,
    pub upper_bound_fen: i64,
    /// Absent when 0 (and in summaries before 0.9).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub banks_short_of_need: u32,
    /// Per channel, in declaration order.
    pub channel_lower_bound_fen: Vec<i64>,
    pub channel_upper_bound_fen: Vec<i64>,
    /// Taken out by liquidity shocks; paid in by guarantee funds.
    pub withdrawn_fen: i64,
    pub injected_fen: i64,
    /// The night after the day: standing facility and restoring flows.
    pub overnight: Overnight,
}

/// A count left out of the file when 0.
#[allow(clippy::trivially_copy_pass_by_ref)] // serde passes fields by reference
fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// What happened overnight after one day, over all participants (fen).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overnight {
    /// Σ closing balances of the day.
    pub closing_total_fen: i64,
    /// Borrowed at the standing facility by banks that closed below zero.
    pub borrowed_fen: i64,
    /// Its interest for the night, rounded half up to the fen.
    pub cost_fen: i64,
    /// Brought into the accounts, and taken out of them, to reach the next
    /// day's policy openings.
    pub restored_in_fen: i64,
    pub restored_out_fen: i64,
}

/// Payments left unsettled between participants that no shock struck.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Untouched {
    pub unsettled: u64,
    pub unsettled_value_fen: i64,
}

/// One bank's costs, by component (fen).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CostBreakdown {
    pub liquidity_fen: f64,
    pub credit_fen: f64,
    pub delay_fen: f64,
    pub unsettled_fen: f64,
    pub overnight_fen: f64,
}

/// What a study was: the same for every shard of it, and checked when
/// summaries merge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StudyMeta {
    pub scenario: String,
    /// Of everything in the scenario but its seed.
    pub fingerprint: String,
    pub clearsim_version: String,
    pub days: u32,
    pub day_end: String,
    pub participant_ids: Vec<String>,
    pub participant_names: Vec<String>,
    pub participant_categories: Vec<String>,
    /// Per participant, day 1 (fen).
    pub opening_fen: Vec<i64>,
    pub credit_limit_fen: Vec<i64>,
    /// Channels of the scenario's own design: (name, strategy).
    pub channels: Vec<(String, String)>,
    pub instruments: Vec<String>,
    /// The instruments that are cheques.
    pub cheques: Vec<String>,
    /// Shocks, defaults included, in the command line's form.
    pub shocks: Vec<String>,
    /// Other context a reader needs (guarantee funds, sender limits).
    pub context: Vec<String>,
}

/// A summary of some of a study's seeds: a shard, or a merge of shards that
/// does not yet cover them all.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Partial {
    /// `K/N` for one shard; `merged` for a merge of several.
    pub shard: String,
    /// Every seed of the whole study.
    pub expected_seeds: Vec<u64>,
}

/// One figure over the replications.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// The design (compare), else empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub design: String,
    /// A paired difference: the design it is measured against.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub versus: String,
    /// `all`, a channel or an instrument.
    pub flow: String,
    /// With its unit last: `unsettled_value_fen`, `in_transit_p99_ms`, …
    pub metric: String,
    #[serde(flatten)]
    pub estimate: Estimate,
}

/// A flow of a summary: a channel, an instrument or a design as a whole.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedFlow {
    pub name: String,
    /// For channels: the strategy; for instruments: the channel.
    pub route: String,
    pub flow: FlowReport,
    /// For channels: what their scheduled runs did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<EventCounts>,
}

/// One business day of one seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedDay {
    pub seed: u64,
    pub report: DayReport,
}

/// One participant over every seed and day (fen).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParticipantRow {
    pub id: String,
    pub name: String,
    pub category: String,
    pub opening_fen: i64,
    /// The most it used on any day of any seed.
    pub liquidity_used_fen: i64,
    /// Over every seed and night.
    pub overnight_borrowed_fen: i64,
    pub overnight_cost_fen: i64,
    /// With `[costs]` (banks only): its costs per business day, by
    /// component, mean over every seed and day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_per_day: Option<CostBreakdown>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub schema: String,
    pub study: StudyMeta,
    pub seeds: Vec<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<Partial>,
    /// Pooled over the seeds.
    pub channels: Vec<NamedFlow>,
    pub instruments: Vec<NamedFlow>,
    pub all: FlowReport,
    pub per_day: Vec<SeedDay>,
    pub per_participant: Vec<ParticipantRow>,
    /// Means and 95 % intervals over the seeds.
    pub headline: Vec<Figure>,
    pub replications: Vec<RunRecord>,
}

/// One design pooled over the seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompareRow {
    pub design: String,
    /// Every payment of the design (all its channels).
    pub all: FlowReport,
    pub channels: Vec<NamedFlow>,
    pub instruments: Vec<NamedFlow>,
    /// Σ over channels and seeds.
    pub events: EventCounts,
    /// Per participant: the most liquidity it used on a day of any seed.
    pub liquidity_used_by_participant_fen: Vec<i64>,
    pub moved_fen: i128,
    /// Σ moved / Σ settled value.
    pub netting_ratio: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompareSummary {
    pub schema: String,
    pub study: StudyMeta,
    pub designs: Vec<String>,
    pub seeds: Vec<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<Partial>,
    pub rows: Vec<CompareRow>,
    /// Means and 95 % intervals over the seeds, per design.
    pub headline: Vec<Figure>,
    /// Per design after the first: its difference from the first on each
    /// seed's common stream, mean and 95 % interval.
    pub paired: Vec<Figure>,
    pub replications: Vec<CompareRecord>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepSummary {
    pub schema: String,
    pub study: StudyMeta,
    pub designs: Vec<String>,
    pub levels: Vec<f64>,
    pub seeds: Vec<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<Partial>,
    /// Per design: Σ lower bounds (level 0) and Σ needs (level 1), fen.
    pub bounds: Vec<SweepBounds>,
    pub points: Vec<SweepPoint>,
    pub replications: Vec<SweepRecord>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepBounds {
    pub design: String,
    pub lower_fen: Estimate,
    pub upper_fen: Estimate,
    /// Σ the scenario's own openings under its liquidity policy; absent in
    /// summaries before 0.9.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_opening_fen: Option<Estimate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// 0 = every participant holds its lower bound, 1 = its need to settle
    /// every payment on entry.
    pub level: f64,
    pub cells: Vec<SweepStat>,
}

/// One design at one level, over the seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepStat {
    pub design: String,
    pub liquidity_fen: Estimate,
    pub delay_indicator: Estimate,
    pub unsettled_value_fen: Estimate,
    pub settled_value_share: Estimate,
    pub liquidity_used_fen: Estimate,
}

/// One seed of one design.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub seed: u64,
    /// Per channel, in declaration order.
    pub channels: Vec<FlowReport>,
    /// Per instrument, then the returned cheques of each instrument.
    pub instruments: Vec<FlowReport>,
    pub days: Vec<DayReport>,
    /// Per channel, over the run.
    pub events: Vec<EventCounts>,
    /// Per participant: the most liquidity it used on a day.
    pub liquidity_used_fen: Vec<i64>,
    pub closing_fen: Vec<i64>,
    pub overnight_borrowed_fen: Vec<i64>,
    pub overnight_cost_fen: Vec<i64>,
    /// Value that moved between accounts (Σ of debits).
    pub moved_fen: i128,
    pub guarantee_fund_used_fen: i64,
    pub withdrawn_fen: i64,
    /// With shocks: this run against the same seed and design without them.
    pub shock: Option<ShockEffect>,
    /// With `[costs]`: per bank, its costs summed over the run's days
    /// (fen; the days' count is `days.len()`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub costs: Vec<CostBreakdown>,
    /// With policies or costs: per flow, the settled payments' time split
    /// into bank delay and system delay.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delay_split: Vec<SplitDelay>,
}

/// A shocked run minus its paired baseline (same seed, same design, the
/// same stream): the knock-on and the other costs of the shock.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShockEffect {
    /// Left unsettled between participants no shock struck, in each run.
    pub untouched_shocked: Untouched,
    pub untouched_baseline: Untouched,
    /// Unsettled value over all payments, in each run.
    pub unsettled_value_shocked_fen: i64,
    pub unsettled_value_baseline_fen: i64,
    /// The delay indicator over all payments, in each run.
    pub delay_indicator_shocked: f64,
    pub delay_indicator_baseline: f64,
    /// Participants left more unsettled with the others than in the
    /// baseline; absent (not counted) in summaries written before it was,
    /// which must read and write back to the same bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participants_touched: Option<u32>,
}

/// One seed of a compare: every design, in the order listed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompareRecord {
    pub seed: u64,
    pub designs: Vec<RunRecord>,
}

/// One seed of a sweep: per design its bounds, and per level its point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepRecord {
    pub seed: u64,
    /// Per design: Σ over participants of their lower bound and of their
    /// need to settle on entry (levels 0 and 1), fen.
    pub lower_fen: Vec<i64>,
    pub upper_fen: Vec<i64>,
    /// Per design: Σ the scenario's own openings (empty before 0.9).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub own_opening_fen: Vec<i64>,
    /// `[level][design]`.
    pub points: Vec<Vec<SweepCell>>,
}

/// One design at one liquidity level of one seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepCell {
    /// Σ opening balances at this level (no credit).
    pub liquidity_fen: i64,
    pub payments: u64,
    pub settled: u64,
    pub value_fen: i64,
    pub unsettled_value_fen: i64,
    /// 0 exactly when every payment settled the instant it was ordered.
    pub delay_indicator: f64,
    pub liquidity_used_fen: i64,
}

twins!(EventCounts <=> clearsim_core::engine::EventCounts { runs, runs_settling, settled_by_runs, settled_by_runs_value_fen, released_after_runs, released_after_runs_value_fen });
twins!(FlowCounts <=> clearsim_model::metrics::flow::FlowCounts { payments, value_fen, settled, settled_value_fen, unsettled, unsettled_value_fen, dishonoured, carried, carried_value_fen, peak_queued, peak_queued_value_fen });
twins!(FlowSums <=> clearsim_model::metrics::flow::FlowSums { delay_weighted, delay_weight, transit_weighted, transit_value, transit_total_ms, transit_max_ms });
twins!(TransitReport <=> clearsim_model::metrics::flow::TransitReport { stats, value_weighted_mean });
twins!(FlowReport <=> clearsim_model::metrics::flow::FlowReport { counts, in_transit_ms, delay_indicator, sums, timeline, in_transit_histogram });
twins!(DelayStats <=> clearsim_model::metrics::DelayStats { p50, p90, p99, p999, max, mean });
twins!(Estimate <=> clearsim_model::metrics::estimate::Estimate { mean, ci95, n });
twins!(SplitDelay <=> clearsim_model::metrics::split::SplitDelay { settled_value_fen, bank_weighted_fen_ms, system_weighted_fen_ms, bank_delay_ms_max, system_delay_ms_max, held });
twins!(DayReport <=> clearsim_model::run::DayReport { day, payments, value_fen, settled_value_fen, unsettled_value_fen, carried_value_fen, opening_total_fen, liquidity_used_fen, lower_bound_fen, upper_bound_fen, banks_short_of_need, channel_lower_bound_fen, channel_upper_bound_fen, withdrawn_fen, injected_fen, overnight });
twins!(Overnight <=> clearsim_model::run::overnight::Overnight { closing_total_fen, borrowed_fen, cost_fen, restored_in_fen, restored_out_fen });
twins!(Untouched <=> clearsim_model::run::sink::Untouched { unsettled, unsettled_value_fen });
twins!(CostBreakdown <=> clearsim_model::bank::costs::CostBreakdown { liquidity_fen, credit_fen, delay_fen, unsettled_fen, overnight_fen });
twins!(StudyMeta <=> crate::summary::StudyMeta { scenario, fingerprint, clearsim_version, days, day_end, participant_ids, participant_names, participant_categories, opening_fen, credit_limit_fen, channels, instruments, cheques, shocks, context });
twins!(Partial <=> crate::summary::Partial { shard, expected_seeds });
twins!(Figure <=> crate::summary::Figure { design, versus, flow, metric, estimate });
twins!(NamedFlow <=> crate::summary::NamedFlow { name, route, flow, events });
twins!(SeedDay <=> crate::summary::SeedDay { seed, report });
twins!(ParticipantRow <=> crate::summary::ParticipantRow { id, name, category, opening_fen, liquidity_used_fen, overnight_borrowed_fen, overnight_cost_fen, cost_per_day });
twins!(RunSummary <=> crate::summary::RunSummary { schema, study, seeds, partial, channels, instruments, all, per_day, per_participant, headline, replications });
twins!(CompareRow <=> crate::summary::CompareRow { design, all, channels, instruments, events, liquidity_used_by_participant_fen, moved_fen, netting_ratio });
twins!(CompareSummary <=> crate::summary::CompareSummary { schema, study, designs, seeds, partial, rows, headline, paired, replications });
twins!(SweepSummary <=> crate::summary::SweepSummary { schema, study, designs, levels, seeds, partial, bounds, points, replications });
twins!(SweepBounds <=> crate::summary::SweepBounds { design, lower_fen, upper_fen, own_opening_fen });
twins!(SweepPoint <=> crate::summary::SweepPoint { level, cells });
twins!(SweepStat <=> crate::summary::SweepStat { design, liquidity_fen, delay_indicator, unsettled_value_fen, settled_value_share, liquidity_used_fen });
twins!(RunRecord <=> crate::record::RunRecord { seed, channels, instruments, days, events, liquidity_used_fen, closing_fen, overnight_borrowed_fen, overnight_cost_fen, moved_fen, guarantee_fund_used_fen, withdrawn_fen, shock, costs, delay_split });
twins!(ShockEffect <=> crate::record::ShockEffect { untouched_shocked, untouched_baseline, unsettled_value_shocked_fen, unsettled_value_baseline_fen, delay_indicator_shocked, delay_indicator_baseline, participants_touched });
twins!(CompareRecord <=> crate::record::CompareRecord { seed, designs });
twins!(SweepRecord <=> crate::record::SweepRecord { seed, lower_fen, upper_fen, own_opening_fen, points });
twins!(SweepCell <=> crate::record::SweepCell { liquidity_fen, payments, settled, value_fen, unsettled_value_fen, delay_indicator, liquidity_used_fen });

impl Save for clearsim_model::metrics::flow::Timeline {
    type Saved = Timeline;
    fn save(&self) -> Timeline {
        Timeline {
            bucket_ms: self.bucket_ms,
            settled_value_fen: self.settled_value_fen.clone(),
            peak_queued_value_fen: self.peak_queued_value_fen.clone(),
        }
    }
    fn load(saved: Timeline) -> Self {
        clearsim_model::metrics::flow::Timeline::reported(
            saved.bucket_ms,
            saved.settled_value_fen,
            saved.peak_queued_value_fen,
        )
    }
}
