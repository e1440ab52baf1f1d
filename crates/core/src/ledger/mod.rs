//! The engine's data: settlement accounts ([`Ledger`]), held payments
//! ([`Slab`]), the payment record and the [`Sink`] that hears every outcome.
//!
//! This layer sits below the strategies and the engine's driver: it knows
//! nothing of channels, time ordering or files.

mod balances;
mod slab;

pub use balances::{BrokenInvariant, Ledger};
pub use slab::{NIL, Slab};

use crate::time::SimTime;

/// One payment instruction as the engine sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Payment {
    /// Acceptance sequence, assigned by the driver (`engine::Scheduler`) when
    /// it takes the payment: for a replay, the processing index. A payment
    /// held outside through an outage keeps its key, so keys increase in
    /// the order each sender's payments enter; they break ties in queue
    /// order.
    pub key: u64,
    /// When the customer's order was given: the instant the payment enters
    /// its channel, or earlier when it was held outside the system (its
    /// sender, or the whole system, was out). Delays count from here.
    pub submit: SimTime,
    pub sender: u32,
    pub receiver: u32,
    pub amount_fen: i64,
    /// 0..=255, higher is more urgent.
    pub priority: u8,
    /// The payment's instrument (an index into the scenario's or the replay
    /// file's instruments): which flow it counts in, and which channel it
    /// goes to.
    pub instrument: u16,
    /// What the run knows of it beyond its money (see [`Marks`]).
    pub marks: Marks,
}

impl Payment {
    /// A payment of `amount_fen` from `sender` to `receiver` ordered at
    /// `submit`: instrument 0, priority 0, no marks, key 0 (the scheduler
    /// gives the key when it takes the payment).
    pub fn new(submit: SimTime, sender: u32, receiver: u32, amount_fen: i64) -> Payment {
        Payment {
            key: 0,
            submit,
            sender,
            receiver,
            amount_fen,
            priority: 0,
            instrument: 0,
            marks: Marks::NONE,
        }
    }
}

/// Marks on a payment that a run sets and reads (the strategies never
/// do): a set of flags in one byte, so that a payment stays 32 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Marks(u8);

impl Marks {
    pub const NONE: Marks = Marks(0);
    /// A cheque that will be dishonoured: the drawee's bank returns it when
    /// its right to return runs out.
    pub const DISHONOURED: Marks = Marks(1);
    /// A dishonoured cheque going back to the bank that presented it.
    pub const RETURN: Marks = Marks(1 << 1);
    /// Carried over from the day before: it arrived after its exchange's
    /// last session.
    pub const CARRIED: Marks = Marks(1 << 2);

    /// Whether every mark of `marks` is set (and `marks` is not empty).
    #[inline]
    pub fn has(self, marks: Marks) -> bool {
        marks.0 != 0 && self.0 & marks.0 == marks.0
    }

    /// These marks and `marks`.
    #[inline]
    pub fn with(self, marks: Marks) -> Marks {
        Marks(self.0 | marks.0)
    }
}

// A payment is half a cache line on the per-payment path.
const _: () = assert!(std::mem::size_of::<Payment>() == 32);

/// Payments held by a strategy, looked up by a dense `u32` handle (a slab
/// slot, or an index into a pending vector).
pub trait Held {
    fn payment(&self, id: u32) -> &Payment;
}

impl Held for [Payment] {
    #[inline]
    fn payment(&self, id: u32) -> &Payment {
        &self[id as usize]
    }
}

impl Held for Slab {
    #[inline]
    fn payment(&self, id: u32) -> &Payment {
        self.get(id)
    }
}

/// Receives the outcome of every payment. Generic (not `dyn`) so that the
/// per-payment call inlines into the hot path. Only `settled` and
/// `unsettled` are required; the other hooks let a caller keep its own
/// bookkeeping in step with the one driver that owns time
/// (`engine::Scheduler`).
pub trait Sink {
    fn settled(&mut self, payment: &Payment, at: SimTime);
    /// Called once per payment still held when the day closes (or never
    /// submitted, when its sender's outage lasts to the close).
    fn unsettled(&mut self, payment: &Payment);
    /// `payment` entered channel `channel` (before any settlement of it).
    #[inline]
    fn arrived(&mut self, _channel: usize, _payment: &Payment) {}
    /// The instant `at` is over: its balances are final.
    #[inline]
    fn instant_closed(&mut self, _at: SimTime) {}
    /// A later arrival that an outcome caused (a returned cheque), taken by
    /// the driver after each step and delivered at its time.
    #[inline]
    fn follow_up(&mut self) -> Option<FollowUp> {
        None
    }
}

/// An arrival a settlement causes later the same day: `payment` enters
/// `channel` at `at` (strictly after the instant that caused it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FollowUp {
    pub at: SimTime,
    pub channel: usize,
    pub payment: Payment,
}

/// What a strategy may touch while it runs: the shared ledger, the store of
/// held payments and the sink, at the current instant `now`.
pub struct Ctx<'a, S: Sink + ?Sized> {
    pub ledger: &'a mut Ledger,
    pub slab: &'a mut Slab,
    pub sink: &'a mut S,
    pub now: SimTime,
}

impl<S: Sink + ?Sized> Ctx<'_, S> {
    /// Settles one payment gross: debit, credit, report.
    #[inline]
    pub fn settle_gross(&mut self, payment: &Payment) {
        crate::invariant!(payment.submit <= self.now);
        self.ledger
            .transfer(payment.sender, payment.receiver, payment.amount_fen);
        self.sink.settled(payment, self.now);
    }
}

impl<'a, S: Sink> Ctx<'a, S> {
    /// The same context with the sink behind a pointer: what a strategy
    /// registered from outside the core ([`crate::strategy::DynStrategy`])
    /// sees, since it cannot be generic over the sink.
    pub fn as_dyn(&mut self) -> Ctx<'_, dyn Sink + '_> {
        Ctx {
            ledger: &mut *self.ledger,
            slab: &mut *self.slab,
            sink: &mut *self.sink,
            now: self.now,
        }
    }
}
