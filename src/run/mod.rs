//! `clearsim run`: a scenario's city, streams and channels, over one or many
//! business days, with the cheque life cycle and per-flow measurements.
//!
//! The stream is generated on the fly and fed to the engine in time order;
//! returned cheques are scheduled back into the stream at the next exchange
//! session (never into the past). Memory is O(participants + payments held),
//! independent of the number of payments in a day.

use serde::{Deserialize, Serialize};

use crate::config::Scenario;
use crate::engine::{Engine, EngineError};
use crate::ledger::{Ledger, Payment, Sink};
use crate::metrics::{DelayIndicator, DelayRecorder, DelayStats, Positions};
use crate::strategy::ChannelSpec;
use crate::time::{DAY_MS, SimTime};
use crate::workload::city::City;
use crate::workload::stream::{
    Generated, StreamModel, TAG_DISHONOURED, TAG_INSTRUMENT, TAG_RETURN,
};

/// Sees every settlement of a run (tests use it to compare with `replay`).
pub trait Observer {
    fn settled(&mut self, _day: u32, _key: u64, _at: SimTime) {}
}

/// Observes nothing.
pub struct NoObserver;
impl Observer for NoObserver {}

/// Counts, values and times of one flow (a channel, or an instrument).
#[derive(Clone, Debug)]
pub struct FlowStats {
    pub payments: u64,
    pub value_fen: i64,
    pub settled: u64,
    pub settled_value_fen: i64,
    pub unsettled: u64,
    pub unsettled_value_fen: i64,
    /// Dishonoured cheques (returned at the next session).
    pub dishonoured: u64,
    pub in_transit: DelayRecorder,
    /// Σ amount · in-transit time, and Σ amount, of payments whose funds
    /// became available: the value-weighted mean in-transit time.
    transit_weighted: i128,
    transit_value: i128,
    indicator: DelayIndicator,
    held_fen: i64,
    pub peak_held_fen: i64,
    timeline: Timeline,
}

/// Width of a timeline bucket: 15 minutes.
pub const BUCKET_MS: u32 = 15 * 60_000;
const BUCKETS: usize = (crate::time::DAY_MS / BUCKET_MS) as usize;

/// Value settled, and the peak value queued or pending, in each 15-minute
/// bucket of the business day (summed, resp. the largest, over days).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    pub bucket_ms: u32,
    pub settled_value: Vec<i64>,
    pub peak_queued_value: Vec<i64>,
    /// The bucket of the last instant end seen today.
    #[serde(skip)]
    last_bucket: Option<usize>,
}

impl Timeline {
    fn new() -> Timeline {
        Timeline {
            bucket_ms: BUCKET_MS,
            settled_value: vec![0; BUCKETS],
            peak_queued_value: vec![0; BUCKETS],
            last_bucket: None,
        }
    }

    fn bucket(at: SimTime) -> usize {
        ((at.ms() / BUCKET_MS) as usize).min(BUCKETS - 1)
    }

    /// `held_fen` was held from the last instant end until `at`.
    fn held_until(&mut self, at: SimTime, held_fen: i64) {
        let now = Timeline::bucket(at);
        let from = self.last_bucket.map_or(now, |b| b + 1);
        for peak in &mut self.peak_queued_value[from.min(now)..=now] {
            *peak = (*peak).max(held_fen);
        }
        self.last_bucket = Some(now);
    }

    fn new_day(&mut self) {
        self.last_bucket = None;
    }

    /// Adds another timeline (merging runs).
    pub fn add(&mut self, other: &Timeline) {
        for (a, b) in self.settled_value.iter_mut().zip(&other.settled_value) {
            *a = a.saturating_add(*b);
        }
        for (a, b) in self
            .peak_queued_value
            .iter_mut()
            .zip(&other.peak_queued_value)
        {
            *a = (*a).max(*b);
        }
    }
}

impl FlowStats {
    fn new() -> FlowStats {
        FlowStats {
            payments: 0,
            value_fen: 0,
            settled: 0,
            settled_value_fen: 0,
            unsettled: 0,
            unsettled_value_fen: 0,
            dishonoured: 0,
            in_transit: DelayRecorder::new(),
            transit_weighted: 0,
            transit_value: 0,
            indicator: DelayIndicator::new(),
            held_fen: 0,
            peak_held_fen: 0,
            timeline: Timeline::new(),
        }
    }

    fn arrived(&mut self, amount_fen: i64) {
        self.payments += 1;
        self.value_fen += amount_fen;
        self.held_fen += amount_fen;
    }

    fn settled(&mut self, amount_fen: i64, at: SimTime, delay_ms: u32, worst_ms: u32) {
        self.settled += 1;
        self.settled_value_fen += amount_fen;
        self.held_fen -= amount_fen;
        self.indicator.add(amount_fen, delay_ms, worst_ms);
        let bucket = &mut self.timeline.settled_value[Timeline::bucket(at)];
        *bucket = bucket.saturating_add(amount_fen);
    }

    fn available(&mut self, amount_fen: i64, transit_ms: u32) {
        self.in_transit.record(transit_ms);
        self.transit_weighted += i128::from(amount_fen) * i128::from(transit_ms);
        self.transit_value += i128::from(amount_fen);
    }

    fn unsettled(&mut self, amount_fen: i64, worst_ms: u32) {
        self.unsettled += 1;
        self.unsettled_value_fen += amount_fen;
        self.held_fen -= amount_fen;
        self.indicator.add(amount_fen, worst_ms, worst_ms);
    }

    fn end_instant(&mut self, at: SimTime) {
        self.peak_held_fen = self.peak_held_fen.max(self.held_fen);
        self.timeline.held_until(at, self.held_fen);
    }

    /// The reported figures of this flow.
    pub fn report(&self) -> FlowReport {
        let (delay_weighted, delay_weight) = self.indicator.sums();
        let counts = FlowCounts {
            payments: self.payments,
            value: self.value_fen,
            settled: self.settled,
            settled_value: self.settled_value_fen,
            unsettled: self.unsettled,
            unsettled_value: self.unsettled_value_fen,
            dishonoured: self.dishonoured,
            peak_queued_value: self.peak_held_fen,
        };
        let sums = FlowSums {
            delay_weighted,
            delay_weight,
            transit_weighted: self.transit_weighted,
            transit_value: self.transit_value,
            transit_total_ms: self.in_transit.sum_ms,
            transit_max_ms: self.in_transit.max_ms,
        };
        FlowReport::derive(
            counts,
            sums,
            &self.in_transit.histogram,
            self.timeline.clone(),
        )
    }
}

/// Counts and values of a flow (additive over runs, but for the peak).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FlowCounts {
    pub payments: u64,
    pub value: i64,
    pub settled: u64,
    pub settled_value: i64,
    pub unsettled: u64,
    pub unsettled_value: i64,
    pub dishonoured: u64,
    pub peak_queued_value: i64,
}

/// The exact sums behind a flow's means and delay indicator, kept in the
/// summary so that runs merge exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FlowSums {
    /// Σ amount · delay, and Σ amount · (day end − submit): the delay indicator.
    pub delay_weighted: i128,
    pub delay_weight: i128,
    /// Σ amount · in-transit time, and Σ amount, over payments made available.
    pub transit_weighted: i128,
    pub transit_value: i128,
    /// Σ in-transit time (ms) and its maximum.
    pub transit_total_ms: u128,
    pub transit_max_ms: u64,
}

impl FlowReport {
    /// Every derived figure of a flow, from its counts, sums and histogram:
    /// the one place they are computed (for a run and for merged runs).
    pub fn derive(
        counts: FlowCounts,
        sums: FlowSums,
        histogram: &hdrhistogram::Histogram<u64>,
        timeline: Timeline,
    ) -> FlowReport {
        FlowReport {
            payments: counts.payments,
            value: counts.value,
            settled: counts.settled,
            settled_value: counts.settled_value,
            unsettled: counts.unsettled,
            unsettled_value: counts.unsettled_value,
            dishonoured: counts.dishonoured,
            in_transit_ms: TransitReport {
                stats: DelayStats::from_histogram(
                    histogram,
                    sums.transit_max_ms,
                    sums.transit_total_ms,
                ),
                value_weighted_mean: if sums.transit_value == 0 {
                    0
                } else {
                    ((sums.transit_weighted + sums.transit_value / 2) / sums.transit_value) as u64
                },
            },
            delay_indicator: DelayIndicator::from_sums(sums.delay_weighted, sums.delay_weight)
                .value(),
            peak_queued_value: counts.peak_queued_value,
            sums,
            timeline,
        }
    }

    pub fn counts(&self) -> FlowCounts {
        FlowCounts {
            payments: self.payments,
            value: self.value,
            settled: self.settled,
            settled_value: self.settled_value,
            unsettled: self.unsettled,
            unsettled_value: self.unsettled_value,
            dishonoured: self.dishonoured,
            peak_queued_value: self.peak_queued_value,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransitReport {
    #[serde(flatten)]
    pub stats: DelayStats,
    pub value_weighted_mean: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowReport {
    pub payments: u64,
    pub value: i64,
    pub settled: u64,
    pub settled_value: i64,
    pub unsettled: u64,
    pub unsettled_value: i64,
    pub dishonoured: u64,
    pub in_transit_ms: TransitReport,
    pub delay_indicator: f64,
    pub peak_queued_value: i64,
    pub sums: FlowSums,
    pub timeline: Timeline,
}

/// Liquidity figures of one day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayReport {
    pub day: u32,
    pub payments: u64,
    pub opening_total: i64,
    pub liquidity_used: i64,
    pub lower_bound: i64,
    pub upper_bound: i64,
    /// Per channel, in declaration order.
    pub channel_lower_bound: Vec<i64>,
    pub channel_upper_bound: Vec<i64>,
}

/// What a run measured.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub channels: Vec<FlowStats>,
    /// Instruments, then returned cheques of each instrument.
    pub instruments: Vec<FlowStats>,
    pub days: Vec<DayReport>,
    pub closing_fen: Vec<i64>,
    pub payments: u64,
    /// Value that moved between accounts over the run (Σ of debits).
    pub moved_fen: i128,
    /// With a participant default: payments (and their value) left
    /// unsettled between the other participants — the knock-on effect.
    pub knock_on: KnockOn,
    /// Per participant: the most liquidity it used on any day.
    pub liquidity_used_fen: Vec<i64>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnockOn {
    pub unsettled_at_others: u64,
    pub unsettled_value_at_others: i64,
    /// Value a dns settlement guarantee fund paid for short participants.
    #[serde(default)]
    pub guarantee_fund_used: i64,
}

/// Receives the engine's settlements during a run.
struct RunSink<'a, O: Observer> {
    channels: Vec<FlowStats>,
    flows: Vec<FlowStats>,
    channel_of: &'a [usize],
    cheque: Vec<bool>,
    /// Cycle times of each channel (for cheque availability and returns).
    cycles: Vec<Vec<SimTime>>,
    day: u32,
    day_end: SimTime,
    /// Returns scheduled this instant: (time, whether next day, payment).
    returns: Vec<(SimTime, bool, Generated)>,
    /// The defaulted participant, once it has defaulted.
    defaulter: Option<u32>,
    /// i64::MAX less Σ opening balances less Σ amounts so far: every
    /// balance and sum stays below i64::MAX while this stays ≥ 0.
    headroom_fen: i64,
    knock_on: KnockOn,
    observer: &'a mut O,
}

impl<O: Observer> RunSink<'_, O> {
    fn flow_index(&self, tag: u16) -> usize {
        let instrument = usize::from(tag & TAG_INSTRUMENT);
        if tag & TAG_RETURN != 0 {
            self.cheque.len() + instrument
        } else {
            instrument
        }
    }

    /// The first cycle of `channel` strictly after `at`, today, or else the
    /// first one of the next business day (`true`).
    fn next_cycle(&self, channel: usize, at: SimTime) -> Option<(SimTime, bool)> {
        let cycles = &self.cycles[channel];
        match cycles.iter().find(|&&c| c > at) {
            Some(&c) => Some((c, false)),
            None => cycles.first().map(|&c| (c, true)),
        }
    }
}

impl<O: Observer> Sink for RunSink<'_, O> {
    fn settled(&mut self, payment: &Payment, at: SimTime) {
        let instrument = usize::from(payment.tag & TAG_INSTRUMENT);
        let channel = self.channel_of[instrument];
        let delay_ms = at.ms() - payment.submit.ms();
        let worst_ms = self.day_end.ms() - payment.submit.ms();
        let flow = self.flow_index(payment.tag);
        self.channels[channel].settled(payment.amount_fen, at, delay_ms, worst_ms);
        self.flows[flow].settled(payment.amount_fen, at, delay_ms, worst_ms);
        self.observer.settled(self.day, payment.key, at);
        let is_cheque = self.cheque[instrument] && payment.tag & TAG_RETURN == 0;
        if !is_cheque {
            self.channels[channel].available(payment.amount_fen, delay_ms);
            self.flows[flow].available(payment.amount_fen, delay_ms);
            return;
        }
        // A cheque: funds become available once the paying bank's return
        // window (until the next session) has passed, unless dishonoured.
        let Some((next, next_day)) = self.next_cycle(channel, at) else {
            return;
        };
        if payment.tag & TAG_DISHONOURED != 0 {
            self.flows[flow].dishonoured += 1;
            self.channels[channel].dishonoured += 1;
            let back = Generated {
                submit: next,
                sender: payment.receiver,
                receiver: payment.sender,
                amount_fen: payment.amount_fen,
                priority: payment.priority,
                tag: (payment.tag & TAG_INSTRUMENT) | TAG_RETURN,
            };
            self.returns.push((next, next_day, back));
            return;
        }
        let available_ms = u64::from(next.ms()) + if next_day { u64::from(DAY_MS) } else { 0 };
        let transit_ms =
            (available_ms - u64::from(payment.submit.ms())).min(u64::from(u32::MAX)) as u32;
        self.channels[channel].available(payment.amount_fen, transit_ms);
        self.flows[flow].available(payment.amount_fen, transit_ms);
    }

    fn unsettled(&mut self, payment: &Payment) {
        let instrument = usize::from(payment.tag & TAG_INSTRUMENT);
        let worst_ms = self.day_end.ms() - payment.submit.ms();
        let flow = self.flow_index(payment.tag);
        self.channels[self.channel_of[instrument]].unsettled(payment.amount_fen, worst_ms);
        self.flows[flow].unsettled(payment.amount_fen, worst_ms);
        if let Some(d) = self.defaulter
            && payment.sender != d
            && payment.receiver != d
        {
            self.knock_on.unsettled_at_others += 1;
            self.knock_on.unsettled_value_at_others += payment.amount_fen;
        }
    }
}

/// Cycle times of a channel spec (empty for `rtgs`).
pub fn cycles_of(spec: &ChannelSpec) -> Vec<SimTime> {
    match spec {
        ChannelSpec::Rtgs { .. }
        | ChannelSpec::RtgsBypass { .. }
        | ChannelSpec::RtgsOffset { .. }
        | ChannelSpec::RtgsLimits { .. }
        | ChannelSpec::Chips { .. } => Vec::new(),
        ChannelSpec::Dns { cycles, .. } | ChannelSpec::Bilateral { cycles } => cycles.clone(),
    }
}

/// The scenario's stream model for a city.
pub fn stream_model(scenario: &Scenario, city: &City) -> StreamModel {
    let cycles: Vec<Vec<SimTime>> = scenario
        .channel_of
        .iter()
        .map(|&c| cycles_of(&scenario.channels[c].spec))
        .collect();
    StreamModel::new(scenario, &city.size, &cycles)
}

/// Volume multiplier of day `day`: yearly growth spread over business days.
pub fn volume_of_day(scenario: &Scenario, day: u32) -> f64 {
    libm::pow(
        1.0 + scenario.growth_per_year,
        f64::from(day) / f64::from(scenario.business_days_per_year),
    )
}

/// The channel specs of the scenario, with the `[[limit]]` entries resolved
/// into any channel that enforces sender limits.
pub fn channel_specs(scenario: &Scenario, city: &City) -> Result<Vec<ChannelSpec>, EngineError> {
    let mut specs: Vec<ChannelSpec> = scenario.channels.iter().map(|c| c.spec.clone()).collect();
    for spec in &mut specs {
        if let ChannelSpec::RtgsLimits { limits, .. } = spec {
            if scenario.limits.is_empty() {
                return Err(EngineError::BadChannel(
                    "sender limits need [[limit]] entries in the config".into(),
                ));
            }
            *limits =
                crate::config::LimitEntry::resolve(&scenario.limits, &city.ids, &city.opening_fen)
                    .map_err(EngineError::BadChannel)?;
        }
    }
    Ok(specs)
}

/// Runs the scenario over its days.
pub fn run<O: Observer>(
    scenario: &Scenario,
    city: &City,
    observer: &mut O,
) -> Result<RunResult, EngineError> {
    let model = stream_model(scenario, city);
    let specs = channel_specs(scenario, city)?;
    let participants = city.len();
    let mut sink = RunSink {
        channels: (0..specs.len()).map(|_| FlowStats::new()).collect(),
        flows: (0..2 * scenario.instruments.len())
            .map(|_| FlowStats::new())
            .collect(),
        channel_of: &scenario.channel_of,
        cheque: scenario.instruments.iter().map(|i| i.cheque).collect(),
        cycles: specs.iter().map(cycles_of).collect(),
        day: 0,
        day_end: scenario.day_end,
        returns: Vec::new(),
        defaulter: None,
        headroom_fen: i64::MAX
            - city
                .opening_fen
                .iter()
                .try_fold(0i64, |sum, &o| sum.checked_add(o))
                .ok_or(EngineError::AmountsOverflow)?,
        knock_on: KnockOn::default(),
        observer,
    };
    let defaulter = match &scenario.default {
        None => None,
        Some(d) => Some((
            city.ids
                .iter()
                .position(|id| *id == d.participant)
                .ok_or_else(|| EngineError::UnknownParticipant(d.participant.clone()))?
                as u32,
            d.at,
        )),
    };
    let mut opening = city.opening_fen.clone();
    let mut days = Vec::with_capacity(scenario.days as usize);
    // Returned cheques waiting for their session, in (time, order) order.
    let mut injections: std::collections::VecDeque<(SimTime, Generated)> = Default::default();
    let mut tomorrow: Vec<(SimTime, Generated)> = Vec::new();
    let mut key: u64 = 0;
    let mut moved_fen: i128 = 0;
    let mut liquidity_used_fen = vec![0i64; participants];
    for day in 0..scenario.days {
        sink.day = day;
        injections.extend(tomorrow.drain(..));
        // A guarantee fund may bring new money into the accounts: count all
        // of it against the overflow headroom up front.
        for spec in &specs {
            if let ChannelSpec::Dns {
                guarantee_fund_fen: Some(fund_fen),
                ..
            } = spec
            {
                sink.headroom_fen = sink
                    .headroom_fen
                    .checked_sub(*fund_fen)
                    .filter(|h| *h >= 0)
                    .ok_or(EngineError::AmountsOverflow)?;
            }
        }
        let ledger = Ledger::new(&opening, &city.credit_limit_fen);
        let mut engine = Engine::new(ledger, &specs, scenario.day_end, 1 << 12)?;
        let mut all = Positions::new(participants);
        let mut per_channel: Vec<Positions> =
            specs.iter().map(|_| Positions::new(participants)).collect();
        let mut stream = model
            .day(scenario.seed, day, volume_of_day(scenario, day))
            .peekable();
        let first_key = key;
        // A defaulted participant stays failed on later days (from midnight).
        let mut default_at =
            defaulter.map(|(i, at)| (i, if day == 0 { at } else { SimTime::MIDNIGHT }));
        loop {
            let arrival = stream.peek().map(|g| g.submit);
            let injected = injections.front().map(|(t, _)| *t);
            let failing = default_at.map(|(_, t)| t);
            let Some(at) = [arrival, injected, engine.next_event(), failing]
                .into_iter()
                .flatten()
                .min()
            else {
                break;
            };
            engine.begin_instant(at)?;
            // The default takes effect at its instant, before the arrivals.
            if let Some((participant, when)) = default_at
                && when == at
            {
                engine.default_participant(participant);
                sink.defaulter = Some(participant);
                default_at = None;
            }
            // Generated arrivals first, then returned cheques: a fixed order.
            while let Some(generated) = stream.next_if(|g| g.submit == at) {
                arrive(
                    &mut engine,
                    &mut sink,
                    &mut all,
                    &mut per_channel,
                    generated,
                    &mut key,
                )?;
            }
            while let Some((_, generated)) = injections.pop_front_if(|(t, _)| *t == at) {
                arrive(
                    &mut engine,
                    &mut sink,
                    &mut all,
                    &mut per_channel,
                    generated,
                    &mut key,
                )?;
            }
            engine.end_instant(&mut sink);
            all.end_instant();
            per_channel.iter_mut().for_each(Positions::end_instant);
            for flow in sink.channels.iter_mut().chain(sink.flows.iter_mut()) {
                flow.end_instant(at);
            }
            for (time, next_day, generated) in sink.returns.drain(..) {
                if next_day {
                    tomorrow.push((time, generated));
                } else {
                    let position = injections.partition_point(|(t, _)| *t <= time);
                    injections.insert(position, (time, generated));
                }
            }
        }
        // Queued payments stay queued until the day end.
        for flow in sink.channels.iter_mut().chain(sink.flows.iter_mut()) {
            flow.end_instant(scenario.day_end);
            flow.timeline.new_day();
        }
        engine.close_day(&mut sink);
        let ledger = engine.ledger();
        let used_today =
            crate::metrics::participant_liquidity_used_fen(&opening, ledger.min_balances_fen());
        for (most, &today) in liquidity_used_fen.iter_mut().zip(&used_today) {
            *most = (*most).max(today);
        }
        days.push(DayReport {
            day: day + 1,
            payments: key - first_key,
            opening_total: opening.iter().sum(),
            liquidity_used: used_today.iter().sum(),
            lower_bound: all.lower_bound_fen(),
            upper_bound: all.upper_bound_fen(),
            channel_lower_bound: per_channel.iter().map(Positions::lower_bound_fen).collect(),
            channel_upper_bound: per_channel.iter().map(Positions::upper_bound_fen).collect(),
        });
        opening = ledger.balances_fen().to_vec();
        moved_fen += ledger.moved_fen();
        sink.knock_on.guarantee_fund_used += ledger.injected_fen();
    }
    Ok(RunResult {
        channels: sink.channels,
        instruments: sink.flows,
        days,
        closing_fen: opening,
        payments: key,
        moved_fen,
        knock_on: sink.knock_on,
        liquidity_used_fen,
    })
}

fn arrive<O: Observer>(
    engine: &mut Engine,
    sink: &mut RunSink<'_, O>,
    all: &mut Positions,
    per_channel: &mut [Positions],
    generated: Generated,
    key: &mut u64,
) -> Result<(), EngineError> {
    sink.headroom_fen = sink
        .headroom_fen
        .checked_sub(generated.amount_fen)
        .filter(|h| *h >= 0)
        .ok_or(EngineError::AmountsOverflow)?;
    let instrument = usize::from(generated.tag & TAG_INSTRUMENT);
    let channel = sink.channel_of[instrument];
    let flow = sink.flow_index(generated.tag);
    sink.channels[channel].arrived(generated.amount_fen);
    sink.flows[flow].arrived(generated.amount_fen);
    all.add(generated.sender, generated.receiver, generated.amount_fen);
    per_channel[channel].add(generated.sender, generated.receiver, generated.amount_fen);
    let payment = Payment {
        key: *key,
        submit: generated.submit,
        sender: generated.sender,
        receiver: generated.receiver,
        amount_fen: generated.amount_fen,
        priority: generated.priority,
        tag: generated.tag,
    };
    *key += 1;
    engine.arrive(channel, payment, sink)
}
