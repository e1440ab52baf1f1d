//! A participant default, by hand: its outgoing payments are never released,
//! and the knock-on effect on the others per strategy.

use std::process::Command;

use clearsim_core::engine::{Control, Engine, Scheduler, Timed};
use clearsim_core::ledger::{Ledger, Payment, Sink};
use clearsim_core::strategy::{ChannelSpec, Unwind};
use clearsim_core::time::SimTime;

#[derive(Default)]
struct Settled(Vec<(u64, u32)>);
impl Sink for Settled {
    fn settled(&mut self, payment: &Payment, at: SimTime) {
        self.0.push((payment.key, at.ms()));
    }
    fn unsettled(&mut self, _payment: &Payment) {}
}

fn hours(h: u32) -> SimTime {
    SimTime(h * 3_600_000)
}

/// Runs payments `(submit hour, sender, receiver, amount)`; participant
/// `defaulter` defaults at 11:00. Returns the keys that settled, sorted.
fn day(
    opening: &[i64],
    payments: &[(u32, u32, u32, i64)],
    spec: ChannelSpec,
    defaulter: Option<u32>,
) -> Vec<u64> {
    let ledger = Ledger::new(opening, &vec![0; opening.len()]);
    let engine = Engine::new(ledger, &[spec], hours(17), 16).expect("valid");
    let controls = defaulter
        .map(|participant| Timed {
            at: hours(11),
            item: Control::Default { participant },
        })
        .into_iter()
        .collect();
    let mut scheduler = Scheduler::new(engine, controls).expect("valid controls");
    let mut sink = Settled::default();
    let mut arrivals: Vec<(usize, Payment)> = payments
        .iter()
        .map(|p| (0, Payment::new(hours(p.0), p.1, p.2, p.3)))
        .collect();
    // Processing order: by submit time, then as listed.
    arrivals.sort_by_key(|(_, p)| p.submit);
    scheduler.run_day(arrivals, &mut sink).expect("runs");
    let mut keys: Vec<u64> = sink.0.iter().map(|s| s.0).collect();
    keys.sort();
    keys
}

/// A (0) pays B 100, B pays C 80, C pays D 60, D pays C 30, E pays F 5.
/// Everyone can cover the nets while A is sound.
const OPENING: [i64; 6] = [100, 0, 0, 100, 5, 0];
const PAYMENTS: [(u32, u32, u32, i64); 5] = [
    (10, 0, 1, 100),
    (10, 1, 2, 80),
    (10, 2, 3, 60),
    (10, 3, 2, 30),
    (10, 4, 5, 5),
];

#[test]
fn a_default_under_dns_unwinds_a_cascade() {
    let spec = || ChannelSpec::dns(vec![hours(12)], Unwind::Participant, None);
    assert_eq!(day(&OPENING, &PAYMENTS, spec(), None), [0, 1, 2, 3, 4]);
    // A defaults at 11:00: A is unwound (p0), then B is short (−80: p1),
    // then C (−60 + 30: p2, p3). Only E → F settles.
    assert_eq!(day(&OPENING, &PAYMENTS, spec(), Some(0)), [4]);
    // Under `latest` unwinding A drops its payment, B and C their last ones,
    // and D → C still settles.
    let latest = ChannelSpec::dns(vec![hours(12)], Unwind::Latest, None);
    assert_eq!(day(&OPENING, &PAYMENTS, latest, Some(0)), [3, 4]);
}

#[test]
fn a_default_under_rtgs_blocks_only_the_defaulter() {
    // Gross at arrival (10:00) before the default: all settle.
    assert_eq!(
        day(&OPENING, &PAYMENTS, ChannelSpec::rtgs(None), Some(0)).len(),
        5
    );
    // Payments at 12:00, after A's default at 11:00: A's payment queues
    // although A holds 100, so B cannot pay C (80 with 0) and C, which gets
    // only D's 30, cannot pay D 60. The 12:00 gridlock run drops A's payment
    // (a defaulter is short while it has payments in the run), then B's,
    // then C's: only D → C and E → F settle. Sound, all five settle.
    let sound: Vec<_> = PAYMENTS.iter().map(|p| (12, p.1, p.2, p.3)).collect();
    assert_eq!(
        day(&OPENING, &sound, ChannelSpec::rtgs(Some(3_600_000)), None).len(),
        5
    );
    let late: Vec<_> = PAYMENTS.iter().map(|p| (12, p.1, p.2, p.3)).collect();
    assert_eq!(
        day(&OPENING, &late, ChannelSpec::rtgs(Some(3_600_000)), Some(0)),
        [3, 4]
    );
}

#[test]
fn a_default_under_bilateral_holds_every_pair_it_pays_in() {
    // B (1) is a net creditor of A (0): 50 from A, 20 to A. Sound, the pair
    // settles; once B has defaulted its 20 to A is never released, so the
    // pair waits although B owes nothing on net.
    let payments = [(10, 0, 1, 50), (10, 1, 0, 20)];
    let spec = || ChannelSpec::bilateral(vec![hours(12)]);
    assert_eq!(day(&[100, 0], &payments, spec(), None), [0, 1]);
    assert!(day(&[100, 0], &payments, spec(), Some(1)).is_empty());
}

#[test]
fn compare_reports_the_knock_on_effect() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().display().to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_clearsim"))
        .args([
            "compare",
            "configs/netting-compare.toml",
            "--volume",
            "0.05",
            "--quiet",
            "--strategies",
            "rtgs;dns:hourly",
        ])
        .args(["--default", "B01@10:00:00", "--out", &out])
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).expect("written"))
            .expect("json");
    let designs = summary["replications"][0]["designs"]
        .as_array()
        .expect("one record per design");
    for (d, record) in designs.iter().enumerate() {
        let shock = &record["shock"];
        let others = shock["untouched_shocked"]["unsettled"]
            .as_u64()
            .expect("count");
        let unsettled = summary["rows"][d]["all"]["counts"]["unsettled"]
            .as_u64()
            .expect("count");
        assert!(others <= unsettled);
    }
    // The knock-on is paired: what the default left unsettled between the
    // others, beyond what the same stream left unsettled without it.
    let knock_on = |d: usize| {
        let shock = &designs[d]["shock"];
        shock["untouched_shocked"]["unsettled_value_fen"]
            .as_i64()
            .expect("fen")
            - shock["untouched_baseline"]["unsettled_value_fen"]
                .as_i64()
                .expect("fen")
    };
    // Under gross settlement the largest bank's default starves the others.
    assert!(knock_on(0) > 0, "the default reaches other banks");
    let figure = summary["headline"]
        .as_array()
        .expect("figures")
        .iter()
        .find(|f| f["design"] == "rtgs" && f["metric"] == "knock_on_unsettled_value_fen")
        .expect("the knock-on is a headline figure");
    assert_eq!(figure["mean"].as_f64(), Some(knock_on(0) as f64));
    let bad = Command::new(env!("CARGO_BIN_EXE_clearsim"))
        .args([
            "run",
            "configs/netting-compare.toml",
            "--default",
            "NOBODY@10:00:00",
        ])
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("NOBODY"));
}

#[test]
fn a_guarantee_fund_stops_the_dns_cascade_of_a_default() {
    let with_fund =
        |fund_fen| ChannelSpec::dns(vec![hours(12)], Unwind::Participant, Some(fund_fen));
    // A (opening 100) defaults: it pays nothing, so the fund owes its whole
    // net debit of 100. With 100 in the fund nothing is unwound.
    assert_eq!(
        day(&OPENING, &PAYMENTS, with_fund(100), Some(0)),
        [0, 1, 2, 3, 4]
    );
    // With 99: A is unwound, then B's −80 (avail 0) is covered.
    assert_eq!(
        day(&OPENING, &PAYMENTS, with_fund(99), Some(0)),
        [1, 2, 3, 4]
    );
    // With 79: B is unwound too, then C's −60 + 30 is covered.
    assert_eq!(day(&OPENING, &PAYMENTS, with_fund(79), Some(0)), [2, 3, 4]);
}
