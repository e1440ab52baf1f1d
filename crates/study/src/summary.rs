//! The saved summaries of `run`, `compare` and `sweep`: what the study was,
//! its records (one per seed), and every figure derived from them — pooled
//! flows, means with 95 % intervals, paired differences. A summary is a
//! pure function of its study and its records ([`RunSummary::new`] and
//! friends), which is why shards and separate runs merge into exactly what
//! one machine would have written.

use super::record::{CompareRecord, RunRecord, SweepRecord, pooled};
use clearsim_core::engine::EventCounts;
use clearsim_model::config::Scenario;
use clearsim_model::metrics::estimate::{Estimate, Range, estimate_within};
use clearsim_model::metrics::flow::FlowReport;
use clearsim_model::run::DayReport;
use clearsim_model::workload::city::City;

pub use crate::schema::v2::{COMPARE_SCHEMA, RUN_SCHEMA, SWEEP_SCHEMA};

/// Records that do not make one summary: inputs of different studies, a
/// seed twice, a record of another shape, flows that do not pool. From a
/// merge, the user's inputs are at fault; from an experiment, a bug.
#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    #[error("{0}")]
    Records(String),
    #[error(transparent)]
    Pool(#[from] clearsim_model::metrics::flow::PoolError),
}

fn fault(message: impl Into<String>) -> SummaryError {
    SummaryError::Records(message.into())
}

// ------------------------------------------------------------------ study

/// A fingerprint of everything in the scenario but its seed: two summaries
/// merge only when their fingerprints (and designs) agree.
pub fn fingerprint(scenario: &Scenario, days: u32) -> String {
    clearsim_model::config::fingerprint(scenario, days)
}

/// What the study is, for its summary: the scenario run for `days`, its
/// participants and design, its shocks and anything else a reader must
/// know.
pub fn meta(scenario: &Scenario, city: &City, days: u32) -> StudyMeta {
    let mut context = Vec::new();
    for channel in &scenario.channels {
        if let Some(fund) = channel.spec.guarantee_fund_fen() {
            context.push(format!(
                "Channel {} has a settlement guarantee fund of {} a day.",
                channel.name,
                clearsim_core::format::money_short(fund as f64)
            ));
        }
    }
    if !scenario.limits.is_empty() {
        context.push(format!(
            "Sender limits: {} [[limit]] entries (used by rtgs+limits).",
            scenario.limits.len()
        ));
    }
    StudyMeta {
        scenario: scenario.name.clone(),
        fingerprint: fingerprint(scenario, days),
        clearsim_version: env!("CARGO_PKG_VERSION").into(),
        days,
        day_end: scenario.day_end.to_string(),
        participant_ids: city.ids.clone(),
        participant_names: city.names.clone(),
        participant_categories: city.categories.clone(),
        opening_fen: city.opening_fen.clone(),
        credit_limit_fen: city.credit_limit_fen.clone(),
        channels: scenario
            .channels
            .iter()
            .map(|c| (c.name.clone(), c.spec.name()))
            .collect(),
        instruments: scenario
            .instruments
            .iter()
            .map(|i| i.name.clone())
            .collect(),
        cheques: scenario
            .instruments
            .iter()
            .filter(|i| i.cheque)
            .map(|i| i.name.clone())
            .collect(),
        shocks: scenario.shocks.iter().map(ToString::to_string).collect(),
        context,
    }
}

/// What a study was: the same for every shard of it, and checked when
/// summaries merge.
#[derive(Clone, Debug, PartialEq)]
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

impl StudyMeta {
    pub fn is_cheque(&self, instrument: &str) -> bool {
        self.cheques.iter().any(|c| c == instrument)
    }
}

/// A summary of some of a study's seeds: a shard, or a merge of shards that
/// does not yet cover them all.
#[derive(Clone, Debug, PartialEq)]
pub struct Partial {
    /// `K/N` for one shard; `merged` for a merge of several.
    pub shard: String,
    /// Every seed of the whole study.
    pub expected_seeds: Vec<u64>,
}

/// One figure over the replications.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// The design (compare), else empty.
    pub design: String,
    /// A paired difference: the design it is measured against.
    pub versus: String,
    /// `all`, a channel or an instrument.
    pub flow: String,
    /// With its unit last: `unsettled_value_fen`, `in_transit_p99_ms`, …
    pub metric: String,
    pub estimate: Estimate,
}

/// A flow of a summary: a channel, an instrument or a design as a whole.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedFlow {
    pub name: String,
    /// For channels: the strategy; for instruments: the channel.
    pub route: String,
    pub flow: FlowReport,
    /// For channels: what their scheduled runs did.
    pub events: Option<EventCounts>,
}

/// Something replicated: one record per seed.
pub trait Replicated: Clone {
    fn seed(&self) -> u64;
}

impl Replicated for RunRecord {
    fn seed(&self) -> u64 {
        self.seed
    }
}
impl Replicated for CompareRecord {
    fn seed(&self) -> u64 {
        self.seed
    }
}
impl Replicated for SweepRecord {
    fn seed(&self) -> u64 {
        self.seed
    }
}

// ------------------------------------------------------------------ figures

/// How a figure of one replication takes its business days: `mean day`,
/// `largest day`, `total` (summed over its days)
/// or `pooled` (over every payment of every day at once: shares, times,
/// ratios). Tables and figures.csv show it beside every figure.
pub fn days_of(metric: &str) -> &'static str {
    match metric {
        "unsettled_value_fen" | "cost_per_day_fen" => "mean day",
        "liquidity_used_fen" | "lower_bound_fen" | "upper_bound_fen" => "largest day",
        "overnight_borrowed_fen"
        | "knock_on_unsettled_value_fen"
        | "knock_on_unsettled_payments"
        | "knock_on_participants_touched"
        | "shock_unsettled_value_difference_fen" => "total",
        _ => "pooled",
    }
}

/// The figures of one flow over `days` business days, with their names.
fn flow_figures(flow: &FlowReport, days: usize) -> [(&'static str, f64); 6] {
    [
        ("settled_value_share", flow.settled_value_share()),
        (
            "in_transit_value_weighted_mean_ms",
            flow.in_transit_ms.value_weighted_mean as f64,
        ),
        ("in_transit_p50_ms", flow.in_transit_ms.stats.p50 as f64),
        ("in_transit_p99_ms", flow.in_transit_ms.stats.p99 as f64),
        ("delay_indicator", flow.delay_indicator),
        (
            "unsettled_value_fen",
            flow.counts.unsettled_value_fen as f64 / days.max(1) as f64,
        ),
    ]
}

fn push_flow(out: &mut Vec<(String, String, f64)>, name: &str, flow: &FlowReport, days: usize) {
    for (metric, value) in flow_figures(flow, days) {
        out.push((name.to_string(), metric.to_string(), value));
    }
}

/// The liquidity channel `k` alone needs (the card net, say): its bounds
/// on the largest day.
fn channel_bounds(record: &RunRecord, k: usize) -> [(&'static str, f64); 2] {
    let largest = |bound: fn(&clearsim_model::run::DayReport) -> &[i64]| {
        record
            .days
            .iter()
            .filter_map(|d| bound(d).get(k).copied())
            .max()
            .unwrap_or(0) as f64
    };
    [
        ("lower_bound_fen", largest(|d| &d.channel_lower_bound_fen)),
        ("upper_bound_fen", largest(|d| &d.channel_upper_bound_fen)),
    ]
}

/// (flow, metric, value) of one record: the design as a whole (`all`),
/// each channel (`channels`), each customer instrument, then the
/// liquidity and overnight figures, then the shock's paired differences.
fn record_figures(
    record: &RunRecord,
    meta: &StudyMeta,
    channels: bool,
) -> Result<Vec<(String, String, f64)>, SummaryError> {
    let mut out = Vec::new();
    let days = record.days.len();
    push_flow(&mut out, "all", &record.all()?, days);
    if channels {
        for (k, ((name, _), flow)) in meta.channels.iter().zip(&record.channels).enumerate() {
            push_flow(&mut out, name, flow, days);
            for (metric, value) in channel_bounds(record, k) {
                out.push((name.to_string(), metric.to_string(), value));
            }
        }
    }
    for (name, flow) in meta.instruments.iter().zip(&record.instruments) {
        push_flow(&mut out, name, flow, days);
    }
    let all = |metric: &str, value: f64| ("all".to_string(), metric.to_string(), value);
    out.push(all(
        "liquidity_used_fen",
        record.largest(|d| d.liquidity_used_fen) as f64,
    ));
    out.push(all(
        "lower_bound_fen",
        record.largest(|d| d.lower_bound_fen) as f64,
    ));
    out.push(all(
        "upper_bound_fen",
        record.largest(|d| d.upper_bound_fen) as f64,
    ));
    out.push(all("netting_ratio", record.netting_ratio()?));
    out.push(all(
        "overnight_borrowed_fen",
        record.overnight_borrowed_total_fen() as f64,
    ));
    if let Some(cost) = record.cost_per_day_fen() {
        out.push(all("cost_per_day_fen", cost));
    }
    if let Some(split) = record.split_total() {
        let (bank, system) = split.means_ms();
        out.push(all("bank_delay_ms_mean", bank));
        out.push(all("system_delay_ms_mean", system));
    }
    if let Some(shock) = &record.shock {
        out.push(all(
            "knock_on_unsettled_value_fen",
            shock.knock_on_value_fen() as f64,
        ));
        out.push(all(
            "knock_on_unsettled_payments",
            shock.knock_on_payments() as f64,
        ));
        if let Some(touched) = shock.participants_touched {
            out.push(all("knock_on_participants_touched", f64::from(touched)));
        }
        out.push(all(
            "shock_unsettled_value_difference_fen",
            (shock.unsettled_value_shocked_fen - shock.unsettled_value_baseline_fen) as f64,
        ));
        out.push(all(
            "shock_delay_indicator_difference",
            shock.delay_indicator_shocked - shock.delay_indicator_baseline,
        ));
    }
    Ok(out)
}

/// Estimates over records of the same figures (same flows and metrics, in
/// the same order, one list per record in seed order).
/// `differences` says the values are paired differences, of any sign.
fn estimates(
    per_record: &[Vec<(String, String, f64)>],
    differences: bool,
) -> Result<Vec<Figure>, SummaryError> {
    let Some(first) = per_record.first() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(first.len());
    for (i, (flow, metric, _)) in first.iter().enumerate() {
        let values = per_record
            .iter()
            .map(|figures| match figures.get(i) {
                Some((f, m, v)) if f == flow && m == metric => Ok(*v),
                _ => Err(fault(format!(
                    "replications disagree on the figure {flow}/{metric}"
                ))),
            })
            .collect::<Result<Vec<f64>, SummaryError>>()?;
        out.push(Figure {
            design: String::new(),
            versus: String::new(),
            flow: flow.clone(),
            metric: metric.clone(),
            estimate: estimate_within(&values, figure_range(metric, differences)),
        });
    }
    Ok(out)
}

/// Where a figure can lie (see `Range`): differences and knock-ons may
/// take either sign.
fn figure_range(metric: &str, differences: bool) -> Range {
    if metric == "knock_on_participants_touched" && !differences {
        Range::NonNegative
    } else if differences || metric.contains("difference") || metric.starts_with("knock_on") {
        Range::Any
    } else if metric.ends_with("_share") || metric == "delay_indicator" || metric == "netting_ratio"
    {
        Range::Share
    } else {
        Range::NonNegative
    }
}

/// Records in ascending seed order, none twice.
fn sorted<R: Replicated>(mut records: Vec<R>) -> Result<Vec<R>, SummaryError> {
    records.sort_by_key(Replicated::seed);
    if let Some(pair) = records.windows(2).find(|p| p[0].seed() == p[1].seed()) {
        return Err(fault(format!("seed {} appears twice", pair[0].seed())));
    }
    Ok(records)
}

/// Pools the same flow of every record.
fn pool_each(flows: &[&FlowReport]) -> Result<FlowReport, SummaryError> {
    let owned: Vec<FlowReport> = flows.iter().map(|f| (*f).clone()).collect();
    Ok(pooled(&owned)?)
}

// ---------------------------------------------------------------------- run

/// One business day of one seed.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedDay {
    pub seed: u64,
    pub report: DayReport,
}

/// One participant over every seed and day (fen).
#[derive(Clone, Debug, PartialEq)]
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
    pub cost_per_day: Option<clearsim_model::bank::costs::CostBreakdown>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    pub schema: String,
    pub study: StudyMeta,
    pub seeds: Vec<u64>,
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

impl RunSummary {
    pub fn new(
        study: StudyMeta,
        records: Vec<RunRecord>,
        partial: Option<Partial>,
    ) -> Result<RunSummary, SummaryError> {
        let records = sorted(records)?;
        if records.is_empty() {
            return Err(fault("a summary needs at least one replication"));
        }
        study.check_shape()?;
        for record in &records {
            record.check_shape(&study)?;
        }
        let channels = (0..study.channels.len())
            .map(|c| {
                let flows: Vec<&FlowReport> = records.iter().map(|r| &r.channels[c]).collect();
                let mut events = EventCounts::default();
                for r in &records {
                    events
                        .add(&r.events[c])
                        .ok_or_else(|| fault("event counts overflow"))?;
                }
                Ok(NamedFlow {
                    name: study.channels[c].0.clone(),
                    route: study.channels[c].1.clone(),
                    flow: pool_each(&flows)?,
                    events: Some(events),
                })
            })
            .collect::<Result<Vec<_>, SummaryError>>()?;
        let instruments = pooled_instruments(&study, records.iter())?;
        let all = pool_each(&channels.iter().map(|c| &c.flow).collect::<Vec<_>>())?;
        let per_day = records
            .iter()
            .flat_map(|r| {
                r.days.iter().map(|d| SeedDay {
                    seed: r.seed,
                    report: d.clone(),
                })
            })
            .collect();
        let per_participant = participant_rows(&study, &records);
        let figures = records
            .iter()
            .map(|r| record_figures(r, &study, true))
            .collect::<Result<Vec<_>, SummaryError>>()?;
        Ok(RunSummary {
            schema: RUN_SCHEMA.into(),
            seeds: records.iter().map(|r| r.seed).collect(),
            partial: partial_if_missing(partial, &records),
            channels,
            instruments,
            all,
            per_day,
            per_participant,
            headline: estimates(&figures, false)?,
            replications: records,
            study,
        })
    }

    /// The summary of these summaries' records together.
    pub fn merge(summaries: Vec<RunSummary>) -> Result<RunSummary, SummaryError> {
        let (study, partial, records) = union(
            summaries
                .into_iter()
                .map(|s| (s.study, s.partial, s.replications))
                .collect(),
        )?;
        RunSummary::new(study, records, partial)
    }
}

impl StudyMeta {
    /// Its per-participant lists have one entry per participant. A summary
    /// read from a file is checked before anything indexes it.
    pub fn check_shape(&self) -> Result<(), SummaryError> {
        let n = self.participant_ids.len();
        if [
            self.participant_names.len(),
            self.participant_categories.len(),
            self.opening_fen.len(),
            self.credit_limit_fen.len(),
        ] != [n; 4]
        {
            return Err(fault("the study's participant lists differ in length"));
        }
        Ok(())
    }
}

impl RunRecord {
    /// One flow and one event count per channel of `study`, two flows per
    /// instrument (the payments, then their returns), one figure per
    /// participant.
    pub fn check_shape(&self, study: &StudyMeta) -> Result<(), SummaryError> {
        self.check_shape_with(study, study.channels.len())
    }

    /// As [`check_shape`](Self::check_shape), with `channels` channels (a
    /// compared design of one strategy has one).
    pub fn check_shape_with(&self, study: &StudyMeta, channels: usize) -> Result<(), SummaryError> {
        let n = study.participant_ids.len();
        let ok = self.channels.len() == channels
            && self.events.len() == channels
            && Some(self.instruments.len()) == study.instruments.len().checked_mul(2)
            && [
                self.liquidity_used_fen.len(),
                self.closing_fen.len(),
                self.overnight_borrowed_fen.len(),
                self.overnight_cost_fen.len(),
            ] == [n; 4]
            && self.costs.len() <= n
            && (self.delay_split.is_empty() || self.delay_split.len() == self.instruments.len());
        if ok {
            Ok(())
        } else {
            Err(fault(format!(
                "the record of seed {} does not match the study's channels, instruments and participants",
                self.seed
            )))
        }
    }
}

/// Each customer instrument pooled over records, then the returned cheques
/// of those that had any.
fn pooled_instruments<'a>(
    study: &StudyMeta,
    records: impl Iterator<Item = &'a RunRecord> + Clone,
) -> Result<Vec<NamedFlow>, SummaryError> {
    let count = study.instruments.len();
    let mut out = Vec::new();
    for index in 0..2 * count {
        let flows: Vec<&FlowReport> = records.clone().map(|r| &r.instruments[index]).collect();
        let flow = pool_each(&flows)?;
        let returned = index >= count;
        if returned && flow.counts.payments == 0 {
            continue;
        }
        let name = &study.instruments[index % count];
        out.push(NamedFlow {
            name: if returned {
                format!("{name}.return")
            } else {
                name.clone()
            },
            route: String::new(),
            flow,
            events: None,
        });
    }
    Ok(out)
}

fn participant_rows(study: &StudyMeta, records: &[RunRecord]) -> Vec<ParticipantRow> {
    (0..study.participant_ids.len())
        .map(|i| ParticipantRow {
            id: study.participant_ids[i].clone(),
            name: study.participant_names[i].clone(),
            category: study.participant_categories[i].clone(),
            opening_fen: study.opening_fen[i],
            liquidity_used_fen: records
                .iter()
                .map(|r| r.liquidity_used_fen[i])
                .max()
                .unwrap_or(0),
            overnight_borrowed_fen: records
                .iter()
                .fold(0i64, |s, r| s.saturating_add(r.overnight_borrowed_fen[i])),
            overnight_cost_fen: records
                .iter()
                .fold(0i64, |s, r| s.saturating_add(r.overnight_cost_fen[i])),
            cost_per_day: cost_per_day(records, i),
        })
        .collect()
}

/// Participant `i`'s mean cost per day over the records, if they have costs.
fn cost_per_day(
    records: &[RunRecord],
    i: usize,
) -> Option<clearsim_model::bank::costs::CostBreakdown> {
    let mut sum = clearsim_model::bank::costs::CostBreakdown::default();
    let mut days = 0usize;
    for record in records {
        sum.add(record.costs.get(i)?);
        days += record.days.len();
    }
    Some(sum.scaled(1.0 / days.max(1) as f64))
}

/// Keeps the partial marker only while some expected seed is missing.
fn partial_if_missing<R: Replicated>(partial: Option<Partial>, records: &[R]) -> Option<Partial> {
    partial.filter(|p| {
        p.expected_seeds
            .iter()
            .any(|s| records.binary_search_by_key(s, Replicated::seed).is_err())
    })
}

/// The records of several summaries of one study, with their common study
/// and what is still partial. Refuses different studies, and a seed that
/// two inputs both hold.
fn union<R: Replicated>(
    inputs: Vec<(StudyMeta, Option<Partial>, Vec<R>)>,
) -> Result<(StudyMeta, Option<Partial>, Vec<R>), SummaryError> {
    let mut iter = inputs.into_iter();
    let (study, mut partial, mut records) = iter.next().ok_or_else(|| fault("nothing to merge"))?;
    for (other, other_partial, more) in iter {
        if other.fingerprint != study.fingerprint || other.scenario != study.scenario {
            return Err(fault(format!(
                "the inputs are different studies: {} ({}) and {} ({})",
                study.scenario, study.fingerprint, other.scenario, other.fingerprint
            )));
        }
        if other != study {
            return Err(fault(format!(
                "the inputs differ in their study settings (clearsim {} vs {}, shocks, or participants)",
                study.clearsim_version, other.clearsim_version
            )));
        }
        partial = match (partial, other_partial) {
            (Some(a), Some(b)) if a.expected_seeds != b.expected_seeds => {
                return Err(fault("the inputs are shards of different sets of seeds"));
            }
            (Some(a), _) | (None, Some(a)) => Some(Partial {
                shard: "merged".into(),
                expected_seeds: a.expected_seeds,
            }),
            (None, None) => None,
        };
        records.extend(more);
    }
    let records = sorted(records).map_err(|e| fault(format!("duplicate input: {e}")))?;
    if let Some(p) = &partial
        && let Some(stray) = records
            .iter()
            .find(|r| !p.expected_seeds.contains(&r.seed()))
    {
        return Err(fault(format!(
            "seed {} is not one of the study's seeds",
            stray.seed()
        )));
    }
    Ok((study, partial, records))
}

// ------------------------------------------------------------------ compare

/// One design pooled over the seeds.
#[derive(Clone, Debug, PartialEq)]
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

#[derive(Clone, Debug, PartialEq)]
pub struct CompareSummary {
    pub schema: String,
    pub study: StudyMeta,
    pub designs: Vec<String>,
    pub seeds: Vec<u64>,
    pub partial: Option<Partial>,
    pub rows: Vec<CompareRow>,
    /// Means and 95 % intervals over the seeds, per design.
    pub headline: Vec<Figure>,
    /// Per design after the first: its difference from the first on each
    /// seed's common stream, mean and 95 % interval.
    pub paired: Vec<Figure>,
    pub replications: Vec<CompareRecord>,
}

impl CompareSummary {
    pub fn new(
        study: StudyMeta,
        designs: Vec<String>,
        records: Vec<CompareRecord>,
        partial: Option<Partial>,
    ) -> Result<CompareSummary, SummaryError> {
        let records = sorted(records)?;
        if records.is_empty() {
            return Err(fault("a summary needs at least one replication"));
        }
        if records.iter().any(|r| r.designs.len() != designs.len()) {
            return Err(fault("a replication lacks some design"));
        }
        study.check_shape()?;
        for (d, design) in designs.iter().enumerate() {
            // The scenario's own channels, or one channel of a strategy.
            let channels = records[0].designs[d].channels.len();
            if channels != 1 && channels != study.channels.len() {
                return Err(fault(format!("design {design} has {channels} channels")));
            }
            for record in &records {
                record.designs[d].check_shape_with(&study, channels)?;
            }
        }
        let rows = (0..designs.len())
            .map(|d| compare_row(&study, &designs[d], records.iter().map(|r| &r.designs[d])))
            .collect::<Result<Vec<_>, SummaryError>>()?;
        let mut per_design: Vec<Vec<Vec<(String, String, f64)>>> = Vec::new();
        for d in 0..designs.len() {
            per_design.push(
                records
                    .iter()
                    .map(|r| record_figures(&r.designs[d], &study, false))
                    .collect::<Result<_, _>>()?,
            );
        }
        let mut headline = Vec::new();
        let mut paired = Vec::new();
        for (d, name) in designs.iter().enumerate() {
            for mut figure in estimates(&per_design[d], false)? {
                figure.design = name.clone();
                headline.push(figure);
            }
            if d == 0 {
                continue;
            }
            let differences: Vec<Vec<(String, String, f64)>> = per_design[d]
                .iter()
                .zip(&per_design[0])
                .map(|(mine, first)| {
                    mine.iter()
                        .zip(first)
                        .map(|((f, m, a), (_, _, b))| (f.clone(), m.clone(), a - b))
                        .collect()
                })
                .collect();
            for mut figure in estimates(&differences, true)? {
                figure.design = name.clone();
                figure.versus = designs[0].clone();
                paired.push(figure);
            }
        }
        Ok(CompareSummary {
            schema: COMPARE_SCHEMA.into(),
            seeds: records.iter().map(|r| r.seed).collect(),
            partial: partial_if_missing(partial, &records),
            designs,
            rows,
            headline,
            paired,
            replications: records,
            study,
        })
    }

    pub fn merge(summaries: Vec<CompareSummary>) -> Result<CompareSummary, SummaryError> {
        let designs = summaries
            .first()
            .map(|s| s.designs.clone())
            .unwrap_or_default();
        if summaries.iter().any(|s| s.designs != designs) {
            return Err(fault("the inputs compare different designs"));
        }
        let (study, partial, records) = union(
            summaries
                .into_iter()
                .map(|s| (s.study, s.partial, s.replications))
                .collect(),
        )?;
        CompareSummary::new(study, designs, records, partial)
    }
}

fn compare_row<'a>(
    study: &StudyMeta,
    design: &str,
    records: impl Iterator<Item = &'a RunRecord> + Clone,
) -> Result<CompareRow, SummaryError> {
    let first = records
        .clone()
        .next()
        .ok_or_else(|| fault("no replication"))?;
    let channels = (0..first.channels.len())
        .map(|c| {
            let flows: Vec<&FlowReport> = records.clone().map(|r| &r.channels[c]).collect();
            let name = if first.channels.len() == 1 {
                design.to_string()
            } else {
                study.channels[c].0.clone()
            };
            let mut events = EventCounts::default();
            for r in records.clone() {
                events
                    .add(&r.events[c])
                    .ok_or_else(|| fault("event counts overflow"))?;
            }
            Ok(NamedFlow {
                route: if first.channels.len() == 1 {
                    design.to_string()
                } else {
                    study.channels[c].1.clone()
                },
                name,
                flow: pool_each(&flows)?,
                events: Some(events),
            })
        })
        .collect::<Result<Vec<NamedFlow>, SummaryError>>()?;
    let all = pool_each(&channels.iter().map(|c| &c.flow).collect::<Vec<_>>())?;
    let mut events = EventCounts::default();
    for c in &channels {
        events
            .add(c.events.as_ref().unwrap_or(&EventCounts::default()))
            .ok_or_else(|| fault("event counts overflow"))?;
    }
    let moved_fen: i128 = records.clone().map(|r| r.moved_fen).sum();
    let participants = first.liquidity_used_fen.len();
    Ok(CompareRow {
        design: design.to_string(),
        netting_ratio: if all.counts.settled_value_fen == 0 {
            0.0
        } else {
            moved_fen as f64 / all.counts.settled_value_fen as f64
        },
        instruments: pooled_instruments(study, records.clone())?,
        liquidity_used_by_participant_fen: (0..participants)
            .map(|i| {
                records
                    .clone()
                    .map(|r| r.liquidity_used_fen[i])
                    .max()
                    .unwrap_or(0)
            })
            .collect(),
        all,
        channels,
        events,
        moved_fen,
    })
}

// -------------------------------------------------------------------- sweep

#[derive(Clone, Debug, PartialEq)]
pub struct SweepSummary {
    pub schema: String,
    pub study: StudyMeta,
    pub designs: Vec<String>,
    pub levels: Vec<f64>,
    pub seeds: Vec<u64>,
    pub partial: Option<Partial>,
    /// Per design: Σ lower bounds (level 0) and Σ needs (level 1), fen.
    pub bounds: Vec<SweepBounds>,
    pub points: Vec<SweepPoint>,
    pub replications: Vec<SweepRecord>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SweepBounds {
    pub design: String,
    pub lower_fen: Estimate,
    pub upper_fen: Estimate,
    /// Σ the scenario's own openings (none from summaries before 0.9).
    pub own_opening_fen: Option<Estimate>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SweepPoint {
    /// 0 = every participant holds its lower bound, 1 = its need to settle
    /// every payment on entry.
    pub level: f64,
    pub cells: Vec<SweepStat>,
}

/// One design at one level, over the seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepStat {
    pub design: String,
    pub liquidity_fen: Estimate,
    pub delay_indicator: Estimate,
    pub unsettled_value_fen: Estimate,
    pub settled_value_share: Estimate,
    pub liquidity_used_fen: Estimate,
}

/// Records, each with a point per level and design and bounds per design.
fn check_sweep_shape(
    records: &[SweepRecord],
    levels: usize,
    designs: usize,
) -> Result<(), SummaryError> {
    if records.is_empty() {
        return Err(fault("a summary needs at least one replication"));
    }
    let shaped = |r: &SweepRecord| {
        r.points.len() == levels
            && r.points.iter().all(|p| p.len() == designs)
            && r.lower_fen.len() == designs
            && r.upper_fen.len() == designs
    };
    if !records.iter().all(shaped) {
        return Err(fault(
            "a replication does not match the sweep's levels and designs",
        ));
    }
    Ok(())
}

impl SweepSummary {
    pub fn new(
        study: StudyMeta,
        designs: Vec<String>,
        levels: Vec<f64>,
        records: Vec<SweepRecord>,
        partial: Option<Partial>,
    ) -> Result<SweepSummary, SummaryError> {
        let records = sorted(records)?;
        check_sweep_shape(&records, levels.len(), designs.len())?;
        // Every sweep figure is an amount or a share, so none is below 0.
        let over = |f: &dyn Fn(&SweepRecord) -> f64| {
            estimate_within(
                &records.iter().map(f).collect::<Vec<_>>(),
                Range::NonNegative,
            )
        };
        let share = |f: &dyn Fn(&SweepRecord) -> f64| {
            estimate_within(&records.iter().map(f).collect::<Vec<_>>(), Range::Share)
        };
        let bounds = designs
            .iter()
            .enumerate()
            .map(|(d, name)| SweepBounds {
                design: name.clone(),
                lower_fen: over(&|r| r.lower_fen[d] as f64),
                upper_fen: over(&|r| r.upper_fen[d] as f64),
                own_opening_fen: records
                    .iter()
                    .all(|r| r.own_opening_fen.len() > d)
                    .then(|| over(&|r| r.own_opening_fen[d] as f64)),
            })
            .collect();
        let points = levels
            .iter()
            .enumerate()
            .map(|(l, &level)| SweepPoint {
                level,
                cells: designs
                    .iter()
                    .enumerate()
                    .map(|(d, name)| {
                        let cell = |r: &SweepRecord| r.points[l][d].clone();
                        SweepStat {
                            design: name.clone(),
                            liquidity_fen: over(&|r| cell(r).liquidity_fen as f64),
                            delay_indicator: share(&|r| cell(r).delay_indicator),
                            unsettled_value_fen: over(&|r| cell(r).unsettled_value_fen as f64),
                            settled_value_share: share(&|r| {
                                let c = cell(r);
                                if c.value_fen == 0 {
                                    1.0
                                } else {
                                    1.0 - c.unsettled_value_fen as f64 / c.value_fen as f64
                                }
                            }),
                            liquidity_used_fen: over(&|r| cell(r).liquidity_used_fen as f64),
                        }
                    })
                    .collect(),
            })
            .collect();
        Ok(SweepSummary {
            schema: SWEEP_SCHEMA.into(),
            seeds: records.iter().map(|r| r.seed).collect(),
            partial: partial_if_missing(partial, &records),
            designs,
            levels,
            bounds,
            points,
            replications: records,
            study,
        })
    }

    pub fn merge(summaries: Vec<SweepSummary>) -> Result<SweepSummary, SummaryError> {
        let (designs, levels) = summaries
            .first()
            .map(|s| (s.designs.clone(), s.levels.clone()))
            .unwrap_or_default();
        if summaries
            .iter()
            .any(|s| s.designs != designs || s.levels != levels)
        {
            return Err(fault("the inputs sweep different designs or levels"));
        }
        let (study, partial, records) = union(
            summaries
                .into_iter()
                .map(|s| (s.study, s.partial, s.replications))
                .collect(),
        )?;
        SweepSummary::new(study, designs, levels, records, partial)
    }
}

impl clearsim_core::Blamed for SummaryError {
    /// Records that do not make one summary: from a merge, the user's inputs (an experiment reports its own as a bug).
    fn blame(&self) -> clearsim_core::Blame {
        clearsim_core::Blame::User
    }
}
