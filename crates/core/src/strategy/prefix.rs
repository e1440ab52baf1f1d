//! The "remove the last payment of every short participant" fixed point.
//!
//! Both the gridlock run of `rtgs` and the `latest` unwinding of `dns` start
//! from a set `C` of held payments, computed per participant as lists in queue
//! order, and repeat: compute each participant's net over `C`; let `D` be the
//! participants whose available liquidity cannot cover their net debit; for
//! every member of `D` at once drop the last of its payments still in `C`.
//! `C` therefore always holds a prefix of every list.

use std::collections::VecDeque;

use super::lists::{Lists, Touched};
use crate::ledger::{Held, Ledger};

/// A queued payment as a gridlock run reads it: where it is held, and what
/// it moves.
#[derive(Clone, Copy, Debug)]
pub struct Queued {
    pub slot: u32,
    pub receiver: u32,
    pub amount_fen: i64,
}

/// How the rounds of a fixed point go: `also_short` and `accept` as in
/// [`PrefixResolver::resolve_with`]; `bulk`: a short participant drops
/// all it cannot cover in one round (see
/// [`PrefixResolver::resolve_queues`]).
struct Rounds<X, F> {
    also_short: X,
    accept: F,
    bulk: bool,
}

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
    pub fn resolve_with<H, X, F>(&mut self, ledger: &Ledger, held: &H, also_short: X, accept: F)
    where
        H: Held + ?Sized,
        X: Fn(&PrefixResolver, u32, i64) -> bool,
        F: FnMut(&[u32], &[i64]) -> bool,
    {
        let participants = self.lists.participant_count();
        let lengths = |resolver: &PrefixResolver, i: usize| resolver.lists.list(i).len() as u32;
        let entry = |resolver: &PrefixResolver, i: usize, k: u32| {
            let payment = held.payment(resolver.lists.list(i)[k as usize]);
            (payment.receiver, payment.amount_fen)
        };
        let rounds = Rounds {
            also_short,
            accept,
            bulk: false,
        };
        self.fixed_point(ledger, participants, lengths, entry, rounds);
    }

    /// The fixed point over lists held elsewhere (`self.lists` unused):
    /// `queues[i]` is participant i's list in queue order. Read the outcome
    /// with [`kept_len`](Self::kept_len) and [`net_fen`](Self::net_fen).
    ///
    /// Without limits or an early end, `C` ends as the greatest set of
    /// prefixes that leaves nobody short, whatever order payments are
    /// dropped in: a set that covers everyone is still covered when any
    /// list grows back to a longer prefix of another's (receipts only add),
    /// so such sets are closed under taking the longer prefix, and dropping
    /// from a short participant never goes below the greatest one. A short
    /// participant here therefore drops at once every payment it could not
    /// cover with what it still receives (receipts only fall as the run
    /// goes on): the same `C`, in fewer rounds.
    pub fn resolve_queues(&mut self, ledger: &Ledger, queues: &[VecDeque<Queued>]) {
        let rounds = Rounds {
            also_short: |_: &PrefixResolver, _, _| false,
            accept: |_: &[u32], _: &[i64]| false,
            bulk: true,
        };
        self.fixed_point(
            ledger,
            queues.len(),
            |_, i| queues[i].len() as u32,
            |_, i, k| {
                let queued = queues[i][k as usize];
                (queued.receiver, queued.amount_fen)
            },
            rounds,
        );
    }

    /// The fixed point itself, reading participant i's list through
    /// `length(self, i)` and `entry(self, i, k)` (receiver and amount of
    /// its k-th payment).
    fn fixed_point<L, E, X, F>(
        &mut self,
        ledger: &Ledger,
        participants: usize,
        length: L,
        entry: E,
        rounds: Rounds<X, F>,
    ) where
        L: Fn(&PrefixResolver, usize) -> u32,
        E: Fn(&PrefixResolver, usize, u32) -> (u32, i64),
        X: Fn(&PrefixResolver, u32, i64) -> bool,
        F: FnMut(&[u32], &[i64]) -> bool,
    {
        let Rounds {
            also_short,
            mut accept,
            bulk,
        } = rounds;
        self.net_fen.clear();
        self.net_fen.resize(participants, 0);
        self.kept.clear();
        self.touched.reset(participants);
        for i in 0..participants {
            let len = length(self, i);
            self.kept.push(len);
            for k in 0..len {
                let (receiver, amount_fen) = entry(self, i, k);
                self.net_fen[i] -= amount_fen;
                self.net_fen[receiver as usize] += amount_fen;
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
                if bulk {
                    self.drop_uncovered(ledger, &entry, i);
                } else {
                    self.drop_last(&entry, i);
                }
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

    fn drop_last<E>(&mut self, entry: &E, participant: u32)
    where
        E: Fn(&PrefixResolver, usize, u32) -> (u32, i64),
    {
        let i = participant as usize;
        crate::invariant!(
            self.kept[i] > 0,
            "a short participant has a payment to drop"
        );
        let Some(last) = self.kept[i].checked_sub(1) else {
            return;
        };
        self.kept[i] = last;
        let (receiver, amount_fen) = entry(self, i, last);
        self.net_fen[i] += amount_fen;
        self.net_fen[receiver as usize] -= amount_fen;
        self.touched.touch(participant);
        self.touched.touch(receiver);
    }

    /// How many payments of participant `i` (its list's first ones) stay in
    /// `C`.
    pub fn kept_len(&self, participant: usize) -> u32 {
        self.kept[participant]
    }

    /// Drops the last payments of a short participant until what it still
    /// receives covers the rest (all of them once it has defaulted).
    /// Bounded by its list. No margins are noted here: the round's checks
    /// note them, as one-at-a-time dropping would at the same end state.
    fn drop_uncovered<E>(&mut self, ledger: &Ledger, entry: &E, participant: u32)
    where
        E: Fn(&PrefixResolver, usize, u32) -> (u32, i64),
    {
        let i = participant as usize;
        let frozen = ledger.is_frozen(participant);
        let available = i128::from(ledger.available_fen(participant));
        while self.kept[i] > 0 && (frozen || available + i128::from(self.net_fen[i]) < 0) {
            self.drop_last(entry, participant);
        }
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
