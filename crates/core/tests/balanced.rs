//! Balanced release (`chips`) parks a payment its receiver's maximum
//! refused, and puts it back when the receiver's balance falls: by paying
//! out, or by a withdrawal (a liquidity shock), which the channel learns
//! of at once. Worked by hand from docs/strategies.md.

use clearsim_core::engine::{Control, Engine, Scheduler, Timed};
use clearsim_core::ledger::{Ledger, Payment, Sink};
use clearsim_core::strategy::ChannelSpec;
use clearsim_core::time::SimTime;

const HOUR_MS: u32 = 3_600_000;

#[derive(Default)]
struct Outcomes {
    settled: Vec<(u32, u32, i64, u32)>,
    unsettled: Vec<(u32, u32, i64)>,
}

impl Sink for Outcomes {
    fn settled(&mut self, p: &Payment, at: SimTime) {
        self.settled
            .push((p.sender, p.receiver, p.amount_fen, at.ms()));
    }
    fn unsettled(&mut self, p: &Payment) {
        self.unsettled.push((p.sender, p.receiver, p.amount_fen));
    }
}

/// A, B, C, D open with 100 each (maximum 200); offsetting runs only at day
/// end. 09:00 B → C 100 takes C to its maximum; 09:01 A → C 50 would take
/// it to 250, so it waits; at 10:00 `shock` (if any) takes 60 from C;
/// 10:30 C → D `payout` (if any); 11:00 D → B 10 settles and its release
/// pass scans whoever may pay.
fn day(shock: bool, payout: i64) -> Outcomes {
    let ledger = Ledger::new(&[100; 4], &[0; 4]);
    let chips = ChannelSpec::chips(24 * HOUR_MS, 200);
    let engine = Engine::new(ledger, &[chips], SimTime(17 * HOUR_MS), 16).expect("engine");
    let controls = if shock {
        vec![Timed {
            at: SimTime(10 * HOUR_MS),
            item: Control::Withdraw {
                participant: 2,
                amount_fen: 60,
            },
        }]
    } else {
        Vec::new()
    };
    let mut scheduler = Scheduler::new(engine, controls).expect("scheduler");
    let at = |minutes: u32| SimTime(9 * HOUR_MS + minutes * 60_000);
    let mut payments = vec![
        Payment::new(at(0), 1, 2, 100),
        Payment::new(at(1), 0, 2, 50),
        Payment::new(at(120), 3, 1, 10),
    ];
    if payout > 0 {
        payments.insert(2, Payment::new(at(90), 2, 3, payout));
    }
    let mut outcomes = Outcomes::default();
    scheduler
        .run_day(payments.into_iter().map(|p| (0, p)), &mut outcomes)
        .expect("day runs");
    outcomes
}

fn settled_at(outcomes: &Outcomes, sender: u32, receiver: u32) -> Option<u32> {
    outcomes
        .settled
        .iter()
        .find(|&&(s, r, _, _)| (s, r) == (sender, receiver))
        .map(|&(_, _, _, at)| at)
}

#[test]
fn a_payment_over_the_maximum_waits_for_the_day_end_settlement() {
    let outcomes = day(false, 0);
    // Nothing lowers C's balance before the day-end net settlement.
    assert_eq!(settled_at(&outcomes, 0, 2), Some(17 * HOUR_MS));
}

#[test]
fn a_payout_by_the_receiver_releases_what_fits_under_its_maximum() {
    // C pays 30 out: room 30, still short of 50.
    assert_eq!(settled_at(&day(false, 30), 0, 2), Some(17 * HOUR_MS));
    // C pays 50 out at 10:30: A → C fits and settles in that release.
    assert_eq!(
        settled_at(&day(false, 50), 0, 2),
        Some(10 * HOUR_MS + 30 * 60_000)
    );
}

#[test]
fn a_withdrawal_from_the_receiver_releases_at_the_next_pass() {
    // 60 leaves C at 10:00 (balance 140, room 60): A → C fits, and the
    // release after the next settlement (11:00) takes it.
    let outcomes = day(true, 0);
    assert_eq!(settled_at(&outcomes, 0, 2), Some(11 * HOUR_MS));
    assert!(outcomes.unsettled.is_empty());
}
