//! `bilateral`: deferred bilateral net settlement at cycle times. Pairs are
//! settled one after another in ascending `(i, j)` order, so earlier pairs'
//! settlements count for later ones.

use super::options::check_cycles;
use super::pending::Pending;
use super::{Channel, Cycles, Opt, Options, Strategy, StrategyDef, StrategyError, Tail};
use crate::ledger::{Ctx, Ledger, Payment, Sink};
use crate::time::SimTime;

/// `bilateral` in the catalog.
pub(super) static BILATERAL: StrategyDef = StrategyDef {
    name: "bilateral",
    spellings: &["bilateral"],
    summary: "deferred bilateral net settlement at cycle times: each pair settles the net of what its two banks owe each other, pair after pair, if the debtor can cover it",
    gross: false,
    decides_by_checks: true,
    options: &[Opt::Cycles],
    tail: Tail::Cycles,
    complete,
    describe,
    channel,
};

fn complete(mut options: Options, day_end: SimTime) -> Result<Options, StrategyError> {
    let cycles = options.cycles.take().unwrap_or_else(|| vec![day_end]);
    check_cycles(&cycles, day_end).map_err(|e| StrategyError::new(Some(Opt::Cycles), e))?;
    options.cycles = Some(cycles);
    Ok(options)
}

fn describe(options: &Options) -> String {
    format!(
        "bilateral, cycles {}",
        super::dns::times(options.cycles.as_deref().unwrap_or_default())
    )
}

fn channel(options: &Options, ledger: &Ledger, day_end: SimTime) -> Result<Channel, StrategyError> {
    let options = complete(options.clone(), day_end)?;
    Ok(Channel::Bilateral(Bilateral::new(
        ledger.participant_count(),
        options.cycles.unwrap_or_default(),
    )))
}

pub struct Bilateral {
    participants: usize,
    pending: Pending,
    cycles: Cycles,
    /// Pending payments grouped by the lower index of their pair:
    /// `entries[start[low]..start[low + 1]]`, in arrival order.
    start: Vec<u32>,
    entries: Vec<PairEntry>,
    /// Scratch indexed by the higher index of a pair, for one `low` at a time.
    net_by_high_fen: Vec<i64>,
    seen_high: Vec<bool>,
    settles_high: Vec<bool>,
    /// The pair holds a payment sent by a defaulted participant.
    blocked_high: Vec<bool>,
    highs: Vec<u32>,
}

#[derive(Clone, Copy, Debug, Default)]
struct PairEntry {
    /// Index in the pending vector.
    id: u32,
    /// The higher participant index of the pair.
    high: u32,
    /// The amount, positive when paid to `low`, negative when paid by it.
    toward_low_fen: i64,
}

impl Bilateral {
    pub fn new(participants: usize, cycles: Vec<SimTime>) -> Bilateral {
        Bilateral {
            participants,
            pending: Pending::default(),
            cycles: Cycles::new(cycles),
            start: Vec::new(),
            entries: Vec::new(),
            net_by_high_fen: vec![0; participants],
            seen_high: vec![false; participants],
            settles_high: vec![false; participants],
            blocked_high: vec![false; participants],
            highs: Vec::new(),
        }
    }

    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Counting sort of the pending payments by the lower index of their
    /// pair: one counting pass and one scatter pass.
    fn group_by_low(&mut self) {
        let low_of = |p: &Payment| p.sender.min(p.receiver) as usize;
        self.start.clear();
        self.start.resize(self.participants + 1, 0);
        for payment in &self.pending.payments {
            self.start[low_of(payment) + 1] += 1;
        }
        for i in 0..self.participants {
            self.start[i + 1] += self.start[i];
        }
        if self.entries.len() != self.pending.len() {
            self.entries
                .resize(self.pending.len(), PairEntry::default());
        }
        for (id, payment) in self.pending.payments.iter().enumerate() {
            let low = low_of(payment);
            let (high, toward_low_fen) = if payment.receiver as usize == low {
                (payment.sender, payment.amount_fen)
            } else {
                (payment.receiver, -payment.amount_fen)
            };
            let cursor = &mut self.start[low];
            self.entries[*cursor as usize] = PairEntry {
                id: id as u32,
                high,
                toward_low_fen,
            };
            *cursor += 1;
        }
        // The cursors ended at the next list's start: shift back.
        for i in (1..=self.participants).rev() {
            self.start[i] = self.start[i - 1];
        }
        self.start[0] = 0;
    }

    fn run_cycle<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        if self.pending.is_empty() {
            return;
        }
        self.group_by_low();
        self.pending.mark_all(false);
        for low in 0..self.participants {
            let range = self.start[low] as usize..self.start[low + 1] as usize;
            if range.is_empty() {
                continue;
            }
            // Nets of every pair (low, high) with pending payments.
            self.highs.clear();
            for entry in &self.entries[range.clone()] {
                let high = entry.high as usize;
                if !self.seen_high[high] {
                    self.seen_high[high] = true;
                    self.highs.push(entry.high);
                }
                self.net_by_high_fen[high] += entry.toward_low_fen;
                let sender = if entry.toward_low_fen > 0 {
                    entry.high
                } else {
                    low as u32
                };
                self.blocked_high[high] |= cx.ledger.is_frozen(sender);
            }
            self.highs.sort_unstable();
            // In ascending (low, high) order: each pair settles as a whole
            // if its debtor can cover the net.
            let low = low as u32;
            for &high in &self.highs {
                let h = high as usize;
                let net_fen = std::mem::take(&mut self.net_by_high_fen[h]);
                self.seen_high[h] = false;
                // A defaulted participant's payments are never released.
                let blocked = std::mem::take(&mut self.blocked_high[h]);
                let settles = !blocked
                    && match net_fen.cmp(&0) {
                        std::cmp::Ordering::Equal => true,
                        std::cmp::Ordering::Less => cx.ledger.affordable(low, -net_fen),
                        std::cmp::Ordering::Greater => cx.ledger.affordable(high, net_fen),
                    };
                if settles && net_fen < 0 {
                    cx.ledger.transfer(low, high, -net_fen);
                } else if settles && net_fen > 0 {
                    cx.ledger.transfer(high, low, net_fen);
                }
                self.settles_high[h] = settles;
            }
            for entry in &self.entries[range] {
                if self.settles_high[entry.high as usize] {
                    self.pending.set_marked(entry.id, true);
                }
            }
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

    fn reserve(&mut self, payments: usize) {
        self.pending.payments.reserve(payments);
    }
}
