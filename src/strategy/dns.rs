//! `dns`: deferred multilateral net settlement at cycle times, with
//! `participant` or `latest` unwinding when a participant is short.

use super::lists::Lists;
use super::pending::Pending;
use super::prefix::PrefixResolver;
use super::{Cycles, Strategy, Unwind};
use crate::engine::{Ctx, Ledger, Payment, Sink};
use crate::time::SimTime;

pub struct Dns {
    pending: Pending,
    cycles: Cycles,
    unwind: Unwind,
    /// Net position of each participant over this cycle's set `C`.
    net_fen: Vec<i64>,
    /// Net position over all pending payments, kept up to date on arrival so
    /// that a cycle where nobody is short needs no pass to compute it.
    pending_net_fen: Vec<i64>,
    short: Vec<u32>,
    touched: Vec<u32>,
    is_touched: Vec<bool>,
    involved: Lists,
    resolver: PrefixResolver,
}

impl Dns {
    pub fn new(participants: usize, cycles: Vec<SimTime>, unwind: Unwind) -> Dns {
        Dns {
            pending: Pending::default(),
            cycles: Cycles::new(cycles),
            unwind,
            net_fen: vec![0; participants],
            pending_net_fen: vec![0; participants],
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

    /// Nets of all pending payments (kept on arrival); fills `short` with
    /// every short participant.
    fn net_all(&mut self, ledger: &Ledger) {
        self.net_fen.copy_from_slice(&self.pending_net_fen);
        self.short.clear();
        for (i, &net_fen) in self.net_fen.iter().enumerate() {
            // A defaulted participant is unwound like a short one.
            if ledger.is_short(i as u32, net_fen) || ledger.is_frozen(i as u32) {
                self.short.push(i as u32);
            }
        }
    }

    /// `participant` unwinding: every short participant's payments, sent or
    /// received, leave `C` at once; repeat until nobody is short. Bounded:
    /// a participant whose payments all left is never short again, so each
    /// round retires at least one participant.
    fn unwind_participants(&mut self, ledger: &Ledger) {
        let participants = self.net_fen.len();
        let payments = &self.pending.payments;
        self.involved.group(participants, self.pending.ids(), |id| {
            let payment = &payments[id as usize];
            [payment.sender, payment.receiver]
        });
        while !self.short.is_empty() {
            self.touched.clear();
            for index in 0..self.short.len() {
                let participant = self.short[index] as usize;
                for position in 0..self.involved.list(participant).len() {
                    let id = self.involved.list(participant)[position];
                    if self.pending.is_marked(id) {
                        self.pending.set_marked(id, false);
                        let payment = self.pending.payments[id as usize];
                        self.net_fen[payment.sender as usize] += payment.amount_fen;
                        self.net_fen[payment.receiver as usize] -= payment.amount_fen;
                        self.touch(payment.sender);
                        self.touch(payment.receiver);
                    }
                }
            }
            self.short.clear();
            for index in 0..self.touched.len() {
                let i = self.touched[index];
                self.is_touched[i as usize] = false;
                if ledger.is_short(i, self.net_fen[i as usize]) {
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
    fn unwind_latest(&mut self, ledger: &Ledger) {
        let participants = self.net_fen.len();
        let payments = self.pending.payments.as_slice();
        let resolver = &mut self.resolver;
        resolver
            .lists
            .group(participants, self.pending.ids(), |id| {
                [payments[id as usize].sender]
            });
        resolver.lists.sort_into_queue_order(payments);
        resolver.resolve(ledger, payments);
        for i in 0..participants {
            for &id in &resolver.lists.list(i)[resolver.kept(i).len()..] {
                self.pending.set_marked(id, false);
            }
        }
        self.net_fen.copy_from_slice(resolver.net_fen());
    }

    fn run_cycle<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        if self.pending.is_empty() {
            return;
        }
        self.net_all(cx.ledger);
        self.pending.mark_all(true);
        if !self.short.is_empty() {
            match self.unwind {
                Unwind::Participant => self.unwind_participants(cx.ledger),
                Unwind::Latest => self.unwind_latest(cx.ledger),
            }
        }
        self.pending.settle_marked(cx);
        // What stays pending nets to the old total less what settled.
        for (i, &net_fen) in self.net_fen.iter().enumerate() {
            if net_fen != 0 {
                cx.ledger.apply_net(i as u32, net_fen);
                self.pending_net_fen[i] -= net_fen;
            }
        }
        debug_assert!(!self.pending.is_empty() || self.pending_net_fen.iter().all(|&n| n == 0));
    }
}

impl Strategy for Dns {
    #[inline]
    fn arrive<S: Sink>(&mut self, _cx: &mut Ctx<S>, payment: Payment) {
        self.pending_net_fen[payment.sender as usize] -= payment.amount_fen;
        self.pending_net_fen[payment.receiver as usize] += payment.amount_fen;
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

    fn reserve(&mut self, payments: usize) {
        self.pending.payments.reserve(payments);
    }
}
