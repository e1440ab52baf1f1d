//! The cheque life cycle after settlement: a cheque's funds become
//! available to the payee when the paying bank's right to return it runs
//! out, unless it is dishonoured and goes back then (docs/model.md).

use clearsim_core::ledger::{FollowUp, Marks, Payment};
use clearsim_core::time::{DAY_MS, SimTime};

use super::layout::Layout;

/// What becomes of a cheque that settled.
pub enum Fate {
    /// Its funds are available this long after the order.
    Available { transit_ms: u32 },
    /// It is dishonoured: it goes back at its deadline, later today or on
    /// the next business day.
    Returns { back: FollowUp, next_day: bool },
}

/// The fate of `payment`, a cheque presented in `channel` that settled at
/// `at`; `None` if its channel has no session to return it at.
pub fn fate(layout: &Layout, payment: &Payment, channel: usize, at: SimTime) -> Option<Fate> {
    let instrument = usize::from(payment.instrument);
    let (deadline, next_day) = layout.return_deadline(channel, instrument, at)?;
    if payment.marks.has(Marks::DISHONOURED) {
        let back = FollowUp {
            at: deadline,
            channel,
            payment: Payment {
                priority: payment.priority,
                instrument: payment.instrument,
                marks: Marks::RETURN,
                ..Payment::new(
                    deadline,
                    payment.receiver,
                    payment.sender,
                    payment.amount_fen,
                )
            },
        };
        return Some(Fate::Returns { back, next_day });
    }
    let available_ms = u64::from(deadline.ms()) + if next_day { u64::from(DAY_MS) } else { 0 };
    let transit_ms = (available_ms.saturating_sub(u64::from(payment.submit.ms())))
        .min(u64::from(u32::MAX)) as u32;
    Some(Fate::Available { transit_ms })
}
