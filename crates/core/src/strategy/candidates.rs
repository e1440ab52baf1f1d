//! Balanced release's queues (`chips`): each sender's and each receiver's
//! queued payments ordered by amount ([`AmountSet`]), and per sender the
//! payments that may have become releasable ([`Candidates`]).
//!
//! A queued payment s → r of amount a is releasable when `avail(s) ≥ a` and
//! `balance(r) + a ≤ max(r)`. After a release no queued payment is
//! releasable, so one becomes releasable only when one of its two
//! conditions turns true while the other holds: its sender is credited past
//! `a`, or its receiver's balance falls far enough. A gross settlement
//! s → r of a does both at once, for r's payments with amounts in
//! `(avail(r) − a, avail(r)]` and for the payments to s with amounts in
//! `(room(s) − a, room(s)]`: two range queries by amount find them. Those
//! are the candidates, and a sender's scan reads only its candidates, in
//! queue order: whatever else it holds is not releasable, and stays so
//! during its scan (its balance only falls, and so does the room of those
//! it pays). Nothing waiting on one condition is moved when the other
//! changes, which is what made the earlier parking of refused payments cost
//! about two moves per payment per flip of its receiver's room.

use std::cmp::Reverse;

use crate::ledger::{Ledger, Payment};

/// A queued payment in an [`AmountSet`]: ordered by (amount, slot), and
/// carrying the other side (the receiver in a sender's set, the sender in a
/// receiver's set) so that a range query can test it without the slab.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Entry {
    pub(super) amount_fen: i64,
    pub(super) slot: u32,
    pub(super) other: u32,
}

/// Most entries a block holds before it splits in two: inserting costs a
/// move within one block and, on a split, of the block list.
const BLOCK_MAX: usize = 256;

/// An ordered set of entries in sorted blocks: O(log n + block) insertion
/// and removal, range queries in order, and no allocation once a set has
/// reached its size (a sole empty block is kept for reuse).
#[derive(Debug, Default)]
pub(super) struct AmountSet {
    blocks: Vec<Vec<Entry>>,
}

impl AmountSet {
    /// The block that holds, or would hold, `entry`.
    fn block_of(&self, entry: &Entry) -> usize {
        let at = self
            .blocks
            .partition_point(|block| block.last().is_some_and(|last| last < entry));
        at.min(self.blocks.len().saturating_sub(1))
    }

    pub(super) fn insert(&mut self, entry: Entry) {
        if self.blocks.is_empty() {
            self.blocks.push(Vec::new());
        }
        let b = self.block_of(&entry);
        let block = &mut self.blocks[b];
        let at = block.partition_point(|e| e < &entry);
        block.insert(at, entry);
        if block.len() > BLOCK_MAX {
            let tail = block.split_off(BLOCK_MAX / 2);
            self.blocks.insert(b + 1, tail);
        }
    }

    pub(super) fn remove(&mut self, entry: &Entry) {
        if self.blocks.is_empty() {
            crate::invariant!(false, "removing {entry:?} from an empty amount set");
            return;
        }
        let b = self.block_of(entry);
        let block = &mut self.blocks[b];
        let at = block.partition_point(|e| e < entry);
        if block.get(at) != Some(entry) {
            crate::invariant!(false, "{entry:?} is not in its amount set");
            return;
        }
        block.remove(at);
        if block.is_empty() && self.blocks.len() > 1 {
            self.blocks.remove(b);
        }
    }

    /// Calls `f` on every entry with `lo < amount ≤ hi`, smallest first.
    #[inline]
    pub(super) fn for_range(&self, lo: i64, hi: i64, mut f: impl FnMut(&Entry)) {
        if lo >= hi {
            return;
        }
        // Most queries miss the whole set (on the bench suite's scarce day
        // three in four have nothing above `lo`): two reads, no search.
        let (Some(first), Some(last)) = (
            self.blocks.first().and_then(|b| b.first()),
            self.blocks.last().and_then(|b| b.last()),
        ) else {
            return;
        };
        if first.amount_fen > hi || last.amount_fen <= lo {
            return;
        }
        let start = self
            .blocks
            .partition_point(|block| block.last().is_none_or(|last| last.amount_fen <= lo));
        for block in &self.blocks[start..] {
            let from = block.partition_point(|e| e.amount_fen <= lo);
            for entry in &block[from..] {
                if entry.amount_fen > hi {
                    return;
                }
                f(entry);
            }
        }
    }

    #[cfg(test)]
    fn entries(&self) -> Vec<Entry> {
        self.blocks.iter().flatten().copied().collect()
    }
}

/// The balanced queues by amount, and the candidates of every sender.
#[derive(Debug, Default)]
pub(super) struct Candidates {
    by_sender: Vec<AmountSet>,
    by_receiver: Vec<AmountSet>,
    /// Per sender, the slots flagged for its next scan (stale ones are
    /// skipped: a slot is flagged only while `flagged` says so and its
    /// payment is the sender's).
    pending: Vec<Vec<u32>>,
    /// Per slab slot: flagged as a candidate of its sender.
    flagged: Vec<bool>,
    /// Per slab slot, what a scan reads of its queued payment: kept here,
    /// dense, rather than read from the slab for every candidate (about
    /// five are flagged for each one that settles).
    queued: Vec<Queued>,
    spare: Vec<u32>,
}

/// A queued payment as a scan sees it.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Queued {
    /// Queue order: priority descending, then acceptance.
    order: (Reverse<u8>, u64),
    pub(super) amount_fen: i64,
    pub(super) sender: u32,
    pub(super) receiver: u32,
    pub(super) slot: u32,
}

impl Candidates {
    pub(super) fn new(participants: usize) -> Candidates {
        Candidates {
            by_sender: (0..participants).map(|_| AmountSet::default()).collect(),
            by_receiver: (0..participants).map(|_| AmountSet::default()).collect(),
            pending: vec![Vec::new(); participants],
            ..Candidates::default()
        }
    }

    /// A payment joins its sender's queue.
    pub(super) fn insert(&mut self, payment: &Payment, slot: u32) {
        let (sender, receiver, amount_fen) = (payment.sender, payment.receiver, payment.amount_fen);
        self.by_sender[sender as usize].insert(Entry {
            amount_fen,
            slot,
            other: receiver,
        });
        self.by_receiver[receiver as usize].insert(Entry {
            amount_fen,
            slot,
            other: sender,
        });
        if self.flagged.len() <= slot as usize {
            self.flagged.resize(slot as usize + 1, false);
            self.queued.resize(slot as usize + 1, Queued::default());
        }
        self.queued[slot as usize] = Queued {
            order: (Reverse(payment.priority), payment.key),
            amount_fen,
            sender,
            receiver,
            slot,
        };
    }

    /// A payment leaves its sender's queue (before its slot is freed).
    pub(super) fn remove(&mut self, sender: u32, receiver: u32, amount_fen: i64, slot: u32) {
        self.by_sender[sender as usize].remove(&Entry {
            amount_fen,
            slot,
            other: receiver,
        });
        self.by_receiver[receiver as usize].remove(&Entry {
            amount_fen,
            slot,
            other: sender,
        });
        self.flagged[slot as usize] = false;
    }

    /// Flags `slot` for its sender's next scan; returns whether it was new
    /// (the caller marks the sender for a pass).
    #[inline]
    pub(super) fn flag_one(&mut self, sender: u32, slot: u32) -> bool {
        let flagged = &mut self.flagged[slot as usize];
        if *flagged {
            return false;
        }
        *flagged = true;
        self.pending[sender as usize].push(slot);
        true
    }

    /// `sender` was credited to `available_fen` from `available_fen − a`:
    /// its payments that became affordable and whose receivers have room
    /// are flagged. Calls `mark(sender)` if any was.
    pub(super) fn credited(
        &mut self,
        ledger: &Ledger,
        max_fen: &[i64],
        sender: u32,
        amount_fen: i64,
        mut mark: impl FnMut(u32),
    ) {
        if ledger.is_frozen(sender) {
            return;
        }
        let hi = ledger.available_fen(sender);
        let lo = hi.saturating_sub(amount_fen);
        let (set, flagged, pending) = (
            &self.by_sender[sender as usize],
            &mut self.flagged,
            &mut self.pending[sender as usize],
        );
        let mut any = false;
        set.for_range(lo, hi, |entry| {
            if fits(ledger, max_fen, entry.other, entry.amount_fen)
                && !std::mem::replace(&mut flagged[entry.slot as usize], true)
            {
                pending.push(entry.slot);
                any = true;
            }
        });
        if any {
            mark(sender);
        }
    }

    /// `receiver`'s balance fell by `amount_fen` (`None`: by an unknown
    /// amount): the payments to it that now fit and whose senders can pay
    /// them are flagged, and their senders marked.
    pub(super) fn room_grew(
        &mut self,
        ledger: &Ledger,
        max_fen: &[i64],
        receiver: u32,
        amount_fen: Option<i64>,
        mut mark: impl FnMut(u32),
    ) {
        let hi = room_fen(ledger, max_fen, receiver);
        let lo = amount_fen.map_or(i64::MIN, |a| hi.saturating_sub(a));
        let (set, flagged, pending) = (
            &self.by_receiver[receiver as usize],
            &mut self.flagged,
            &mut self.pending,
        );
        set.for_range(lo, hi, |entry| {
            let sender = entry.other;
            if !ledger.is_frozen(sender)
                && ledger.available_fen(sender) >= entry.amount_fen
                && !std::mem::replace(&mut flagged[entry.slot as usize], true)
            {
                pending[sender as usize].push(entry.slot);
                mark(sender);
            }
        });
    }

    /// Flags every queued payment releasable now (after net settlements,
    /// which may have moved any balance); calls `mark` on their senders.
    pub(super) fn flag_releasable(
        &mut self,
        ledger: &Ledger,
        max_fen: &[i64],
        mut mark: impl FnMut(u32),
    ) {
        for sender in 0..self.by_sender.len() as u32 {
            if ledger.is_frozen(sender) {
                continue;
            }
            let available_fen = ledger.available_fen(sender);
            let mut slots = std::mem::take(&mut self.spare);
            self.by_sender[sender as usize].for_range(i64::MIN, available_fen, |entry| {
                if fits(ledger, max_fen, entry.other, entry.amount_fen) {
                    slots.push(entry.slot);
                }
            });
            for &slot in &slots {
                if self.flag_one(sender, slot) {
                    mark(sender);
                }
            }
            slots.clear();
            self.spare = slots;
        }
    }

    /// Takes `sender`'s candidates in queue order (priority descending,
    /// then acceptance): its scan's work list, into `into` (emptied first).
    /// Each is unflagged as it is taken; stale entries are dropped.
    pub(super) fn take_in_queue_order(&mut self, sender: u32, into: &mut Vec<Queued>) {
        into.clear();
        let mut pending = std::mem::take(&mut self.pending[sender as usize]);
        for &slot in &pending {
            let flagged = &mut self.flagged[slot as usize];
            let queued = self.queued[slot as usize];
            // Not flagged: settled or taken since. Another sender's: a
            // slot freed and reused since it was flagged.
            if *flagged && queued.sender == sender {
                *flagged = false;
                into.push(queued);
            }
        }
        into.sort_unstable_by_key(|queued| queued.order);
        pending.clear();
        self.pending[sender as usize] = pending;
    }
}

/// Whether crediting `amount_fen` keeps `receiver` within its maximum.
#[inline]
pub(super) fn fits(ledger: &Ledger, max_fen: &[i64], receiver: u32, amount_fen: i64) -> bool {
    let i = receiver as usize;
    i128::from(ledger.balances_fen()[i]) + i128::from(amount_fen) <= i128::from(max_fen[i])
}

/// The most `receiver` may still be credited (negative above its maximum),
/// within i64.
#[inline]
fn room_fen(ledger: &Ledger, max_fen: &[i64], receiver: u32) -> i64 {
    let i = receiver as usize;
    let room = i128::from(max_fen[i]) - i128::from(ledger.balances_fen()[i]);
    room.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The set agrees with a sorted vector through insertions, removals,
    /// splits and range queries.
    #[test]
    fn amount_set_is_a_sorted_multiset() {
        let mut set = AmountSet::default();
        let mut naive: Vec<Entry> = Vec::new();
        let mut state = 99u64;
        let mut draw = |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % n
        };
        for slot in 0..5_000u32 {
            if naive.is_empty() || draw(3) > 0 {
                let entry = Entry {
                    amount_fen: draw(300) as i64,
                    slot,
                    other: slot % 7,
                };
                set.insert(entry);
                naive.push(entry);
                naive.sort_unstable();
            } else {
                let entry = naive.remove(draw(naive.len() as u64) as usize);
                set.remove(&entry);
            }
            assert_eq!(set.entries(), naive);
            let (lo, hi) = (draw(320) as i64 - 10, draw(320) as i64 - 10);
            let mut found = Vec::new();
            set.for_range(lo, hi, |e| found.push(*e));
            let expected: Vec<Entry> = naive
                .iter()
                .filter(|e| lo < e.amount_fen && e.amount_fen <= hi)
                .copied()
                .collect();
            assert_eq!(found, expected);
        }
        assert!(set.blocks.len() > 1, "the test grew the set past one block");
    }
}
