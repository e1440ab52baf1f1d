//! Live mode: every instruction is answered exactly once, whatever the load,
//! and the ledger's invariants hold after the run. (No speed is asserted
//! here: speed lives in `clearsim bench` and `cargo bench --bench live`.)

mod common;

use std::path::Path;
use std::time::Duration;

use common::cli::clearsim;

use clearsim_core::strategy::ChannelSpec;
use clearsim_model::config::{Config, Scenario};
use clearsim_service::live::{self, LiveError, LiveReport, Load, Prepared};

fn scenario(opening_share: f64) -> Scenario {
    let text = format!(
        r#"
seed = 11
[participants]
n = 20
[liquidity]
opening_share = {opening_share}
credit_share = 0.0
[[instrument]]
name = "transfer"
daily_count = 100000
profile = [{{ from = "09:00:00", to = "17:00:00", weight = 1.0 }}]
amount = {{ median_yuan = 1000, sigma = 1.0 }}
[[channel]]
name = "gross"
strategy = "rtgs"
instruments = ["transfer"]
"#
    );
    Config::parse(Path::new("live.toml"), &text, Path::new("."))
        .expect("valid")
        .scenario
}

fn answered(report: &LiveReport) -> u64 {
    report.settled + report.queued_at_close + report.rejected
}

#[test]
fn closed_loop_answers_every_instruction() {
    let prepared = Prepared::new(&scenario(1.0), 1).expect("prepared");
    let setup = prepared.setup(
        2,
        Duration::from_millis(300),
        Load::ClosedLoop,
        1_000_000,
        50,
    );
    let report = live::run(&setup).expect("runs");
    assert!(report.sent > 10_000, "sent {}", report.sent);
    assert_eq!(answered(&report), report.sent);
    assert_eq!(report.latency_ns.len(), report.settled);
    assert!(report.latency_ns.min() > 0);
}

#[test]
fn open_loop_offers_the_rate_and_measures_from_the_intended_time() {
    let prepared = Prepared::new(&scenario(1.0), 1).expect("prepared");
    let rate_per_s = 200_000;
    let setup = prepared.setup(
        1,
        Duration::from_millis(500),
        Load::OpenLoop { rate_per_s },
        1_000_000,
        50,
    );
    let report = live::run(&setup).expect("runs");
    // 0.5 s at 200,000/s: 100,000 due, never more; nearly all of them are
    // sent unless the machine starves the gateway (tests run in parallel).
    assert!(
        (50_000..=100_001).contains(&report.sent),
        "sent {}",
        report.sent
    );
    assert_eq!(answered(&report), report.sent);
    assert_eq!(report.latency_ns.len(), report.settled);
}

#[test]
fn full_queues_reject_and_every_rejection_is_counted() {
    // Almost no liquidity: payments queue, the queues fill (10), the rest
    // is rejected; what is queued at the end is reported as such.
    let prepared = Prepared::new(&scenario(0.000_001), 1).expect("prepared");
    let setup = prepared.setup(1, Duration::from_millis(200), Load::ClosedLoop, 10, 20);
    let report = live::run(&setup).expect("runs");
    assert!(report.rejected > 0);
    assert!(report.queued_at_close <= 10);
    assert_eq!(answered(&report), report.sent);
}

#[test]
fn the_baseline_pipeline_answers_every_instruction_too() {
    let prepared = Prepared::new(&scenario(0.01), 1).expect("prepared");
    for load in [
        Load::ClosedLoop,
        Load::OpenLoop {
            rate_per_s: 100_000,
        },
    ] {
        let setup = prepared.setup(2, Duration::from_millis(300), load, 1_000, 20);
        let report = live::baseline::run(&setup).expect("runs");
        assert!(report.sent > 0);
        assert_eq!(answered(&report), report.sent, "{load:?}");
    }
}

#[test]
fn live_mode_needs_a_gross_channel() {
    let prepared = Prepared::new(&scenario(1.0), 1).expect("prepared");
    let mut setup = prepared.setup(1, Duration::from_millis(50), Load::ClosedLoop, 10, 20);
    setup.spec = ChannelSpec::bilateral(vec![]);
    assert!(matches!(live::run(&setup), Err(LiveError::NotGross(_))));
}

#[test]
fn live_command_prints_and_writes_its_figures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("live");
    let output = clearsim(&[
        "live",
        "configs/chengdu-2005.toml",
        "--duration",
        "300ms",
        "--rate",
        "100000",
        "--gridlock-every",
        "50ms",
        "--out",
        &out.display().to_string(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("settled"), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("live.json")).expect("live.json"))
            .expect("json");
    let n = |key: &str| json[key].as_u64().expect(key);
    assert_eq!(
        n("sent"),
        n("settled") + n("queued_at_close") + n("rejected")
    );
}

#[test]
fn live_command_rejects_bad_flags() {
    for (flags, fragment) in [
        (&["--rate", "fast"][..], "fast"),
        (&["--duration", "2h"][..], "at most 1h"),
        (&["--producers", "0"][..], "producers"),
        (&["--max-queued", "0"][..], "max-queued"),
    ] {
        let mut args = vec!["live", "configs/throughput.toml"];
        args.extend_from_slice(flags);
        let output = clearsim(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(stderr.contains(fragment), "{fragment:?} not in {stderr}");
    }
    let output = clearsim(&["live", "configs/no-such.toml"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn bench_quick_writes_one_table_and_its_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = clearsim(&[
        "bench",
        "--quick",
        "--out",
        &dir.path().display().to_string(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("bench.json")).expect("json"))
            .expect("json");
    assert_eq!(json["schema"], "clearsim.bench.v1");
    let names: Vec<&str> = json["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| row["name"].as_str().expect("name"))
        .collect();
    for expected in [
        "rtgs",
        "dns:hourly",
        "stream",
        "closed loop, lock-free",
        "closed loop, Mutex + mpsc",
        "lock-free / Mutex + mpsc",
        "open loop at 90 % of max: p99",
        "open loop at 5 M/s: p99",
        "lock-free / Mutex + mpsc, 2 gateways",
        "lock-free / Mutex + mpsc, pre-generated",
    ] {
        assert!(names.contains(&expected), "{expected} missing: {names:?}");
        assert!(stdout.contains(expected), "{expected} not printed");
    }
}

#[test]
fn full_queues_still_admit_what_settles_at_once() {
    use clearsim_core::engine::Engine;
    use clearsim_core::ledger::Ledger;
    use clearsim_core::time::SimTime;
    use clearsim_service::live::{Event, Instruction, Outcome, Settler};
    // A (0) has nothing, B (1) has 100; one payment may wait.
    let engine = Engine::new(
        Ledger::new(&[0, 100], &[0, 0]),
        &[ChannelSpec::rtgs(None)],
        SimTime(60_000),
        4,
    )
    .expect("valid");
    let mut settler = Settler::new(engine, 1).expect("no controls");
    let mut outcomes = Vec::new();
    settler
        .advance(SimTime(1), |e: Event| outcomes.push(e))
        .expect("forward");
    let mut send = |sender: u32, receiver: u32, amount_fen: i64, ticket: u64| {
        let instruction = Instruction {
            sender,
            receiver,
            amount_fen,
            priority: 0,
            instrument: 0,
            ticket,
        };
        let mut events = Vec::new();
        settler
            .submit(instruction, |e| events.push(e))
            .expect("admitted or rejected");
        events
    };
    let settled = |ticket| Event {
        ticket,
        outcome: Outcome::Settled,
    };
    // 1: A → B 50 waits (the queue is now full).
    assert_eq!(send(0, 1, 50, 1), []);
    // 2: A → B 10 would wait too: rejected.
    assert_eq!(
        send(0, 1, 10, 2),
        [Event {
            ticket: 2,
            outcome: Outcome::Rejected
        }]
    );
    // 3: B → A 30 settles at once, so it is admitted although the queue is
    // full; A (30) still cannot pay 50.
    assert_eq!(send(1, 0, 30, 3), [settled(3)]);
    // 4: B → A 30 again: A reaches 60 and its queued 50 goes too.
    assert_eq!(send(1, 0, 30, 4), [settled(4), settled(1)]);
    // 5: the queue is empty again: A → B 10 settles.
    assert_eq!(send(0, 1, 10, 5), [settled(5)]);
}
