//! Sender limits of a gross channel (not in the contract): the most a
//! participant may pay out, net of what it has received, over the day in this
//! channel — to all participants (multilateral) or to one counterparty
//! (bilateral). A payment that would breach a limit waits in the queue like
//! one that is not covered. See `docs/strategies.md`.

use super::prefix::PrefixResolver;
use super::{Opt, StrategyError};
use crate::ledger::Held;

/// One limit as configured: `sender` may pay out at most `limit_fen` more
/// than it received, to `receiver` alone or (`None`) to everybody.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SenderLimit {
    pub sender: u32,
    pub receiver: Option<u32>,
    pub limit_fen: i64,
}

/// The limits of a channel, by participant index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SenderLimits {
    pub entries: Vec<SenderLimit>,
}

/// Limits and the positions they bound, indexed flat by participant. A
/// position is Σ paid − Σ received in this channel today; it never exceeds
/// its limit (each settlement is checked first).
#[derive(Debug)]
pub(crate) struct LimitBook {
    /// `i64::MAX` where a participant has no multilateral limit.
    multilateral_limit_fen: Vec<i64>,
    multilateral_position_fen: Vec<i64>,
    /// Bilateral limits of sender `s`: `pair_*[pair_start[s]..pair_start[s+1]]`,
    /// sorted by receiver.
    pair_start: Vec<u32>,
    pair_receiver: Vec<u32>,
    pair_limit_fen: Vec<i64>,
    pair_position_fen: Vec<i64>,
}

impl LimitBook {
    /// Checks and indexes `limits` for `participants` accounts.
    pub fn new(participants: usize, limits: &SenderLimits) -> Result<LimitBook, StrategyError> {
        let refuse = |message: String| StrategyError::new(Some(Opt::Limits), message);
        let mut multilateral_limit_fen = vec![i64::MAX; participants];
        let mut pairs: Vec<(u32, u32, i64)> = Vec::new();
        for limit in &limits.entries {
            let known = |i: u32| (i as usize) < participants;
            if !known(limit.sender) || !limit.receiver.is_none_or(known) {
                return Err(refuse(format!(
                    "a sender limit names participant index {} or {:?} of {participants}",
                    limit.sender, limit.receiver
                )));
            }
            if limit.limit_fen < 0 {
                return Err(refuse("a sender limit cannot be negative".into()));
            }
            match limit.receiver {
                None => multilateral_limit_fen[limit.sender as usize] = limit.limit_fen,
                Some(receiver) if receiver == limit.sender => {
                    return Err(refuse(
                        "a bilateral limit needs two different participants".into(),
                    ));
                }
                Some(receiver) => pairs.push((limit.sender, receiver, limit.limit_fen)),
            }
        }
        pairs.sort_by_key(|&(s, r, _)| (s, r));
        if let Some(pair) = pairs
            .windows(2)
            .find(|w| (w[0].0, w[0].1) == (w[1].0, w[1].1))
        {
            return Err(refuse(format!(
                "two bilateral limits for the pair {} → {}",
                pair[0].0, pair[0].1
            )));
        }
        let mut pair_start = vec![0u32; participants + 1];
        for &(s, _, _) in &pairs {
            pair_start[s as usize + 1] += 1;
        }
        for i in 0..participants {
            pair_start[i + 1] += pair_start[i];
        }
        Ok(LimitBook {
            multilateral_limit_fen,
            multilateral_position_fen: vec![0; participants],
            pair_start,
            pair_receiver: pairs.iter().map(|p| p.1).collect(),
            pair_limit_fen: pairs.iter().map(|p| p.2).collect(),
            pair_position_fen: vec![0; pairs.len()],
        })
    }

    /// The index of the bilateral limit of `sender` towards `receiver`.
    #[inline]
    fn pair(&self, sender: u32, receiver: u32) -> Option<usize> {
        let start = self.pair_start[sender as usize] as usize;
        let end = self.pair_start[sender as usize + 1] as usize;
        if start == end {
            return None;
        }
        self.pair_receiver[start..end]
            .binary_search(&receiver)
            .ok()
            .map(|k| start + k)
    }

    /// Whether `sender` may pay `amount_fen` to `receiver` within its limits.
    #[inline]
    pub fn permits(&self, sender: u32, receiver: u32, amount_fen: i64) -> bool {
        let within = |position: i64, limit: i64| {
            i128::from(position) + i128::from(amount_fen) <= i128::from(limit)
        };
        let s = sender as usize;
        within(
            self.multilateral_position_fen[s],
            self.multilateral_limit_fen[s],
        ) && self
            .pair(sender, receiver)
            .is_none_or(|k| within(self.pair_position_fen[k], self.pair_limit_fen[k]))
    }

    /// Records a settled payment (gross, or within a simultaneous set).
    #[inline]
    pub fn record(&mut self, sender: u32, receiver: u32, amount_fen: i64) {
        self.multilateral_position_fen[sender as usize] += amount_fen;
        self.multilateral_position_fen[receiver as usize] -= amount_fen;
        if let Some(k) = self.pair(sender, receiver) {
            self.pair_position_fen[k] += amount_fen;
        }
        if let Some(k) = self.pair(receiver, sender) {
            self.pair_position_fen[k] -= amount_fen;
        }
    }

    /// In a gridlock run: whether settling the set `C` would take
    /// `participant` over a limit, `net_fen` being its net over `C`
    /// (received − sent) and `resolver` holding what stays in `C`.
    pub fn breached_by<H: Held + ?Sized>(
        &self,
        resolver: &PrefixResolver,
        held: &H,
        participant: u32,
        net_fen: i64,
    ) -> bool {
        let i = participant as usize;
        let multilateral = i128::from(self.multilateral_position_fen[i]) - i128::from(net_fen);
        if multilateral > i128::from(self.multilateral_limit_fen[i]) {
            return true;
        }
        let pairs = self.pair_start[i] as usize..self.pair_start[i + 1] as usize;
        pairs.into_iter().any(|k| {
            let receiver = self.pair_receiver[k];
            let paid: i128 = resolver
                .kept(i)
                .iter()
                .map(|&id| held.payment(id))
                .filter(|p| p.receiver == receiver)
                .map(|p| i128::from(p.amount_fen))
                .sum();
            let received: i128 = resolver
                .kept(receiver as usize)
                .iter()
                .map(|&id| held.payment(id))
                .filter(|p| p.receiver == participant)
                .map(|p| i128::from(p.amount_fen))
                .sum();
            i128::from(self.pair_position_fen[k]) + paid - received
                > i128::from(self.pair_limit_fen[k])
        })
    }
}
