//! Bypass FIFO's bookkeeping: which senders a release pass must scan
//! ([`Passes`]), and each sender's queue indexed by amount
//! ([`AmountIndex`]), so that a scan visits only the payments it can pay.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::ledger::Payment;

/// Release passes of bypass FIFO: senders are scanned in index order; one
/// credited during a pass is scanned later in the same pass if its index is
/// higher than the sender being scanned, else in the next pass. A sender not
/// credited since its last scan (and with no new payment) can settle nothing
/// more, so only those marked are scanned: the outcome is that of full
/// passes over every sender, at the cost of the marked ones.
pub(super) struct Passes {
    this_pass: BinaryHeap<Reverse<u32>>,
    next_pass: Vec<u32>,
    in_this: Vec<bool>,
    in_next: Vec<bool>,
    /// The sender being scanned, during a release.
    pub(super) current: Option<u32>,
}

impl Passes {
    pub(super) fn new(participants: usize) -> Passes {
        Passes {
            this_pass: BinaryHeap::with_capacity(participants),
            next_pass: Vec::with_capacity(participants),
            in_this: vec![false; participants],
            in_next: vec![false; participants],
            current: None,
        }
    }

    pub(super) fn mark(&mut self, participant: u32) {
        let i = participant as usize;
        match self.current {
            Some(current) if participant <= current => {
                if !self.in_next[i] {
                    self.in_next[i] = true;
                    self.next_pass.push(participant);
                }
            }
            _ => {
                if !self.in_this[i] {
                    self.in_this[i] = true;
                    self.this_pass.push(Reverse(participant));
                }
            }
        }
    }

    /// Whether no sender is marked: the last release drained.
    pub(super) fn is_idle(&self) -> bool {
        self.this_pass.is_empty() && self.next_pass.is_empty()
    }

    /// The next sender to scan, starting a new pass when this one is done.
    pub(super) fn next(&mut self) -> Option<u32> {
        if self.this_pass.is_empty() {
            self.current = None;
            for participant in self.next_pass.drain(..) {
                self.in_next[participant as usize] = false;
                self.in_this[participant as usize] = true;
                self.this_pass.push(Reverse(participant));
            }
        }
        let Reverse(participant) = self.this_pass.pop()?;
        self.in_this[participant as usize] = false;
        self.current = Some(participant);
        Some(participant)
    }
}

/// A payment [`AmountIndex::park`] took out of scans.
pub(super) struct Parked {
    pub(super) slot: u32,
    pub(super) sender: u32,
    pub(super) receiver: u32,
    pub(super) amount_fen: i64,
}

/// A queued payment within reach of a scan.
pub(super) struct Candidate {
    pub(super) position: usize,
    pub(super) slot: u32,
    pub(super) receiver: u32,
}

/// Leaves per block: a scan reads a block's amounts in a row (two cache
/// lines), and the tree above holds one minimum per block.
const BLOCK: usize = 16;
/// Marks a removed position: no amount is ever paid against it.
const GONE: i64 = i64::MAX;
/// Marks a parked position (see [`AmountIndex::park`]): above any amount
/// parked, so the tree's minima pass it over.
const PARKED: i64 = i64::MAX - 1;
/// Each sender's queued payments, per priority level in queue order, with
/// the minimum amount of every block of positions kept in a tree.
///
/// A bypass scan with `x` available settles, in queue order, every payment
/// affordable when reached; the next one it settles is the first at or after
/// its position whose amount is ≤ what is left, which the tree finds in
/// O(log n). A scan therefore costs O((settled + 1) · log n) instead of the
/// queue's length: long queues behind a small credit are no longer rescanned
/// whole (the cliff of issue 11). The slab's links stay the queues' truth
/// for gridlock runs and offsetting sets; this index follows every change.
#[derive(Default)]
pub(super) struct AmountIndex {
    /// Per sender, its levels in queue order (priority descending).
    senders: Vec<Vec<Level>>,
    /// Per slab slot: its position in its level (while it is queued).
    position: Vec<u32>,
    /// Per sender, the smallest queued amount (`GONE` for none): read on
    /// every credit, so kept flat rather than behind its levels.
    min_fen: Vec<i64>,
}

/// The payments of one (sender, priority): an append-only run of positions,
/// compacted when more than half are gone.
#[derive(Default)]
struct Level {
    priority: u8,
    slots: Vec<u32>,
    /// Per position, the payment's receiver, so that a scan can test a
    /// candidate against maximum positions and limits without reading the
    /// slab.
    receivers: Vec<u32>,
    amounts_fen: Vec<i64>,
    /// Minimum per block, as an implicit binary tree over a power-of-two
    /// number of blocks (node 1 the root, node `k`'s children `2k`, `2k+1`).
    tree: Vec<i64>,
    blocks: usize,
    live: usize,
}

impl AmountIndex {
    pub(super) fn new(participants: usize) -> AmountIndex {
        AmountIndex {
            senders: (0..participants).map(|_| Vec::new()).collect(),
            position: Vec::new(),
            min_fen: vec![GONE; participants],
        }
    }

    /// Appends a payment at the end of its (sender, priority) level: arrivals
    /// come in processing order, so that is its queue-order place.
    pub(super) fn push(&mut self, payment: &Payment, slot: u32) {
        let (sender, priority) = (payment.sender, payment.priority);
        let levels = &mut self.senders[sender as usize];
        let at = levels.partition_point(|level| level.priority > priority);
        if levels
            .get(at)
            .is_none_or(|level| level.priority != priority)
        {
            levels.insert(
                at,
                Level {
                    priority,
                    ..Level::default()
                },
            );
        }
        let level = &mut levels[at];
        if level.slots.len() == level.capacity() {
            level.make_room(&mut self.position);
        }
        let position = level.slots.len();
        level.slots.push(slot);
        level.receivers.push(payment.receiver);
        level.amounts_fen[position] = payment.amount_fen;
        level.live += 1;
        level.update(position);
        if self.position.len() <= slot as usize {
            self.position.resize(slot as usize + 1, 0);
        }
        self.position[slot as usize] = position as u32;
        let min_fen = &mut self.min_fen[sender as usize];
        *min_fen = (*min_fen).min(payment.amount_fen);
    }

    /// Takes a queued payment out of the index (before its slot is freed).
    pub(super) fn remove(&mut self, sender: u32, priority: u8, slot: u32) {
        let position = self.position[slot as usize] as usize;
        let level = self.level_mut(sender, priority);
        crate::invariant_eq!(level.slots[position], slot);
        level.amounts_fen[position] = GONE;
        level.live -= 1;
        if level.live == 0 {
            // Empty: start again at position 0 (every amount is GONE already).
            level.slots.clear();
            level.receivers.clear();
        }
        level.update(position);
        self.refresh_min(sender);
    }

    /// Takes `sender`'s payment at `position` of its `level`-th level out of
    /// scans until [`unpark`](Self::unpark) puts it back: under `chips` its
    /// receiver refused it, and a payment to a receiver at its maximum
    /// would otherwise be read again at every scan of its sender. Returns
    /// it, or `None` if it cannot be marked (gone, parked already, or an
    /// amount too large to tell from the mark: it stays in scans).
    pub(super) fn park(&mut self, sender: u32, level: usize, position: usize) -> Option<Parked> {
        let level = &mut self.senders[sender as usize][level];
        let amount_fen = level.amounts_fen[position];
        if amount_fen >= PARKED {
            return None;
        }
        level.amounts_fen[position] = PARKED;
        level.update(position);
        let parked = Parked {
            slot: level.slots[position],
            sender,
            receiver: level.receivers[position],
            amount_fen,
        };
        self.refresh_min(sender);
        Some(parked)
    }

    /// [`park`](Self::park) by slot: the queued `payment` in `slot`.
    pub(super) fn park_slot(&mut self, payment: &Payment, slot: u32) -> Option<Parked> {
        let level = self.level_index(payment.sender, payment.priority);
        let position = self.position[slot as usize] as usize;
        self.park(payment.sender, level, position)
    }

    /// Puts the parked payment in `slot` (of `sender`, `priority`,
    /// `amount_fen`) back into scans.
    pub(super) fn unpark(&mut self, slot: u32, sender: u32, priority: u8, amount_fen: i64) {
        let position = self.position[slot as usize] as usize;
        let level = self.level_mut(sender, priority);
        crate::invariant!(
            level.slots[position] == slot && level.amounts_fen[position] == PARKED,
            "a parked payment is parked in its level"
        );
        level.amounts_fen[position] = amount_fen;
        level.update(position);
        let min_fen = &mut self.min_fen[sender as usize];
        *min_fen = (*min_fen).min(amount_fen);
    }

    fn refresh_min(&mut self, sender: u32) {
        self.min_fen[sender as usize] = self.senders[sender as usize]
            .iter()
            .map(Level::min_fen)
            .min()
            .unwrap_or(GONE);
    }

    /// The smallest queued amount of `sender`, or `i64::MAX` for none.
    #[inline]
    pub(super) fn min_fen(&self, sender: u32) -> i64 {
        self.min_fen[sender as usize]
    }

    /// How many priority levels `sender` has (some may be empty).
    pub(super) fn levels(&self, sender: u32) -> usize {
        self.senders[sender as usize].len()
    }

    /// The first payment of `sender`'s `level`-th level at or after
    /// `from` whose amount is at most `max_fen` and which `fits` accepts
    /// (called with position, receiver and amount, in queue order, for
    /// each payment within reach until one is accepted).
    pub(super) fn first_within(
        &self,
        sender: u32,
        level: usize,
        from: usize,
        max_fen: i64,
        fits: impl FnMut(usize, u32, i64) -> bool,
    ) -> Option<Candidate> {
        let level = &self.senders[sender as usize][level];
        let position = level.first_within(from, max_fen, fits)?;
        Some(Candidate {
            position,
            slot: level.slots[position],
            receiver: level.receivers[position],
        })
    }

    fn level_mut(&mut self, sender: u32, priority: u8) -> &mut Level {
        let at = self.level_index(sender, priority);
        &mut self.senders[sender as usize][at]
    }

    /// Which of `sender`'s levels holds its payments of `priority`.
    fn level_index(&self, sender: u32, priority: u8) -> usize {
        let levels = &self.senders[sender as usize];
        let at = levels.partition_point(|level| level.priority > priority);
        crate::invariant!(
            levels
                .get(at)
                .is_some_and(|level| level.priority == priority),
            "payment of priority {priority} not in the index of sender {sender}"
        );
        at
    }
}

impl Level {
    fn capacity(&self) -> usize {
        self.blocks * BLOCK
    }

    fn min_fen(&self) -> i64 {
        self.tree.get(1).copied().unwrap_or(GONE)
    }

    /// Full: compacts the live payments to the front when at most half the
    /// positions are live, else doubles the capacity. Either way the tree is
    /// rebuilt; amortised O(1) per push.
    fn make_room(&mut self, position: &mut [u32]) {
        if self.blocks > 0 && 2 * self.live <= self.slots.len() {
            let mut kept = 0;
            for at in 0..self.slots.len() {
                if self.amounts_fen[at] != GONE {
                    self.slots[kept] = self.slots[at];
                    self.receivers[kept] = self.receivers[at];
                    self.amounts_fen[kept] = self.amounts_fen[at];
                    position[self.slots[kept] as usize] = kept as u32;
                    kept += 1;
                }
            }
            self.slots.truncate(kept);
            self.receivers.truncate(kept);
            self.amounts_fen[kept..].fill(GONE);
        } else {
            self.blocks = (2 * self.blocks).max(1);
            self.amounts_fen.resize(self.capacity(), GONE);
        }
        self.tree.clear();
        self.tree.resize(2 * self.blocks, GONE);
        for block in 0..self.blocks {
            self.tree[self.blocks + block] = self.block_min(block);
        }
        for node in (1..self.blocks).rev() {
            self.tree[node] = self.tree[2 * node].min(self.tree[2 * node + 1]);
        }
    }

    fn block_min(&self, block: usize) -> i64 {
        let start = block * BLOCK;
        self.amounts_fen[start..start + BLOCK]
            .iter()
            .copied()
            .min()
            .unwrap_or(GONE)
    }

    /// Refreshes the minima above `position` after its amount changed.
    fn update(&mut self, position: usize) {
        let block = position / BLOCK;
        let mut node = self.blocks + block;
        self.tree[node] = self.block_min(block);
        while node > 1 {
            node /= 2;
            self.tree[node] = self.tree[2 * node].min(self.tree[2 * node + 1]);
        }
    }

    /// Reads amounts in a row, and jumps over blocks whose minimum is out
    /// of reach with the tree: the payments `fits` refuses (beyond a limit,
    /// or until parked a receiver's maximum) cost one comparison each, the
    /// others one descent per block skipped.
    fn first_within(
        &self,
        from: usize,
        max_fen: i64,
        mut fits: impl FnMut(usize, u32, i64) -> bool,
    ) -> Option<usize> {
        let len = self.slots.len();
        let mut at = from;
        // Bounded: `at` grows every iteration.
        while at < len {
            if at.is_multiple_of(BLOCK) && self.tree[self.blocks + at / BLOCK] > max_fen {
                let block = self.first_block_within(1, 0, self.blocks, at / BLOCK + 1, max_fen)?;
                at = block * BLOCK;
                continue;
            }
            let amount_fen = self.amounts_fen[at];
            if amount_fen <= max_fen
                && amount_fen < PARKED
                && fits(at, self.receivers[at], amount_fen)
            {
                return Some(at);
            }
            at += 1;
        }
        None
    }

    /// The first block at or after `from` in node's span [lo, hi) whose
    /// minimum is at most `max_fen`. Depth: log2 of the block count.
    fn first_block_within(
        &self,
        node: usize,
        lo: usize,
        hi: usize,
        from: usize,
        max_fen: i64,
    ) -> Option<usize> {
        if hi <= from || self.tree[node] > max_fen {
            return None;
        }
        if hi - lo == 1 {
            return Some(lo);
        }
        let mid = (lo + hi) / 2;
        self.first_block_within(2 * node, lo, mid, from, max_fen)
            .or_else(|| self.first_block_within(2 * node + 1, mid, hi, from, max_fen))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimTime;

    fn payment(sender: u32, priority: u8, amount_fen: i64) -> Payment {
        Payment {
            priority,
            ..Payment::new(SimTime(0), sender, sender + 1, amount_fen)
        }
    }

    /// The index agrees with a plain scan of a vector through pushes,
    /// removals, compactions and growth.
    #[test]
    fn finds_what_a_scan_finds() {
        let mut index = AmountIndex::new(1);
        let mut naive: Vec<(u32, i64)> = Vec::new();
        let mut state = 12_345u64;
        let mut draw = |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 33) % n
        };
        let mut next_slot = 0u32;
        for _ in 0..20_000 {
            if naive.is_empty() || draw(3) > 0 {
                let amount = 1 + draw(1_000) as i64;
                index.push(&payment(0, 0, amount), next_slot);
                naive.push((next_slot, amount));
                next_slot += 1;
            } else {
                let victim = draw(naive.len() as u64) as usize;
                let (slot, _) = naive.remove(victim);
                index.remove(0, 0, slot);
            }
            let max = draw(1_000) as i64;
            let expected = naive.iter().find(|&&(_, a)| a <= max).map(|&(s, _)| s);
            let found = index
                .first_within(0, 0, 0, max, |_, _, _| true)
                .map(|c| c.slot);
            assert_eq!(found, expected);
            let min = naive.iter().map(|&(_, a)| a).min().unwrap_or(GONE);
            assert_eq!(index.min_fen(0), min);
        }
    }

    /// Levels keep queue order: higher priority first.
    #[test]
    fn levels_in_priority_order() {
        let mut index = AmountIndex::new(2);
        index.push(&payment(1, 0, 50), 7);
        index.push(&payment(1, 9, 60), 8);
        index.push(&payment(1, 3, 70), 9);
        assert_eq!(index.levels(1), 3);
        let firsts: Vec<u32> = (0..3)
            .filter_map(|level| {
                index
                    .first_within(1, level, 0, 100, |_, _, _| true)
                    .map(|c| c.slot)
            })
            .collect();
        assert_eq!(firsts, [8, 9, 7]);
        assert_eq!(index.min_fen(1), 50);
        assert_eq!(index.min_fen(0), GONE);
    }
}
