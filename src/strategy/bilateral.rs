//! `bilateral`: deferred bilateral net settlement at cycle times. Pairs are
//! settled one after another in ascending `(i, j)` order, so earlier pairs'
//! settlements count for later ones.

use super::dns::{close_pending, settle_marked};
use super::lists::Lists;
use super::{Cycles, Strategy};
use crate::engine::{Ctx, Payment, Sink};
use crate::time::SimTime;

pub struct Bilateral {
    participants: usize,
    /// Held payments (slab slots) in arrival order.
    pending: Vec<u32>,
    cycles: Cycles,
    in_cycle: Vec<bool>,
    by_high: Lists,
    by_pair: Lists,
}

impl Bilateral {
    pub fn new(participants: usize, cycles: Vec<SimTime>) -> Bilateral {
        Bilateral {
            participants,
            pending: Vec::new(),
            cycles: Cycles::new(cycles),
            in_cycle: Vec::new(),
            by_high: Lists::new(),
            by_pair: Lists::new(),
        }
    }

    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    fn run_cycle<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        if self.pending.is_empty() {
            return;
        }
        let slab = &*cx.slab;
        let slots = slab.slot_count();
        if self.in_cycle.len() < slots {
            self.in_cycle.resize(slots, false);
        }
        // Two stable counting sorts give the pending payments grouped by pair
        // in ascending (low, high) order: first by high, then by low.
        let pair = |slot: u32| {
            let payment = slab.get(slot);
            (
                payment.sender.min(payment.receiver),
                payment.sender.max(payment.receiver),
            )
        };
        self.by_high
            .group(self.participants, &self.pending, |slot| [pair(slot).1]);
        self.by_pair
            .group(self.participants, self.by_high.items(), |slot| {
                [pair(slot).0]
            });
        for low in 0..self.participants {
            let list = self.by_pair.list(low);
            let mut start = 0;
            while start < list.len() {
                let high = pair(list[start]).1;
                let mut end = start;
                // Net owed to `low` by `high` over the pair's payments.
                let mut net_fen: i64 = 0;
                while end < list.len() && pair(list[end]).1 == high {
                    let payment = slab.get(list[end]);
                    if payment.receiver as usize == low {
                        net_fen += payment.amount_fen;
                    } else {
                        net_fen -= payment.amount_fen;
                    }
                    end += 1;
                }
                let low = low as u32;
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
                    for &slot in &list[start..end] {
                        self.in_cycle[slot as usize] = true;
                    }
                }
                start = end;
            }
        }
        settle_marked(&mut self.pending, &mut self.in_cycle, cx);
    }
}

impl Strategy for Bilateral {
    #[inline]
    fn arrive<S: Sink>(&mut self, cx: &mut Ctx<S>, payment: Payment) {
        let slot = cx.slab.insert(payment);
        self.pending.push(slot);
    }

    fn next_event(&self) -> Option<SimTime> {
        self.cycles.next_time()
    }

    fn run_event<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        self.cycles.advance();
        self.run_cycle(cx);
    }

    fn close<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        close_pending(&mut self.pending, cx);
    }
}
