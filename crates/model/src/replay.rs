//! Replaying one parsed day through one strategy (contract v1).

use crate::input::Day;
use crate::metrics::{self, Summary, UNSETTLED};
use clearsim_core::engine::{Engine, EngineError, Scheduler};
use clearsim_core::ledger::{Ledger, Payment, Sink};
use clearsim_core::strategy::ChannelSpec;
use clearsim_core::time::SimTime;

/// The full result of a replay: per payment (by file row) and per participant
/// (by index), plus the summary.
#[derive(Clone, Debug)]
pub struct Replay {
    /// Settle time in ms of each payment by file row, or [`UNSETTLED`].
    pub settle: Vec<u32>,
    pub closing_fen: Vec<i64>,
    pub min_balance_fen: Vec<i64>,
    pub summary: Summary,
}

/// Records settle times by file row. The engine's payment key is the
/// processing position; `order` maps it back to the row.
struct RowSink<'a> {
    order: &'a [u32],
    settle: Vec<u32>,
}

impl Sink for RowSink<'_> {
    #[inline]
    fn settled(&mut self, payment: &Payment, at: SimTime) {
        let row = self.order[payment.key as usize] as usize;
        clearsim_core::invariant_eq!(
            self.settle[row],
            UNSETTLED,
            "a payment settles at most once"
        );
        self.settle[row] = at.ms();
    }

    #[inline]
    fn unsettled(&mut self, _payment: &Payment) {}
}

/// Runs the engine over the day through one channel; no metrics.
pub fn settle_day(day: &Day, spec: &ChannelSpec) -> Result<(Vec<u32>, Ledger), EngineError> {
    let all_in_one = vec![0; day.payments.instruments.len()];
    settle_channels(day, std::slice::from_ref(spec), &all_in_one)
}

/// Runs the engine over the day through several channels on the same
/// accounts: `channel_of[i]` is the channel of the day's instrument `i`
/// (`day.payments.instruments[i]`).
pub fn settle_channels(
    day: &Day,
    specs: &[ChannelSpec],
    channel_of: &[usize],
) -> Result<(Vec<u32>, Ledger), EngineError> {
    let participants = &day.participants;
    let payments = &day.payments;
    let ledger = Ledger::new(&participants.opening_fen, &participants.credit_limit_fen);
    let engine = Engine::new(ledger, specs, day.day_end, payments.len())?;
    let mut sink = RowSink {
        order: &payments.order,
        settle: vec![UNSETTLED; payments.len()],
    };
    let arrivals = payments.order.iter().enumerate().map(|(position, &row)| {
        let row = row as usize;
        let payment = Payment {
            key: position as u64,
            submit: payments.submit[row],
            sender: payments.sender[row],
            receiver: payments.receiver[row],
            amount_fen: payments.amount_fen[row],
            priority: payments.priority[row],
            tag: payments.instrument[row],
        };
        let channel = channel_of
            .get(usize::from(payments.instrument[row]))
            .copied()
            .unwrap_or(usize::MAX);
        (channel, payment)
    });
    let mut scheduler = Scheduler::new(engine, Vec::new())?;
    scheduler.run_day(arrivals, &mut sink)?;
    let ledger = scheduler.engine().ledger().clone();
    Ok((sink.settle, ledger))
}

/// Replays the day through `spec` and computes the summary.
pub fn replay(day: &Day, spec: &ChannelSpec) -> Result<Replay, EngineError> {
    let all_in_one = vec![0; day.payments.instruments.len()];
    replay_channels(day, std::slice::from_ref(spec), &all_in_one)
}

/// Replays the day through several channels (see [`settle_channels`]) and
/// computes the summary over every payment.
pub fn replay_channels(
    day: &Day,
    specs: &[ChannelSpec],
    channel_of: &[usize],
) -> Result<Replay, EngineError> {
    let (settle, ledger) = settle_channels(day, specs, channel_of)?;
    let payments = &day.payments;
    let participants = &day.participants;
    let mut summary = metrics::settlement_summary(&metrics::DayOutcome {
        submit: &payments.submit,
        amount_fen: &payments.amount_fen,
        settle: &settle,
        day_end: day.day_end,
    });
    (summary.lower_bound, summary.upper_bound) = metrics::liquidity_bounds_fen(
        participants.len(),
        &payments.order,
        &payments.submit,
        &payments.sender,
        &payments.receiver,
        &payments.amount_fen,
    );
    summary.liquidity_used =
        metrics::liquidity_used_fen(&participants.opening_fen, ledger.min_balances_fen());
    Ok(Replay {
        settle,
        closing_fen: ledger.balances_fen().to_vec(),
        min_balance_fen: ledger.min_balances_fen().to_vec(),
        summary,
    })
}

/// With an `order_time` column: the settled payments' time split at
/// submission — order → `submit` (bank delay), `submit` → settlement
/// (system delay). `None` without the column.
pub fn delay_split(day: &Day, settle: &[u32]) -> Option<crate::metrics::split::SplitDelay> {
    let payments = &day.payments;
    if payments.order_time.is_empty() {
        return None;
    }
    let mut split = crate::metrics::split::SplitDelay::default();
    for (row, &at) in settle.iter().enumerate() {
        let (ordered, submit) = (payments.order_time[row].ms(), payments.submit[row].ms());
        if ordered < submit {
            split.held += 1;
        }
        if at != UNSETTLED {
            split.record(payments.amount_fen[row], submit - ordered, at - submit);
        }
    }
    Some(split)
}
