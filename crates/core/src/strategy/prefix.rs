//! The "remove the last payment of every short participant" fixed point.
//!
//! Both the gridlock run of `rtgs` and the `latest` unwinding of `dns` start
//! from a set `C` of held payments, computed per participant as lists in queue
//! order, and repeat: compute each participant's net over `C`; let `D` be the
//! participants whose available liquidity cannot cover their net debit; for
//! every member of `D` at once drop the last of its payments still in `C`.
//! `C` therefore always holds a prefix of every list.

use super::lists::{Lists, Touched};
use crate::ledger::{Held, Ledger};

#[derive(Debug, Default)]
pub struct PrefixResolver {
    pub lists: Lists,
    /// Length of the prefix of each list that stays in `C`.
    kept: Vec<u32>,
    /// Net position of each participant over `C` (received − sent).
    net_fen: Vec<i64>,
    short: Vec<u32>,
    touched: Touched,
}

impl PrefixResolver {
    pub fn new() -> PrefixResolver {
        PrefixResolver::default()
    }

    /// Runs the fixed point over `self.lists` (one list per participant, in
    /// queue order); read the outcome with [`kept`](Self::kept) and
    /// [`net_fen`](Self::net_fen). Before each round `accept(short, net)` may
    /// end it early, leaving the short participants in [`short`](Self::short)
    /// (a guarantee fund covering them); `|_, _| false` runs it to the end.
    pub fn resolve_until<H, F>(&mut self, ledger: &Ledger, held: &H, accept: F)
    where
        H: Held + ?Sized,
        F: FnMut(&[u32], &[i64]) -> bool,
    {
        self.resolve_with(ledger, held, |_, _, _| false, accept);
    }

    /// The general fixed point: a participant with a payment of its own left
    /// in `C` also counts as short when `also_short(self, participant,
    /// net_fen)` says so (a sender limit it would breach); `accept` as for
    /// [`resolve_until`](Self::resolve_until).
    pub fn resolve_with<H, X, F>(&mut self, ledger: &Ledger, held: &H, also_short: X, mut accept: F)
    where
        H: Held + ?Sized,
        X: Fn(&PrefixResolver, u32, i64) -> bool,
        F: FnMut(&[u32], &[i64]) -> bool,
    {
        let participants = self.lists.participant_count();
        self.net_fen.clear();
        self.net_fen.resize(participants, 0);
        self.kept.clear();
        self.touched.reset(participants);
        for i in 0..participants {
            let list = self.lists.list(i);
            self.kept.push(list.len() as u32);
            for &id in list {
                let payment = held.payment(id);
                self.net_fen[payment.sender as usize] -= payment.amount_fen;
                self.net_fen[payment.receiver as usize] += payment.amount_fen;
            }
        }
        self.short.clear();
        for i in 0..participants {
            if self.is_short(ledger, i as u32, &also_short) {
                self.short.push(i as u32);
            }
        }
        // Every round drops at least one payment, so the loop is bounded by
        // the number of payments in the lists.
        while !self.short.is_empty() && !accept(&self.short, &self.net_fen) {
            self.touched.clear();
            for index in 0..self.short.len() {
                let i = self.short[index];
                self.drop_last(held, i);
            }
            self.short.clear();
            for index in 0..self.touched.len() {
                let i = self.touched.get(index);
                if self.is_short(ledger, i, &also_short) {
                    self.short.push(i);
                }
            }
        }
    }

    /// A participant is short when its available liquidity cannot cover its
    /// net debit over `C`. Available liquidity is never negative, so a short
    /// participant always has a payment of its own left to drop.
    /// A defaulted participant counts as short while it still has a payment
    /// of its own in `C`: its payments are never released, net or gross.
    fn is_short<X>(&self, ledger: &Ledger, participant: u32, also_short: &X) -> bool
    where
        X: Fn(&PrefixResolver, u32, i64) -> bool,
    {
        let i = participant as usize;
        ledger.is_short(participant, self.net_fen[i])
            || (self.kept[i] > 0
                && (ledger.is_frozen(participant)
                    || also_short(self, participant, self.net_fen[i])))
    }

    fn drop_last<H: Held + ?Sized>(&mut self, held: &H, participant: u32) {
        let i = participant as usize;
        crate::invariant!(
            self.kept[i] > 0,
            "a short participant has a payment to drop"
        );
        let Some(last) = self.kept[i].checked_sub(1) else {
            return;
        };
        self.kept[i] = last;
        let payment = held.payment(self.lists.list(i)[last as usize]);
        self.net_fen[i] += payment.amount_fen;
        self.net_fen[payment.receiver as usize] -= payment.amount_fen;
        self.touched.touch(participant);
        self.touched.touch(payment.receiver);
    }

    /// The payments of participant `i` that stay in `C`.
    pub fn kept(&self, participant: usize) -> &[u32] {
        &self.lists.list(participant)[..self.kept[participant] as usize]
    }

    /// The first payment of participant `i` left out of `C`, if any.
    pub fn first_dropped(&self, participant: usize) -> Option<u32> {
        self.lists
            .list(participant)
            .get(self.kept[participant] as usize)
            .copied()
    }

    /// The participants still short when the fixed point ended (empty unless
    /// `accept` ended it).
    pub fn short(&self) -> &[u32] {
        &self.short
    }

    /// Net positions over the final `C`.
    pub fn net_fen(&self) -> &[i64] {
        &self.net_fen
    }
}
