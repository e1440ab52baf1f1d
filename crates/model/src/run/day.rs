//! One business day, as its story goes: the day opens (positions afresh,
//! yesterday's carried payments and returns scheduled), the customers'
//! orders come in through the banks, the day closes (what is still held is
//! unsettled or carried) and is measured. The night is the caller's.

use clearsim_core::engine::{EngineError, Scheduler};
use clearsim_core::ledger::Payment;
use clearsim_core::strategy::ChannelSpec;

use super::flows::DayCounts;
use super::sink::{Bounds, RunSink};
use super::totals::Totals;
use super::{DayReport, Observer, feed};
use crate::config::Scenario;

/// The day being run: which one (0-based), whether it is the run's last,
/// and its opening balances.
pub(super) struct Today<'a> {
    pub day: u32,
    pub last: bool,
    pub opening: &'a [i64],
}

/// One business day through the scheduler; the day's report without its
/// night (the caller settles that).
pub(super) fn business_day<O: Observer>(
    scenario: &Scenario,
    orders: impl Iterator<Item = Payment>,
    specs: &[ChannelSpec],
    mut scheduler: Scheduler,
    sink: &mut RunSink<'_, O>,
    totals: &mut Totals,
    today: &Today<'_>,
) -> Result<DayReport, EngineError> {
    let before = open(specs, &mut scheduler, sink, totals, today)?;
    take_orders(scenario, orders, &mut scheduler, sink, totals, today.day)?;
    scheduler.finish(sink)?;
    sink.flows.new_day();
    close(&scheduler, sink, totals, today, before)
}

/// The day opens: positions afresh, the money it may bring counted
/// against the headroom, yesterday's carried payments and next-day returns
/// scheduled. Returns the flows' counts before it.
fn open<O: Observer>(
    specs: &[ChannelSpec],
    scheduler: &mut Scheduler,
    sink: &mut RunSink<'_, O>,
    totals: &mut Totals,
    today: &Today<'_>,
) -> Result<DayCounts, EngineError> {
    sink.day = today.day;
    sink.carry.new_day(today.last);
    sink.bounds = Bounds::new(
        today.opening.len(),
        &sink.layout.sessions,
        sink.layout.banks,
        today.day == 0,
    );
    for fund_fen in specs.iter().filter_map(ChannelSpec::guarantee_fund_fen) {
        totals.take_headroom(fund_fen)?;
    }
    let opening_fen = today
        .opening
        .iter()
        .try_fold(0i64, |s, &o| s.checked_add(o))
        .ok_or(EngineError::AmountsOverflow)?;
    totals.take_headroom(opening_fen)?;
    for carried in std::mem::take(&mut sink.tomorrow) {
        scheduler.schedule(carried)?;
    }
    Ok(sink.flows.counts())
}

/// The customers' orders, each into its instrument's channel: straight to
/// the scheduler, or through the banks' queues and the pricing of
/// overdrafts when the scenario has them.
fn take_orders<O: Observer>(
    scenario: &Scenario,
    orders: impl Iterator<Item = Payment>,
    scheduler: &mut Scheduler,
    sink: &mut RunSink<'_, O>,
    totals: &mut Totals,
    day: u32,
) -> Result<(), EngineError> {
    let orders = orders.map(|payment| {
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
        return Ok(());
    }
    let mut feed = feed::Feed::new(pricing, scenario.day_end);
    for (channel, payment) in orders {
        totals.take_headroom(payment.amount_fen.saturating_mul(2))?;
        feed.order(scheduler, sink, channel, payment)?;
    }
    feed.finish(scheduler, sink)
}

/// City banks whose opening plus intraday credit is below their part of
/// the design's upper bound.
fn short_of_need(
    bounds: &Bounds,
    opening_fen: &[i64],
    ledger: &clearsim_core::ledger::Ledger,
    banks: usize,
) -> u32 {
    let need = bounds.design.participant_upper_fen();
    let credit = ledger.credit_limits_fen();
    let short = (0..banks.min(need.len()))
        .filter(|&i| opening_fen[i].saturating_add(credit[i]) < need[i])
        .count();
    u32::try_from(short).unwrap_or(u32::MAX)
}

/// The day is closed: its liquidity, events, money moved, banks' costs
/// and its report.
fn close<O: Observer>(
    scheduler: &Scheduler,
    sink: &mut RunSink<'_, O>,
    totals: &mut Totals,
    today: &Today<'_>,
    before: DayCounts,
) -> Result<DayReport, EngineError> {
    let after = sink.flows.counts();
    let engine = scheduler.engine();
    let ledger = engine.ledger();
    let banks = sink.layout.banks;
    let used =
        crate::metrics::participant_liquidity_used_fen(today.opening, ledger.min_balances_fen());
    // The banks outside the city (after the banks) have unlimited credit.
    for (most, &day) in totals.liquidity_used_fen.iter_mut().zip(&used).take(banks) {
        *most = (*most).max(day);
    }
    for (total, day) in totals.events.iter_mut().zip(engine.event_counts()) {
        total.add(day).ok_or(EngineError::AmountsOverflow)?;
    }
    totals.payments += after.0 - before.0;
    totals.moved_fen += ledger.moved_fen();
    totals.injected_fen += ledger.injected_fen();
    totals.withdrawn_fen += ledger.withdrawn_fen();
    totals.closing_fen = ledger.balances_fen().to_vec();
    if let Some(meter) = &mut sink.bank.meter {
        let days = meter.close_day(ledger, today.opening);
        totals.costs.push(meter.price(&days));
        totals.bank_days.push(days);
    }
    sink.bounds.design.close();
    if let Some(all) = &sink.bounds.first_day {
        totals.day1_lower_fen = all.participant_lower_fen();
        totals.day1_need_fen = all.participant_need_fen();
    }
    Ok(DayReport {
        day: today.day + 1,
        payments: after.0 - before.0,
        value_fen: after.1 - before.1,
        settled_value_fen: after.2 - before.2,
        unsettled_value_fen: after.3 - before.3,
        carried_value_fen: sink.carry.take_today_fen(),
        opening_total_fen: today.opening.iter().sum(),
        // The banks outside the city have unlimited credit: not counted.
        liquidity_used_fen: used[..banks].iter().sum(),
        lower_bound_fen: sink.bounds.design.lower_bound_fen(),
        upper_bound_fen: sink.bounds.design.upper_bound_fen(),
        banks_short_of_need: short_of_need(&sink.bounds, today.opening, ledger, banks),
        channel_lower_bound_fen: sink.bounds.channel_lower_fen(),
        channel_upper_bound_fen: sink.bounds.channel_upper_fen(),
        withdrawn_fen: ledger.withdrawn_fen(),
        injected_fen: ledger.injected_fen(),
        overnight: super::overnight::Overnight::default(),
    })
}
