//! Balanced release's parked payments (`chips`): a payment its receiver's
//! maximum refused leaves its sender's scans (the amount index marks it
//! parked) until the receiver has room for it. The payments parked on each
//! receiver are kept ordered by amount ([`AmountSet`]) to find, when its
//! balance falls by a, those that now fit: amounts in `(room − a, room]`,
//! one range query.
//!
//! Those whose senders can pay them go back into scans and wake their
//! senders, as a full pass would settle them. The others stay parked and
//! are listed as *waiting* on their sender: a
//! credit that reaches the smallest of them wakes the sender, and its scan
//! puts back first those that still fit. Putting back every payment that
//! fits, as before, cost two index updates each time a receiver's room
//! flipped under a sender that could not pay (12.75 M of 20.35 M put-backs
//! on the bench suite's scarce day), for a payment usually parked again
//! by its sender's next scan.

use super::bypass::Parked;
use crate::ledger::{Ledger, Payment};

/// A parked payment: ordered by (amount, slot), and carrying the other
/// side (the sender in its receiver's [`AmountSet`], the receiver in its
/// sender's waiting list) so that it can be tested without the slab.
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

/// Balanced release's parked payments, by receiver and waiting on senders.
#[derive(Debug, Default)]
pub(super) struct Parking {
    /// Per receiver, the payments parked on it by amount; an entry's
    /// `other` is the sender.
    by_receiver: Vec<AmountSet>,
    /// Scratch space: the payments one room opening puts back.
    put_back: Vec<Entry>,
    /// Per slab slot, its queued payment's state here.
    slots: Vec<SlotState>,
    /// Per sender, parked payments whose receivers had room for them when
    /// the sender could not pay them, each with its slot's stamp (stale
    /// ones are skipped; an entry's `other` is the receiver), and the
    /// smallest of their amounts (`i64::MAX` for none).
    waiting: Vec<Vec<(Entry, u32)>>,
    waiting_min_fen: Vec<i64>,
}

/// A queued payment as parking sees it.
#[derive(Clone, Copy, Debug, Default)]
struct SlotState {
    priority: u8,
    /// Out of its sender's scans, in its receiver's set.
    parked: bool,
    /// In its sender's waiting list.
    listed: bool,
    /// How many payments the slot has held: a listing names the one it
    /// was made for.
    stamp: u32,
}

/// What [`Parking::room_opened`] asks of the bypass index and passes.
pub(super) trait Release {
    /// Puts a parked payment back into its sender's scans.
    fn unpark(&mut self, slot: u32, sender: u32, priority: u8, amount_fen: i64);
    /// Marks a sender for the release passes.
    fn mark(&mut self, sender: u32);
}

impl Parking {
    pub(super) fn new(participants: usize) -> Parking {
        Parking {
            by_receiver: (0..participants).map(|_| AmountSet::default()).collect(),
            waiting: vec![Vec::new(); participants],
            waiting_min_fen: vec![i64::MAX; participants],
            ..Parking::default()
        }
    }

    /// A payment joins its sender's queue (not parked).
    pub(super) fn insert(&mut self, payment: &Payment, slot: u32) {
        let i = slot as usize;
        if self.slots.len() <= i {
            self.slots.resize(i + 1, SlotState::default());
        }
        let state = &mut self.slots[i];
        *state = SlotState {
            priority: payment.priority,
            parked: false,
            listed: false,
            stamp: state.stamp.wrapping_add(1),
        };
    }

    /// A payment leaves its sender's queue (before its slot is freed).
    pub(super) fn remove(&mut self, payment: &Payment, slot: u32) {
        let state = &mut self.slots[slot as usize];
        state.listed = false;
        if std::mem::replace(&mut state.parked, false) {
            self.by_receiver[payment.receiver as usize].remove(&Entry {
                amount_fen: payment.amount_fen,
                slot,
                other: payment.sender,
            });
        }
    }

    /// The index parked a payment.
    pub(super) fn parked(&mut self, parked: &Parked) {
        self.slots[parked.slot as usize].parked = true;
        self.by_receiver[parked.receiver as usize].insert(Entry {
            amount_fen: parked.amount_fen,
            slot: parked.slot,
            other: parked.sender,
        });
    }

    /// Puts the parked payment `entry` (of `sender`, to `receiver`) back.
    fn unpark(&mut self, sender: u32, receiver: u32, entry: &Entry, release: &mut impl Release) {
        let state = &mut self.slots[entry.slot as usize];
        state.parked = false;
        let priority = state.priority;
        self.by_receiver[receiver as usize].remove(&Entry {
            other: sender,
            ..*entry
        });
        release.unpark(entry.slot, sender, priority, entry.amount_fen);
    }

    /// The smallest amount waiting on `sender`: a credit that reaches it
    /// must wake it.
    #[inline]
    pub(super) fn waiting_min_fen(&self, sender: u32) -> i64 {
        self.waiting_min_fen[sender as usize]
    }

    /// `receiver`'s balance fell by `amount_fen` (`None`: by an unknown
    /// amount, or when every balance may have moved). Its parked payments
    /// that now fit go back into scans, their senders marked, if their
    /// senders can pay them; else they wait on their senders (but for
    /// defaulted senders).
    pub(super) fn room_opened(
        &mut self,
        ledger: &Ledger,
        max_fen: &[i64],
        receiver: u32,
        amount_fen: Option<i64>,
        release: &mut impl Release,
    ) {
        let hi = room_fen(ledger, max_fen, receiver);
        let lo = amount_fen.map_or(i64::MIN, |a| hi.saturating_sub(a));
        let Parking {
            by_receiver,
            put_back,
            slots,
            waiting,
            waiting_min_fen,
            ..
        } = self;
        put_back.clear();
        by_receiver[receiver as usize].for_range(lo, hi, |entry| {
            let (state, sender) = (&mut slots[entry.slot as usize], entry.other);
            if ledger.is_frozen(sender) {
                // It pays nothing from now on: its payments stay parked.
            } else if ledger.available_fen(sender) >= entry.amount_fen {
                put_back.push(*entry);
            } else if !std::mem::replace(&mut state.listed, true) {
                let waits = Entry {
                    other: receiver,
                    ..*entry
                };
                waiting[sender as usize].push((waits, state.stamp));
                let min_fen = &mut waiting_min_fen[sender as usize];
                *min_fen = (*min_fen).min(entry.amount_fen);
            }
        });
        let mut put_back = std::mem::take(&mut self.put_back);
        for entry in &put_back {
            let sender = entry.other;
            self.unpark(sender, receiver, entry, release);
            release.mark(sender);
        }
        put_back.clear();
        self.put_back = put_back;
    }

    /// Before `sender`'s scan: its waiting payments that still fit go back
    /// into its scans; the others stay parked (their receivers' room will
    /// list them again).
    pub(super) fn put_back_waiting(
        &mut self,
        ledger: &Ledger,
        max_fen: &[i64],
        sender: u32,
        release: &mut impl Release,
    ) {
        let s = sender as usize;
        if self.waiting[s].is_empty() {
            return;
        }
        let mut waiting = std::mem::take(&mut self.waiting[s]);
        for &(entry, stamp) in &waiting {
            let state = &mut self.slots[entry.slot as usize];
            // Another payment's since (the slot was freed and reused), or
            // settled or put back since it was listed.
            if state.stamp != stamp || !std::mem::replace(&mut state.listed, false) {
                continue;
            }
            if !state.parked {
                continue;
            }
            if fits(ledger, max_fen, entry.other, entry.amount_fen) {
                self.unpark(sender, entry.other, &entry, release);
            }
        }
        waiting.clear();
        self.waiting[s] = waiting;
        self.waiting_min_fen[s] = i64::MAX;
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
