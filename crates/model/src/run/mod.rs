//! `clearsim run`: a scenario's city, streams and channels, over one or many
//! business days, with the cheque life cycle, the nights between days and
//! per-flow measurements.
//!
//! The stream is generated on the fly and fed through the one driver,
//! [`Scheduler`], in time order; returned cheques come back as its
//! follow-ups; the scenario's shocks are its controls. Memory is
//! O(participants + payments held), independent of the number of payments
//! in a day.

pub mod behaviour;
pub mod feed;
pub mod overnight;
pub mod sink;

use serde::{Deserialize, Serialize};

use crate::config::{Scenario, Shock};
use crate::metrics::Positions;
use crate::metrics::flow::{FlowReport, FlowStats};
use crate::workload::city::City;
use crate::workload::stream::StreamModel;
use clearsim_core::engine::{Control, Engine, EngineError, EventCounts, Scheduler, Timed};
use clearsim_core::ledger::{Ledger, Payment};
use clearsim_core::strategy::ChannelSpec;
use clearsim_core::time::SimTime;
use overnight::Overnight;
use sink::{Layout, RunSink, Untouched};

/// Sees every customer payment and every settlement of a run, by the key
/// the scheduler gave it that day (`run --settlements` writes them; tests
/// compare them with `replay`).
pub trait Observer {
    /// The next payment of day `day`'s stream (in the order `generate`
    /// writes them) was taken with `key`.
    fn ordered(&mut self, _day: u32, _key: u64, _submit: SimTime) {}
    fn settled(&mut self, _day: u32, _key: u64, _at: SimTime) {}
}

/// Observes nothing.
pub struct NoObserver;
impl Observer for NoObserver {}

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
    /// Per channel, in declaration order.
    pub channel_lower_bound_fen: Vec<i64>,
    pub channel_upper_bound_fen: Vec<i64>,
    /// Taken out by liquidity shocks; paid in by guarantee funds.
    pub withdrawn_fen: i64,
    pub injected_fen: i64,
    /// The night after the day: standing facility and restoring flows.
    pub overnight: Overnight,
}

impl DayReport {
    /// Share of the value settled among the value whose fate was decided
    /// today (settled or failed; what waits for a later session is not).
    pub fn settled_share(&self) -> f64 {
        let decided = self.settled_value_fen + self.unsettled_value_fen;
        if decided == 0 {
            1.0
        } else {
            self.settled_value_fen as f64 / decided as f64
        }
    }
}

/// What a run measured.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub channels: Vec<FlowReport>,
    /// Instruments, then the returned cheques of each instrument.
    pub instruments: Vec<FlowReport>,
    pub days: Vec<DayReport>,
    pub closing_fen: Vec<i64>,
    pub payments: u64,
    /// Value that moved between accounts over the run (Σ of debits).
    pub moved_fen: i128,
    /// Per participant: the most liquidity it used on any day.
    pub liquidity_used_fen: Vec<i64>,
    /// Per participant, over the run: borrowed overnight, and its cost.
    pub overnight_borrowed_fen: Vec<i64>,
    pub overnight_cost_fen: Vec<i64>,
    /// Per channel, over the run: what its scheduled runs did.
    pub events: Vec<EventCounts>,
    /// Left unsettled between participants no shock struck.
    pub untouched: Untouched,
    /// Paid by guarantee funds; taken by liquidity shocks.
    pub guarantee_fund_used_fen: i64,
    pub withdrawn_fen: i64,
    /// Per participant, on day 1, over the payments as they entered the
    /// channels: max(0, sent − received), and the opening balance that
    /// would settle each on entry in processing order (no credit).
    pub day1_lower_fen: Vec<i64>,
    pub day1_need_fen: Vec<i64>,
    /// With `[costs]`: per day, each bank's costs by component, and the
    /// measured day they price.
    pub costs: Vec<Vec<crate::bank::costs::CostBreakdown>>,
    pub bank_days: Vec<Vec<crate::bank::costs::BankDay>>,
    /// With policies or costs: per flow, settled payments' bank delay and
    /// system delay (empty otherwise).
    pub delay_split: Vec<behaviour::SplitDelay>,
}

/// The scenario's stream model for a city: a function of the scenario and
/// the city only (never of the channels: common random numbers).
pub fn stream_model(scenario: &Scenario, city: &City) -> StreamModel {
    StreamModel::new(scenario, &city.size)
}

/// The liquidity policy's amounts for a day: day 1's, grown with volumes.
fn policy_fen(base_fen: &[i64], volume: f64) -> Vec<i64> {
    base_fen.iter().map(|&b| grown_fen(b, volume)).collect()
}

/// One amount of day 1 on a day of `volume` (day 1's is 1).
fn grown_fen(base_fen: i64, volume: f64) -> i64 {
    (base_fen as f64 * volume).round().clamp(0.0, 9.2e18) as i64
}

/// A bank's opening balance on `day` (0-based) when day 1's is
/// `base_fen`, as a run opens it.
pub fn opening_of_day_fen(scenario: &Scenario, base_fen: i64, day: u32) -> i64 {
    if day == 0 {
        base_fen
    } else {
        grown_fen(base_fen, scenario.volume_of_day(day))
    }
}

/// Whether a shockless run of the scenario reads a bank's opening balance
/// only through the liquidity checks of its balance, so that its measured
/// days ([`crate::bank::costs::BankDay::shifted`]) price other openings
/// exactly: every channel decides by checks, and no sender limit is a
/// share of the opening.
pub fn openings_shift_exactly(scenario: &Scenario) -> bool {
    scenario.channels.iter().all(|c| c.spec.decides_by_checks())
        && scenario
            .limits
            .iter()
            .all(|l| !matches!(l.amount, crate::config::LimitAmount::ShareOfOpening(_)))
}

/// The channel specs of the scenario, with the `[[limit]]` entries resolved
/// into any channel that enforces sender limits.
pub fn channel_specs(scenario: &Scenario, city: &City) -> Result<Vec<ChannelSpec>, EngineError> {
    let mut specs: Vec<ChannelSpec> = scenario.channels.iter().map(|c| c.spec.clone()).collect();
    for spec in &mut specs {
        if let Some(limits) = spec.limits_mut() {
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

/// The engine's controls for day `day` (0-based): every shock happens on
/// day 1; a defaulted participant stays failed from midnight on later days.
pub fn controls(
    shocks: &[Shock],
    ids: &[String],
    day: u32,
) -> Result<Vec<Timed<Control>>, EngineError> {
    let index = |id: &str| -> Result<u32, EngineError> {
        ids.iter()
            .position(|known| known == id)
            .map(|i| i as u32)
            .ok_or_else(|| EngineError::UnknownParticipant(id.to_string()))
    };
    let mut out = Vec::new();
    let timed = |at: SimTime, item: Control| Timed { at, item };
    for shock in shocks {
        match shock {
            Shock::Default { participant, at } => {
                let at = if day == 0 { *at } else { SimTime::MIDNIGHT };
                out.push(timed(
                    at,
                    Control::Default {
                        participant: index(participant)?,
                    },
                ));
            }
            _ if day > 0 => {}
            Shock::Outage {
                participant,
                from,
                to,
            } => {
                let participant = index(participant)?;
                out.push(timed(*from, Control::OutageStart { participant }));
                out.push(timed(*to, Control::OutageEnd { participant }));
            }
            Shock::SystemOutage { from, to } => {
                out.push(timed(*from, Control::SystemDown));
                out.push(timed(*to, Control::SystemUp));
            }
            Shock::Liquidity {
                participant,
                at,
                amount_fen,
            } => out.push(timed(
                *at,
                Control::Withdraw {
                    participant: index(participant)?,
                    amount_fen: *amount_fen,
                },
            )),
        }
    }
    Ok(out)
}

/// The participants some shock strikes.
pub fn struck(shocks: &[Shock], ids: &[String]) -> Vec<bool> {
    ids.iter()
        .map(|id| shocks.iter().any(|s| s.participant() == Some(id)))
        .collect()
}

/// Runs the scenario over its days, shocks included.
pub fn run<O: Observer>(
    scenario: &Scenario,
    city: &City,
    observer: &mut O,
) -> Result<RunResult, EngineError> {
    run_with(scenario, city, observer, true)
}

/// The paired baseline of a shocked run: the same scenario, seed and
/// stream, with no shock applied. It counts the payments between the
/// participants the shocks would strike exactly as the shocked run does.
pub fn baseline(scenario: &Scenario, city: &City) -> Result<RunResult, EngineError> {
    run_with(scenario, city, &mut NoObserver, false)
}

/// Each day's customer orders of a scenario's stream (seed and volumes as
/// the scenario says), kept: a study that runs the same seed many times
/// (`optimise`) generates it once. The stream does not depend on the
/// design or the banks' choices (common random numbers).
pub fn record_days(scenario: &Scenario, city: &City) -> Vec<Vec<Payment>> {
    let model = stream_model(scenario, city);
    (0..scenario.days)
        .map(|day| {
            model
                .day(scenario.seed, day, scenario.volume_of_day(day))
                .collect()
        })
        .collect()
}

/// [`run`] on days recorded by [`record_days`] for the same scenario and
/// seed (a shockless run: what `optimise` needs).
pub fn run_recorded(
    scenario: &Scenario,
    city: &City,
    days: &[Vec<Payment>],
) -> Result<RunResult, EngineError> {
    if days.len() != scenario.days as usize {
        return Err(EngineError::BadChannel(format!(
            "{} recorded days for a run of {}",
            days.len(),
            scenario.days
        )));
    }
    run_from(scenario, city, &mut NoObserver, false, Some(days))
}

fn run_with<O: Observer>(
    scenario: &Scenario,
    city: &City,
    observer: &mut O,
    apply_shocks: bool,
) -> Result<RunResult, EngineError> {
    run_from(scenario, city, observer, apply_shocks, None)
}

/// Today's orders: drawn from the stream, or recorded beforehand.
enum DayOrders<'a> {
    Stream(crate::workload::stream::DayStream<'a>),
    Recorded(std::slice::Iter<'a, Payment>),
}

impl Iterator for DayOrders<'_> {
    type Item = Payment;

    #[inline]
    fn next(&mut self) -> Option<Payment> {
        match self {
            DayOrders::Stream(stream) => stream.next(),
            DayOrders::Recorded(days) => days.next().copied(),
        }
    }
}

fn run_from<O: Observer>(
    scenario: &Scenario,
    city: &City,
    observer: &mut O,
    apply_shocks: bool,
    recorded: Option<&[Vec<Payment>]>,
) -> Result<RunResult, EngineError> {
    // Built on first use: replayed days need no generator (its tables cost).
    let mut model: Option<StreamModel> = None;
    let specs = channel_specs(scenario, city)?;
    let layout = Layout::new(
        &specs,
        &scenario.instruments,
        &scenario.channel_of,
        scenario.day_end,
        city.banks,
    );
    let participants = city.len();
    let struck = struck(&scenario.shocks, &city.ids);
    let mut sink = RunSink {
        layout: &layout,
        channels: (0..specs.len()).map(|_| FlowStats::new()).collect(),
        flows: (0..2 * scenario.instruments.len())
            .map(|_| FlowStats::new())
            .collect(),
        all: Positions::new(participants).counting(city.banks),
        per_channel: specs
            .iter()
            .map(|_| Positions::new(participants).counting(city.banks))
            .collect(),
        day: 0,
        today: Default::default(),
        tomorrow: Vec::new(),
        struck: &struck,
        untouched: Untouched::default(),
        observer,
        last_day: false,
        carried_orders: Default::default(),
        carried_of_key: Default::default(),
        carried_today_fen: 0,
        touched: sink::Touched::new(specs.len(), 2 * scenario.instruments.len()),
        bank: behaviour::BankSide::new(
            desk(scenario, city),
            scenario.costs.clone().map(|model| {
                behaviour::CostMeter::new(model, scenario.liquidity.overnight_rate_bp, city.banks)
            }),
            2 * scenario.instruments.len(),
        ),
    };
    let expected_fen = expected_held_fen(scenario, city);
    let mut totals = Totals::new(participants, specs.len());
    let mut opening = city.opening_fen.clone();
    for day in 0..scenario.days {
        let volume = scenario.volume_of_day(day);
        let credit = policy_fen(&city.credit_limit_fen, volume);
        let ledger = Ledger::new(&opening, &credit);
        let engine = Engine::new(ledger, &specs, scenario.day_end, 1 << 12)?;
        let shocks: &[Shock] = if apply_shocks { &scenario.shocks } else { &[] };
        if let Some(desk) = &mut sink.bank.desk {
            desk.new_day(&policy_fen(&expected_fen, volume));
        }
        let scheduler = Scheduler::new(engine, controls(shocks, &city.ids, day)?)?;
        let report = run_day(
            scenario,
            match recorded {
                Some(days) => DayOrders::Recorded(days[day as usize].iter()),
                None => DayOrders::Stream(
                    model
                        .get_or_insert_with(|| stream_model(scenario, city))
                        .day(scenario.seed, day, volume),
                ),
            },
            &specs,
            scheduler,
            &mut sink,
            &mut totals,
            DayInput {
                day,
                opening: &opening,
            },
        )?;
        let next: Vec<i64> = city
            .opening_fen
            .iter()
            .map(|&base| opening_of_day_fen(scenario, base, day + 1))
            .collect();
        let closing = std::mem::take(&mut totals.closing_fen);
        let night = overnight::settle_night(
            &closing,
            &next,
            scenario.liquidity.overnight_rate_bp,
            city.banks,
            &mut totals.overnight_borrowed_fen,
            &mut totals.overnight_cost_fen,
        )
        .ok_or(EngineError::AmountsOverflow)?;
        totals.days.push(DayReport {
            overnight: night,
            ..report
        });
        totals.closing_fen = closing;
        opening = next;
    }
    Ok(RunResult {
        channels: sink.channels.iter().map(FlowStats::report).collect(),
        instruments: sink.flows.iter().map(FlowStats::report).collect(),
        days: totals.days,
        closing_fen: totals.closing_fen,
        payments: totals.payments,
        moved_fen: totals.moved_fen,
        liquidity_used_fen: totals.liquidity_used_fen,
        overnight_borrowed_fen: totals.overnight_borrowed_fen,
        overnight_cost_fen: totals.overnight_cost_fen,
        events: totals.events,
        untouched: sink.untouched,
        guarantee_fund_used_fen: totals.injected_fen,
        withdrawn_fen: totals.withdrawn_fen,
        day1_lower_fen: totals.day1_lower_fen,
        day1_need_fen: totals.day1_need_fen,
        costs: totals.costs,
        bank_days: totals.bank_days,
        delay_split: if sink.bank.active() {
            sink.bank.split
        } else {
            Vec::new()
        },
    })
}

/// The banks' queues of a scenario with `[[policy]]` entries (none without).
fn desk(scenario: &Scenario, city: &City) -> Option<crate::bank::desk::Desk> {
    let policies =
        crate::config::PolicyEntry::resolve(&scenario.policies, &city.ids, &city.categories);
    crate::bank::desk::Desk::new(
        &policies,
        scenario.instruments.iter().map(held_by_bank).collect(),
        scenario.day_end,
    )
}

/// Whether a bank's policy decides when payments of `instrument` go: its
/// own credit transfers, not cheques (the payee's bank presents them) nor
/// payments from the banks outside the city.
pub fn held_by_bank(instrument: &crate::config::Instrument) -> bool {
    !instrument.cheque
        && instrument
            .cross_city
            .is_none_or(|c| c.direction != crate::config::Direction::In)
}

/// Each participant's expected value of payments its policy decides, on
/// day 1 (the throughput guideline's denominator).
fn expected_held_fen(scenario: &Scenario, city: &City) -> Vec<i64> {
    crate::workload::city::expected_outflow_of(scenario, &city.size, held_by_bank)
        .into_iter()
        .map(|v| v.clamp(0.0, 9e18).round() as i64)
        .collect()
}

/// What a run adds up over its days.
struct Totals {
    days: Vec<DayReport>,
    closing_fen: Vec<i64>,
    payments: u64,
    moved_fen: i128,
    liquidity_used_fen: Vec<i64>,
    overnight_borrowed_fen: Vec<i64>,
    overnight_cost_fen: Vec<i64>,
    events: Vec<EventCounts>,
    injected_fen: i64,
    withdrawn_fen: i64,
    day1_lower_fen: Vec<i64>,
    day1_need_fen: Vec<i64>,
    costs: Vec<Vec<crate::bank::costs::CostBreakdown>>,
    bank_days: Vec<Vec<crate::bank::costs::BankDay>>,
    /// i64::MAX less what could still reach any balance or sum: every
    /// day's opening and funds, and twice every amount (a cheque may come
    /// back). While it stays ≥ 0 no figure of the run can overflow.
    headroom_fen: i64,
}

impl Totals {
    fn new(participants: usize, channels: usize) -> Totals {
        Totals {
            days: Vec::new(),
            closing_fen: Vec::new(),
            payments: 0,
            moved_fen: 0,
            liquidity_used_fen: vec![0; participants],
            overnight_borrowed_fen: vec![0; participants],
            overnight_cost_fen: vec![0; participants],
            events: vec![EventCounts::default(); channels],
            injected_fen: 0,
            withdrawn_fen: 0,
            day1_lower_fen: Vec::new(),
            day1_need_fen: Vec::new(),
            costs: Vec::new(),
            bank_days: Vec::new(),
            headroom_fen: i64::MAX,
        }
    }

    fn take_headroom(&mut self, fen: i64) -> Result<(), EngineError> {
        self.headroom_fen = self
            .headroom_fen
            .checked_sub(fen)
            .filter(|h| *h >= 0)
            .ok_or(EngineError::AmountsOverflow)?;
        Ok(())
    }
}

struct DayInput<'a> {
    day: u32,
    opening: &'a [i64],
}

/// One business day through the scheduler; the day's report without its
/// night (the caller settles that).
fn run_day<O: Observer>(
    scenario: &Scenario,
    orders: DayOrders<'_>,
    specs: &[ChannelSpec],
    mut scheduler: Scheduler,
    sink: &mut RunSink<'_, O>,
    totals: &mut Totals,
    input: DayInput<'_>,
) -> Result<DayReport, EngineError> {
    let DayInput { day, opening } = input;
    sink.day = day;
    sink.last_day = day + 1 == scenario.days;
    sink.carried_of_key.clear();
    let banks = sink.layout.banks;
    sink.all = Positions::new(opening.len()).counting(banks);
    sink.per_channel = specs
        .iter()
        .map(|_| Positions::new(opening.len()).counting(banks))
        .collect();
    for fund_fen in specs.iter().filter_map(ChannelSpec::guarantee_fund_fen) {
        totals.take_headroom(fund_fen)?;
    }
    totals.take_headroom(
        opening
            .iter()
            .try_fold(0i64, |s, &o| s.checked_add(o))
            .ok_or(EngineError::AmountsOverflow)?,
    )?;
    for carried in std::mem::take(&mut sink.tomorrow) {
        scheduler.schedule(carried)?;
    }
    let before = day_counts(&sink.channels);
    let mut orders = orders.map(|payment| {
        (
            scenario.channel_of[usize::from(payment.instrument)],
            payment,
        )
    });
    let pricing = match &sink.bank.meter {
        Some(meter) => meter.model.pricing_times(scenario.day_end),
        None => Vec::new(),
    };
    if sink.bank.desk.is_none() && pricing.is_empty() {
        for (channel, payment) in orders {
            totals.take_headroom(payment.amount_fen.saturating_mul(2))?;
            scheduler.advance_to(payment.submit, sink)?;
            let key = scheduler.arrive(channel, payment, sink)?;
            sink.observer.ordered(day, key, payment.submit);
        }
    } else {
        let mut feed = feed::Feed::new(pricing, scenario.day_end);
        for (channel, payment) in &mut orders {
            totals.take_headroom(payment.amount_fen.saturating_mul(2))?;
            feed.order(&mut scheduler, sink, channel, payment)?;
        }
        feed.finish(&mut scheduler, sink)?;
    }
    scheduler.finish(sink)?;
    for flow in sink.channels.iter_mut().chain(sink.flows.iter_mut()) {
        flow.new_day();
    }
    sink.touched.bucket = None;
    let after = day_counts(&sink.channels);
    let engine = scheduler.engine();
    let ledger = engine.ledger();
    let used = crate::metrics::participant_liquidity_used_fen(opening, ledger.min_balances_fen());
    // The banks outside the city (after the banks) have unlimited credit.
    for (most, &today) in totals.liquidity_used_fen.iter_mut().zip(&used).take(banks) {
        *most = (*most).max(today);
    }
    for (total, today) in totals.events.iter_mut().zip(engine.event_counts()) {
        total.add(today).ok_or(EngineError::AmountsOverflow)?;
    }
    totals.payments += after.0 - before.0;
    totals.moved_fen += ledger.moved_fen();
    totals.injected_fen += ledger.injected_fen();
    totals.withdrawn_fen += ledger.withdrawn_fen();
    totals.closing_fen = ledger.balances_fen().to_vec();
    if let Some(meter) = &mut sink.bank.meter {
        let days = meter.close_day(ledger, opening);
        totals.costs.push(meter.price(&days));
        totals.bank_days.push(days);
    }
    if day == 0 {
        totals.day1_lower_fen = sink.all.participant_lower_fen();
        totals.day1_need_fen = sink.all.participant_need_fen();
    }
    Ok(DayReport {
        day: day + 1,
        payments: after.0 - before.0,
        value_fen: after.1 - before.1,
        settled_value_fen: after.2 - before.2,
        unsettled_value_fen: after.3 - before.3,
        carried_value_fen: std::mem::take(&mut sink.carried_today_fen),
        opening_total_fen: opening.iter().sum(),
        // The banks outside the city have unlimited credit: not counted.
        liquidity_used_fen: used[..banks].iter().sum(),
        lower_bound_fen: sink.all.lower_bound_fen(),
        upper_bound_fen: sink.all.upper_bound_fen(),
        channel_lower_bound_fen: sink
            .per_channel
            .iter()
            .map(Positions::lower_bound_fen)
            .collect(),
        channel_upper_bound_fen: sink
            .per_channel
            .iter()
            .map(Positions::upper_bound_fen)
            .collect(),
        withdrawn_fen: ledger.withdrawn_fen(),
        injected_fen: ledger.injected_fen(),
        overnight: Overnight::default(),
    })
}

/// (payments, value, settled value, unsettled value) over all channels.
fn day_counts(channels: &[FlowStats]) -> (u64, i64, i64, i64) {
    channels.iter().fold((0, 0, 0, 0), |acc, flow| {
        let c = flow.counts();
        (
            acc.0 + c.payments,
            acc.1 + c.value_fen,
            acc.2 + c.settled_value_fen,
            acc.3 + c.unsettled_value_fen,
        )
    })
}
