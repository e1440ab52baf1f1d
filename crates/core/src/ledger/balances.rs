//! Settlement accounts at the central bank: one balance per participant.
//!
//! The ledger is the single owner of balances. Every change goes through
//! [`Ledger::transfer`] or [`Ledger::apply_net`], which keep the two
//! bookkeeping facts the contract reports on: the minimum balance observed at
//! the *end of each instant*, and the invariant that no balance falls below
//! `-credit_limit`.

use std::cell::Cell;

/// Balances, credit limits and end-of-instant minimum balances, indexed by
/// participant. Flat vectors: the hot path touches two entries per payment.
#[derive(Clone, Debug)]
pub struct Ledger {
    balance_fen: Vec<i64>,
    credit_limit_fen: Vec<i64>,
    min_balance_fen: Vec<i64>,
    /// Participants whose balance went down during the current instant. Only
    /// they can set a new minimum, so only they are looked at when it ends.
    debited: Vec<u32>,
    is_debited: Vec<bool>,
    /// Σ balances at construction: conserved by every settlement.
    total_fen: i64,
    /// Value that actually moved between accounts (Σ of debits): equal to
    /// the value settled under gross settlement, less under netting.
    moved_fen: i128,
    /// Participants that stopped paying (a default): none of their outgoing
    /// payments is released any more.
    frozen: Vec<bool>,
    /// Money that entered the accounts from outside them: a settlement
    /// guarantee fund covering a short participant's net debit.
    injected_fen: i64,
    /// Money that left the accounts: liquidity shocks. Σ balances is the
    /// opening Σ plus `injected_fen` minus this.
    withdrawn_fen: i64,
    /// Counts every change of a balance or a frozen flag: a strategy that
    /// saw the same count before can skip work whose outcome depends only
    /// on the ledger and its own queues (a gridlock run after a fruitless
    /// one, with nothing new since).
    changes: u64,
    /// Per participant, since the ledger opened: the smallest margin by
    /// which a liquidity check on it passed (`i64::MAX`: none was made),
    /// negative once a check failed or one of its payments had to wait.
    /// A run whose participant `p` has margin `m ≥ 0` is, step for step,
    /// the run it would have been had `p` opened with anything from
    /// `m` less to any amount more: every decision that reads `p`'s
    /// balance is such a check (`optimise` prices those openings without
    /// running them; docs/PERFORMANCE.md). Cells: checks read the ledger
    /// through shared references.
    margin_fen: Vec<Cell<i64>>,
}

impl Ledger {
    /// `opening_fen[i]` and `credit_limit_fen[i]` for each participant `i`.
    /// The caller guarantees that Σ opening + Σ credit + Σ payment amounts fits
    /// in `i64` (input validation does), so no balance arithmetic can overflow.
    pub fn new(opening_fen: &[i64], credit_limit_fen: &[i64]) -> Ledger {
        assert_eq!(opening_fen.len(), credit_limit_fen.len());
        let count = opening_fen.len();
        Ledger {
            balance_fen: opening_fen.to_vec(),
            credit_limit_fen: credit_limit_fen.to_vec(),
            min_balance_fen: opening_fen.to_vec(),
            debited: Vec::with_capacity(count),
            is_debited: vec![false; count],
            total_fen: opening_fen.iter().sum(),
            moved_fen: 0,
            frozen: vec![false; count],
            injected_fen: 0,
            withdrawn_fen: 0,
            changes: 0,
            margin_fen: vec![Cell::new(i64::MAX); count],
        }
    }

    pub fn participant_count(&self) -> usize {
        self.balance_fen.len()
    }

    /// Balance plus intraday credit: what the participant may still pay out.
    /// Saturates at `i64::MAX` (a credit limit may be "unlimited", i64::MAX);
    /// no amount or net debit can exceed that, so comparisons stay exact.
    #[inline]
    pub fn available_fen(&self, participant: u32) -> i64 {
        let i = participant as usize;
        self.balance_fen[i].saturating_add(self.credit_limit_fen[i])
    }

    /// Whether the participant can pay `amount_fen` gross now: it has the
    /// liquidity and has not defaulted. A check: it notes its margin.
    #[inline]
    pub fn affordable(&self, participant: u32, amount_fen: i64) -> bool {
        let margin = i128::from(self.available_fen(participant)) - i128::from(amount_fen);
        self.note_margin(participant, margin);
        margin >= 0 && !self.frozen[participant as usize]
    }

    /// Notes a liquidity check on `participant` that passed by `margin`
    /// fen (failed, when negative): see the field `margin_fen`.
    #[inline]
    pub fn note_margin(&self, participant: u32, margin: i128) {
        let cell = &self.margin_fen[participant as usize];
        let margin = margin.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        if margin < cell.get() {
            cell.set(margin);
        }
    }

    /// Notes that one of `participant`'s payments waits in a queue: its
    /// fate now depends on its balance in ways no single margin bounds.
    #[inline]
    pub fn note_wait(&self, participant: u32) {
        self.note_margin(participant, -1);
    }

    /// Per participant, the smallest margin of its liquidity checks so far
    /// (see the field `margin_fen`).
    pub fn margins_fen(&self) -> Vec<i64> {
        self.margin_fen.iter().map(Cell::get).collect()
    }

    /// The participant defaults: from now on it pays nothing, gross or net.
    pub fn freeze(&mut self, participant: u32) {
        self.frozen[participant as usize] = true;
        self.changes += 1;
    }

    /// The change count (see the field): equal counts, equal ledger.
    #[inline]
    pub fn changes(&self) -> u64 {
        self.changes
    }

    #[inline]
    pub fn is_frozen(&self, participant: u32) -> bool {
        self.frozen[participant as usize]
    }

    /// Whether the participant cannot cover a net position `net_fen` (negative
    /// for a net debit): `available + net < 0`, computed without overflow.
    /// A check: it notes its margin.
    #[inline]
    pub fn is_short(&self, participant: u32, net_fen: i64) -> bool {
        let margin = self.cover_fen(participant, net_fen);
        self.note_margin(participant, margin);
        margin < 0
    }

    /// `available + net_fen`: what is left after a net position (an
    /// assertion's reading, noted nowhere).
    #[inline]
    fn cover_fen(&self, participant: u32, net_fen: i64) -> i128 {
        i128::from(self.available_fen(participant)) + i128::from(net_fen)
    }

    /// Moves `amount_fen` from `sender` to `receiver`. The caller has checked
    /// that the sender can afford it.
    #[inline]
    pub fn transfer(&mut self, sender: u32, receiver: u32, amount_fen: i64) {
        crate::invariant!(
            self.cover_fen(sender, -amount_fen) >= 0 && !self.frozen[sender as usize]
        );
        self.balance_fen[sender as usize] -= amount_fen;
        self.balance_fen[receiver as usize] += amount_fen;
        self.moved_fen += i128::from(amount_fen);
        self.changes += 1;
        self.mark_debited(sender);
    }

    /// Adds `net_fen` (negative for a net debtor) to one balance, as part of a
    /// simultaneous multilateral settlement whose nets sum to zero.
    #[inline]
    pub fn apply_net(&mut self, participant: u32, net_fen: i64) {
        self.balance_fen[participant as usize] += net_fen;
        self.changes += 1;
        if net_fen < 0 {
            crate::invariant!(self.cover_fen(participant, 0) >= 0);
            self.moved_fen -= i128::from(net_fen);
            self.mark_debited(participant);
        }
    }

    /// Records `amount_fen` entering the accounts from outside (a guarantee
    /// fund paying a defaulter's net debit): the caller then credits it by
    /// `apply_net`, so Σ balances grows by exactly this. Refuses (false) when
    /// the total would no longer fit in i64.
    pub fn inject(&mut self, amount_fen: i64) -> bool {
        crate::invariant!(amount_fen >= 0);
        match (
            self.total_fen.checked_add(amount_fen),
            self.injected_fen.checked_add(amount_fen),
        ) {
            (Some(total), Some(injected)) => {
                self.total_fen = total;
                self.injected_fen = injected;
                true
            }
            _ => false,
        }
    }

    /// How much money may still enter from outside without Σ balances
    /// leaving i64.
    pub fn injection_room_fen(&self) -> i64 {
        i64::MAX - self.total_fen.max(0)
    }

    /// Money injected from outside the accounts so far (see [`Ledger::inject`]).
    pub fn injected_fen(&self) -> i64 {
        self.injected_fen
    }

    /// Takes up to `amount_fen` (≥ 0) out of `participant`'s account to
    /// outside the accounts (a liquidity shock: a customer run, a margin
    /// call). Never below the credit floor: returns what was taken.
    pub fn withdraw(&mut self, participant: u32, amount_fen: i64) -> i64 {
        crate::invariant!(amount_fen >= 0);
        // What it takes depends on the balance: a check like any other.
        self.note_margin(
            participant,
            i128::from(self.available_fen(participant)) - i128::from(amount_fen),
        );
        let taken = amount_fen.clamp(0, self.available_fen(participant).max(0));
        if taken == 0 {
            return 0;
        }
        self.balance_fen[participant as usize] -= taken;
        self.changes += 1;
        // Both stay within [Σ opening − Σ withdrawn, …]: no overflow, as
        // `taken` is at most a balance plus its credit.
        self.total_fen -= taken;
        self.withdrawn_fen += taken;
        self.mark_debited(participant);
        taken
    }

    /// Money withdrawn to outside the accounts so far (see [`Ledger::withdraw`]).
    pub fn withdrawn_fen(&self) -> i64 {
        self.withdrawn_fen
    }

    #[inline]
    fn mark_debited(&mut self, participant: u32) {
        let flag = &mut self.is_debited[participant as usize];
        if !*flag {
            *flag = true;
            self.debited.push(participant);
        }
    }

    /// Closes an instant: balances now count towards the minimum balance.
    pub fn end_instant(&mut self) {
        for &participant in &self.debited {
            let i = participant as usize;
            crate::invariant!(self.balance_fen[i] >= -self.credit_limit_fen[i]);
            self.min_balance_fen[i] = self.min_balance_fen[i].min(self.balance_fen[i]);
            self.is_debited[i] = false;
        }
        self.debited.clear();
        // Conservation (Σ balances) is checked at the day end by
        // `check_invariants`: here it would cost O(participants) an instant.
    }

    /// Value moved between accounts so far (Σ of debits).
    pub fn moved_fen(&self) -> i128 {
        self.moved_fen
    }

    pub fn balances_fen(&self) -> &[i64] {
        &self.balance_fen
    }

    pub fn min_balances_fen(&self) -> &[i64] {
        &self.min_balance_fen
    }

    pub fn credit_limits_fen(&self) -> &[i64] {
        &self.credit_limit_fen
    }

    /// Full audit of the ledger invariants (used by tests and at day end):
    /// money is conserved (Σ balances = opening Σ + injected − withdrawn)
    /// and no balance is below its credit floor.
    pub fn check_invariants(&self) -> Result<(), BrokenInvariant> {
        let total: i128 = self.balance_fen.iter().map(|&b| i128::from(b)).sum();
        if total != i128::from(self.total_fen) {
            return Err(BrokenInvariant(format!(
                "Σ balances {total} != opening Σ + injected − withdrawn {}",
                self.total_fen
            )));
        }
        for (i, (&b, &c)) in self
            .balance_fen
            .iter()
            .zip(&self.credit_limit_fen)
            .enumerate()
        {
            if b < -c {
                return Err(BrokenInvariant(format!(
                    "participant {i}: balance {b} below credit floor -{c}"
                )));
            }
        }
        Ok(())
    }
}

/// A ledger that breaks conservation or a credit floor: always a bug,
/// never the input's fault (the engine refuses what would cause it).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("ledger invariant broken: {0}")]
pub struct BrokenInvariant(pub String);

impl crate::Blamed for BrokenInvariant {
    fn blame(&self) -> crate::Blame {
        crate::Blame::Bug
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_note_their_smallest_margin() {
        // Two participants: 100 fen and 30 of credit; 0 and none.
        let ledger = Ledger::new(&[100, 0], &[30, 0]);
        assert_eq!(ledger.margins_fen(), vec![i64::MAX, i64::MAX]);
        assert!(ledger.affordable(0, 90));
        assert!(ledger.affordable(0, 120));
        assert!(!ledger.is_short(0, -50));
        assert_eq!(ledger.margins_fen()[0], 10);
        // A failed check makes it negative, and it stays there.
        assert!(ledger.is_short(1, -5));
        assert!(ledger.affordable(1, 0));
        assert_eq!(ledger.margins_fen()[1], -5);
        ledger.note_wait(0);
        assert_eq!(ledger.margins_fen()[0], -1);
    }

    #[test]
    fn assertions_and_transfers_note_nothing() {
        let mut ledger = Ledger::new(&[100, 0], &[0, 0]);
        ledger.transfer(0, 1, 100);
        ledger.apply_net(1, -100);
        ledger.apply_net(0, 100);
        ledger.end_instant();
        assert_eq!(ledger.margins_fen(), vec![i64::MAX, i64::MAX]);
    }
}
