//! CHIPS-style balanced release (not in the contract): positions bounded
//! below by the credit floor and above by a maximum; queued payments are
//! released singly when both the sender and the receiver stay within bounds,
//! or in offsetting sets found by a two-sided fixed point; what is left at
//! day end goes to a final net settlement. See `docs/strategies.md`.

use super::lists::{Lists, Touched};
use super::parking::{self, Parking, Release};
use super::{Channel, Opt, Options, QueueRule, Rtgs, StrategyDef, StrategyError, Tail};
use crate::format::millis;
use crate::ledger::{Held, Ledger, NIL, Slab};
use crate::time::SimTime;

/// `chips` in the catalog: gross settlement with balanced release.
pub(super) static CHIPS: StrategyDef = StrategyDef {
    name: "chips",
    spellings: &["chips"],
    summary: "CHIPS-style balanced release: positions between the credit floor and a maximum share of the opening balance, offsetting sets at every interval, a final net settlement at day end",
    gross: true,
    // Its maximum positions come from the openings: too high a balance
    // holds payments back.
    decides_by_checks: false,
    options: &[Opt::GridlockEvery, Opt::MaxPositionPct],
    tail: Tail::Interval(None),
    complete,
    describe,
    channel,
};

/// Default interval of the offsetting-set runs: 5 minutes.
pub const CHIPS_EVERY_MS: u32 = 5 * 60_000;
/// Default maximum position: twice the opening balance.
pub const CHIPS_MAX_POSITION_PCT: u32 = 200;

fn complete(mut options: Options, _day_end: SimTime) -> Result<Options, StrategyError> {
    if options.gridlock_every_ms == Some(0) {
        return Err(StrategyError::new(
            Some(Opt::GridlockEvery),
            "the interval must be positive",
        ));
    }
    if let Some(pct) = options.max_position_pct.filter(|&pct| pct < 100) {
        return Err(StrategyError::new(
            Some(Opt::MaxPositionPct),
            format!("{pct} is below 100 (the opening balance must fit)"),
        ));
    }
    options.gridlock_every_ms = Some(options.gridlock_every_ms.unwrap_or(CHIPS_EVERY_MS));
    options.max_position_pct = Some(options.max_position_pct.unwrap_or(CHIPS_MAX_POSITION_PCT));
    Ok(options)
}

fn describe(options: &Options) -> String {
    format!(
        "chips balanced release, offsetting sets every {}, maximum position {} % of opening",
        millis(u64::from(
            options.gridlock_every_ms.unwrap_or(CHIPS_EVERY_MS)
        )),
        options.max_position_pct.unwrap_or(CHIPS_MAX_POSITION_PCT)
    )
}

fn channel(options: &Options, ledger: &Ledger, day_end: SimTime) -> Result<Channel, StrategyError> {
    let every_ms = options.gridlock_every_ms.unwrap_or(CHIPS_EVERY_MS);
    if every_ms == 0 {
        return Err(StrategyError::new(
            Some(Opt::GridlockEvery),
            "the interval of offsetting runs must be positive",
        ));
    }
    let pct = options.max_position_pct.unwrap_or(CHIPS_MAX_POSITION_PCT);
    let mut rtgs = Rtgs::new(
        ledger.participant_count(),
        Some(every_ms),
        day_end,
        QueueRule::Bypass,
    );
    rtgs.set_balanced(Balanced::new(ledger.balances_fen(), pct)?);
    Ok(Channel::Rtgs(rtgs))
}

/// Bounds of the balanced-release channel, the payments parked on them,
/// and its scratch space.
#[derive(Debug)]
pub(crate) struct Balanced {
    /// The most each participant's balance may reach through this channel.
    max_fen: Vec<i64>,
    /// The payments parked on receivers' maxima (see [`parking`]).
    pub(super) parking: Parking,
    set: OffsetSet,
}

impl Balanced {
    /// Maximum position of each participant: `max_position_pct` % of its
    /// opening balance (at least 100 %, so that the opening fits).
    pub fn new(opening_fen: &[i64], max_position_pct: u32) -> Result<Balanced, StrategyError> {
        if max_position_pct < 100 {
            return Err(StrategyError::new(
                Some(Opt::MaxPositionPct),
                format!(
                    "the maximum position is {max_position_pct} % of the opening balance: it must be at least 100 %"
                ),
            ));
        }
        let max_fen: Vec<i64> = opening_fen
            .iter()
            .map(|&opening| {
                let max = i128::from(opening.max(0)) * i128::from(max_position_pct) / 100;
                i64::try_from(max).unwrap_or(i64::MAX)
            })
            .collect();
        Ok(Balanced {
            parking: Parking::new(max_fen.len()),
            max_fen,
            set: OffsetSet::default(),
        })
    }

    /// Whether crediting `amount_fen` keeps `receiver` within its maximum.
    #[inline]
    pub fn fits(&self, ledger: &Ledger, receiver: u32, amount_fen: i64) -> bool {
        parking::fits(ledger, &self.max_fen, receiver, amount_fen)
    }

    /// `participant`'s balance fell by `amount_fen` (`None`: by an amount
    /// not known here, or when any balance may have moved): the payments
    /// parked on it that now fit are put back or wait on their senders
    /// (see [`Parking::room_opened`]).
    #[inline]
    pub(super) fn room_opened(
        &mut self,
        ledger: &Ledger,
        participant: u32,
        amount_fen: Option<i64>,
        release: &mut impl Release,
    ) {
        self.parking
            .room_opened(ledger, &self.max_fen, participant, amount_fen, release);
    }

    /// Before `sender`'s scan: its waiting payments that fit go back.
    #[inline]
    pub(super) fn put_back_waiting(
        &mut self,
        ledger: &Ledger,
        sender: u32,
        release: &mut impl Release,
    ) {
        self.parking
            .put_back_waiting(ledger, &self.max_fen, sender, release);
    }

    /// Finds the offsetting set among the queued payments (`head[i]` starts
    /// sender i's queue): starts from all of them and, while anybody is out
    /// of bounds, drops at once the last sent payment (queue order) of every
    /// participant below its floor and the last received payment (same
    /// order, over all senders) of every one above its maximum. Returns the
    /// set in `self.set`: [`OffsetSet::kept`], [`OffsetSet::net_fen`].
    pub fn find_set(&mut self, ledger: &Ledger, slab: &Slab, head: &[u32]) -> &OffsetSet {
        self.set.find(ledger, slab, head, &self.max_fen);
        &self.set
    }
}

/// Scratch space and outcome of the two-sided fixed point.
#[derive(Debug, Default)]
pub(crate) struct OffsetSet {
    by_sender: Lists,
    by_receiver: Lists,
    /// Per slab slot: still in the set.
    in_set: Vec<bool>,
    /// How far each sender's / receiver's list may still hold set members.
    sent_end: Vec<u32>,
    received_end: Vec<u32>,
    net_fen: Vec<i64>,
    out_of_bounds: Vec<u32>,
    touched: Touched,
    picks: Vec<u32>,
}

impl OffsetSet {
    fn find(&mut self, ledger: &Ledger, slab: &Slab, head: &[u32], max_fen: &[i64]) {
        let participants = head.len();
        self.by_sender.build(participants, |i, items| {
            let mut at = head[i as usize];
            while at != NIL {
                items.push(at);
                at = slab.next(at);
            }
        });
        let mut slots: Vec<u32> = Vec::new();
        for i in 0..participants {
            slots.extend_from_slice(self.by_sender.list(i));
        }
        self.by_receiver
            .group(participants, slots.iter().copied(), |slot| {
                [slab.payment(slot).receiver]
            });
        self.by_receiver.sort_into_queue_order(slab);
        self.in_set.clear();
        self.in_set.resize(slab.slot_count(), false);
        self.net_fen.clear();
        self.net_fen.resize(participants, 0);
        for &slot in &slots {
            self.in_set[slot as usize] = true;
            let payment = slab.payment(slot);
            self.net_fen[payment.sender as usize] -= payment.amount_fen;
            self.net_fen[payment.receiver as usize] += payment.amount_fen;
        }
        self.sent_end = (0..participants)
            .map(|i| self.by_sender.list(i).len() as u32)
            .collect();
        self.received_end = (0..participants)
            .map(|i| self.by_receiver.list(i).len() as u32)
            .collect();
        self.touched.reset(participants);
        self.out_of_bounds.clear();
        for i in 0..participants as u32 {
            if self.is_out(ledger, max_fen, i) {
                self.out_of_bounds.push(i);
            }
        }
        // Every round drops at least one payment: bounded by the set's size.
        while !self.out_of_bounds.is_empty() {
            self.pick_round(ledger, max_fen);
            self.touched.clear();
            for index in 0..self.picks.len() {
                let slot = self.picks[index];
                if !std::mem::replace(&mut self.in_set[slot as usize], false) {
                    continue; // picked twice in this round
                }
                let payment = slab.payment(slot);
                self.net_fen[payment.sender as usize] += payment.amount_fen;
                self.net_fen[payment.receiver as usize] -= payment.amount_fen;
                self.touched.touch(payment.sender);
                self.touched.touch(payment.receiver);
            }
            self.out_of_bounds.clear();
            for index in 0..self.touched.len() {
                let i = self.touched.get(index);
                if self.is_out(ledger, max_fen, i) {
                    self.out_of_bounds.push(i);
                }
            }
        }
    }

    /// Below the floor (or defaulted) with a payment of its own in the set;
    /// or a net receiver that the set would take above its maximum.
    fn is_low(&self, ledger: &Ledger, i: u32) -> bool {
        let net_fen = self.net_fen[i as usize];
        ledger.is_short(i, net_fen) || (ledger.is_frozen(i) && self.has_sent(i))
    }

    fn is_high(&self, ledger: &Ledger, max_fen: &[i64], i: u32) -> bool {
        let net = i128::from(self.net_fen[i as usize]);
        net > 0
            && i128::from(ledger.balances_fen()[i as usize]) + net > i128::from(max_fen[i as usize])
    }

    fn is_out(&self, ledger: &Ledger, max_fen: &[i64], i: u32) -> bool {
        self.is_low(ledger, i) || self.is_high(ledger, max_fen, i)
    }

    fn has_sent(&self, i: u32) -> bool {
        let list = self.by_sender.list(i as usize);
        list[..self.sent_end[i as usize] as usize]
            .iter()
            .any(|&slot| self.in_set[slot as usize])
    }

    /// The payments this round drops, chosen before any is dropped.
    fn pick_round(&mut self, ledger: &Ledger, max_fen: &[i64]) {
        self.picks.clear();
        for index in 0..self.out_of_bounds.len() {
            let i = self.out_of_bounds[index];
            if self.is_low(ledger, i)
                && let Some(slot) = last_in_set(
                    self.by_sender.list(i as usize),
                    &mut self.sent_end[i as usize],
                    &self.in_set,
                )
            {
                self.picks.push(slot);
            }
            if self.is_high(ledger, max_fen, i)
                && let Some(slot) = last_in_set(
                    self.by_receiver.list(i as usize),
                    &mut self.received_end[i as usize],
                    &self.in_set,
                )
            {
                self.picks.push(slot);
            }
        }
    }

    /// Whether the queued payment in `slot` is in the set found.
    pub fn kept(&self, slot: u32) -> bool {
        self.in_set.get(slot as usize).copied().unwrap_or(false)
    }

    /// Net positions over the set found.
    pub fn net_fen(&self) -> &[i64] {
        &self.net_fen
    }
}

/// The last member of the set in `list[..*end]`; moves `end` past the
/// payments already dropped (they never come back).
fn last_in_set(list: &[u32], end: &mut u32, in_set: &[bool]) -> Option<u32> {
    while *end > 0 {
        let slot = list[*end as usize - 1];
        if in_set[slot as usize] {
            return Some(slot);
        }
        *end -= 1;
    }
    None
}
