//! `dns`: deferred multilateral net settlement at cycle times, with
//! `participant` or `latest` unwinding when a participant is short.

use super::lists::Lists;
use super::prefix::PrefixResolver;
use super::{Cycles, Strategy, Unwind};
use crate::engine::{Ctx, Ledger, Payment, Sink, Slab};
use crate::time::SimTime;

pub struct Dns {
    /// Held payments (slab slots) in arrival order.
    pending: Vec<u32>,
    cycles: Cycles,
    unwind: Unwind,
    /// Per slot: is the payment in this cycle's settlement set `C`?
    in_cycle: Vec<bool>,
    net_fen: Vec<i64>,
    short: Vec<u32>,
    touched: Vec<u32>,
    is_touched: Vec<bool>,
    involved: Lists,
    resolver: PrefixResolver,
}

impl Dns {
    pub fn new(participants: usize, cycles: Vec<SimTime>, unwind: Unwind) -> Dns {
        Dns {
            pending: Vec::new(),
            cycles: Cycles::new(cycles),
            unwind,
            in_cycle: Vec::new(),
            net_fen: vec![0; participants],
            short: Vec::new(),
            touched: Vec::new(),
            is_touched: vec![false; participants],
            involved: Lists::new(),
            resolver: PrefixResolver::new(),
        }
    }

    /// Payments waiting for a cycle.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    fn is_short(&self, ledger: &Ledger, participant: u32) -> bool {
        ledger.is_short(participant, self.net_fen[participant as usize])
    }

    /// Nets of all pending payments; fills `short` with every short participant.
    fn net_all(&mut self, ledger: &Ledger, slab: &Slab) {
        self.net_fen.fill(0);
        for &slot in &self.pending {
            let payment = slab.get(slot);
            self.net_fen[payment.sender as usize] -= payment.amount_fen;
            self.net_fen[payment.receiver as usize] += payment.amount_fen;
        }
        self.short.clear();
        for i in 0..self.net_fen.len() {
            if self.is_short(ledger, i as u32) {
                self.short.push(i as u32);
            }
        }
    }

    /// `participant` unwinding: every short participant's payments, sent or
    /// received, leave `C` at once; repeat until nobody is short. Bounded:
    /// every round removes at least one participant's payments for good.
    fn unwind_participants(&mut self, ledger: &Ledger, slab: &Slab) {
        let participants = self.net_fen.len();
        self.involved.group(participants, &self.pending, |slot| {
            let payment = slab.get(slot);
            [payment.sender, payment.receiver]
        });
        while !self.short.is_empty() {
            self.touched.clear();
            for index in 0..self.short.len() {
                let participant = self.short[index] as usize;
                for position in 0..self.involved.list(participant).len() {
                    let slot = self.involved.list(participant)[position];
                    if !self.in_cycle[slot as usize] {
                        continue;
                    }
                    self.in_cycle[slot as usize] = false;
                    let payment = slab.get(slot);
                    self.net_fen[payment.sender as usize] += payment.amount_fen;
                    self.net_fen[payment.receiver as usize] -= payment.amount_fen;
                    self.touch(payment.sender);
                    self.touch(payment.receiver);
                }
            }
            self.short.clear();
            for index in 0..self.touched.len() {
                let i = self.touched[index];
                self.is_touched[i as usize] = false;
                if self.is_short(ledger, i) {
                    self.short.push(i);
                }
            }
        }
    }

    fn touch(&mut self, participant: u32) {
        let flag = &mut self.is_touched[participant as usize];
        if !*flag {
            *flag = true;
            self.touched.push(participant);
        }
    }

    /// `latest` unwinding: the shared prefix fixed point over each sender's
    /// pending payments in queue order.
    fn unwind_latest(&mut self, ledger: &Ledger, slab: &Slab) {
        let participants = self.net_fen.len();
        let resolver = &mut self.resolver;
        resolver
            .lists
            .group(participants, &self.pending, |slot| [slab.get(slot).sender]);
        resolver.lists.sort_into_queue_order(slab);
        resolver.resolve(ledger, slab);
        for i in 0..participants {
            for &slot in &resolver.lists.list(i)[resolver.kept(i).len()..] {
                self.in_cycle[slot as usize] = false;
            }
        }
        self.net_fen.copy_from_slice(resolver.net_fen());
    }

    fn run_cycle<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        if self.pending.is_empty() {
            return;
        }
        self.net_all(cx.ledger, cx.slab);
        let slots = cx.slab.slot_count();
        if self.in_cycle.len() < slots {
            self.in_cycle.resize(slots, false);
        }
        for &slot in &self.pending {
            self.in_cycle[slot as usize] = true;
        }
        if !self.short.is_empty() {
            match self.unwind {
                Unwind::Participant => self.unwind_participants(cx.ledger, cx.slab),
                Unwind::Latest => self.unwind_latest(cx.ledger, cx.slab),
            }
        }
        settle_marked(&mut self.pending, &mut self.in_cycle, cx);
        for (i, &net_fen) in self.net_fen.iter().enumerate() {
            if net_fen != 0 {
                cx.ledger.apply_net(i as u32, net_fen);
            }
        }
    }
}

/// Settles (in arrival order) every pending slot marked in `marked`, keeps
/// the others pending, and clears the marks.
pub(super) fn settle_marked<S: Sink>(pending: &mut Vec<u32>, marked: &mut [bool], cx: &mut Ctx<S>) {
    pending.retain(|&slot| {
        if !marked[slot as usize] {
            return true;
        }
        marked[slot as usize] = false;
        let payment = cx.slab.remove(slot);
        cx.sink.settled(&payment, cx.now);
        false
    });
}

/// Day end for a deferred channel: everything pending is unsettled.
pub(super) fn close_pending<S: Sink>(pending: &mut Vec<u32>, cx: &mut Ctx<S>) {
    for &slot in pending.iter() {
        let payment = cx.slab.remove(slot);
        cx.sink.unsettled(&payment);
    }
    pending.clear();
}

impl Strategy for Dns {
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
