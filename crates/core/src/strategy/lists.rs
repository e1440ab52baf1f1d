//! Per-participant lists of held payments, built in one linear pass.
//!
//! Netting cycles and gridlock runs need the held payments grouped by
//! participant. A stable counting sort does that in O(payments + participants)
//! with buffers reused from one cycle to the next.

use crate::ledger::{Held, Payment};

/// Compressed lists: the payments (slab slots) of participant `i` are
/// `items[start[i]..start[i + 1]]`.
#[derive(Debug, Default)]
pub struct Lists {
    start: Vec<u32>,
    items: Vec<u32>,
}

impl Lists {
    pub fn new() -> Lists {
        Lists::default()
    }

    pub fn participant_count(&self) -> usize {
        self.start.len().saturating_sub(1)
    }

    pub fn list(&self, participant: usize) -> &[u32] {
        &self.items[self.start[participant] as usize..self.start[participant + 1] as usize]
    }

    pub fn list_mut(&mut self, participant: usize) -> &mut [u32] {
        let range = self.start[participant] as usize..self.start[participant + 1] as usize;
        &mut self.items[range]
    }

    /// Groups payment ids by the participant(s) each one belongs to: an id is
    /// put in the list of every participant `key` returns for it (`K` of
    /// them). Stable: within a list, ids keep their order in `ids`.
    pub fn group<const K: usize, I>(
        &mut self,
        participants: usize,
        ids: I,
        key: impl Fn(u32) -> [u32; K],
    ) where
        I: ExactSizeIterator<Item = u32> + Clone,
    {
        self.start.clear();
        self.start.resize(participants + 1, 0);
        let count = ids.len();
        for slot in ids.clone() {
            for participant in key(slot) {
                self.start[participant as usize + 1] += 1;
            }
        }
        for i in 0..participants {
            self.start[i + 1] += self.start[i];
        }
        self.items.clear();
        self.items.resize(count * K, 0);
        // `start[i]` serves as the insertion cursor of list i, then is restored.
        for slot in ids {
            for participant in key(slot) {
                let cursor = &mut self.start[participant as usize];
                self.items[*cursor as usize] = slot;
                *cursor += 1;
            }
        }
        for i in (1..=participants).rev() {
            self.start[i] = self.start[i - 1];
        }
        self.start[0] = 0;
    }

    /// Builds the lists participant by participant: `fill(i, items)` appends
    /// the slots of participant `i` in order.
    pub fn build(&mut self, participants: usize, mut fill: impl FnMut(u32, &mut Vec<u32>)) {
        self.start.clear();
        self.items.clear();
        self.start.push(0);
        for i in 0..participants {
            fill(i as u32, &mut self.items);
            self.start.push(self.items.len() as u32);
        }
    }

    /// Sorts every list into queue order: priority descending, then arrival
    /// (the payment key). Lists already in order (the common case: one
    /// priority) are only scanned.
    pub fn sort_into_queue_order<H: Held + ?Sized>(&mut self, held: &H) {
        let order = |id: &u32| {
            let payment: &Payment = held.payment(*id);
            (std::cmp::Reverse(payment.priority), payment.key)
        };
        for i in 0..self.participant_count() {
            let list = self.list_mut(i);
            if !list.is_sorted_by_key(order) {
                list.sort_unstable_by_key(order);
            }
        }
    }
}

/// The participants whose net position changed in one round of a fixed
/// point, each listed once in order of first touch (the only ones that need
/// looking at again).
#[derive(Debug, Default)]
pub struct Touched {
    list: Vec<u32>,
    flag: Vec<bool>,
}

impl Touched {
    /// Empty, for `participants` accounts.
    pub fn reset(&mut self, participants: usize) {
        self.list.clear();
        self.flag.clear();
        self.flag.resize(participants, false);
    }

    #[inline]
    pub fn touch(&mut self, participant: u32) {
        let flag = &mut self.flag[participant as usize];
        if !*flag {
            *flag = true;
            self.list.push(participant);
        }
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// The `index`-th participant touched.
    pub fn get(&self, index: usize) -> u32 {
        self.list[index]
    }

    /// Empties the set for the next round.
    pub fn clear(&mut self) {
        for &participant in &self.list {
            self.flag[participant as usize] = false;
        }
        self.list.clear();
    }
}
