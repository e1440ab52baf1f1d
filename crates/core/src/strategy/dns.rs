//! `dns`: deferred multilateral net settlement at cycle times, with
//! `participant` or `latest` unwinding when a participant is short, and
//! optionally a settlement guarantee fund that covers short participants'
//! net debits before any unwinding.

use super::lists::{Lists, Touched};
use super::options::check_cycles;
use super::pending::Pending;
use super::prefix::PrefixResolver;
use super::{Channel, Cycles, Opt, Options, Strategy, StrategyDef, StrategyError, Tail, Unwind};
use crate::format::grouped;
use crate::ledger::{Ctx, Ledger, Payment, Sink};
use crate::time::SimTime;

/// `dns` in the catalog.
pub(super) static DNS: StrategyDef = StrategyDef {
    name: "dns",
    spellings: &["dns"],
    summary: "deferred multilateral net settlement at cycle times, unwinding a short participant's payments (all of them, or its latest); optionally a settlement guarantee fund that covers short participants first",
    gross: false,
    decides_by_checks: true,
    options: &[Opt::Cycles, Opt::Unwind, Opt::GuaranteeFund],
    tail: Tail::Cycles,
    complete,
    describe,
    channel,
};

fn complete(mut options: Options, day_end: SimTime) -> Result<Options, StrategyError> {
    let cycles = options.cycles.take().unwrap_or_else(|| vec![day_end]);
    check_cycles(&cycles, day_end).map_err(|e| StrategyError::new(Some(Opt::Cycles), e))?;
    if options.guarantee_fund_fen.is_some_and(|fund| fund < 0) {
        return Err(StrategyError::new(
            Some(Opt::GuaranteeFund),
            "the guarantee fund cannot be negative",
        ));
    }
    options.cycles = Some(cycles);
    options.unwind = Some(options.unwind.unwrap_or_default());
    Ok(options)
}

/// `10:00:00.000,15:30:00.000`.
pub(super) fn times(cycles: &[SimTime]) -> String {
    cycles
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn describe(options: &Options) -> String {
    let fund = options.guarantee_fund_fen.map_or(String::new(), |fen| {
        format!(", guarantee fund {} fen", grouped(i128::from(fen)))
    });
    format!(
        "dns, cycles {}, unwind {}{fund}",
        times(options.cycles.as_deref().unwrap_or_default()),
        options.unwind.unwrap_or_default().word()
    )
}

fn channel(options: &Options, ledger: &Ledger, day_end: SimTime) -> Result<Channel, StrategyError> {
    let options = complete(options.clone(), day_end)?;
    let mut dns = Dns::new(
        ledger.participant_count(),
        options.cycles.unwrap_or_default(),
        options.unwind.unwrap_or_default(),
    );
    dns.set_guarantee_fund(options.guarantee_fund_fen);
    Ok(Channel::Dns(dns))
}

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
    touched: Touched,
    involved: Lists,
    resolver: PrefixResolver,
    /// What the settlement guarantee fund has left today; `None` without one.
    fund_left_fen: Option<i64>,
    /// Participant unwinding up to [`DENSE_UNWIND_MAX_PARTICIPANTS`]: the
    /// pending flow per (sender, receiver), kept on arrival and settlement,
    /// and who this cycle unwound. Empty otherwise.
    flows_fen: Vec<i64>,
    unwound: Vec<bool>,
}

/// Participant unwinding works on a dense matrix of pending flows up to
/// this many participants (32 MiB at most, allocated with the channel);
/// beyond, on lists of each participant's payments. Same outcome either
/// way: the matrix saves re-reading, at every cycle, the payments unwound
/// at earlier ones (on a scarce day most of the pending set).
pub const DENSE_UNWIND_MAX_PARTICIPANTS: usize = 2_048;

impl Dns {
    pub fn new(participants: usize, cycles: Vec<SimTime>, unwind: Unwind) -> Dns {
        let dense = unwind == Unwind::Participant && participants <= DENSE_UNWIND_MAX_PARTICIPANTS;
        let flows_fen = if dense {
            vec![0; participants * participants]
        } else {
            Vec::new()
        };
        Dns {
            pending: Pending::default(),
            cycles: Cycles::new(cycles),
            unwind,
            net_fen: vec![0; participants],
            pending_net_fen: vec![0; participants],
            short: Vec::new(),
            touched: Touched::default(),
            involved: Lists::new(),
            resolver: PrefixResolver::new(),
            fund_left_fen: None,
            flows_fen,
            unwound: vec![false; participants],
        }
    }

    /// Gives the channel a settlement guarantee fund of `fund_fen` for the day.
    pub fn set_guarantee_fund(&mut self, fund_fen: Option<i64>) {
        self.fund_left_fen = fund_fen;
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
        let fund_left_fen = self.fund_left_fen;
        let participants = self.net_fen.len();
        let payments = &self.pending.payments;
        self.involved.group(participants, self.pending.ids(), |id| {
            let payment = &payments[id as usize];
            [payment.sender, payment.receiver]
        });
        self.touched.reset(participants);
        while !self.short.is_empty()
            && !fund_covers(fund_left_fen, ledger, &self.short, &self.net_fen)
        {
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
                        self.touched.touch(payment.sender);
                        self.touched.touch(payment.receiver);
                    }
                }
            }
            self.short_among_touched(ledger);
        }
    }

    /// [`unwind_participants`](Self::unwind_participants) by bilateral
    /// flows: unwinding p moves every other participant's net by its flows
    /// with p, so a round costs O(participants) per short one instead of a
    /// pass over its payments, and the payments are read twice in all
    /// (the flows, then the marks). The rounds, their short participants
    /// and the nets checked are the same as payment by payment. Marks
    /// nothing: [`settle_dense`](Self::settle_dense) reads `unwound`.
    fn unwind_participants_dense(&mut self, ledger: &Ledger) {
        let fund_left_fen = self.fund_left_fen;
        let n = self.net_fen.len();
        self.touched.reset(n);
        // Bounded: each round unwinds at least one participant for good.
        while !self.short.is_empty()
            && !fund_covers(fund_left_fen, ledger, &self.short, &self.net_fen)
        {
            self.touched.clear();
            for index in 0..self.short.len() {
                let p = self.short[index] as usize;
                self.unwound[p] = true;
                for q in 0..n {
                    let (out_fen, in_fen) = (self.flows_fen[p * n + q], self.flows_fen[q * n + p]);
                    if self.unwound[q] || (out_fen == 0 && in_fen == 0) {
                        continue;
                    }
                    self.net_fen[p] += out_fen - in_fen;
                    self.net_fen[q] -= out_fen - in_fen;
                    self.touched.touch(p as u32);
                    self.touched.touch(q as u32);
                }
            }
            self.short_among_touched(ledger);
        }
    }

    /// The next round's short participants: those the round touched.
    fn short_among_touched(&mut self, ledger: &Ledger) {
        self.short.clear();
        for index in 0..self.touched.len() {
            let i = self.touched.get(index);
            if ledger.is_short(i, self.net_fen[i as usize]) {
                self.short.push(i);
            }
        }
    }

    fn is_dense(&self) -> bool {
        !self.flows_fen.is_empty()
    }

    /// Settles the payments between participants not unwound, keeping the
    /// flows those left pending; clears `unwound` for the next cycle.
    fn settle_dense<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        let n = self.net_fen.len();
        let (flows_fen, unwound) = (&mut self.flows_fen, &self.unwound);
        self.pending.settle_if(cx, |payment| {
            let (sender, receiver) = (payment.sender as usize, payment.receiver as usize);
            let settles = !unwound[sender] && !unwound[receiver];
            if settles {
                flows_fen[sender * n + receiver] -= payment.amount_fen;
            }
            settles
        });
        self.unwound.fill(false);
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
        let fund_left_fen = self.fund_left_fen;
        resolver.resolve_until(ledger, payments, |short, net_fen| {
            fund_covers(fund_left_fen, ledger, short, net_fen)
        });
        self.short.clear();
        self.short.extend_from_slice(resolver.short());
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
        if self.is_dense() {
            if !self.short.is_empty() {
                self.unwind_participants_dense(cx.ledger);
            }
            self.settle_dense(cx);
        } else {
            self.pending.mark_all(true);
            if !self.short.is_empty() {
                match self.unwind {
                    Unwind::Participant => self.unwind_participants(cx.ledger),
                    Unwind::Latest => self.unwind_latest(cx.ledger),
                }
            }
            self.pending.settle_marked(cx);
        }
        // Whoever is still short is covered by the guarantee fund: it pays
        // what it can and the fund the rest (its shortfall).
        let cover_fen = self.cover_from_fund(cx.ledger);
        // What stays pending nets to the old total less what settled.
        for (i, &net_fen) in self.net_fen.iter().enumerate() {
            let paid_fen = net_fen + cover_fen.get(i).copied().unwrap_or(0);
            if paid_fen != 0 {
                cx.ledger.apply_net(i as u32, paid_fen);
            }
            self.pending_net_fen[i] -= net_fen;
        }
        crate::invariant!(!self.pending.is_empty() || self.pending_net_fen.iter().all(|&n| n == 0));
    }
}

impl Dns {
    /// Pays the shortfall of every participant left short (the unwinding
    /// stopped because the fund covers them all) into the accounts; returns
    /// each participant's cover (empty when nobody is short).
    fn cover_from_fund(&mut self, ledger: &mut Ledger) -> Vec<i64> {
        if self.short.is_empty() {
            return Vec::new();
        }
        let mut cover_fen = vec![0i64; self.net_fen.len()];
        let mut total_fen: i64 = 0;
        for &i in &self.short {
            // fund_covers checked Σ shortfall ≤ fund left ≤ i64::MAX.
            let shortfall = shortfall_fen(ledger, i, self.net_fen[i as usize]);
            crate::invariant!(shortfall <= i128::from(i64::MAX));
            let shortfall = i64::try_from(shortfall).unwrap_or(i64::MAX);
            cover_fen[i as usize] = shortfall;
            total_fen += shortfall;
        }
        let injected = ledger.inject(total_fen);
        crate::invariant!(injected, "fund_covers checked the room");
        if let Some(left) = self.fund_left_fen.as_mut() {
            *left -= total_fen;
        }
        self.short.clear();
        cover_fen
    }
}

/// What the fund must pay for participant `i` to settle a net position
/// `net_fen`: a defaulted participant pays nothing, so all of its net debit;
/// anyone else pays down to its credit floor, the fund the rest.
fn shortfall_fen(ledger: &Ledger, i: u32, net_fen: i64) -> i128 {
    let net = i128::from(net_fen);
    if ledger.is_frozen(i) {
        (-net).max(0)
    } else {
        (-(i128::from(ledger.available_fen(i)) + net)).max(0)
    }
}

/// Whether the guarantee fund (if any) can cover every short participant's
/// shortfall at once, and the accounts can take that much new money.
fn fund_covers(
    fund_left_fen: Option<i64>,
    ledger: &Ledger,
    short: &[u32],
    net_fen: &[i64],
) -> bool {
    let Some(left_fen) = fund_left_fen else {
        return false;
    };
    let need: i128 = short
        .iter()
        .map(|&i| shortfall_fen(ledger, i, net_fen[i as usize]))
        .sum();
    need <= i128::from(left_fen) && need <= i128::from(ledger.injection_room_fen())
}

impl Strategy for Dns {
    #[inline]
    fn arrive<S: Sink>(&mut self, _cx: &mut Ctx<S>, payment: Payment) {
        self.pending_net_fen[payment.sender as usize] -= payment.amount_fen;
        self.pending_net_fen[payment.receiver as usize] += payment.amount_fen;
        if self.is_dense() {
            let n = self.net_fen.len();
            self.flows_fen[payment.sender as usize * n + payment.receiver as usize] +=
                payment.amount_fen;
        }
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
