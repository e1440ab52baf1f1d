//! The pending set of a deferred (netting) channel: payments in arrival
//! order, settled in place at a cycle.

use crate::ledger::{Ctx, Payment, Sink};

#[derive(Debug, Default)]
pub struct Pending {
    /// Held payments in arrival order; ids are indices into it.
    pub payments: Vec<Payment>,
    /// Per payment: marked for settlement in the running cycle.
    marked: Vec<bool>,
}

impl Pending {
    #[inline]
    pub fn push(&mut self, payment: Payment) {
        self.payments.push(payment);
    }

    pub fn len(&self) -> usize {
        self.payments.len()
    }

    pub fn is_empty(&self) -> bool {
        self.payments.is_empty()
    }

    /// Ids `0..len`, for grouping.
    pub fn ids(&self) -> std::ops::Range<u32> {
        0..self.payments.len() as u32
    }

    /// Starts a cycle: every payment is marked (`C` = all pending) or none.
    pub fn mark_all(&mut self, marked: bool) {
        self.marked.clear();
        self.marked.resize(self.payments.len(), marked);
    }

    #[inline]
    pub fn is_marked(&self, id: u32) -> bool {
        self.marked[id as usize]
    }

    #[inline]
    pub fn set_marked(&mut self, id: u32, marked: bool) {
        self.marked[id as usize] = marked;
    }

    /// Settles every marked payment (reported in arrival order) and keeps the
    /// others pending, in order.
    pub fn settle_marked<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        if self.marked.iter().all(|&m| m) {
            for payment in self.payments.drain(..) {
                cx.sink.settled(&payment, cx.now);
            }
            self.marked.clear();
            return;
        }
        // `settle_if` asks once per payment, in order: the marks in order.
        let mut marked = std::mem::take(&mut self.marked);
        let mut index = 0;
        self.settle_if(cx, |_| {
            index += 1;
            marked[index - 1]
        });
        marked.clear();
        self.marked = marked;
    }

    /// Settles every payment `settles` accepts (asked once per payment, in
    /// arrival order; reported in that order) and keeps the others pending,
    /// in order.
    pub fn settle_if<S: Sink>(
        &mut self,
        cx: &mut Ctx<S>,
        mut settles: impl FnMut(&Payment) -> bool,
    ) {
        let mut kept = 0;
        for index in 0..self.payments.len() {
            let payment = self.payments[index];
            if settles(&payment) {
                cx.sink.settled(&payment, cx.now);
            } else {
                self.payments[kept] = payment;
                kept += 1;
            }
        }
        self.payments.truncate(kept);
        self.marked.clear();
    }

    /// Day end: everything still pending is unsettled.
    pub fn close<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        for payment in self.payments.drain(..) {
            cx.sink.unsettled(&payment);
        }
    }
}
