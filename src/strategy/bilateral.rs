//! `bilateral`: deferred bilateral net settlement at cycle times. Pairs are
//! settled one after another in ascending `(i, j)` order, so earlier pairs'
//! settlements count for later ones.

use super::pending::Pending;
use super::{Cycles, Strategy};
use crate::engine::{Ctx, Payment, Sink};
use crate::time::SimTime;

pub struct Bilateral {
    participants: u64,
    pending: Pending,
    cycles: Cycles,
    /// (pair key, pending id), sorted by key at each cycle.
    by_pair: Vec<(u64, u32)>,
    scratch: Vec<(u64, u32)>,
}

/// Bits of the pair key sorted per radix pass (2,048 buckets).
const RADIX_BITS: u32 = 11;

impl Bilateral {
    pub fn new(participants: usize, cycles: Vec<SimTime>) -> Bilateral {
        Bilateral {
            participants: participants as u64,
            pending: Pending::default(),
            cycles: Cycles::new(cycles),
            by_pair: Vec::new(),
            scratch: Vec::new(),
        }
    }

    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// `low · participants + high`: ascending keys are ascending `(i, j)`.
    fn pair_key(&self, payment: &Payment) -> u64 {
        let (low, high) = if payment.sender < payment.receiver {
            (payment.sender, payment.receiver)
        } else {
            (payment.receiver, payment.sender)
        };
        u64::from(low) * self.participants + u64::from(high)
    }

    /// Sorts the pending payments by pair with an LSD radix sort: linear in
    /// the number of payments, a few passes over a flat vector.
    fn sort_by_pair(&mut self) {
        self.by_pair.clear();
        for (id, payment) in self.pending.payments.iter().enumerate() {
            self.by_pair.push((self.pair_key(payment), id as u32));
        }
        let max_key = self.participants * self.participants;
        let passes = (u64::BITS - max_key.leading_zeros()).div_ceil(RADIX_BITS);
        let mut counts = [0usize; 1 << RADIX_BITS];
        for pass in 0..passes {
            let shift = pass * RADIX_BITS;
            let digit = |key: u64| ((key >> shift) & ((1 << RADIX_BITS) - 1)) as usize;
            counts.fill(0);
            for &(key, _) in &self.by_pair {
                counts[digit(key)] += 1;
            }
            let mut offset = 0;
            for count in counts.iter_mut() {
                let here = *count;
                *count = offset;
                offset += here;
            }
            self.scratch.clear();
            self.scratch.resize(self.by_pair.len(), (0, 0));
            for &entry in &self.by_pair {
                let bucket = &mut counts[digit(entry.0)];
                self.scratch[*bucket] = entry;
                *bucket += 1;
            }
            std::mem::swap(&mut self.by_pair, &mut self.scratch);
        }
    }

    fn run_cycle<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        if self.pending.is_empty() {
            return;
        }
        self.sort_by_pair();
        self.pending.mark_all(false);
        let mut start = 0;
        while start < self.by_pair.len() {
            let key = self.by_pair[start].0;
            let low = (key / self.participants) as u32;
            let high = (key % self.participants) as u32;
            // Net owed to `low` by `high` over the pair's pending payments.
            let mut net_fen: i64 = 0;
            let mut end = start;
            while end < self.by_pair.len() && self.by_pair[end].0 == key {
                let payment = &self.pending.payments[self.by_pair[end].1 as usize];
                if payment.receiver == low {
                    net_fen += payment.amount_fen;
                } else {
                    net_fen -= payment.amount_fen;
                }
                end += 1;
            }
            let settles = match net_fen.cmp(&0) {
                std::cmp::Ordering::Equal => true,
                std::cmp::Ordering::Less => cx.ledger.affordable(low, -net_fen),
                std::cmp::Ordering::Greater => cx.ledger.affordable(high, net_fen),
            };
            if settles {
                if net_fen < 0 {
                    cx.ledger.transfer(low, high, -net_fen);
                } else if net_fen > 0 {
                    cx.ledger.transfer(high, low, net_fen);
                }
                for &(_, id) in &self.by_pair[start..end] {
                    self.pending.set_marked(id, true);
                }
            }
            start = end;
        }
        self.pending.settle_marked(cx);
    }
}

impl Strategy for Bilateral {
    #[inline]
    fn arrive<S: Sink>(&mut self, _cx: &mut Ctx<S>, payment: Payment) {
        self.pending.push(payment);
    }

    fn next_event(&self) -> Option<SimTime> {
        self.cycles.next_time()
    }

    fn run_event<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        self.cycles.advance();
        self.run_cycle(cx);
    }

    fn close<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        self.pending.close(cx);
    }
}
