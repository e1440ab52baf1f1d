//! Replaying one parsed day through one strategy (contract v1).

use crate::input::Day;
use crate::metrics::design::DesignPositions;
use crate::metrics::{self, Summary, UNSETTLED};
use clearsim_core::engine::{Engine, EngineError, Scheduler};
use clearsim_core::ledger::{Ledger, Marks, Payment, Sink};
use clearsim_core::strategy::ChannelSpec;
use clearsim_core::time::SimTime;

/// A replay's figures as `run` states them for the same day (its
/// `days.csv` row): a payment of a netting channel that arrived after the
/// channel's last session is carried to the next business day, not
/// unsettled; the bounds are the design's own ([`DesignPositions`]); the
/// liquidity figures leave out the banks outside the city (category
/// `outside`, as `generate` writes them), which have unlimited credit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunFigures {
    pub settled: u64,
    pub settled_value_fen: i64,
    pub unsettled: u64,
    pub unsettled_value_fen: i64,
    pub carried: u64,
    pub carried_value_fen: i64,
    /// Participants counted in the liquidity figures.
    pub city_participants: u64,
    pub liquidity_used_fen: i64,
    pub lower_bound_fen: i64,
    pub upper_bound_fen: i64,
}

/// The category of the banks outside the city.
pub const OUTSIDE_CATEGORY: &str = "outside";

/// `replay`'s figures as `run` states them (see [`RunFigures`]).
pub fn run_figures(
    day: &Day,
    specs: &[ChannelSpec],
    channel_of: &[usize],
    replay: &Replay,
) -> RunFigures {
    let payments = &day.payments;
    let sessions: Vec<Option<Vec<SimTime>>> = specs
        .iter()
        .map(|s| s.cycles().map(<[SimTime]>::to_vec))
        .collect();
    let mut design =
        DesignPositions::new(day.participants.len(), &sessions, day.participants.len());
    let mut figures = RunFigures::default();
    let mut previous: Option<SimTime> = None;
    for &row in &payments.order {
        let row = row as usize;
        let submit = payments.submit[row];
        if let Some(t) = previous.filter(|&t| t != submit) {
            design.instant_closed(t);
        }
        previous = Some(submit);
        let channel = channel_of[usize::from(payments.instrument[row])];
        let amount_fen = payments.amount_fen[row];
        design.arrived(
            channel,
            submit,
            payments.sender[row],
            payments.receiver[row],
            amount_fen,
        );
        let last_session = sessions[channel].as_ref().map(|s| s.last().copied());
        if replay.settle[row] != UNSETTLED {
            figures.settled += 1;
            figures.settled_value_fen += amount_fen;
        } else if last_session.is_some_and(|last| last.is_none_or(|l| submit > l)) {
            figures.carried += 1;
            figures.carried_value_fen += amount_fen;
        } else {
            figures.unsettled += 1;
            figures.unsettled_value_fen += amount_fen;
        }
    }
    if let Some(t) = previous {
        design.instant_closed(t);
    }
    design.close();
    let city: Vec<bool> = day
        .participants
        .categories
        .iter()
        .map(|c| c != OUTSIDE_CATEGORY)
        .collect();
    let sum = |per: &[i64]| {
        per.iter()
            .zip(&city)
            .filter(|(_, c)| **c)
            .map(|(v, _)| v)
            .sum()
    };
    let used = metrics::participant_liquidity_used_fen(
        &day.participants.opening_fen,
        &replay.min_balance_fen,
    );
    figures.city_participants = city.iter().filter(|&&c| c).count() as u64;
    figures.liquidity_used_fen = sum(&used);
    figures.lower_bound_fen = sum(&design.participant_lower_fen());
    figures.upper_bound_fen = sum(&design.participant_upper_fen());
    figures
}

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
    settle_struck(day, (specs, channel_of), Vec::new())
}

/// [`settle_channels`] with the engine's `controls` (a participant's
/// default at an instant, …) on the day.
pub fn settle_struck(
    day: &Day,
    (specs, channel_of): (&[ChannelSpec], &[usize]),
    controls: Vec<clearsim_core::engine::Timed<clearsim_core::engine::Control>>,
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
            instrument: payments.instrument[row],
            marks: Marks::NONE,
        };
        let channel = channel_of
            .get(usize::from(payments.instrument[row]))
            .copied()
            .unwrap_or(usize::MAX);
        (channel, payment)
    });
    let mut scheduler = Scheduler::new(engine, controls)?;
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

/// What a day is replayed through: one strategy for every payment, or a
/// scenario's channels on the same accounts, each payment routed by its
/// `instrument` column.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    pub specs: Vec<ChannelSpec>,
    /// The channel of each of the day's instruments.
    pub channel_of: Vec<usize>,
    /// The strategy or channels with their options, in one line.
    pub described: String,
}

/// A route that does not fit the day.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// A payment's instrument has no channel.
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
    /// Sender limits that name no participant of the day.
    #[error("{file}: {message}")]
    Limits { file: String, message: String },
}

impl Route {
    /// Every payment through `spec`; its sender limits (if it has any) from
    /// the `[[limit]]` entries of `limits_file`, resolved against the day's
    /// participants.
    pub fn one(
        mut spec: ChannelSpec,
        limits: Option<(&str, &[crate::config::LimitEntry])>,
        day: &Day,
    ) -> Result<Route, RouteError> {
        if let (Some(resolved), Some((file, entries))) = (spec.limits_mut(), limits) {
            *resolved = crate::config::LimitEntry::resolve(
                entries,
                &day.participants.ids,
                &day.participants.opening_fen,
            )
            .map_err(|e| RouteError::Limits {
                file: file.to_string(),
                message: e.to_string(),
            })?;
        }
        Ok(Route {
            described: spec.describe(),
            channel_of: vec![0; day.payments.instruments.len()],
            specs: vec![spec],
        })
    }

    /// Each payment through the channel its `instrument` has in
    /// `scenario` (read from `config`); sender limits from the scenario's
    /// `[[limit]]` entries. `payments_file` names the file in errors.
    pub fn channels(
        scenario: &crate::config::Scenario,
        config: &str,
        day: &Day,
        payments_file: &str,
    ) -> Result<Route, RouteError> {
        let mut specs: Vec<ChannelSpec> =
            scenario.channels.iter().map(|c| c.spec.clone()).collect();
        for limits in specs.iter_mut().filter_map(ChannelSpec::limits_mut) {
            *limits = crate::config::LimitEntry::resolve(
                &scenario.limits,
                &day.participants.ids,
                &day.participants.opening_fen,
            )
            .map_err(|e| RouteError::Limits {
                file: config.to_string(),
                message: e.to_string(),
            })?;
        }
        let mut channel_of = Vec::with_capacity(day.payments.instruments.len());
        for (index, name) in day.payments.instruments.iter().enumerate() {
            let Some(instrument) = scenario.instruments.iter().position(|i| &i.name == name) else {
                return Err(unrouted(scenario, config, day, payments_file, index).into());
            };
            channel_of.push(scenario.channel_of[instrument]);
        }
        let channels: Vec<String> = scenario
            .channels
            .iter()
            .map(|c| format!("{} ({})", c.name, c.spec.describe()))
            .collect();
        Ok(Route {
            described: format!("the channels of {}: {}", scenario.name, channels.join("; ")),
            specs,
            channel_of,
        })
    }
}

/// The day's instrument `index` is none of the scenario's: the first row
/// of it is at fault.
fn unrouted(
    scenario: &crate::config::Scenario,
    config: &str,
    day: &Day,
    payments_file: &str,
    index: usize,
) -> crate::input::InputError {
    let row = day
        .payments
        .instrument
        .iter()
        .position(|&i| usize::from(i) == index)
        .map_or(0, |r| r as u64 + 1);
    let known: Vec<&str> = scenario
        .instruments
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    crate::input::InputError {
        file: payments_file.to_string(),
        row: Some(row),
        line: None,
        field: Some("instrument".into()),
        message: format!(
            "`{}` is routed to no channel of {config} (its instruments: {})",
            day.payments.instruments[index],
            known.join(", ")
        ),
    }
}

impl clearsim_core::Blamed for RouteError {
    /// A route that does not fit the user's day.
    fn blame(&self) -> clearsim_core::Blame {
        clearsim_core::Blame::User
    }
}
