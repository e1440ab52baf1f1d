//! Feeds a day's customer orders to the scheduler through the banks'
//! queues ([`crate::bank::desk::Desk`]), and opens the instants at which
//! the banks (or the pricing of overdrafts) act without a new order. Above
//! the run's sink and the banks' side, which it drives.

use super::Observer;
use super::sink::RunSink;
use clearsim_core::engine::{EngineError, Scheduler};
use clearsim_core::ledger::Payment;
use clearsim_core::time::SimTime;

/// Feeds a day's orders to the scheduler through the banks' queues, and
/// opens the instants at which the banks (or the pricing of overdrafts)
/// act without a new order.
pub struct Feed {
    pricing: std::vec::IntoIter<SimTime>,
    next_pricing: Option<SimTime>,
    day_end: SimTime,
    /// The last instant at which the desk looked and overdrafts were priced.
    looked: Option<SimTime>,
    released: Vec<(usize, Payment)>,
}

impl Feed {
    pub fn new(pricing: Vec<SimTime>, day_end: SimTime) -> Feed {
        let mut pricing = pricing.into_iter();
        let next_pricing = pricing.next();
        Feed {
            pricing,
            next_pricing,
            day_end,
            looked: None,
            released: Vec::new(),
        }
    }

    /// A customer's order at its time: the instants due before it, then
    /// the banks' look at the order's instant, then the order.
    pub fn order<O: Observer>(
        &mut self,
        scheduler: &mut Scheduler,
        sink: &mut RunSink<'_, O>,
        channel: usize,
        payment: Payment,
    ) -> Result<(), EngineError> {
        self.due_before(scheduler, sink, Some(payment.submit))?;
        self.instant(scheduler, sink, payment.submit)?;
        let ledger = scheduler.engine().ledger();
        let submit = match &mut sink.bank.desk {
            Some(desk) => desk.order(channel, payment, ledger),
            None => Some(payment),
        };
        if let Some(payment) = submit {
            scheduler.arrive(channel, payment, sink)?;
        }
        Ok(())
    }

    /// After the last order: every instant still due, up to the day end.
    pub fn finish<O: Observer>(
        &mut self,
        scheduler: &mut Scheduler,
        sink: &mut RunSink<'_, O>,
    ) -> Result<(), EngineError> {
        self.due_before(scheduler, sink, None)
    }

    /// The desk's and the pricing's instants strictly before `until` (all
    /// of the day's, when `None`).
    fn due_before<O: Observer>(
        &mut self,
        scheduler: &mut Scheduler,
        sink: &mut RunSink<'_, O>,
        until: Option<SimTime>,
    ) -> Result<(), EngineError> {
        // Bounded: each turn opens an instant strictly later than the last,
        // within the day.
        loop {
            let now = self.looked.unwrap_or(SimTime::MIDNIGHT);
            let ledger = scheduler.engine().ledger();
            let desk_due = sink
                .bank
                .desk
                .as_ref()
                .and_then(|d| d.next_due(now, ledger));
            let due = [desk_due, self.next_pricing]
                .into_iter()
                .flatten()
                .filter(|&t| self.looked.is_none_or(|l| t > l) && t <= self.day_end)
                .min();
            match due {
                Some(t) if until.is_none_or(|u| t < u) => self.instant(scheduler, sink, t)?,
                _ => return Ok(()),
            }
        }
    }

    /// Opens instant `at`; the first time: prices overdrafts if it is a
    /// pricing time, and submits what the desk releases now.
    fn instant<O: Observer>(
        &mut self,
        scheduler: &mut Scheduler,
        sink: &mut RunSink<'_, O>,
        at: SimTime,
    ) -> Result<(), EngineError> {
        scheduler.advance_to(at, sink)?;
        if self.looked == Some(at) {
            return Ok(());
        }
        self.looked = Some(at);
        let ledger = scheduler.engine().ledger();
        // Bounded by the pricing times.
        while let Some(t) = self.next_pricing.filter(|&t| t <= at) {
            if t == at
                && let Some(meter) = &mut sink.bank.meter
            {
                meter.price_overdrafts(ledger.balances_fen());
            }
            self.next_pricing = self.pricing.next();
        }
        let Some(desk) = &mut sink.bank.desk else {
            return Ok(());
        };
        desk.release(at, ledger, &mut self.released);
        for (channel, payment) in std::mem::take(&mut self.released) {
            let flow = sink.flow_index(&payment);
            // Noted first: the payment may settle within the call.
            sink.bank.entered(flow, scheduler.next_key(), at);
            let key = scheduler.arrive_held(channel, payment, sink)?;
            clearsim_core::invariant!(sink.bank.entered.get(&key).is_none_or(|&t| t == at));
        }
        Ok(())
    }
}
