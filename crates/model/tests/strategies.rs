//! Hand-computed days, one behaviour each; expected values worked out on
//! paper from `semantics.md` (the comments show the arithmetic).

#[path = "../../../tests/common/reference.rs"]
mod common;

use clearsim_core::strategy::{ChannelSpec, QueueRule, Unwind};
use clearsim_core::time::SimTime;
use clearsim_model::metrics::UNSETTLED;
use clearsim_model::replay::{Replay, replay};
use common::*;

fn t(text: &str) -> SimTime {
    SimTime(ms(text))
}

fn run(day: &TestDay, spec: ChannelSpec) -> Replay {
    replay(&day.day(), &spec).expect("replay runs")
}

fn settle_texts(r: &Replay) -> Vec<String> {
    r.settle
        .iter()
        .map(|&s| {
            if s == UNSETTLED {
                "-".to_string()
            } else {
                SimTime(s).to_string()
            }
        })
        .collect()
}

fn rtgs() -> ChannelSpec {
    ChannelSpec::rtgs(None)
}

fn dns(cycles: &[&str], unwind: Unwind) -> ChannelSpec {
    ChannelSpec::dns(cycles.iter().map(|c| t(c)).collect(), unwind, None)
}

fn bilateral(cycles: &[&str]) -> ChannelSpec {
    ChannelSpec::bilateral(cycles.iter().map(|c| t(c)).collect())
}

/// A → B → C → A, 500 each, with 100 each: nobody can pay first.
fn ring() -> TestDay {
    TestDay {
        opening: vec![100, 100, 100],
        credit: vec![0, 0, 0],
        payments: vec![
            p("09:00:01", 0, 1, 500),
            p("09:00:01", 1, 2, 500),
            p("09:00:01", 2, 0, 500),
        ],
        day_end_ms: ms("17:00:00"),
    }
}

#[test]
fn ring_is_gridlocked_under_plain_rtgs() {
    let r = run(&ring(), rtgs());
    assert_eq!(settle_texts(&r), ["-", "-", "-"]);
    assert_eq!(r.closing_fen, [100, 100, 100]);
    assert_eq!(r.summary.unsettled_value, 1500);
    assert_eq!(r.summary.delay_indicator, 1.0);
    // Nets are all zero: no liquidity is needed by a net, 500 each gross...
    assert_eq!(r.summary.lower_bound, 0);
    // ...but on arrival each one's cumulative position dips to −500 only
    // inside the instant; at the instant's end all are back to 0.
    assert_eq!(r.summary.upper_bound, 0);
}

#[test]
fn gridlock_run_clears_the_ring_at_the_next_multiple() {
    // Submitted 09:00:01; runs every 5 min fall at 09:05:00.
    let r = run(&ring(), ChannelSpec::rtgs(Some(300_000)));
    assert_eq!(settle_texts(&r), ["09:05:00.000"; 3]);
    assert_eq!(r.closing_fen, [100, 100, 100]);
    assert_eq!(r.min_balance_fen, [100, 100, 100]);
    assert_eq!(r.summary.liquidity_used, 0);
    assert_eq!(r.summary.delay_ms.max, 299_000);
}

#[test]
fn multilateral_netting_clears_the_ring_but_bilateral_netting_cannot() {
    let r = run(&ring(), dns(&["12:00:00"], Unwind::Participant));
    assert_eq!(settle_texts(&r), ["12:00:00.000"; 3]);
    assert_eq!(r.closing_fen, [100, 100, 100]);
    // Each pair nets to a 500 debt that 100 cannot cover.
    let r = run(&ring(), bilateral(&["12:00:00"]));
    assert_eq!(settle_texts(&r), ["-"; 3]);
}

/// A owes B 100 with nothing; the unwinding spreads B → C.
///   p1 A→B 100, p2 B→C 80, p3 C→D 60, p4 D→C 30, p5 E→F 5
/// nets: A −100 (short, avail 0), B +20, C +50, D +30, E −5, F +5.
fn cascade() -> TestDay {
    TestDay {
        opening: vec![0, 0, 0, 100, 5, 0],
        credit: vec![0; 6],
        payments: vec![
            p("10:00:00", 0, 1, 100),
            p("10:00:00", 1, 2, 80),
            p("10:00:00", 2, 3, 60),
            p("10:00:00", 3, 2, 30),
            p("10:00:00", 4, 5, 5),
        ],
        day_end_ms: ms("17:00:00"),
    }
}

#[test]
fn participant_unwinding_cascades() {
    // Round 1: A short → drop p1; B now −80 → short.
    // Round 2: drop p2; C now −60 + 30 = −30 → short.
    // Round 3: drop p3, p4; D at 0. Only E→F settles.
    let r = run(&cascade(), dns(&["12:00:00"], Unwind::Participant));
    assert_eq!(settle_texts(&r), ["-", "-", "-", "-", "12:00:00.000"]);
    assert_eq!(r.closing_fen, [0, 0, 0, 100, 0, 5]);
}

#[test]
fn latest_unwinding_drops_only_the_last_payments() {
    // Round 1: A short → drop p1 (its last); B −80 → short.
    // Round 2: drop p2; C −60 + 30 = −30 → short.
    // Round 3: drop p3 (C's last); C +30, D −30 with 100 → fine.
    // p4 D→C and p5 E→F settle.
    let r = run(&cascade(), dns(&["12:00:00"], Unwind::Latest));
    assert_eq!(
        settle_texts(&r),
        ["-", "-", "-", "12:00:00.000", "12:00:00.000"]
    );
    assert_eq!(r.closing_fen, [0, 0, 30, 70, 0, 5]);
    assert_eq!(r.min_balance_fen, [0, 0, 0, 70, 0, 0]);
    assert_eq!(r.summary.liquidity_used, 35);
}

#[test]
fn unwound_payments_stay_pending_for_the_next_cycle() {
    // At 13:00 A receives 100 from D (submitted 12:30), so at the 14:00
    // cycle everybody can cover: p1..p4 settle then with p6.
    let mut day = cascade();
    day.payments.push(p("12:30:00", 3, 0, 100));
    let r = run(&day, dns(&["12:00:00", "14:00:00"], Unwind::Participant));
    // Second cycle nets: A −100+100 = 0, B +20, C +50, D +30 − 100 = −70 (has 100).
    assert_eq!(
        settle_texts(&r),
        [
            "14:00:00.000",
            "14:00:00.000",
            "14:00:00.000",
            "14:00:00.000",
            "12:00:00.000",
            "14:00:00.000"
        ]
    );
    assert_eq!(r.closing_fen, [0, 20, 50, 30, 0, 5]);
}

#[test]
fn an_urgent_payment_overtakes_the_queue() {
    // A has 100. 09:00 p1 A→B 150 queues (100 < 150).
    // 09:01 p2 A→C 50 queues behind p1: FIFO, although A could pay it.
    // 09:02 p3 A→C 80 urgent jumps ahead of p1 and settles: A 20.
    // 09:03 p4 B→A 130 settles: A 150 → p1 settles: A 0, B 200−130+150.
    let mut day = TestDay {
        opening: vec![100, 200, 0],
        credit: vec![0, 0, 0],
        payments: vec![
            p("09:00:00", 0, 1, 150),
            p("09:01:00", 0, 2, 50),
            p("09:02:00", 0, 2, 80),
            p("09:03:00", 1, 0, 130),
        ],
        day_end_ms: ms("17:00:00"),
    };
    day.payments[2].priority = 1;
    let r = run(&day, rtgs());
    assert_eq!(
        settle_texts(&r),
        ["09:03:00.000", "-", "09:02:00.000", "09:03:00.000"]
    );
    assert_eq!(r.closing_fen, [0, 220, 80]);
    // B dips to 70 inside 09:03 but ends the instant at 220: minimum 200.
    assert_eq!(r.min_balance_fen, [0, 200, 0]);
}

#[test]
fn many_payments_at_one_instant_release_in_a_cascade() {
    // Ten banks, a ring of 100s submitted at one instant in reverse order:
    // only bank 0 holds 100, so every other payment queues on arrival until
    // 0→1 (the last row) starts the cascade. Dips inside the instant do not
    // count towards minimum balances.
    let banks = 10;
    let mut opening = vec![0; banks];
    opening[0] = 100;
    let payments = (0..banks)
        .rev()
        .map(|i| p("10:00:00", i, (i + 1) % banks, 100))
        .collect();
    let day = TestDay {
        opening: opening.clone(),
        credit: vec![0; banks],
        payments,
        day_end_ms: ms("17:00:00"),
    };
    let r = run(&day, rtgs());
    assert!(settle_texts(&r).iter().all(|s| s == "10:00:00.000"));
    assert_eq!(r.closing_fen, opening);
    assert_eq!(r.min_balance_fen, opening);
    assert_eq!(r.summary.liquidity_used, 0);
    assert_eq!(r.summary.delay_ms.max, 0);
}

#[test]
fn a_credit_limit_is_used_to_the_last_fen() {
    // A: 10 own + 90 credit = 100 available: the 100 settles, the next fen
    // does not, until A receives 1 at 11:00.
    let day = TestDay {
        opening: vec![10, 0],
        credit: vec![90, 0],
        payments: vec![
            p("09:00:00", 0, 1, 100),
            p("09:30:00", 0, 1, 1),
            p("11:00:00", 1, 0, 1),
        ],
        day_end_ms: ms("17:00:00"),
    };
    let r = run(&day, rtgs());
    assert_eq!(
        settle_texts(&r),
        ["09:00:00.000", "11:00:00.000", "11:00:00.000"]
    );
    assert_eq!(r.closing_fen, [-90, 100]);
    assert_eq!(r.min_balance_fen, [-90, 0]);
    assert_eq!(r.summary.liquidity_used, 100);
    assert_eq!(r.summary.delay_ms.max, 5_400_000);
}

#[test]
fn bilateral_pairs_settle_in_index_order() {
    // (0,1): B owes A 50 with 0 → stays. (1,2): C owes B 50 with 50 → settles.
    // The (0,1) pair was looked at first, so it waits for the 11:00 cycle.
    let day = TestDay {
        opening: vec![0, 0, 50],
        credit: vec![0; 3],
        payments: vec![p("09:00:00", 1, 0, 50), p("09:00:00", 2, 1, 50)],
        day_end_ms: ms("17:00:00"),
    };
    let r = run(&day, bilateral(&["10:00:00", "11:00:00"]));
    assert_eq!(settle_texts(&r), ["11:00:00.000", "10:00:00.000"]);
    assert_eq!(r.closing_fen, [50, 0, 0]);
}

#[test]
fn a_payment_submitted_at_a_cycle_time_is_in_that_cycle() {
    let day = TestDay {
        opening: vec![10, 0],
        credit: vec![0, 0],
        payments: vec![p("12:00:00", 0, 1, 10), p("12:00:00.001", 1, 0, 10)],
        day_end_ms: ms("17:00:00"),
    };
    let r = run(&day, dns(&["12:00:00"], Unwind::Participant));
    assert_eq!(settle_texts(&r), ["12:00:00.000", "-"]);
    // p1: delay 0 of a worst 5 h; p2 unsettled: delay = worst = 5 h − 1 ms.
    let worst_p1 = 18_000_000.0;
    let worst_p2 = 17_999_999.0;
    assert_eq!(
        r.summary.delay_indicator,
        (10.0 * worst_p2) / (10.0 * worst_p1 + 10.0 * worst_p2)
    );
}

#[test]
fn delay_indicator_and_bounds_by_hand() {
    // day end 10:00:10. p1 A→B 100 at 10:00:00 settles at once (d 0, worst 10 s);
    // p2 B→A 300 at 10:00:05 cannot (B has 100), unsettled (worst 5 s).
    // indicator = (100·0 + 300·5000) / (100·10000 + 300·5000) = 1.5e6 / 2.5e6.
    let day = TestDay {
        opening: vec![100, 0],
        credit: vec![0, 0],
        payments: vec![p("10:00:00", 0, 1, 100), p("10:00:05", 1, 0, 300)],
        day_end_ms: ms("10:00:10"),
    };
    let r = run(&day, rtgs());
    assert_eq!(r.summary.delay_indicator, 0.6);
    // Lower bound: B sends 300, receives 100 → 200; A receives net → 0.
    assert_eq!(r.summary.lower_bound, 200);
    // Upper bound: A dips to −100 at 10:00:00; B to +100 − 300 = −200 at 10:00:05.
    assert_eq!(r.summary.upper_bound, 300);
    assert_eq!(r.summary.liquidity_used, 100);
    assert_eq!((r.summary.settled, r.summary.settled_value), (1, 100));
    assert_eq!((r.summary.unsettled, r.summary.unsettled_value), (1, 300));
}

#[test]
fn gridlock_run_removes_the_last_payments_of_short_participants() {
    // A 0, B 0, C 10. Queued: A→B 50, B→A 50, B→C 30, C→A 5 (C pays at once? C has
    // 10 ≥ 5 → settles on arrival at 09:00, A = 5).
    // A→B 50 queued (5 < 50), B→A 50 queued, B→C 30 queued behind it.
    // Run at 10:00: nets A −50+50 = 0, B +50−50−30 = −30 with 0 → short:
    // drop B's last (B→C 30). Now all 0 → A↔B settle at 10:00; B→C stays.
    let day = TestDay {
        opening: vec![0, 0, 10],
        credit: vec![0; 3],
        payments: vec![
            p("09:00:00", 2, 0, 5),
            p("09:10:00", 0, 1, 50),
            p("09:20:00", 1, 0, 50),
            p("09:30:00", 1, 2, 30),
        ],
        day_end_ms: ms("17:00:00"),
    };
    let r = run(&day, ChannelSpec::rtgs(Some(3_600_000)));
    assert_eq!(
        settle_texts(&r),
        ["09:00:00.000", "10:00:00.000", "10:00:00.000", "-"]
    );
    assert_eq!(r.closing_fen, [5, 0, 5]);
}

#[test]
fn a_day_ending_at_midnight_still_has_its_day_end_gridlock_run() {
    // Day end 00:00:00: no positive multiple of the interval is in the day,
    // so the only run is the one at day end, where the ring clears.
    let mut day = ring();
    for p in &mut day.payments {
        p.submit_ms = 0;
    }
    day.day_end_ms = 0;
    let r = run(&day, ChannelSpec::rtgs(Some(60_000)));
    assert_eq!(settle_texts(&r), ["00:00:00.000"; 3]);
    // An interval longer than the day: one run, at day end.
    let mut day = ring();
    day.day_end_ms = ms("10:00:00");
    let r = run(&day, ChannelSpec::rtgs(Some(86_400_000)));
    assert_eq!(settle_texts(&r), ["10:00:00.000"; 3]);
}

#[test]
fn bypass_fifo_lets_later_payments_that_fit_pass_a_blocked_head() {
    // A has 100. 09:00 A→B 150 blocks; 09:01 A→C 50 fits.
    // Strict FIFO: the 50 waits behind the 150 until B pays A 100 at 10:00
    // (A: 200), then both settle.
    // Bypass: the 50 settles on arrival (A: 50); at 10:00 (A: 150) the 150.
    let day = TestDay {
        opening: vec![100, 100, 0],
        credit: vec![0; 3],
        payments: vec![
            p("09:00:00", 0, 1, 150),
            p("09:01:00", 0, 2, 50),
            p("10:00:00", 1, 0, 100),
        ],
        day_end_ms: ms("17:00:00"),
    };
    let strict = run(&day, rtgs());
    assert_eq!(settle_texts(&strict), ["10:00:00.000"; 3]);
    let bypass = run(&day, ChannelSpec::gross(QueueRule::Bypass, None));
    assert_eq!(
        settle_texts(&bypass),
        ["10:00:00.000", "09:01:00.000", "10:00:00.000"]
    );
    assert_eq!(bypass.closing_fen, [0, 150, 50]);
    assert_eq!(strict.closing_fen, bypass.closing_fen);
}

#[test]
fn bypass_settles_what_fits_in_queue_order() {
    // A (0) pays C 60 and B 30 at 09:00 with 50: the 60 queues, the 30
    // passes it (A: 20, B: 70). At 10:00 B pays A 40 (A: 60): the 60 settles.
    let day = TestDay {
        opening: vec![50, 40, 0],
        credit: vec![0; 3],
        payments: vec![
            p("09:00:00", 0, 2, 60),
            p("09:00:00", 0, 1, 30),
            p("10:00:00", 1, 0, 40),
        ],
        day_end_ms: ms("17:00:00"),
    };
    let bypass = run(&day, ChannelSpec::gross(QueueRule::Bypass, None));
    assert_eq!(
        settle_texts(&bypass),
        ["10:00:00.000", "09:00:00.000", "10:00:00.000"]
    );
    assert_eq!(bypass.closing_fen, [0, 30, 60]);
}

#[test]
fn offsetting_settles_a_queued_payment_against_the_receivers_queue() {
    // A and B hold 10 each. 09:00 B→A 100 queues (10 < 100); 09:01 A→B 95
    // would queue too (10 < 95). Offsetting on entry: A's 95 against B's
    // queued 100 to A: A ends 10 − 95 + 100 = 15 ≥ 0, B 10 + 95 − 100 = 5 ≥ 0:
    // both settle at 09:01. Plain rtgs leaves them gridlocked.
    let day = TestDay {
        opening: vec![10, 10],
        credit: vec![0, 0],
        payments: vec![p("09:00:00", 1, 0, 100), p("09:01:00", 0, 1, 95)],
        day_end_ms: ms("17:00:00"),
    };
    assert_eq!(settle_texts(&run(&day, rtgs())), ["-", "-"]);
    let offset = run(&day, ChannelSpec::gross(QueueRule::Offset, None));
    assert_eq!(settle_texts(&offset), ["09:01:00.000", "09:01:00.000"]);
    assert_eq!(offset.closing_fen, [15, 5]);
    // Only what keeps both covered: with A→B 80, B would end at 10 + 80 −
    // 100 < 0, so nothing offsets.
    let mut short = day.clone();
    short.payments[1].amount = 80;
    assert_eq!(
        settle_texts(&run(&short, ChannelSpec::gross(QueueRule::Offset, None))),
        ["-", "-"]
    );
}

#[test]
fn offsetting_takes_the_longest_covered_run_of_the_receivers_queue() {
    // B queued 30, 30, 30 to A (B holds 0); A (holds 0) then sends B 70.
    // k = 1: A 0 − 70 + 30 < 0. k = 2: A −10 < 0. k = 3: A +20, B 70 − 90 < 0.
    // Nothing is covered... with B holding 20, k = 3 gives B 0: all settle.
    let mut day = TestDay {
        opening: vec![0, 0],
        credit: vec![0, 0],
        payments: vec![
            p("09:00:00", 1, 0, 30),
            p("09:00:01", 1, 0, 30),
            p("09:00:02", 1, 0, 30),
            p("09:01:00", 0, 1, 70),
        ],
        day_end_ms: ms("17:00:00"),
    };
    let spec = || ChannelSpec::gross(QueueRule::Offset, None);
    assert_eq!(settle_texts(&run(&day, spec())), ["-", "-", "-", "-"]);
    day.opening = vec![0, 20];
    let r = run(&day, spec());
    assert_eq!(settle_texts(&r), ["09:01:00.000"; 4]);
    assert_eq!(r.closing_fen, [20, 0]);
}

fn dns_with_fund(unwind: Unwind, fund_fen: i64) -> ChannelSpec {
    ChannelSpec::dns(vec![t("12:00:00")], unwind, Some(fund_fen))
}

#[test]
fn a_guarantee_fund_covers_the_short_participant_before_any_unwinding() {
    // Nets as in `cascade`: A −100 with avail 0, so its shortfall is 100.
    // A fund of 100 pays it: everything settles, A stays at its floor (0)
    // and the others get their full nets; Σ balances grows by the 100.
    let r = run(&cascade(), dns_with_fund(Unwind::Participant, 100));
    assert!(r.settle.iter().all(|&s| s == ms("12:00:00")));
    assert_eq!(r.closing_fen, [0, 20, 50, 130, 0, 5]);
    assert_eq!(r.closing_fen.iter().sum::<i64>(), 105 + 100);
}

#[test]
fn a_short_fund_lets_the_unwinding_go_only_as_far_as_needed() {
    // Fund 99 < A's 100: round 1 unwinds A (p1). Now B is short by 80
    // (−80, avail 0) and nobody else: 80 ≤ 99, so the fund pays B's debit
    // and p2..p5 settle. C +80 −60 +30 = +50, D +60 −30 = +30.
    let r = run(&cascade(), dns_with_fund(Unwind::Participant, 99));
    assert_eq!(
        settle_texts(&r),
        [
            "-",
            "12:00:00.000",
            "12:00:00.000",
            "12:00:00.000",
            "12:00:00.000"
        ]
    );
    assert_eq!(r.closing_fen, [0, 0, 50, 130, 0, 5]);
    // Under `latest` unwinding the same: A drops p1 (its only one), then B's
    // 80 is covered.
    let latest = run(&cascade(), dns_with_fund(Unwind::Latest, 99));
    assert_eq!(latest.settle, r.settle);
    assert_eq!(latest.closing_fen, r.closing_fen);
}

#[test]
fn a_short_participant_pays_down_to_its_floor_and_the_fund_the_rest() {
    // A has 30 of its own and 10 of credit: of its 100 net debit it pays 40
    // (to −10), the fund 60. A fund of 59 is not enough: A is unwound.
    let mut day = cascade();
    day.opening[0] = 30;
    day.credit[0] = 10;
    let r = run(&day, dns_with_fund(Unwind::Participant, 60));
    assert!(r.settle.iter().all(|&s| s == ms("12:00:00")));
    assert_eq!(r.closing_fen, [-10, 20, 50, 130, 0, 5]);
    assert_eq!(r.min_balance_fen[0], -10);
    let r = run(&day, dns_with_fund(Unwind::Participant, 59));
    // 59 < 60: round 1 unwinds A; then B's shortfall 80 > 59 too, so B is
    // unwound; C: −60 + 30 = −30 > 59? No: 30 ≤ 59, the fund pays C's 30.
    assert_eq!(
        settle_texts(&r),
        ["-", "-", "12:00:00.000", "12:00:00.000", "12:00:00.000"]
    );
    assert_eq!(r.closing_fen, [30, 0, 0, 130, 0, 5]);
}

fn rtgs_limits(gridlock_every_ms: Option<u32>) -> ChannelSpec {
    use clearsim_core::strategy::{SenderLimit, SenderLimits};
    // A (0) may pay out at most 300 net to all and 100 net to B (1).
    ChannelSpec::rtgs_limits(
        gridlock_every_ms,
        SenderLimits {
            entries: vec![
                SenderLimit {
                    sender: 0,
                    receiver: None,
                    limit_fen: 300,
                },
                SenderLimit {
                    sender: 0,
                    receiver: Some(1),
                    limit_fen: 100,
                },
            ],
        },
    )
}

/// A has 1,000 but limits of 300 (multilateral) and 100 (to B).
fn limited_day() -> TestDay {
    TestDay {
        opening: vec![1000, 0, 0],
        credit: vec![0; 3],
        payments: vec![
            p("09:00:00", 0, 1, 80),  // p1: A→B, positions A 80, A–B 80
            p("09:01:00", 0, 1, 50),  // p2: A–B would be 130 > 100: queued
            p("09:02:00", 0, 2, 10),  // p3: behind p2 (strict FIFO)
            p("09:03:00", 1, 0, 40),  // p4: B pays A: A–B 40, A 40
            p("09:04:00", 0, 2, 250), // p5: A would be 350 > 300: queued
            p("09:05:00", 2, 0, 60),  // p6: C has only 10 by then: queued
        ],
        day_end_ms: ms("17:00:00"),
    }
}

#[test]
fn sender_limits_hold_a_covered_payment_until_the_position_falls() {
    // p4 lowers A's positions by 40: p2 (A–B 40 + 50 = 90 ≤ 100, A 90) and
    // then p3 (A 100) settle at 09:03. p5 would take A to 350: it waits;
    // p6 (C has 10) waits. Nothing else happens.
    let r = run(&limited_day(), rtgs_limits(None));
    assert_eq!(
        settle_texts(&r),
        [
            "09:00:00.000",
            "09:03:00.000",
            "09:03:00.000",
            "09:03:00.000",
            "-",
            "-"
        ]
    );
    assert_eq!(r.closing_fen, [1000 - 80 - 50 - 10 + 40, 80 - 40 + 50, 10]);
    // Plain rtgs: A has the money, so nothing of A's waits.
    let plain = run(&limited_day(), rtgs());
    assert_eq!(plain.settle[1], ms("09:01:00"));
}

#[test]
fn bypass_and_sender_limits_compose() {
    // rtgs+bypass+limits: p2 (A–B would be 130 > 100) is passed over, not
    // waited behind, so p3 (A 90 ≤ 300) settles at once at 09:02. p4 lowers
    // A's positions by 40 (A 50, A–B 40): p2 then fits (A–B 90, A 100) and
    // settles at 09:03. p5 (A 350 > 300) and p6 (C has 10) wait to the end.
    let spec = rtgs_limits(None);
    let composed = ChannelSpec::gross(QueueRule::Bypass, None)
        .with_limits(spec.limits().cloned().unwrap_or_default());
    assert_eq!(composed.name(), "rtgs+bypass+limits");
    let r = run(&limited_day(), composed);
    assert_eq!(
        settle_texts(&r),
        [
            "09:00:00.000",
            "09:03:00.000",
            "09:02:00.000",
            "09:03:00.000",
            "-",
            "-"
        ]
    );
    assert_eq!(r.closing_fen, [1000 - 80 - 10 + 40 - 50, 80 - 40 + 50, 10]);
}

#[test]
fn a_gridlock_run_respects_sender_limits_by_the_net() {
    // Runs at 16:00 and 17:00. At 16:00 C = {p5, p6}: A's net −250 + 60 =
    // −190 takes its position from 100 to 290 ≤ 300, and C's +250 − 60
    // covers its part: both settle. Alone, p5 would breach (350 > 300).
    let r = run(&limited_day(), rtgs_limits(Some(16 * 3_600_000)));
    assert_eq!(r.settle[4], ms("16:00:00"));
    assert_eq!(r.settle[5], ms("16:00:00"));
    let mut day = limited_day();
    day.payments.pop();
    let r = run(&day, rtgs_limits(Some(16 * 3_600_000)));
    assert_eq!(settle_texts(&r)[4], "-");
}

/// A 100, B 150, C 0 with maxima 200 %: A ≤ 200, B ≤ 300, C ≤ 0.
fn chips_day() -> TestDay {
    TestDay {
        opening: vec![100, 150, 0],
        credit: vec![0; 3],
        payments: vec![
            p("09:00:00", 1, 0, 120), // p1: A would reach 220 > 200: waits
            p("09:01:00", 0, 1, 50),  // p2: settles; A at 50, so p1 goes too
            p("09:02:00", 0, 2, 30),  // p3: C's maximum is 0: waits
            p("09:02:00", 2, 0, 30),  // p4: C has nothing: waits
            p("09:03:00", 1, 2, 10),  // p5: C's maximum: waits
        ],
        day_end_ms: ms("17:00:00"),
    }
}

fn chips() -> ChannelSpec {
    ChannelSpec::chips(5 * 60_000, 200)
}

#[test]
fn balanced_release_holds_a_payment_while_the_receiver_is_at_its_maximum() {
    let r = run(&chips_day(), chips());
    // p2 settles at 09:01; A's balance falls to 50, which lets p1 in
    // (50 + 120 = 170 ≤ 200) at the same instant.
    assert_eq!(r.settle[0], ms("09:01:00"));
    assert_eq!(r.settle[1], ms("09:01:00"));
}

#[test]
fn balanced_release_settles_offsetting_sets_and_the_rest_at_day_end() {
    let r = run(&chips_day(), chips());
    // 09:05 run: the set {p3, p4, p5} gives C +10 > its maximum 0, so C
    // drops its last received payment (p5); then p3 and p4 offset exactly.
    assert_eq!(r.settle[2], ms("09:05:00"));
    assert_eq!(r.settle[3], ms("09:05:00"));
    // p5 waits for the day-end final settlement, where maxima do not apply
    // and B (80) covers it.
    assert_eq!(r.settle[4], ms("17:00:00"));
    assert_eq!(r.closing_fen, [170, 70, 10]);
    // Plain rtgs settles p1 at once (A has no maximum) and p3 too, while
    // p4 waits for C to be paid (09:02, the same instant).
    let plain = run(&chips_day(), rtgs());
    assert_eq!(plain.settle[0], ms("09:00:00"));
}

#[test]
fn balanced_release_continues_the_pass_at_the_arriving_sender() {
    // A 219, B 236, C 537; maxima 144 %: B ≤ 339. At 0 s C → B 104 (p1),
    // A → B 169 (p3) and A → B 104 (p4) all wait on B's maximum.
    // At 12 s B → C 169 (p0) arrives and settles at once (B 67). A full pass
    // reaches B after A, so the pass goes on with C: p1 (B 171), and only
    // the next pass comes back to A: p3 would take B to 340 > 339, p4 fits
    // (B 275). Waking A first would settle p3 instead — the wrong one.
    let day = TestDay {
        opening: vec![219, 236, 537],
        credit: vec![0; 3],
        payments: vec![
            P {
                submit_ms: 12_000,
                sender: 1,
                receiver: 2,
                amount: 169,
                priority: 0,
            },
            P {
                submit_ms: 0,
                sender: 2,
                receiver: 1,
                amount: 104,
                priority: 0,
            },
            P {
                submit_ms: 12_000,
                sender: 0,
                receiver: 1,
                amount: 1,
                priority: 0,
            },
            P {
                submit_ms: 0,
                sender: 0,
                receiver: 1,
                amount: 169,
                priority: 0,
            },
            P {
                submit_ms: 0,
                sender: 0,
                receiver: 1,
                amount: 104,
                priority: 0,
            },
        ],
        day_end_ms: 20_000,
    };
    let spec = ChannelSpec::chips(5_000, 144);
    let r = run(&day, spec);
    let at = |s: u32| if s == UNSETTLED { None } else { Some(s) };
    let settled: Vec<Option<u32>> = r.settle.iter().map(|&s| at(s)).collect();
    assert_eq!(
        settled,
        [Some(12_000), Some(12_000), Some(12_000), None, Some(12_000)]
    );
    assert_eq!(r.closing_fen, [114, 276, 602]);
}
