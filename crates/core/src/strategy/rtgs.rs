//! `rtgs`: gross settlement with strict FIFO queues per sender, by priority,
//! and optional periodic gridlock resolution.

use std::collections::VecDeque;

use super::balanced::Balanced;
use super::bypass::{AmountIndex, Passes};
use super::limits::LimitBook;
use super::parking::Release;
use super::prefix::{PrefixResolver, Queued};
use super::{Channel, Opt, Options, SenderLimits, Strategy, StrategyDef, StrategyError, Tail};
use crate::format::millis;
use crate::ledger::{Ctx, Ledger, NIL, Payment, Sink, Slab};
use crate::time::SimTime;

/// `rtgs` in the catalog: gross settlement, its options composed.
pub(super) static RTGS: StrategyDef = StrategyDef {
    name: "rtgs",
    spellings: &[
        "rtgs",
        "rtgs+bypass",
        "rtgs+offset",
        "rtgs+limits",
        "rtgs+bypass+limits",
    ],
    summary: "real-time gross settlement: a payment settles on arrival if covered, else waits in its sender's queue (strict FIFO by priority; +bypass: bypass FIFO; +offset: offsetting on entry); +limits: sender limits; optional periodic gridlock runs",
    gross: true,
    decides_by_checks: true,
    options: &[Opt::Queue, Opt::Limits, Opt::GridlockEvery],
    tail: Tail::Interval(Some("gridlock")),
    complete,
    describe,
    channel,
};

fn complete(mut options: Options, _day_end: SimTime) -> Result<Options, StrategyError> {
    if options.gridlock_every_ms == Some(0) {
        return Err(StrategyError::new(
            Some(Opt::GridlockEvery),
            "the interval must be positive",
        ));
    }
    if options.queue == Some(QueueRule::Offset) && options.limits.is_some() {
        return Err(StrategyError::new(
            Some(Opt::Limits),
            "offsetting on entry settles pairs without checking sender limits: choose rtgs+offset or rtgs+limits",
        ));
    }
    options.queue = options.queue.filter(|&q| q != QueueRule::Fifo);
    Ok(options)
}

fn describe(options: &Options) -> String {
    let every = options.gridlock_every_ms.map_or(String::new(), |ms| {
        format!(", gridlock every {}", millis(u64::from(ms)))
    });
    let limits = |limits: &SenderLimits| format!("{} sender limits", limits.entries.len());
    match (options.queue, &options.limits) {
        (None | Some(QueueRule::Fifo), None) => match options.gridlock_every_ms {
            None => "rtgs".into(),
            Some(_) => format!("rtgs{every}"),
        },
        (Some(QueueRule::Bypass), None) => format!("rtgs with bypass FIFO{every}"),
        (Some(QueueRule::Offset), None) => format!("rtgs with offsetting{every}"),
        (Some(QueueRule::Bypass), Some(l)) => {
            format!("rtgs with bypass FIFO and {}{every}", limits(l))
        }
        (_, Some(l)) => format!("rtgs with {}{every}", limits(l)),
    }
}

fn channel(options: &Options, ledger: &Ledger, day_end: SimTime) -> Result<Channel, StrategyError> {
    if options.gridlock_every_ms == Some(0) {
        return Err(StrategyError::new(
            Some(Opt::GridlockEvery),
            "the gridlock interval must be positive",
        ));
    }
    let participants = ledger.participant_count();
    let queue = options.queue.unwrap_or(QueueRule::Fifo);
    let mut rtgs = Rtgs::new(participants, options.gridlock_every_ms, day_end, queue);
    if let Some(limits) = &options.limits {
        rtgs.set_limits(LimitBook::new(participants, limits)?);
    }
    Ok(Channel::Rtgs(rtgs))
}

pub struct Rtgs {
    /// First and last queued slot of each sender's queue (queue order), or NIL.
    head: Vec<u32>,
    tail: Vec<u32>,
    queued: usize,
    /// Senders whose queue head may have become affordable.
    wake: Vec<u32>,
    is_awake: Vec<bool>,
    gridlock: Option<Gridlock>,
    /// Bypass FIFO instead of strict FIFO (see `docs/strategies.md`).
    bypass: Option<Bypass>,
    /// TARGET2-style offsetting when a payment would queue.
    offsetting: bool,
    /// Sender limits, when the channel has them.
    limits: Option<Box<LimitBook>>,
    /// CHIPS-style balanced release: maximum positions and offsetting sets.
    balanced: Option<Box<Balanced>>,
    /// Whether `limits` or `balanced` is set: one flag on the hot path.
    bounded: bool,
    /// Strict FIFO with gridlock runs and no bounds: each sender's queue
    /// again, as (slot, receiver, amount) in queue order, contiguous. A run
    /// reads every queued payment (on a scarce day nearly all of them only
    /// to drop them again), and reading them in order from here instead of
    /// chasing the slab's links made `rtgs+gridlock:1m` several times
    /// faster. Kept only where queues change at their heads and tails.
    mirror: Option<Vec<VecDeque<Queued>>>,
    /// Balanced release's scratch space: positions its receivers refused in
    /// one scan (to park), one run's offsetting set.
    refused: Vec<usize>,
    kept: Vec<u32>,
    /// Payments ever queued: with the ledger's change count, the state a
    /// periodic run depends on.
    enqueued: u64,
    /// That state right after the last full release. A release drains to a
    /// fixed point (no woken sender can pay), so a release on the same state
    /// settles nothing and is skipped: under bypass it would rescan every
    /// queue after every periodic run.
    released_at: Option<(u64, u64)>,
}

/// How the queues of a gross channel release payments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueRule {
    /// Strict FIFO by priority (the contract's `rtgs`).
    Fifo,
    /// A blocked head does not block the payments behind it.
    Bypass,
    /// Strict FIFO, plus offsetting with the receiver's queue on entry.
    Offset,
}

/// Bypass FIFO's state: the senders to scan and their queues by amount.
struct Bypass {
    passes: Passes,
    index: AmountIndex,
}

/// Schedule and scratch space of the periodic gridlock run.
struct Gridlock {
    every_ms: u32,
    day_end: SimTime,
    next_run: Option<SimTime>,
    resolver: PrefixResolver,
    /// (ledger changes, payments ever queued) after a run that settled
    /// nothing. A run is a function of the queues and the ledger (limits
    /// and positions move only with the ledger), so until either changes
    /// the next run would settle nothing too, and is skipped: with a 1 ms
    /// interval most runs are such repeats.
    fruitless_at: Option<(u64, u64)>,
}

impl Gridlock {
    /// The run after the one at `at`: the next positive multiple of the
    /// interval within the day, else one last run at day end.
    fn schedule_after(&mut self, at: SimTime) {
        let next_multiple =
            (u64::from(at.ms()) / u64::from(self.every_ms) + 1) * u64::from(self.every_ms);
        self.next_run = if next_multiple <= u64::from(self.day_end.ms()) {
            Some(SimTime(next_multiple as u32))
        } else if at < self.day_end {
            Some(self.day_end)
        } else {
            None
        };
    }
}

/// Balanced release's parking puts payments back into the index and marks
/// their senders.
impl Release for Bypass {
    fn unpark(&mut self, slot: u32, sender: u32, priority: u8, amount_fen: i64) {
        self.index.unpark(slot, sender, priority, amount_fen);
    }
    fn mark(&mut self, sender: u32) {
        self.passes.mark(sender);
    }
}

impl Bypass {
    fn new(participants: usize) -> Bypass {
        Bypass {
            passes: Passes::new(participants),
            index: AmountIndex::new(participants),
        }
    }
}

impl Rtgs {
    pub fn new(
        participants: usize,
        gridlock_every_ms: Option<u32>,
        day_end: SimTime,
        rule: QueueRule,
    ) -> Rtgs {
        let gridlock = gridlock_every_ms.map(|every_ms| {
            // The first run: the first positive multiple of the interval, or
            // the day end when the interval is longer than the day.
            let first = if every_ms <= day_end.ms() {
                SimTime(every_ms)
            } else {
                day_end
            };
            Gridlock {
                every_ms,
                day_end,
                next_run: Some(first),
                resolver: PrefixResolver::new(),
                fruitless_at: None,
            }
        });
        let mirror = (gridlock.is_some() && rule != QueueRule::Bypass)
            .then(|| vec![VecDeque::new(); participants]);
        Rtgs {
            head: vec![NIL; participants],
            tail: vec![NIL; participants],
            queued: 0,
            wake: Vec::with_capacity(participants),
            is_awake: vec![false; participants],
            gridlock,
            bypass: (rule == QueueRule::Bypass).then(|| Bypass::new(participants)),
            offsetting: rule == QueueRule::Offset,
            limits: None,
            balanced: None,
            bounded: false,
            mirror,
            refused: Vec::new(),
            kept: Vec::new(),
            enqueued: 0,
            released_at: None,
        }
    }

    /// Turns the channel into CHIPS-style balanced release: bypass scanning
    /// with maximum positions (payments a receiver refused parked, see
    /// `parking.rs`), offsetting sets at the periodic runs before day end,
    /// and the final net settlement at the day-end run.
    pub(crate) fn set_balanced(&mut self, balanced: Balanced) {
        self.bypass = Some(Bypass::new(self.head.len()));
        self.balanced = Some(Box::new(balanced));
        self.bounded = true;
        self.mirror = None;
    }

    /// Bounds every sender by its limits (see [`LimitBook`]).
    pub(crate) fn set_limits(&mut self, limits: LimitBook) {
        self.limits = Some(Box::new(limits));
        self.bounded = true;
        self.mirror = None;
    }

    /// Whether `payment` may settle gross now: covered, and within the
    /// sender's limits.
    #[inline(always)]
    fn can_settle(&self, ledger: &crate::ledger::Ledger, payment: &Payment) -> bool {
        ledger.affordable(payment.sender, payment.amount_fen) && self.in_bounds(ledger, payment)
    }

    /// Under bypass, whether a scan reaching `payment` would settle it (the
    /// test of the scans, which notes no margin).
    #[inline]
    fn eligible(&self, ledger: &Ledger, payment: &Payment) -> bool {
        !ledger.is_frozen(payment.sender)
            && ledger.available_fen(payment.sender) >= payment.amount_fen
            && self.in_bounds(ledger, payment)
    }

    /// Whether `payment` stays within the sender's limits and the
    /// receiver's maximum (true when the channel has neither).
    #[inline(always)]
    fn in_bounds(&self, ledger: &Ledger, payment: &Payment) -> bool {
        !self.bounded
            || within_bounds(
                self.limits.as_deref(),
                self.balanced.as_deref(),
                ledger,
                payment.sender,
                payment.receiver,
                payment.amount_fen,
            )
    }

    /// Settles one payment gross and counts it against the limits.
    #[inline(always)]
    fn settle<S: Sink>(&mut self, cx: &mut Ctx<S>, payment: &Payment) {
        cx.settle_gross(payment);
        if self.bounded {
            self.record_bounded(cx.ledger, payment);
        }
    }

    #[inline(never)]
    fn record_bounded(&mut self, ledger: &Ledger, payment: &Payment) {
        if let Some(limits) = self.limits.as_mut() {
            limits.record(payment.sender, payment.receiver, payment.amount_fen);
        }
        // The sender's balance fell: payments parked on its maximum may fit.
        if let (Some(balanced), Some(bypass)) = (self.balanced.as_mut(), self.bypass.as_mut()) {
            balanced.room_opened(ledger, payment.sender, Some(payment.amount_fen), bypass);
        }
    }

    /// A balance fell outside the channel's settlements and runs (a
    /// withdrawal): balanced release puts back what now fits under it, its
    /// senders marked for the next release.
    pub fn balance_fell(&mut self, ledger: &Ledger, participant: u32) {
        if let (Some(balanced), Some(bypass)) = (self.balanced.as_mut(), self.bypass.as_mut()) {
            balanced.room_opened(ledger, participant, None, bypass);
        }
    }

    /// Payments waiting in the queues.
    pub fn queued(&self) -> usize {
        self.queued
    }

    /// A participant was credited: wake it, unless under bypass it still
    /// cannot reach its smallest queued payment (its scan would settle and
    /// block nothing, so the mark would be wasted).
    #[inline]
    fn wake_credited(&mut self, ledger: &crate::ledger::Ledger, participant: u32) {
        if let Some(bypass) = self.bypass.as_ref() {
            let waiting_min_fen = (self.balanced.as_deref())
                .map_or(i64::MAX, |b| b.parking.waiting_min_fen(participant));
            let min_fen = bypass.index.min_fen(participant).min(waiting_min_fen);
            if ledger.available_fen(participant) < min_fen {
                return;
            }
        }
        self.wake_if_queued(participant);
    }

    #[inline]
    fn wake_if_queued(&mut self, participant: u32) {
        let i = participant as usize;
        if let Some(bypass) = self.bypass.as_mut() {
            if self.head[i] != NIL {
                bypass.passes.mark(participant);
            }
            return;
        }
        if self.head[i] != NIL && !self.is_awake[i] {
            self.is_awake[i] = true;
            self.wake.push(participant);
        }
    }

    /// Settles affordable queue heads until none is left. A settlement can
    /// only make its receiver's head affordable, so only receivers are woken.
    /// Bounded: every inner iteration settles one queued payment.
    fn drain<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        if self.bypass.is_some() {
            self.drain_bypass(cx);
            return;
        }
        while let Some(sender) = self.wake.pop() {
            let i = sender as usize;
            self.is_awake[i] = false;
            while self.head[i] != NIL {
                let slot = self.head[i];
                let payment = *cx.slab.get(slot);
                if !self.can_settle(cx.ledger, &payment) {
                    break;
                }
                self.pop_head(cx.slab, i);
                self.settle(cx, &payment);
                self.wake_if_queued(payment.receiver);
            }
        }
    }

    /// Bypass FIFO release: scan marked senders (see [`Passes`]).
    /// Bounded: every pass but the last settles at least one payment.
    fn drain_bypass<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        while let Some(sender) = self.bypass.as_mut().and_then(|b| b.passes.next()) {
            self.scan_bypass(cx, sender);
        }
    }

    /// One sender's scan: in queue order, settle every payment affordable
    /// when reached (and within limits, or its receiver's maximum). Its
    /// balance only falls during its own scan, so the payments passed over
    /// between two it settles were all larger than what it had: the index
    /// jumps straight to the next one within reach (see [`AmountIndex`]).
    /// A defaulted sender, or one below its smallest queued amount, can
    /// pay nothing and block nothing: no scan. Under balanced release the
    /// payments waiting on it that fit come back first (see `parking.rs`).
    fn scan_bypass<S: Sink>(&mut self, cx: &mut Ctx<S>, sender: u32) {
        if cx.ledger.is_frozen(sender) {
            return;
        }
        if let (Some(balanced), Some(bypass)) = (self.balanced.as_mut(), self.bypass.as_mut()) {
            balanced.put_back_waiting(cx.ledger, sender, bypass);
        }
        let Some(bypass) = self.bypass.as_ref() else {
            return;
        };
        if cx.ledger.available_fen(sender) < bypass.index.min_fen(sender) {
            return;
        }
        for level in 0..bypass.index.levels(sender) {
            let mut from = 0;
            // Bounded: `from` moves past one queued payment per iteration.
            loop {
                let available_fen = cx.ledger.available_fen(sender);
                let ledger: &Ledger = cx.ledger;
                let bounded = self.bounded;
                let (limits, balanced) = (self.limits.as_deref(), self.balanced.as_deref());
                let refused = &mut self.refused;
                // Covered (within reach of a sender not in default): only
                // limits or the receiver's maximum may hold a payment back.
                // Under balanced release (no limits) a refusal is the
                // receiver's maximum: the payment is parked below.
                let fits = |position: usize, receiver: u32, amount_fen: i64| {
                    let fits = !bounded
                        || within_bounds(limits, balanced, ledger, sender, receiver, amount_fen);
                    if !fits && balanced.is_some() {
                        refused.push(position);
                    }
                    fits
                };
                let candidate = self.bypass.as_ref().and_then(|b| {
                    b.index
                        .first_within(sender, level, from, available_fen, fits)
                });
                self.park_refused(sender, level);
                let Some(candidate) = candidate else {
                    break;
                };
                from = candidate.position + 1;
                let payment = *cx.slab.get(candidate.slot);
                self.unlink(cx.slab, candidate.slot);
                self.settle(cx, &payment);
                self.wake_credited(cx.ledger, candidate.receiver);
            }
        }
    }

    /// Parks the payments of `sender`'s `level`-th level that a scan saw
    /// refused by their receivers' maxima.
    fn park_refused(&mut self, sender: u32, level: usize) {
        if let (Some(balanced), Some(bypass)) = (self.balanced.as_mut(), self.bypass.as_mut()) {
            for &position in &self.refused {
                if let Some(parked) = bypass.index.park(sender, level, position) {
                    balanced.parking.parked(&parked);
                }
            }
        }
        self.refused.clear();
    }

    /// Offsetting on queue entry: the queued head `slot` (s → r, a) settles
    /// together with the leading run of r's queue made of payments to s —
    /// as many of them (k ≥ 1, in queue order) as keep both covered:
    /// avail(s) − a + Σ ≥ 0 and avail(r) + a − Σ ≥ 0, the largest such k.
    fn offset<S: Sink>(&mut self, cx: &mut Ctx<S>, slot: u32) {
        let payment = *cx.slab.get(slot);
        let (sender, receiver) = (payment.sender, payment.receiver);
        if cx.ledger.is_frozen(sender) || cx.ledger.is_frozen(receiver) {
            return;
        }
        let avail_sender =
            i128::from(cx.ledger.available_fen(sender)) - i128::from(payment.amount_fen);
        let avail_receiver =
            i128::from(cx.ledger.available_fen(receiver)) + i128::from(payment.amount_fen);
        let (mut total, mut count, mut best) = (0i128, 0usize, None);
        let mut at = self.head[receiver as usize];
        // Bounded by the length of the receiver's queue.
        while at != NIL && cx.slab.get(at).receiver == sender {
            total += i128::from(cx.slab.get(at).amount_fen);
            count += 1;
            if avail_sender + total >= 0 && avail_receiver - total >= 0 {
                best = Some((count, total));
            }
            at = cx.slab.next(at);
        }
        let Some((count, total)) = best else {
            return;
        };
        // The total is at most Σ amounts, which input checks keep in i64;
        // should that ever fail, nothing is offset (the payment just waits).
        let Ok(total) = i64::try_from(total) else {
            crate::invariant!(false, "an offset total of {total} fen exceeds i64");
            return;
        };
        self.pop_head(cx.slab, sender as usize);
        cx.sink.settled(&payment, cx.now);
        for _ in 0..count {
            let other = *cx.slab.get(self.head[receiver as usize]);
            self.pop_head(cx.slab, receiver as usize);
            cx.sink.settled(&other, cx.now);
        }
        // Simultaneous settlement by nets.
        let net_fen = total - payment.amount_fen;
        cx.ledger.apply_net(sender, net_fen);
        cx.ledger.apply_net(receiver, -net_fen);
        self.wake_if_queued(sender);
        self.wake_if_queued(receiver);
        self.drain(cx);
    }

    /// A bypass arrival whose sender has a queue, or cannot pay it now.
    /// Between releases nothing queued is releasable (every release drains
    /// to that fixed point), so when no sender is marked the payment is the
    /// only one that can settle: it does at once, as a scan of its sender
    /// would, or joins the queue with nothing to scan. Marks left by a
    /// withdrawal are drained here, as the scan of its sender would.
    fn arrive_bypass<S: Sink>(&mut self, cx: &mut Ctx<S>, payment: Payment) {
        let eligible = self.eligible(cx.ledger, &payment);
        let idle = self.bypass.as_ref().is_none_or(|b| b.passes.is_idle());
        if idle && eligible {
            self.settle_arrival(cx, &payment);
            return;
        }
        let slot = cx.slab.insert(payment);
        self.enqueue(cx.slab, slot);
        if !idle {
            self.wake_if_queued(payment.sender);
            self.drain(cx);
            return;
        }
        // Covered but refused by its receiver's maximum: parked, as the
        // scan of its sender would.
        let covered = !cx.ledger.is_frozen(payment.sender)
            && cx.ledger.available_fen(payment.sender) >= payment.amount_fen;
        if let (true, Some(balanced), Some(bypass)) =
            (covered, self.balanced.as_mut(), self.bypass.as_mut())
            && let Some(parked) = bypass.index.park_slot(&payment, slot)
        {
            balanced.parking.parked(&parked);
        }
    }

    /// Settles an arriving payment at once, then releases what it enables.
    /// Under bypass the release continues the pass at the sender's index, as
    /// a full pass would have reached it there: whoever it wakes with a
    /// lower (or equal) index waits for the next pass.
    fn settle_arrival<S: Sink>(&mut self, cx: &mut Ctx<S>, payment: &Payment) {
        if let Some(bypass) = self.bypass.as_mut() {
            bypass.passes.current = Some(payment.sender);
        }
        self.settle(cx, payment);
        self.wake_credited(cx.ledger, payment.receiver);
        self.drain(cx);
    }

    fn pop_head(&mut self, slab: &mut Slab, i: usize) {
        let slot = self.head[i];
        self.unlink(slab, slot);
    }

    /// Takes a queued payment out of its sender's queue (and the bypass
    /// index) and frees its slot.
    fn unlink(&mut self, slab: &mut Slab, at: u32) {
        let payment = *slab.get(at);
        let i = payment.sender as usize;
        let (before, next) = (slab.prev(at), slab.next(at));
        if before == NIL {
            self.head[i] = next;
        } else {
            slab.set_next(before, next);
        }
        if next == NIL {
            self.tail[i] = before;
        } else {
            slab.set_prev(next, before);
        }
        index_remove(
            self.balanced.as_deref_mut(),
            self.bypass.as_mut(),
            &payment,
            at,
        );
        if let Some(mirror) = self.mirror.as_mut() {
            // Without bypass or offsetting sets, only heads leave a queue.
            let front = mirror[i].pop_front();
            crate::invariant!(
                front.is_some_and(|q| q.slot == at),
                "the mirrored queue of {i} starts with the unlinked head"
            );
        }
        slab.remove(at);
        self.queued -= 1;
    }

    /// Inserts a slot into its sender's queue at its queue-order position:
    /// after every payment of equal or higher priority (arrivals come in
    /// processing order, so equal priority means earlier submit or row).
    fn enqueue(&mut self, slab: &mut Slab, slot: u32) {
        let payment = *slab.get(slot);
        let i = payment.sender as usize;
        self.queued += 1;
        self.enqueued += 1;
        if let Some(bypass) = self.bypass.as_mut() {
            bypass.index.push(&payment, slot);
        }
        if let Some(balanced) = self.balanced.as_mut() {
            balanced.parking.insert(&payment, slot);
        }
        let queued = Queued {
            slot,
            receiver: payment.receiver,
            amount_fen: payment.amount_fen,
        };
        let tail = self.tail[i];
        if (tail == NIL || slab.get(tail).priority >= payment.priority)
            && let Some(mirror) = self.mirror.as_mut()
        {
            mirror[i].push_back(queued);
        }
        if tail == NIL {
            self.head[i] = slot;
            self.tail[i] = slot;
            return;
        }
        if slab.get(tail).priority >= payment.priority {
            slab.set_next(tail, slot);
            slab.set_prev(slot, tail);
            self.tail[i] = slot;
            return;
        }
        // Higher priority than the tail: walk to the first lower-priority one.
        let mut before = NIL;
        let mut at = self.head[i];
        let mut position = 0;
        while at != NIL && slab.get(at).priority >= payment.priority {
            before = at;
            at = slab.next(at);
            position += 1;
        }
        if let Some(mirror) = self.mirror.as_mut() {
            mirror[i].insert(position, queued);
        }
        // `at` is not NIL: the tail has lower priority than the payment.
        slab.set_next(slot, at);
        slab.set_prev(slot, before);
        slab.set_prev(at, slot);
        if before == NIL {
            self.head[i] = slot;
        } else {
            slab.set_next(before, slot);
        }
    }

    /// Balanced release before day end: the offsetting set among all queued
    /// payments settles simultaneously by its nets.
    /// Returns how many payments settled.
    fn run_offset_set<S: Sink>(&mut self, cx: &mut Ctx<S>) -> usize {
        // Taken out for the run: the set borrows it while queues change.
        let Some(mut balanced) = self.balanced.take() else {
            return 0;
        };
        let set = balanced.find_set(cx.ledger, cx.slab, &self.head);
        // The set's payments in queue order, senders in index order; they
        // leave the queues (and `balanced`'s) once it is back in place.
        let mut kept = std::mem::take(&mut self.kept);
        kept.clear();
        for i in 0..self.head.len() {
            let mut at = self.head[i];
            while at != NIL {
                if set.kept(at) {
                    kept.push(at);
                }
                at = cx.slab.next(at);
            }
        }
        for (i, &net_fen) in set.net_fen().iter().enumerate() {
            if net_fen != 0 {
                cx.ledger.apply_net(i as u32, net_fen);
            }
        }
        self.balanced = Some(balanced);
        for &slot in &kept {
            let payment = *cx.slab.get(slot);
            self.unlink(cx.slab, slot);
            cx.sink.settled(&payment, cx.now);
        }
        let settled = kept.len();
        self.kept = kept;
        settled
    }

    /// One periodic run: a gridlock run (or, balanced before day end, an
    /// offsetting set), skipped when it repeats a fruitless one.
    fn run_periodic<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        let Some(gridlock) = self.gridlock.as_mut() else {
            return;
        };
        gridlock.schedule_after(cx.now);
        if self.queued == 0 {
            return;
        }
        let state = (cx.ledger.changes(), self.enqueued);
        let before_end = cx.now < gridlock.day_end;
        if before_end && gridlock.fruitless_at == Some(state) {
            return;
        }
        let settled = if self.balanced.is_some() && before_end {
            self.run_offset_set(cx)
        } else {
            self.run_gridlock(cx)
        };
        if let Some(gridlock) = self.gridlock.as_mut() {
            gridlock.fruitless_at = (settled == 0).then_some(state);
        }
    }

    /// One gridlock run over all queued payments (contract, `rtgs` step
    /// 1–4); returns how many payments settled.
    fn run_gridlock<S: Sink>(&mut self, cx: &mut Ctx<S>) -> usize {
        if self.mirror.is_some() {
            return self.run_gridlock_mirrored(cx);
        }
        let Some(gridlock) = self.gridlock.as_mut() else {
            return 0;
        };
        let mut settled = 0;
        let resolver = &mut gridlock.resolver;
        let head = &self.head;
        let slab: &Slab = cx.slab;
        resolver.lists.build(head.len(), |i, items| {
            let mut at = head[i as usize];
            while at != NIL {
                items.push(at);
                at = slab.next(at);
            }
        });
        let limits = self.limits.as_ref();
        let held: &Slab = cx.slab;
        resolver.resolve_with(
            cx.ledger,
            held,
            |resolver, participant, net_fen| {
                limits.is_some_and(|l| l.breached_by(resolver, held, participant, net_fen))
            },
            |_, _| false,
        );
        for i in 0..self.head.len() {
            let kept = resolver.kept(i);
            if kept.is_empty() {
                continue;
            }
            for &slot in kept {
                let payment = cx.slab.remove(slot);
                index_remove(
                    self.balanced.as_deref_mut(),
                    self.bypass.as_mut(),
                    &payment,
                    slot,
                );
                cx.sink.settled(&payment, cx.now);
                if let Some(limits) = self.limits.as_mut() {
                    limits.record(payment.sender, payment.receiver, payment.amount_fen);
                }
            }
            self.queued -= kept.len();
            settled += kept.len();
            self.head[i] = resolver.first_dropped(i).unwrap_or(NIL);
            if self.head[i] == NIL {
                self.tail[i] = NIL;
            } else {
                cx.slab.set_prev(self.head[i], NIL);
            }
        }
        for (i, &net_fen) in resolver.net_fen().iter().enumerate() {
            if net_fen != 0 {
                cx.ledger.apply_net(i as u32, net_fen);
            }
        }
        settled
    }
}

impl Rtgs {
    /// [`run_gridlock`](Self::run_gridlock) over the mirrored queues: the
    /// same fixed point, read in order; only what settles touches the slab.
    fn run_gridlock_mirrored<S: Sink>(&mut self, cx: &mut Ctx<S>) -> usize {
        let (Some(gridlock), Some(mirror)) = (self.gridlock.as_mut(), self.mirror.as_mut()) else {
            return 0;
        };
        let resolver = &mut gridlock.resolver;
        resolver.resolve_queues(cx.ledger, mirror);
        let mut settled = 0;
        for (i, queue) in mirror.iter_mut().enumerate() {
            let kept = resolver.kept_len(i) as usize;
            if kept == 0 {
                continue;
            }
            for queued in queue.drain(..kept) {
                let payment = cx.slab.remove(queued.slot);
                cx.sink.settled(&payment, cx.now);
            }
            self.queued -= kept;
            settled += kept;
            match queue.front() {
                Some(next) => {
                    self.head[i] = next.slot;
                    cx.slab.set_prev(next.slot, NIL);
                }
                None => {
                    self.head[i] = NIL;
                    self.tail[i] = NIL;
                }
            }
        }
        for (i, &net_fen) in resolver.net_fen().iter().enumerate() {
            if net_fen != 0 {
                cx.ledger.apply_net(i as u32, net_fen);
            }
        }
        settled
    }
}

impl Strategy for Rtgs {
    #[inline]
    fn arrive<S: Sink>(&mut self, cx: &mut Ctx<S>, payment: Payment) {
        let sender = payment.sender as usize;
        // Fast path: nothing queued ahead and enough liquidity.
        if self.head[sender] == NIL && self.can_settle(cx.ledger, &payment) {
            self.settle_arrival(cx, &payment);
            return;
        }
        cx.ledger.note_wait(payment.sender);
        if self.bypass.is_some() {
            self.arrive_bypass(cx, payment);
            return;
        }
        let slot = cx.slab.insert(payment);
        self.enqueue(cx.slab, slot);
        // Strict FIFO: only a new head can settle.
        if self.head[sender] == slot {
            self.wake_if_queued(payment.sender);
            self.drain(cx);
        }
        if self.offsetting && self.head[sender] == slot {
            self.offset(cx, slot);
        }
    }

    fn next_event(&self) -> Option<SimTime> {
        self.gridlock.as_ref().and_then(|g| g.next_run)
    }

    fn run_event<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        self.run_periodic(cx);
    }

    /// Full release: every non-empty queue is looked at.
    fn release<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        if self.queued == 0 || self.released_at == Some((cx.ledger.changes(), self.enqueued)) {
            return;
        }
        // Net settlements (runs, other channels) may have lowered any
        // balance: what fits under a maximum again is put back first.
        if let (Some(balanced), Some(bypass)) = (self.balanced.as_mut(), self.bypass.as_mut()) {
            for i in 0..self.head.len() as u32 {
                balanced.room_opened(cx.ledger, i, None, bypass);
            }
        }
        for i in 0..self.head.len() {
            self.wake_if_queued(i as u32);
        }
        self.drain(cx);
        self.released_at = Some((cx.ledger.changes(), self.enqueued));
    }

    fn close<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        for i in 0..self.head.len() {
            while self.head[i] != NIL {
                let payment = *cx.slab.get(self.head[i]);
                self.pop_head(cx.slab, i);
                cx.sink.unsettled(&payment);
            }
        }
    }

    fn is_gross(&self) -> bool {
        true
    }

    /// Nothing of the sender's is queued ahead and it can pay: the arrival
    /// fast path. (Under bypass or offsetting a payment may also settle
    /// otherwise; this answers for the fast path only.)
    fn settles_on_arrival(&self, ledger: &crate::ledger::Ledger, payment: &Payment) -> bool {
        self.head[payment.sender as usize] == NIL && self.can_settle(ledger, payment)
    }
}

/// Takes a queued payment out of the bypass index and balanced release's
/// parking.
fn index_remove(
    balanced: Option<&mut Balanced>,
    bypass: Option<&mut Bypass>,
    payment: &Payment,
    slot: u32,
) {
    if let Some(balanced) = balanced {
        balanced.parking.remove(payment, slot);
    }
    if let Some(bypass) = bypass {
        bypass.index.remove(payment.sender, payment.priority, slot);
    }
}

/// Sender limits and maximum positions (kept off the plain hot path).
#[inline(never)]
fn within_bounds(
    limits: Option<&LimitBook>,
    balanced: Option<&Balanced>,
    ledger: &crate::ledger::Ledger,
    sender: u32,
    receiver: u32,
    amount_fen: i64,
) -> bool {
    limits.is_none_or(|limits| limits.permits(sender, receiver, amount_fen))
        && balanced.is_none_or(|b| b.fits(ledger, receiver, amount_fen))
}
