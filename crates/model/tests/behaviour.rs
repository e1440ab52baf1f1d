//! Banks' queue policies and costs on hand-made days (fixed payments).

use std::path::Path;

use clearsim_model::config::Config;
use clearsim_model::run::{NoObserver, RunResult, run};
use clearsim_model::workload::city::build_city;

/// Three banks; B1 opens with 1,000 yuan (credit none), the others with
/// nothing. B1 owes B2 800 at 09:00 and 600 at 09:30; B2 owes B1 500 at
/// 10:00. Policies and costs are appended.
fn day(extra: &str) -> RunResult {
    let text = format!(
        r#"
name = "desk"
seed = 1
days = 1
day_end = "17:00"
[participants]
n = 3
[liquidity]
opening_share = 0.0
credit_share = 0.0
[[instrument]]
name = "opening"
fixed = [ {{ at = "08:00", from = "B3", to = "B1", amount_yuan = 1000 }} ]
[[instrument]]
name = "t"
fixed = [
  {{ at = "09:00", from = "B1", to = "B2", amount_yuan = 800 }},
  {{ at = "09:30", from = "B1", to = "B2", amount_yuan = 600 }},
  {{ at = "10:00", from = "B2", to = "B1", amount_yuan = 500 }},
]
[[channel]]
name = "gross"
strategy = "rtgs"
instruments = ["opening", "t"]
[costs]
delay_bp_per_minute = [1.0]
{extra}
"#
    );
    let (mut scenario, replication) = Config::parse(Path::new("desk.toml"), &text, Path::new("."))
        .expect("config")
        .split();
    // B3 gives B1 its opening at 08:00 from unlimited credit.
    scenario.liquidity.credit_share = 0.0;
    let mut city = build_city(&scenario);
    city.credit_limit_fen[2] = i64::MAX / 4;
    run(&scenario, &city, replication, &mut NoObserver).expect("run")
}

/// (bank delay, system delay) value-weighted means of instrument `t`, minutes.
fn split_minutes(result: &RunResult) -> (f64, f64) {
    let (bank, system) = result.delay_split[1].means_ms();
    (bank / 60_000.0, system / 60_000.0)
}

#[test]
fn immediate_submits_at_once_and_the_system_queues() {
    let r = day("");
    // 800 at 09:00; 600 queues 09:30 → 10:00 (B2's 500 makes 700).
    let (bank, system) = split_minutes(&r);
    assert_eq!(bank, 0.0);
    assert!((system - 600.0 * 30.0 / 1900.0).abs() < 1e-9, "{system}");
}

#[test]
fn the_immediate_policy_changes_nothing() {
    let plain = day("");
    let named = day("[[policy]]\nrule = \"immediate\"\n");
    assert_eq!(plain.channels, named.channels);
    assert_eq!(plain.instruments, named.instruments);
    assert_eq!(plain.closing_fen, named.closing_fen);
    assert_eq!(plain.costs, named.costs);
}

#[test]
fn reserve_holds_the_payment_at_the_bank_instead() {
    // Keep 300 yuan: 800 would leave 200 < 300, so B1 holds it, and the
    // 600 behind it. B2, paid nothing, cannot pay its 500 at 10:00: it
    // queues in the system. Deadlock until the day end, when B1 submits
    // both: 800 settles, B2's 500 follows, then the 600.
    let r = day("[[policy]]\nparticipant = \"B1\"\nrule = \"reserve:300yuan\"\n");
    let (bank, system) = split_minutes(&r);
    let want_bank = (800.0 * 480.0 + 600.0 * 450.0) / 1900.0;
    assert!((bank - want_bank).abs() < 1e-9, "{bank}");
    assert!((system - 500.0 * 420.0 / 1900.0).abs() < 1e-9, "{system}");
    // Delay cost of B1 at 1 bp a minute: Σ amount (fen) × minutes × 1e-4.
    let cost = r.costs[0][0].delay_fen;
    let want = (800.0 * 480.0 + 600.0 * 450.0) * 100.0 * 1e-4;
    assert!((cost - want).abs() < 1e-6, "{cost}");
    assert!((r.costs[0][1].delay_fen - 500.0 * 420.0 * 100.0 * 1e-4).abs() < 1e-6);
}

#[test]
fn deadline_sends_everything_at_the_cutoff() {
    let r = day("[[policy]]\nparticipant = \"B1\"\nrule = \"deadline:12:00\"\n");
    // Both held to 12:00 (B2's 500 queues in the system meanwhile); at
    // 12:00 the 800 settles, B2's 500 follows, then the 600.
    let (bank, system) = split_minutes(&r);
    let want = (800.0 * 180.0 + 600.0 * 150.0) / 1900.0;
    assert!((bank - want).abs() < 1e-9, "{bank}");
    assert!((system - 500.0 * 120.0 / 1900.0).abs() < 1e-9, "{system}");
}

#[test]
fn reciprocal_waits_for_the_counterparty_then_times_out() {
    // B1 pays B2 only once B2 has paid it as much: B2 pays 500 at 10:00,
    // short of 800; the 800 times out at 10:30 (90 min); the 600 at 11:00.
    let r = day("[[policy]]\nparticipant = \"B1\"\nrule = \"reciprocal:90m\"\n");
    let (bank, _) = split_minutes(&r);
    let want = (800.0 * 90.0 + 600.0 * 90.0 + 500.0 * 0.0) / 1900.0;
    assert!((bank - want).abs() < 1e-9, "{bank}");
}

#[test]
fn throughput_releases_when_behind_the_guideline() {
    // Guideline: 50 % of B1's expected 1,400 by 09:15 = 700. Its balance
    // covers the 800 at 09:00; the 600 at 09:30 does not fit (200 left)
    // and 800 ≥ 700 is not behind: held. B2 pays 500 at 10:00; B1 sees its
    // balance of 700 a millisecond later and submits.
    let r = day("[[policy]]\nparticipant = \"B1\"\nrule = \"throughput:09:15=50%,16:00=100%\"\n");
    let (bank, system) = split_minutes(&r);
    assert!(
        (bank - 600.0 * 30.000_016_666_666_7 / 1900.0).abs() < 1e-9,
        "{bank}"
    );
    assert_eq!(system, 0.0);
}

mod random_days {
    use super::*;
    use proptest::prelude::*;

    const POLICIES: [&str; 6] = [
        "immediate",
        "reserve:200yuan",
        "throughput:10:00=30%,14:00=80%",
        "reciprocal:45m",
        "deadline:13:00",
        "deadline:16:59",
    ];
    const STRATEGIES: [&str; 4] = [
        "strategy = \"rtgs\"",
        "strategy = \"rtgs+bypass\"",
        "strategy = \"rtgs\"\ngridlock_every = \"30m\"",
        "strategy = \"dns\"\ncycles = [\"12:00\", \"17:00\"]",
    ];

    /// A day of fixed payments between four banks, a policy per bank.
    fn scenario_text(
        payments: &[(u32, u32, u32, u32)],
        policies: &[usize],
        strategy: usize,
        (opening, credit): (f64, f64),
        days: u32,
    ) -> String {
        let fixed: Vec<String> = payments
            .iter()
            .map(|&(minute, from, to, yuan)| {
                let to = if to == from { (to + 1) % 4 } else { to };
                format!(
                    "{{ at = \"{:02}:{:02}\", from = \"B{}\", to = \"B{}\", amount_yuan = {} }}",
                    9 + minute / 60,
                    minute % 60,
                    from + 1,
                    to + 1,
                    yuan
                )
            })
            .collect();
        let mut text = format!(
            "name = \"random\"\nseed = 1\ndays = {days}\nday_end = \"17:00\"\n[participants]\nn = 4\n[liquidity]\nopening_share = {opening}\ncredit_share = {credit}\n[costs]\ncredit = \"priced\"\noverdraft_fee_bp = 1\ndelay_bp_per_minute = [0.1, 0.5]\nunsettled_bp = 50\n[[instrument]]\nname = \"t\"\nfixed = [{}]\n[[channel]]\nname = \"c\"\n{}\ninstruments = [\"t\"]\n",
            fixed.join(", "),
            STRATEGIES[strategy]
        );
        for (bank, &p) in policies.iter().enumerate() {
            text += &format!(
                "[[policy]]\nparticipant = \"B{}\"\nrule = \"{}\"\n",
                bank + 1,
                POLICIES[p]
            );
        }
        text
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        /// Whatever the banks hold back and however the system settles,
        /// every order reaches the system by the day end, every payment is
        /// settled or not (never lost, never twice), money is conserved,
        /// delays split into parts that add up, and costs are finite ≥ 0.
        #[test]
        fn every_order_is_accounted_for(
            payments in prop::collection::vec((0u32..470, 0u32..4, 0u32..4, 1u32..2000), 1..40),
            policies in prop::collection::vec(0usize..POLICIES.len(), 4),
            strategy in 0usize..STRATEGIES.len(),
            opening in 0.0f64..1.5,
            credit in 0.0f64..0.5,
            days in 1u32..3,
        ) {
            let text = scenario_text(&payments, &policies, strategy, (opening, credit), days);
            let (scenario, replication) = Config::parse(Path::new("random.toml"), &text, Path::new("."))
                .map_err(|e| TestCaseError::fail(e.to_string()))?
                .split();
            let city = build_city(&scenario);
            let r = run(&scenario, &city, replication, &mut NoObserver).expect("run");
            let ordered: i64 = payments.iter().map(|p| i64::from(p.3) * 100).sum();
            let flow = &r.instruments[0].counts;
            prop_assert_eq!(flow.payments, payments.len() as u64 * u64::from(days));
            prop_assert_eq!(flow.value_fen, ordered * i64::from(days));
            prop_assert_eq!(
                flow.settled_value_fen + flow.unsettled_value_fen + flow.carried_value_fen,
                flow.value_fen
            );
            let opening_total: i64 = city.opening_fen.iter().sum();
            let closing_total: i64 = r.closing_fen.iter().sum();
            let last = r.days.last().expect("a day");
            prop_assert_eq!(closing_total, last.opening_total_fen);
            prop_assert!(opening_total >= 0);
            let split = &r.delay_split[0];
            prop_assert_eq!(split.settled_value_fen, i128::from(flow.settled_value_fen));
            prop_assert!(split.bank_weighted_fen_ms >= 0 && split.system_weighted_fen_ms >= 0);
            let immediate_only = policies.iter().all(|&p| p == 0);
            prop_assert!(!immediate_only || split.held == 0);
            for day in &r.costs {
                for cost in day {
                    prop_assert!(cost.total_fen().is_finite() && cost.total_fen() >= 0.0);
                }
            }
        }
    }
}
