//! Settlement strategies: how a channel turns arrivals into settlements.
//!
//! Every strategy implements the small [`Strategy`] trait; the engine holds
//! them in the [`Channel`] enum so that dispatch is a jump, not a pointer
//! chase, on the per-payment path. The rules are those of
//! `docs/semantics.md`; see `docs/strategies.md`.

mod balanced;
mod bilateral;
mod bypass;
mod dns;
pub mod grammar;
mod limits;
mod lists;
mod pending;
mod prefix;
mod rtgs;

pub use bilateral::Bilateral;
pub use dns::Dns;
pub use limits::{SenderLimit, SenderLimits};
pub use rtgs::{QueueRule, Rtgs};

use crate::ledger::{Ctx, Ledger, Payment, Sink};
use crate::time::SimTime;

/// What a channel does at each step of an instant.
pub trait Strategy {
    /// Step 1: one arrival (gross strategies also release right away).
    fn arrive<S: Sink>(&mut self, cx: &mut Ctx<S>, payment: Payment);
    /// The time of this channel's next scheduled event, if any.
    fn next_event(&self) -> Option<SimTime>;
    /// Step 2: runs the event due at `cx.now` and schedules the next one.
    fn run_event<S: Sink>(&mut self, cx: &mut Ctx<S>);
    /// Settles whatever has become settleable without an event (gross only).
    fn release<S: Sink>(&mut self, _cx: &mut Ctx<S>) {}
    /// Day end: reports every held payment as unsettled and drops it.
    fn close<S: Sink>(&mut self, cx: &mut Ctx<S>);
    fn is_gross(&self) -> bool {
        false
    }
    /// Pre-allocates room for `payments` held at once (a hint).
    fn reserve(&mut self, _payments: usize) {}
    /// Whether `payment`, arriving now, would settle at once rather than be
    /// held (deferred channels hold everything).
    fn settles_on_arrival(&self, _ledger: &Ledger, _payment: &Payment) -> bool {
        false
    }
}

/// How a `dns` cycle removes payments when some participant cannot cover its
/// net debit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Unwind {
    /// Remove every payment sent or received by each short participant.
    #[default]
    Participant,
    /// Remove the last (in queue order) payment sent by each short participant.
    Latest,
}

/// A channel's strategy and options, as configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChannelSpec {
    Rtgs {
        gridlock_every_ms: Option<u32>,
    },
    Dns {
        cycles: Vec<SimTime>,
        unwind: Unwind,
        /// A settlement guarantee fund (fen, per day): it covers short
        /// participants' net debits before any unwinding (not in the contract).
        guarantee_fund_fen: Option<i64>,
    },
    Bilateral {
        cycles: Vec<SimTime>,
    },
    /// `rtgs` with bypass FIFO queues (not in the contract).
    RtgsBypass {
        gridlock_every_ms: Option<u32>,
    },
    /// `rtgs` with offsetting on queue entry (not in the contract).
    RtgsOffset {
        gridlock_every_ms: Option<u32>,
    },
    /// CHIPS-style balanced release (not in the contract): positions between
    /// the credit floor and `max_position_pct` % of the opening balance;
    /// offsetting sets every `every_ms`; final net settlement at day end.
    Chips {
        every_ms: u32,
        max_position_pct: u32,
    },
    /// `rtgs` with bilateral and multilateral sender limits (not in the
    /// contract).
    RtgsLimits {
        gridlock_every_ms: Option<u32>,
        limits: SenderLimits,
    },
}

impl ChannelSpec {
    pub fn is_gross(&self) -> bool {
        matches!(
            self,
            ChannelSpec::Rtgs { .. }
                | ChannelSpec::RtgsBypass { .. }
                | ChannelSpec::RtgsOffset { .. }
                | ChannelSpec::RtgsLimits { .. }
                | ChannelSpec::Chips { .. }
        )
    }

    /// A gross channel with its periodic runs (gridlock, or the offsetting
    /// sets of `chips`) every `every_ms`; other channels are unchanged.
    pub fn with_interval(&self, every_ms: u32) -> ChannelSpec {
        let mut spec = self.clone();
        match &mut spec {
            ChannelSpec::Rtgs { gridlock_every_ms }
            | ChannelSpec::RtgsBypass { gridlock_every_ms }
            | ChannelSpec::RtgsOffset { gridlock_every_ms }
            | ChannelSpec::RtgsLimits {
                gridlock_every_ms, ..
            } => *gridlock_every_ms = Some(every_ms),
            ChannelSpec::Chips {
                every_ms: every, ..
            } => *every = every_ms,
            ChannelSpec::Dns { .. } | ChannelSpec::Bilateral { .. } => {}
        }
        spec
    }

    /// Whether the channel reads a participant's balance only through the
    /// ledger's liquidity checks (`Ledger::note_margin`), so that a run is
    /// the same, step for step, under any opening its margins allow. Not
    /// `chips`: its maximum positions come from the opening balances, and
    /// too high a balance holds payments back.
    pub fn decides_by_checks(&self) -> bool {
        !matches!(self, ChannelSpec::Chips { .. })
    }

    pub fn name(&self) -> &'static str {
        match self {
            ChannelSpec::Rtgs { .. } => "rtgs",
            ChannelSpec::RtgsBypass { .. } => "rtgs+bypass",
            ChannelSpec::RtgsOffset { .. } => "rtgs+offset",
            ChannelSpec::RtgsLimits { .. } => "rtgs+limits",
            ChannelSpec::Chips { .. } => "chips",
            ChannelSpec::Dns { .. } => "dns",
            ChannelSpec::Bilateral { .. } => "bilateral",
        }
    }

    /// Builds the strategy state over `ledger`'s accounts (balances now are
    /// the opening ones); checks options.
    pub fn build(&self, ledger: &Ledger, day_end: SimTime) -> Result<Channel, String> {
        let participants = ledger.participant_count();
        match self {
            ChannelSpec::Chips {
                every_ms,
                max_position_pct,
            } => {
                if *every_ms == 0 {
                    return Err("the interval of offsetting runs must be positive".into());
                }
                let mut rtgs = Rtgs::new(participants, Some(*every_ms), day_end, QueueRule::Bypass);
                rtgs.set_balanced(balanced::Balanced::new(
                    ledger.balances_fen(),
                    *max_position_pct,
                )?);
                Ok(Channel::Rtgs(rtgs))
            }
            ChannelSpec::Rtgs { gridlock_every_ms }
            | ChannelSpec::RtgsBypass { gridlock_every_ms }
            | ChannelSpec::RtgsOffset { gridlock_every_ms }
            | ChannelSpec::RtgsLimits {
                gridlock_every_ms, ..
            } => {
                if *gridlock_every_ms == Some(0) {
                    return Err("the gridlock interval must be positive".into());
                }
                let rule = match self {
                    ChannelSpec::RtgsBypass { .. } => QueueRule::Bypass,
                    ChannelSpec::RtgsOffset { .. } => QueueRule::Offset,
                    _ => QueueRule::Fifo,
                };
                let mut rtgs = Rtgs::new(participants, *gridlock_every_ms, day_end, rule);
                if let ChannelSpec::RtgsLimits { limits, .. } = self {
                    rtgs.set_limits(limits::LimitBook::new(participants, limits)?);
                }
                Ok(Channel::Rtgs(rtgs))
            }
            ChannelSpec::Dns {
                cycles,
                unwind,
                guarantee_fund_fen,
            } => {
                check_cycles(cycles, day_end)?;
                if guarantee_fund_fen.is_some_and(|fund| fund < 0) {
                    return Err("the guarantee fund cannot be negative".into());
                }
                let mut dns = Dns::new(participants, cycles.clone(), *unwind);
                dns.set_guarantee_fund(*guarantee_fund_fen);
                Ok(Channel::Dns(dns))
            }
            ChannelSpec::Bilateral { cycles } => {
                check_cycles(cycles, day_end)?;
                Ok(Channel::Bilateral(Bilateral::new(
                    participants,
                    cycles.clone(),
                )))
            }
        }
    }
}

/// Default interval of the offsetting-set runs of `chips`: 5 minutes.
pub const CHIPS_EVERY_MS: u32 = 5 * 60_000;
/// Default maximum position of `chips`: twice the opening balance.
pub const CHIPS_MAX_POSITION_PCT: u32 = 200;

/// Cycle times must be strictly increasing and within the day.
pub fn check_cycles(cycles: &[SimTime], day_end: SimTime) -> Result<(), String> {
    if let Some(pair) = cycles.windows(2).find(|pair| pair[0] >= pair[1]) {
        let what = if pair[0] == pair[1] {
            "duplicate"
        } else {
            "unsorted"
        };
        return Err(format!(
            "cycle times are {what}: {} then {}",
            pair[0], pair[1]
        ));
    }
    if let Some(late) = cycles.iter().find(|&&t| t > day_end) {
        return Err(format!("cycle time {late} is after the day end {day_end}"));
    }
    Ok(())
}

/// The strategies a channel can run, dispatched by `match`.
pub enum Channel {
    Rtgs(Rtgs),
    Dns(Dns),
    Bilateral(Bilateral),
}

macro_rules! dispatch {
    ($self:ident, $inner:ident => $body:expr) => {
        match $self {
            Channel::Rtgs($inner) => $body,
            Channel::Dns($inner) => $body,
            Channel::Bilateral($inner) => $body,
        }
    };
}

impl Strategy for Channel {
    #[inline]
    fn arrive<S: Sink>(&mut self, cx: &mut Ctx<S>, payment: Payment) {
        dispatch!(self, inner => inner.arrive(cx, payment))
    }
    fn next_event(&self) -> Option<SimTime> {
        dispatch!(self, inner => inner.next_event())
    }
    fn run_event<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        dispatch!(self, inner => inner.run_event(cx))
    }
    fn release<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        dispatch!(self, inner => inner.release(cx))
    }
    fn close<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        dispatch!(self, inner => inner.close(cx))
    }
    fn is_gross(&self) -> bool {
        dispatch!(self, inner => inner.is_gross())
    }
    fn reserve(&mut self, payments: usize) {
        dispatch!(self, inner => inner.reserve(payments))
    }
    fn settles_on_arrival(&self, ledger: &Ledger, payment: &Payment) -> bool {
        dispatch!(self, inner => inner.settles_on_arrival(ledger, payment))
    }
}

/// The cycle schedule of a deferred channel: fixed times, consumed in order.
#[derive(Clone, Debug)]
pub struct Cycles {
    times: Vec<SimTime>,
    next: usize,
}

impl Cycles {
    pub fn new(times: Vec<SimTime>) -> Cycles {
        Cycles { times, next: 0 }
    }
    pub fn next_time(&self) -> Option<SimTime> {
        self.times.get(self.next).copied()
    }
    pub fn advance(&mut self) {
        self.next += 1;
    }
}
