//! Property tests: the engine against the plain reference implementation of
//! `semantics.md` on random small days, plus invariants and cross-checks.

#[path = "../../../tests/common/reference.rs"]
mod common;

use clearsim_core::strategy::{ChannelSpec, QueueRule, SenderLimit, SenderLimits, Unwind};
use clearsim_core::time::SimTime;
use clearsim_model::metrics::UNSETTLED;
use clearsim_model::replay::replay;
use common::*;
use proptest::prelude::*;

fn spec_of(strategy: &RefStrategy) -> ChannelSpec {
    match strategy {
        RefStrategy::Rtgs { gridlock_every_ms } => ChannelSpec::rtgs(*gridlock_every_ms),
        RefStrategy::RtgsBypass { gridlock_every_ms } => {
            ChannelSpec::gross(QueueRule::Bypass, *gridlock_every_ms)
        }
        RefStrategy::RtgsOffset { gridlock_every_ms } => {
            ChannelSpec::gross(QueueRule::Offset, *gridlock_every_ms)
        }
        RefStrategy::Chips { every_ms, max_pct } => ChannelSpec::chips(*every_ms, *max_pct as u32),
        RefStrategy::RtgsLimits {
            gridlock_every_ms,
            limits,
        } => ChannelSpec::rtgs_limits(*gridlock_every_ms, sender_limits(limits)),
        RefStrategy::RtgsBypassLimits {
            gridlock_every_ms,
            limits,
        } => ChannelSpec::gross(QueueRule::Bypass, *gridlock_every_ms)
            .with_limits(sender_limits(limits)),
        RefStrategy::Dns {
            cycles_ms,
            latest,
            fund,
        } => ChannelSpec::dns(
            cycles_ms.iter().map(|&t| SimTime(t)).collect(),
            if *latest {
                Unwind::Latest
            } else {
                Unwind::Participant
            },
            *fund,
        ),
        RefStrategy::Bilateral { cycles_ms } => {
            ChannelSpec::bilateral(cycles_ms.iter().map(|&t| SimTime(t)).collect())
        }
    }
}

fn sender_limits(limits: &[(usize, Option<usize>, i64)]) -> SenderLimits {
    SenderLimits {
        entries: limits
            .iter()
            .map(|&(sender, receiver, limit_fen)| SenderLimit {
                sender: sender as u32,
                receiver: receiver.map(|r| r as u32),
                limit_fen,
            })
            .collect(),
    }
}

/// Random days on a small clock (seconds 0..=20, day end 20 s) so that many
/// payments share an instant and events coincide with arrivals.
fn arb_day() -> impl Strategy<Value = TestDay> {
    arb_day_sized(7, 40)
}

fn arb_day_sized(max_parts: usize, max_count: usize) -> impl Strategy<Value = TestDay> {
    (2usize..max_parts, 1usize..max_count).prop_flat_map(|(parts, count)| {
        let opening = prop::collection::vec(prop_oneof![Just(0i64), 0i64..1500], parts);
        let credit = prop::collection::vec(prop_oneof![3 => Just(0i64), 1 => 0i64..400], parts);
        let payment = (
            0u32..=20,
            0..parts,
            1..parts,
            1i64..900,
            prop_oneof![4 => Just(0u8), 1 => 0u8..3],
        )
            .prop_map(move |(sec, s, off, amount, priority)| P {
                submit_ms: sec * 1000,
                sender: s,
                receiver: (s + off) % parts,
                amount,
                priority,
            });
        let payments = prop::collection::vec(payment, count);
        (opening, credit, payments).prop_map(|(opening, credit, payments)| TestDay {
            opening,
            credit,
            payments,
            day_end_ms: 20_000,
        })
    })
}

fn arb_cycles() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::btree_set(0u32..=20, 0..4)
        .prop_map(|s| s.into_iter().map(|t| t * 1000).collect())
}

/// Sender limits over participants 0..7 (indices past a day's participant
/// count are dropped by `fit_limits`): at most one multilateral limit per
/// sender and one bilateral limit per pair.
fn arb_limits() -> impl Strategy<Value = Vec<(usize, Option<usize>, i64)>> {
    prop::collection::btree_map((0usize..7, prop::option::of(0usize..7)), 0i64..1200, 1..8)
        .prop_map(|m| {
            m.into_iter()
                .filter(|((s, r), _)| *r != Some(*s))
                .map(|((s, r), limit)| (s, r, limit))
                .collect()
        })
}

/// Keeps the limits that name participants of `day`.
fn fit_limits(strategy: RefStrategy, parts: usize) -> RefStrategy {
    let fit = |limits: Vec<(usize, Option<usize>, i64)>| {
        limits
            .into_iter()
            .filter(|&(s, r, _)| s < parts && r.is_none_or(|r| r < parts))
            .collect()
    };
    match strategy {
        RefStrategy::RtgsLimits {
            gridlock_every_ms,
            limits,
        } => RefStrategy::RtgsLimits {
            gridlock_every_ms,
            limits: fit(limits),
        },
        RefStrategy::RtgsBypassLimits {
            gridlock_every_ms,
            limits,
        } => RefStrategy::RtgsBypassLimits {
            gridlock_every_ms,
            limits: fit(limits),
        },
        other => other,
    }
}

fn arb_strategy() -> impl Strategy<Value = RefStrategy> {
    prop_oneof![
        (1u32..25, 100i64..400).prop_map(|(every, max_pct)| RefStrategy::Chips {
            every_ms: every * 1000,
            max_pct
        }),
        (arb_limits(), prop::option::of(1u32..25)).prop_map(|(limits, g)| {
            RefStrategy::RtgsLimits {
                gridlock_every_ms: g.map(|g| g * 1000),
                limits,
            }
        }),
        (arb_limits(), prop::option::of(1u32..25)).prop_map(|(limits, g)| {
            RefStrategy::RtgsBypassLimits {
                gridlock_every_ms: g.map(|g| g * 1000),
                limits,
            }
        }),
        Just(RefStrategy::Rtgs {
            gridlock_every_ms: None
        }),
        (1u32..25).prop_map(|g| RefStrategy::Rtgs {
            gridlock_every_ms: Some(g * 1000)
        }),
        (500u32..30_000).prop_map(|g| RefStrategy::Rtgs {
            gridlock_every_ms: Some(g)
        }),
        (arb_cycles(), any::<bool>()).prop_map(|(cycles_ms, latest)| RefStrategy::Dns {
            cycles_ms,
            latest,
            fund: None
        }),
        (arb_cycles(), any::<bool>(), 0i64..400).prop_map(|(cycles_ms, latest, fund)| {
            RefStrategy::Dns {
                cycles_ms,
                latest,
                fund: Some(fund),
            }
        }),
        arb_cycles().prop_map(|cycles_ms| RefStrategy::Bilateral { cycles_ms }),
        Just(RefStrategy::RtgsBypass {
            gridlock_every_ms: None
        }),
        (1u32..25).prop_map(|g| RefStrategy::RtgsBypass {
            gridlock_every_ms: Some(g * 1000)
        }),
        Just(RefStrategy::RtgsOffset {
            gridlock_every_ms: None
        }),
        (1u32..25).prop_map(|g| RefStrategy::RtgsOffset {
            gridlock_every_ms: Some(g * 1000)
        }),
    ]
}

fn engine_outcome(
    day: &TestDay,
    strategy: &RefStrategy,
) -> (RefOutcome, clearsim_model::metrics::Summary) {
    let result = replay(&day.day(), &spec_of(strategy)).expect("replay runs");
    let settle_ms = result
        .settle
        .iter()
        .map(|&t| (t != UNSETTLED).then_some(t))
        .collect();
    (
        RefOutcome {
            settle_ms,
            closing: result.closing_fen,
            min_balance: result.min_balance_fen,
        },
        result.summary,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn engine_matches_reference(day in arb_day(), strategy in arb_strategy()) {
        let strategy = fit_limits(strategy, day.opening.len());
        let expected = reference(&day, &strategy);
        let (got, summary) = engine_outcome(&day, &strategy);
        prop_assert_eq!(&got, &expected);
        let want = reference_summary(&day, &expected);
        prop_assert_eq!(summary.settled, want.settled);
        prop_assert_eq!(summary.settled_value, want.settled_value);
        prop_assert_eq!(summary.unsettled, want.unsettled);
        prop_assert_eq!(summary.unsettled_value, want.unsettled_value);
        prop_assert_eq!(summary.lower_bound, want.lower_bound);
        prop_assert_eq!(summary.upper_bound, want.upper_bound);
        prop_assert_eq!(summary.liquidity_used, want.liquidity_used);
        prop_assert_eq!(summary.delay_ms.max, want.delay_max);
        prop_assert!((summary.delay_indicator - want.delay_indicator).abs() < 1e-12);
    }

    #[test]
    fn invariants_hold(day in arb_day(), strategy in arb_strategy()) {
        let strategy = fit_limits(strategy, day.opening.len());
        let (got, _) = engine_outcome(&day, &strategy);
        // Money is conserved (a guarantee fund adds at most its size) and
        // no account breaches its credit floor.
        let opening_total = day.opening.iter().sum::<i64>();
        let closing_total = got.closing.iter().sum::<i64>();
        let fund = match strategy {
            RefStrategy::Dns { fund: Some(fund), .. } => fund,
            _ => 0,
        };
        prop_assert!(closing_total >= opening_total && closing_total <= opening_total + fund);
        for i in 0..day.opening.len() {
            prop_assert!(got.min_balance[i] >= -day.credit[i]);
            prop_assert!(got.closing[i] >= got.min_balance[i]);
        }
        if closing_total != opening_total {
            // The fund paid for somebody: the per-payment audit below does
            // not apply (its cover is checked against the reference).
            return Ok(());
        }
        // Closing balances are the opening ones moved by exactly the settled payments.
        let mut balance = day.opening.clone();
        for (p, settle) in day.payments.iter().zip(&got.settle_ms) {
            if let Some(t) = settle {
                prop_assert!(*t >= p.submit_ms && *t <= day.day_end_ms);
                balance[p.sender] -= p.amount;
                balance[p.receiver] += p.amount;
            }
        }
        prop_assert_eq!(&balance, &got.closing);
        // rtgs FIFO: no payment settles while an earlier one (queue order) of
        // the same sender is still unsettled at that time.
        // Offsetting keeps strict FIFO too: it settles queue heads only.
        if let RefStrategy::Rtgs { .. } | RefStrategy::RtgsOffset { .. } | RefStrategy::RtgsLimits { .. } = strategy {
            let key = |r: usize| {
                let p = &day.payments[r];
                (std::cmp::Reverse(p.priority), p.submit_ms, r)
            };
            for a in 0..day.payments.len() {
                for b in 0..day.payments.len() {
                    let (pa, pb) = (&day.payments[a], &day.payments[b]);
                    if a == b || pa.sender != pb.sender || key(a) >= key(b) {
                        continue;
                    }
                    // a is ahead of b in queue order. If a had arrived when b
                    // settled (an earlier instant, or earlier in processing
                    // order at the same one), a settled no later than b.
                    let arrived_first = |tb: u32| pa.submit_ms < tb || (pa.submit_ms == tb && pa.submit_ms == pb.submit_ms && a < b);
                    if let Some(tb) = got.settle_ms[b]
                        && arrived_first(tb)
                    {
                        prop_assert!(matches!(got.settle_ms[a], Some(ta) if ta <= tb), "FIFO broken: {} before {}", b, a);
                    }
                }
            }
        }
    }

    #[test]
    fn ample_liquidity_rtgs_settles_everything_on_arrival(mut day in arb_day(), split in 0i64..=100) {
        // Each participant gets exactly its need when payments settle one by
        // one in processing order (the lowest running position after any
        // single payment), split between opening balance and credit: then
        // every payment settles on arrival, using liquidity to the last fen.
        // (The contract's upper bound looks only at instant ends, and
        // same-instant order can need more: see docs/semantics-notes.md.)
        let mut order: Vec<usize> = (0..day.payments.len()).collect();
        order.sort_by_key(|&r| day.payments[r].submit_ms);
        let mut running = vec![0i64; day.opening.len()];
        let mut need = vec![0i64; day.opening.len()];
        for &r in &order {
            let p = &day.payments[r];
            running[p.sender] -= p.amount;
            running[p.receiver] += p.amount;
            need[p.sender] = need[p.sender].max(-running[p.sender]);
        }
        day.credit = need.iter().map(|n| n * split / 100).collect();
        day.opening = need.iter().zip(&day.credit).map(|(n, c)| n - c).collect();
        let (got, summary) = engine_outcome(&day, &RefStrategy::Rtgs { gridlock_every_ms: None });
        for (p, settle) in day.payments.iter().zip(&got.settle_ms) {
            prop_assert_eq!(*settle, Some(p.submit_ms));
        }
        // Whoever needed liquidity went down exactly to its floor at some point... unless
        // the dip happened inside an instant (minimums count instant ends only).
        prop_assert!(summary.liquidity_used <= need.iter().sum::<i64>());
        prop_assert!(summary.upper_bound <= need.iter().sum::<i64>());
    }

    #[test]
    fn lower_bound_liquidity_lets_one_dns_cycle_settle_all(mut day in arb_day(), latest in any::<bool>()) {
        let lower = reference_summary(&day, &reference(&day, &RefStrategy::Rtgs { gridlock_every_ms: None })).lower_bound;
        day.opening = vec![lower; day.opening.len()];
        let (got, summary) = engine_outcome(&day, &RefStrategy::Dns { cycles_ms: vec![day.day_end_ms], latest, fund: None });
        prop_assert_eq!(summary.unsettled, 0);
        prop_assert!(got.settle_ms.iter().all(|s| *s == Some(day.day_end_ms)));
    }

    #[test]
    fn gridlock_resolution_never_settles_less_than_plain_rtgs_at_day_end(day in arb_day()) {
        // The day-end gridlock run settles a superset of what release alone
        // leaves: the queues left by plain rtgs either settle or stay.
        let (plain, _) = engine_outcome(&day, &RefStrategy::Rtgs { gridlock_every_ms: None });
        let (with_run, _) = engine_outcome(&day, &RefStrategy::Rtgs { gridlock_every_ms: Some(day.day_end_ms) });
        let settled = |o: &RefOutcome| o.settle_ms.iter().filter(|s| s.is_some()).count();
        prop_assert!(settled(&with_run) >= settled(&plain));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    /// Larger days: more participants, longer queues, slot reuse.
    #[test]
    fn engine_matches_reference_on_larger_days(day in arb_day_sized(16, 250), strategy in arb_strategy()) {
        let strategy = fit_limits(strategy, day.opening.len());
        let expected = reference(&day, &strategy);
        let (got, _) = engine_outcome(&day, &strategy);
        prop_assert_eq!(&got, &expected);
    }
}

/// The release passes of bypass and balanced release, with no other
/// strategy drawn: `chips` (release by candidates, maxima that bind
/// often), bypass and bypass with limits (an arrival settling or queueing
/// without a scan).
fn arb_release_strategy() -> impl Strategy<Value = RefStrategy> {
    prop_oneof![
        3 => (1u32..25, 100i64..250).prop_map(|(every, max_pct)| RefStrategy::Chips {
            every_ms: every * 1000,
            max_pct
        }),
        1 => prop::option::of(1u32..25).prop_map(|g| RefStrategy::RtgsBypass {
            gridlock_every_ms: g.map(|g| g * 1000)
        }),
        1 => (arb_limits(), prop::option::of(1u32..25)).prop_map(|(limits, g)| {
            RefStrategy::RtgsBypassLimits {
                gridlock_every_ms: g.map(|g| g * 1000),
                limits,
            }
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Release passes on crowded days: many payments per instant, long
    /// queues, receivers at their maxima.
    #[test]
    fn release_passes_match_reference(day in arb_day_sized(12, 400), strategy in arb_release_strategy()) {
        let strategy = fit_limits(strategy, day.opening.len());
        let expected = reference(&day, &strategy);
        let (got, _) = engine_outcome(&day, &strategy);
        prop_assert_eq!(&got, &expected);
    }
}

#[test]
fn replay_is_deterministic_byte_for_byte() {
    let day = TestDay {
        opening: vec![100, 50, 0, 500],
        credit: vec![0, 10, 20, 0],
        payments: (0..200)
            .map(|k| P {
                submit_ms: (k * 7919 % 20) * 1000,
                sender: k as usize % 4,
                receiver: (k as usize + 1 + k as usize / 4 % 3) % 4,
                amount: 1 + (k as i64 * 104_729) % 300,
                priority: (k % 5 == 0) as u8,
            })
            .collect(),
        day_end_ms: 20_000,
    };
    for strategy in [
        RefStrategy::Rtgs {
            gridlock_every_ms: Some(3000),
        },
        RefStrategy::Dns {
            cycles_ms: vec![5000, 20_000],
            latest: false,
            fund: None,
        },
        RefStrategy::Bilateral {
            cycles_ms: vec![10_000],
        },
    ] {
        let parsed = day.day();
        let a = replay(&parsed, &spec_of(&strategy)).expect("runs");
        let b = replay(&parsed, &spec_of(&strategy)).expect("runs");
        assert_eq!(
            clearsim_report::settlements_csv(&parsed, &a.settle),
            clearsim_report::settlements_csv(&parsed, &b.settle)
        );
        assert_eq!(a.closing_fen, b.closing_fen);
        assert_eq!(a.summary, b.summary);
        assert_eq!(
            a.settle
                .iter()
                .map(|&t| (t != UNSETTLED).then_some(t))
                .collect::<Vec<_>>(),
            reference(&day, &strategy).settle_ms
        );
    }
}

/// Days on a millisecond clock with a random day end (sometimes a payment
/// exactly at it), and schedules drawn within that day.
fn arb_ms_case() -> impl Strategy<Value = (TestDay, RefStrategy)> {
    (0u32..=30_000, 2usize..6, 1usize..30).prop_flat_map(|(day_end_ms, parts, count)| {
        let opening = prop::collection::vec(0i64..800, parts);
        let credit = prop::collection::vec(prop_oneof![2 => Just(0i64), 1 => 0i64..300], parts);
        let at = prop_oneof![3 => 0..=day_end_ms, 1 => Just(day_end_ms), 1 => Just(0u32)];
        let payment = (
            at,
            0..parts,
            1..parts,
            1i64..600,
            prop_oneof![3 => Just(0u8), 1 => 0u8..3],
        )
            .prop_map(move |(submit_ms, s, off, amount, priority)| P {
                submit_ms,
                sender: s,
                receiver: (s + off) % parts,
                amount,
                priority,
            });
        let cycles = prop::collection::btree_set(0..=day_end_ms, 0..4)
            .prop_map(|s| s.into_iter().collect::<Vec<_>>());
        let strategy = prop_oneof![
            Just(RefStrategy::Rtgs {
                gridlock_every_ms: None
            }),
            (1u32..40_000).prop_map(|g| RefStrategy::Rtgs {
                gridlock_every_ms: Some(g)
            }),
            (
                cycles.clone(),
                any::<bool>(),
                prop::option::of(0i64..1_000_000)
            )
                .prop_map(|(cycles_ms, latest, fund)| RefStrategy::Dns {
                    cycles_ms,
                    latest,
                    fund
                }),
            cycles.prop_map(|cycles_ms| RefStrategy::Bilateral { cycles_ms }),
            (1u32..40_000).prop_map(|g| RefStrategy::RtgsBypass {
                gridlock_every_ms: Some(g)
            }),
        ];
        (
            opening,
            credit,
            prop::collection::vec(payment, count),
            strategy,
        )
            .prop_map(move |(opening, credit, payments, strategy)| {
                (
                    TestDay {
                        opening,
                        credit,
                        payments,
                        day_end_ms,
                    },
                    strategy,
                )
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn engine_matches_reference_on_millisecond_days((day, strategy) in arb_ms_case()) {
        let expected = reference(&day, &strategy);
        let (got, summary) = engine_outcome(&day, &strategy);
        prop_assert_eq!(&got, &expected);
        let want = reference_summary(&day, &expected);
        prop_assert_eq!(summary.upper_bound, want.upper_bound);
        prop_assert_eq!(summary.liquidity_used, want.liquidity_used);
        prop_assert!((summary.delay_indicator - want.delay_indicator).abs() < 1e-12);
    }
}

/// Participant unwinding has two implementations: bilateral flows up to
/// `DENSE_UNWIND_MAX_PARTICIPANTS`, lists of payments beyond. Days on
/// either side of the limit, with most banks short at most cycles, match
/// the reference.
#[test]
fn participant_unwinding_matches_reference_on_both_sides_of_the_dense_limit() {
    use clearsim_core::strategy::DENSE_UNWIND_MAX_PARTICIPANTS as LIMIT;
    for (participants, seed) in [(LIMIT, 1u64), (LIMIT + 1, 2), (LIMIT + 40, 3)] {
        let mut state = seed;
        let mut draw = |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % n
        };
        // Busy banks among the first 50, and a few at the far end of the
        // index range.
        let bank = |draw: &mut dyn FnMut(u64) -> u64| {
            if draw(10) == 0 {
                participants - 1 - draw(20) as usize
            } else {
                draw(50) as usize
            }
        };
        let opening: Vec<i64> = (0..participants).map(|_| draw(12_000) as i64).collect();
        let mut payments = Vec::new();
        for k in 0..4_000u32 {
            let sender = bank(&mut draw);
            let mut receiver = bank(&mut draw);
            if receiver == sender {
                receiver = (sender + 1) % participants;
            }
            let mut payment = p("08:00:00", sender, receiver, 1 + draw(2_000) as i64);
            payment.submit_ms += k * 7_000;
            payments.push(payment);
        }
        let day = TestDay {
            credit: vec![0; participants],
            opening,
            payments,
            day_end_ms: ms("17:00:00"),
        };
        let strategy = RefStrategy::Dns {
            cycles_ms: (9..=17).map(|h| h * 3_600_000).collect(),
            latest: false,
            fund: None,
        };
        let expected = reference(&day, &strategy);
        let (got, _) = engine_outcome(&day, &strategy);
        let settled = got.settle_ms.iter().flatten().count();
        assert!(
            settled > 500 && settled < 3_900,
            "{participants} banks: {settled} of 4,000 settle (unwinding must matter)"
        );
        assert_eq!(got, expected, "{participants} banks");
    }
}
