//! Controlled experiments: common random numbers across designs, sweeps
//! whose bounds come from the very stream of their points, replications
//! with intervals, shards that merge into exactly one machine's result,
//! paired shocks, days that make sense, and run diagnostics.

// A test reads as one story, setup to assertions: the 70-line limit is
// for the product's code.
#![allow(clippy::too_many_lines)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::cli::{clearsim, ok};

use clearsim_core::engine::{Control, Engine, Scheduler, Timed};
use clearsim_core::ledger::{Ledger, Payment, Sink};
use clearsim_core::strategy::ChannelSpec;
use clearsim_core::time::SimTime;
use clearsim_model::config::{Config, Scenario};
use clearsim_model::run::Replication;
use clearsim_model::run::{NoObserver, baseline, run};
use clearsim_model::workload::city::City;
use clearsim_model::workload::city::build_city;
use clearsim_study::record::{CompareRecord, SweepRecord};
use clearsim_study::summary::{CompareSummary, RunSummary};
use clearsim_study::{
    CompareExperiment, Design, Experiment, Runner, StudyError, SweepExperiment, parse_design,
    variant,
};

const TWO_THREADS: Runner<'static> = Runner {
    threads: 2,
    tick: &|| {},
    stop: None,
};

/// `compare`'s records of `designs` on `seeds`.
fn compare(
    scenario: &Scenario,
    city: &City,
    days: u32,
    designs: &[Design],
    seeds: &[u64],
) -> Result<Vec<CompareRecord>, StudyError> {
    CompareExperiment::new(scenario, city, days, designs).records(seeds, &TWO_THREADS)
}

/// `sweep`'s records of `designs` at `levels` on `seeds`.
fn sweep(
    scenario: &Scenario,
    city: &City,
    designs: &[Design],
    levels: &[f64],
    seeds: &[u64],
) -> Result<Vec<SweepRecord>, StudyError> {
    SweepExperiment::new(scenario, city, designs, levels.to_vec()).records(seeds, &TWO_THREADS)
}

fn configs() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir("configs")
        .expect("configs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
}

/// A bundled config at a volume small enough for a test, and its run.
fn small(path: &Path) -> (Scenario, Replication) {
    let (mut scenario, replication) = Config::load(path).unwrap_or_else(|e| panic!("{e}")).split();
    let daily: f64 = scenario.instruments.iter().map(|i| i.daily_count).sum();
    scenario.scale_volume((20_000.0 / daily).min(1.0));
    (scenario, replication)
}

/// One design of every strategy family, plus the scenario's own.
fn families(scenario: &Scenario) -> Vec<Design> {
    let mut names = vec![
        "design",
        "rtgs",
        "rtgs+gridlock:5m",
        "rtgs+bypass",
        "rtgs+offset",
        "chips",
        "dns",
        "dns:hourly",
        "dns+latest:hourly",
        "bilateral:hourly",
    ];
    if !scenario.limits.is_empty() {
        names.push("rtgs+limits");
    }
    names
        .into_iter()
        .map(|n| parse_design(n, scenario.day_end).expect("a design"))
        .collect()
}

#[test]
fn every_design_sees_the_same_stream_on_every_bundled_config() {
    for path in configs() {
        let (scenario, replication) = small(&path);
        let city = build_city(&scenario);
        let designs = families(&scenario);
        let seeds = [replication.seed, replication.seed + 1];
        let records = compare(&scenario, &city, replication.days, &designs, &seeds)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let count = scenario.instruments.len();
        for record in &records {
            let first = &record.designs[0];
            for (design, other) in designs.iter().zip(&record.designs) {
                for k in 0..count {
                    let (a, b) = (&first.instruments[k].counts, &other.instruments[k].counts);
                    assert_eq!(
                        (a.payments, a.value_fen),
                        (b.payments, b.value_fen),
                        "{}: {} sees another stream of {} on seed {}",
                        path.display(),
                        design.label,
                        scenario.instruments[k].name,
                        record.seed
                    );
                }
            }
        }
    }
}

#[test]
fn the_stream_does_not_depend_on_the_channels() {
    let (scenario, replication) = Config::load(Path::new("configs/chengdu-2005.toml"))
        .expect("loads")
        .split();
    let city = build_city(&scenario);
    let stream = |s: &Scenario| -> Vec<_> {
        clearsim_model::run::stream_model(s, &city)
            .day(replication.seed, 0, 0.05)
            .collect()
    };
    let mine = stream(&scenario);
    assert!(mine.len() > 10_000);
    for design in families(&scenario) {
        assert_eq!(
            mine,
            stream(&variant(&scenario, &design)),
            "{}",
            design.label
        );
    }
    // Adding an instrument changes none of the others' payments.
    let mut more = scenario.clone();
    let mut extra = more.instruments[1].clone();
    extra.name = "extra".into();
    more.instruments.push(extra);
    more.channel_of.push(0);
    let with_extra: Vec<_> = stream(&more)
        .into_iter()
        .filter(|g| usize::from(g.instrument) < scenario.instruments.len())
        .collect();
    assert_eq!(mine, with_extra);
}

#[test]
fn generate_writes_the_same_payments_whatever_the_channels_say() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string("configs/chengdu-2005.toml").expect("config");
    let other = text
        .replace("strategy = \"rtgs\"", "strategy = \"rtgs+bypass\"")
        .replace(
            "cycles = [\"11:00:00\", \"15:30:00\"]",
            "cycles = [\"10:00\", \"13:00\", \"16:00\"]",
        )
        .replace("cycles = [\"17:00:00\"]", "cycles = [\"12:00\", \"17:00\"]")
        .replace(
            "strategy = \"dns\"\ncycles = [\"12:00\", \"17:00\"]",
            "strategy = \"bilateral\"\ncycles = [\"12:00\", \"17:00\"]",
        );
    assert_ne!(text, other);
    let variant_path = Path::new("configs").join(".variant-test.toml");
    let variant_path = dir.path().join(variant_path.file_name().expect("name"));
    // Rosters resolve against the config's folder: point at the real one.
    std::fs::write(
        &variant_path,
        other.replace(
            "../seeds/",
            &format!("{}/seeds/", std::env::current_dir().expect("cwd").display()),
        ),
    )
    .expect("write");
    let generate = |config: &Path, out: &Path| {
        let output = Command::new(env!("CARGO_BIN_EXE_clearsim"))
            .args([
                "generate",
                &config.display().to_string(),
                "--volume",
                "0.05",
                "-q",
            ])
            .args(["--out", &out.display().to_string()])
            .output()
            .expect("runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        std::fs::read(out.join("payments.csv")).expect("written")
    };
    let a = generate(
        Path::new("configs/chengdu-2005.toml"),
        &dir.path().join("a"),
    );
    let b = generate(&variant_path, &dir.path().join("b"));
    assert!(a == b, "the channels changed the generated payments");
}

#[test]
fn at_level_one_gross_settlement_settles_every_payment_on_arrival() {
    for path in configs() {
        let (scenario, replication) = small(&path);
        let city = build_city(&scenario);
        let designs = vec![parse_design("rtgs", scenario.day_end).expect("rtgs")];
        let records = sweep(&scenario, &city, &designs, &[0.0, 1.0], &[replication.seed])
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let top = &records[0].points[1][0];
        assert_eq!(
            top.liquidity_fen,
            records[0].upper_fen[0],
            "{}",
            path.display()
        );
        assert!(top.payments > 0);
        assert_eq!(top.settled, top.payments, "{}", path.display());
        assert_eq!(
            top.delay_indicator,
            0.0,
            "{}: a payment waited at level 1",
            path.display()
        );
        assert_eq!(
            records[0].points[0][0].liquidity_fen,
            records[0].lower_fen[0]
        );
    }
}

const COMPARE: [&str; 7] = [
    "compare",
    "configs/netting-compare.toml",
    "--volume",
    "0.05",
    "-q",
    "--strategies",
    "dns:hourly;rtgs;rtgs+gridlock:5m",
];

#[test]
fn replications_give_intervals_and_paired_differences() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().display().to_string();
    ok(&clearsim(
        &[&COMPARE[..], &["--replications", "5", "--out", &out]].concat(),
    ));
    let summary: CompareSummary = clearsim_study::schema::from_json(
        &std::fs::read(dir.path().join("summary.json")).expect("summary"),
    )
    .expect("json");
    assert_eq!(summary.seeds, [42, 43, 44, 45, 46]);
    assert!(!summary.headline.is_empty());
    for f in &summary.headline {
        let [low, high] = f.estimate.ci95.expect("an interval from 5 replications");
        assert!(low <= f.estimate.mean && f.estimate.mean <= high, "{f:?}");
        assert_eq!(f.estimate.n, 5);
    }
    // A paired difference is the mean of the per-seed differences.
    let pick = |design: usize, r: &clearsim_study::record::CompareRecord| {
        r.designs[design].all().expect("pools").delay_indicator
    };
    let diffs: Vec<f64> = summary
        .replications
        .iter()
        .map(|r| pick(1, r) - pick(0, r))
        .collect();
    let paired = summary
        .paired
        .iter()
        .find(|f| f.design == "rtgs" && f.flow == "all" && f.metric == "delay_indicator")
        .expect("rtgs against dns:hourly");
    assert_eq!(paired.versus, "dns:hourly");
    assert_eq!(
        paired.estimate,
        clearsim_model::metrics::estimate::estimate(&diffs)
    );
    let report = std::fs::read_to_string(dir.path().join("report.md")).expect("report");
    assert!(report.contains("common random numbers") && report.contains("95 % CI"));
}

/// Every file of a one-machine output directory `a`, byte for byte, in a
/// merged one `b` — which adds only merge.md, its sources.
fn same_files(a: &Path, b: &Path) {
    let names = |d: &Path| -> Vec<String> {
        let mut n: Vec<String> = std::fs::read_dir(d)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    };
    let mut expected = names(a);
    expected.push("merge.md".into());
    expected.sort();
    assert_eq!(expected, names(b));
    for name in names(a) {
        let (x, y) = (
            std::fs::read(a.join(&name)).expect("a"),
            std::fs::read(b.join(&name)).expect("b"),
        );
        assert!(
            x == y,
            "{name} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

#[test]
fn shards_merge_into_exactly_what_one_machine_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = |n: &str| dir.path().join(n).display().to_string();
    let studies: [&[&str]; 3] = [
        &COMPARE,
        &[
            "run",
            "configs/chengdu-2005.toml",
            "--volume",
            "0.02",
            "--days",
            "2",
            "-q",
        ],
        &[
            "sweep",
            "configs/netting-compare.toml",
            "--volume",
            "0.05",
            "--steps",
            "3",
            "-q",
        ],
    ];
    for (s, study) in studies.iter().enumerate() {
        let whole = path(&format!("{s}-whole"));
        ok(&clearsim(
            &[*study, &["--replications", "5", "--out", &whole]].concat(),
        ));
        let mut shards = Vec::new();
        for k in 1..=3 {
            let shard = path(&format!("{s}-shard{k}"));
            ok(&clearsim(
                &[
                    *study,
                    &[
                        "--replications",
                        "5",
                        "--shard",
                        &format!("{k}/3"),
                        "--out",
                        &shard,
                    ],
                ]
                .concat(),
            ));
            shards.push(shard);
        }
        let partial: serde_json::Value = serde_json::from_slice(
            &std::fs::read(Path::new(&shards[0]).join("summary.json")).expect("summary"),
        )
        .expect("json");
        assert_eq!(partial["partial"]["shard"], "1/3");
        let merged = path(&format!("{s}-merged"));
        let args: Vec<&str> = ["merge"]
            .into_iter()
            .chain(shards.iter().map(String::as_str))
            .chain(["--out", merged.as_str()])
            .collect();
        ok(&clearsim(&args));
        same_files(Path::new(&whole), Path::new(&merged));
        // Two shards only: still partial, and says so.
        let some = path(&format!("{s}-some"));
        ok(&clearsim(&[
            "merge", &shards[0], &shards[2], "--out", &some,
        ]));
        let text = std::fs::read_to_string(Path::new(&some).join("report.md")).expect("report");
        assert!(text.contains("PARTIAL"), "a partial merge must say so");
        // The same shard twice is refused.
        let twice = clearsim(&["merge", &shards[0], &shards[0], "--out", &path("bad")]);
        assert_eq!(twice.status.code(), Some(2));
    }
    // Separate runs of single seeds merge into the replicated run.
    let (a, b, both) = (path("seed-a"), path("seed-b"), path("seed-both"));
    let run = [
        "run",
        "configs/netting-compare.toml",
        "--volume",
        "0.05",
        "-q",
    ];
    ok(&clearsim(
        &[&run[..], &["--seed", "7", "--out", &a]].concat(),
    ));
    ok(&clearsim(
        &[&run[..], &["--seed", "8", "--out", &b]].concat(),
    ));
    ok(&clearsim(
        &[
            &run[..],
            &["--seed", "7", "--replications", "2", "--out", &both],
        ]
        .concat(),
    ));
    ok(&clearsim(&["merge", &b, &a, "--out", &path("seed-merged")]));
    same_files(Path::new(&both), Path::new(&path("seed-merged")));
    // A different study does not merge.
    ok(&clearsim(
        &[
            &run[..],
            &["--seed", "9", "--days", "2", "--out", &path("other")],
        ]
        .concat(),
    ));
    let mixed = clearsim(&["merge", &a, &path("other"), "--out", &path("bad2")]);
    assert_eq!(mixed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&mixed.stderr).contains("different"));
}

const SMALL_DAY: &str = r#"
seed = 11
[participants]
n = 6
[liquidity]
opening_share = 0.02
[[instrument]]
name = "transfer"
daily_count = 3000
profile = [{ from = "09:00:00", to = "16:00:00", weight = 1.0 }]
amount = { median_yuan = 1000, sigma = 1.0 }
[[channel]]
name = "gross"
strategy = "STRATEGY"
CYCLES
instruments = ["transfer"]
"#;

fn small_day(strategy: &str, cycles: &str) -> (Scenario, Replication) {
    let text = SMALL_DAY
        .replace("STRATEGY", strategy)
        .replace("CYCLES", cycles);
    Config::parse(Path::new("small.toml"), &text, Path::new("."))
        .unwrap_or_else(|e| panic!("{e}"))
        .split()
}

#[test]
fn a_default_after_the_last_activity_has_no_knock_on() {
    for (strategy, cycles) in [("rtgs", ""), ("dns", "cycles = [\"12:00\", \"16:00\"]")] {
        let (mut scenario, replication) = small_day(strategy, cycles);
        let city = build_city(&scenario);
        scenario.shocks =
            vec![clearsim_model::config::Shock::parse("default:B1@16:30").expect("shock")];
        let shocked = run(&scenario, &city, replication, &mut NoObserver).expect("runs");
        let base = baseline(&scenario, &city, replication).expect("runs");
        assert!(
            base.untouched.unsettled > 0 || strategy == "dns",
            "a scarce day"
        );
        assert_eq!(shocked.untouched, base.untouched, "{strategy}");
        assert_eq!(shocked.closing_fen, base.closing_fen);
        if strategy == "rtgs" {
            // Earlier, the largest bank's default does starve the others.
            scenario.shocks =
                vec![clearsim_model::config::Shock::parse("default:B1@09:30").expect("shock")];
            let early = run(&scenario, &city, replication, &mut NoObserver).expect("runs");
            assert!(early.untouched.unsettled_value_fen > base.untouched.unsettled_value_fen);
        }
    }
}

/// Settle times by key, and what stayed unsettled.
#[derive(Default)]
struct Outcomes {
    settled: Vec<(u64, u32)>,
    unsettled: Vec<u64>,
}
impl Sink for Outcomes {
    fn settled(&mut self, payment: &Payment, at: SimTime) {
        self.settled.push((payment.key, at.ms()));
    }
    fn unsettled(&mut self, payment: &Payment) {
        self.unsettled.push(payment.key);
    }
}

fn hour(h: u32, m: u32) -> SimTime {
    SimTime((h * 60 + m) * 60_000)
}

fn pay(at: SimTime, sender: u32, receiver: u32, amount_fen: i64) -> (usize, Payment) {
    (0, Payment::new(at, sender, receiver, amount_fen))
}

fn day(
    opening: &[i64],
    spec: ChannelSpec,
    controls: Vec<Timed<Control>>,
    payments: Vec<(usize, Payment)>,
) -> (Outcomes, Scheduler) {
    let engine = Engine::new(
        Ledger::new(opening, &vec![0; opening.len()]),
        &[spec],
        hour(17, 0),
        16,
    )
    .expect("valid");
    let mut scheduler = Scheduler::new(engine, controls).expect("valid controls");
    let mut sink = Outcomes::default();
    scheduler.run_day(payments, &mut sink).expect("runs");
    (sink, scheduler)
}

#[test]
fn an_outage_holds_the_senders_payments_and_lets_it_receive() {
    // A (0) is out 10:00–11:00. Its 10:30 payment to B goes in at 11:00;
    // B's 10:45 payment to A settles at 10:45; C's payments are untouched.
    let controls = vec![
        Timed {
            at: hour(10, 0),
            item: Control::OutageStart { participant: 0 },
        },
        Timed {
            at: hour(11, 0),
            item: Control::OutageEnd { participant: 0 },
        },
    ];
    let payments = vec![
        pay(hour(9, 0), 0, 1, 10),
        pay(hour(10, 30), 0, 1, 20),
        pay(hour(10, 45), 1, 0, 30),
        pay(hour(10, 50), 2, 1, 5),
    ];
    let rtgs = ChannelSpec::rtgs(None);
    let (outcomes, scheduler) = day(&[100, 100, 100], rtgs, controls, payments);
    // The held payment keeps the key it was accepted with (1) and settles
    // at 11:00, when it enters; its delay counts from its order at 10:30.
    assert_eq!(
        outcomes.settled,
        vec![
            (0, hour(9, 0).ms()),
            (2, hour(10, 45).ms()),
            (3, hour(10, 50).ms()),
            (1, hour(11, 0).ms())
        ]
    );
    assert_eq!(scheduler.engine().ledger().balances_fen(), &[100, 105, 95]);
}

#[test]
fn a_system_outage_settles_nothing_and_runs_overdue_events_once() {
    // Down 10:00–11:00: the 10:30 payment goes in at 11:00; the net due at
    // 10:30 runs at 11:00, once; the 12:00 net runs at 12:00.
    let controls = vec![
        Timed {
            at: hour(10, 0),
            item: Control::SystemDown,
        },
        Timed {
            at: hour(11, 0),
            item: Control::SystemUp,
        },
    ];
    let payments = vec![
        pay(hour(9, 0), 0, 1, 10),
        pay(hour(10, 30), 1, 0, 20),
        pay(hour(11, 30), 0, 1, 5),
    ];
    let dns = ChannelSpec::dns(
        vec![hour(10, 30), hour(12, 0)],
        clearsim_core::strategy::Unwind::Participant,
        None,
    );
    let (outcomes, scheduler) = day(&[100, 100], dns, controls, payments);
    assert_eq!(
        outcomes.settled,
        vec![
            (0, hour(11, 0).ms()),
            (1, hour(11, 0).ms()),
            (2, hour(12, 0).ms())
        ]
    );
    assert_eq!(scheduler.engine().event_counts()[0].runs, 2);
}

#[test]
fn a_liquidity_shock_leaves_the_accounts_and_is_audited() {
    // A holds 100; 80 leaves at 10:00; its 10:30 payment of 50 waits until
    // B pays it 40 at 12:00. A shock never takes A below its floor.
    let controls = vec![
        Timed {
            at: hour(10, 0),
            item: Control::Withdraw {
                participant: 0,
                amount_fen: 80,
            },
        },
        Timed {
            at: hour(13, 0),
            item: Control::Withdraw {
                participant: 1,
                amount_fen: 1_000,
            },
        },
    ];
    let payments = vec![pay(hour(10, 30), 0, 1, 50), pay(hour(12, 0), 1, 0, 40)];
    let rtgs = ChannelSpec::rtgs(None);
    let (outcomes, scheduler) = day(&[100, 100], rtgs, controls, payments);
    assert_eq!(
        outcomes.settled,
        vec![(1, hour(12, 0).ms()), (0, hour(12, 0).ms())]
    );
    assert_eq!(scheduler.withdrawn_fen(), &[80, 110]);
    let ledger = scheduler.engine().ledger();
    assert_eq!(ledger.balances_fen(), &[10, 0]);
    assert_eq!(ledger.withdrawn_fen(), 190);
    assert_eq!(ledger.check_invariants(), Ok(()));
    assert_eq!(ledger.min_balances_fen(), &[10, 0]);
}

#[test]
fn same_instant_order_is_controls_arrivals_follow_ups_then_runs() {
    // At 11:00: A defaults (control) before its own 11:00 arrival, which
    // therefore never settles; the gridlock run at 11:00 comes after the
    // arrivals of 11:00 and settles the B–C cycle that queued then.
    let controls = vec![Timed {
        at: hour(11, 0),
        item: Control::Default { participant: 0 },
    }];
    let payments = vec![
        pay(hour(11, 0), 0, 1, 10),
        pay(hour(11, 0), 1, 2, 50),
        pay(hour(11, 0), 2, 1, 50),
    ];
    let spec = ChannelSpec::rtgs(Some(3_600_000));
    let (outcomes, scheduler) = day(&[100, 0, 0], spec, controls, payments);
    assert_eq!(
        outcomes.settled,
        vec![(1, hour(11, 0).ms()), (2, hour(11, 0).ms())]
    );
    assert_eq!(outcomes.unsettled, vec![0]);
    let runs = scheduler.engine().event_counts()[0];
    assert_eq!(
        (runs.settled_by_runs, runs.settled_by_runs_value_fen),
        (2, 100)
    );
}

#[test]
fn diagnostics_tell_gridlock_runs_that_settle_from_those_that_do_not() {
    let (scenario, replication) = small(Path::new("configs/netting-compare.toml"));
    let city = build_city(&scenario);
    let designs: Vec<Design> = ["rtgs", "rtgs+gridlock:5m", "dns:hourly"]
        .iter()
        .map(|d| parse_design(d, scenario.day_end).expect("design"))
        .collect();
    let seeds = [replication.seed];
    let records = compare(&scenario, &city, replication.days, &designs, &seeds).expect("runs");
    let events = |d: usize| records[0].designs[d].events[0];
    assert_eq!(events(0).runs, 0, "plain rtgs has no runs");
    // A run every 5 minutes over the day, to 17:00.
    assert_eq!(events(1).runs, 204);
    assert!(events(1).runs_settling > 0 && events(1).settled_by_runs_value_fen > 0);
    // Seventeen hourly netting cycles; what they settled is every payment
    // that settled at all.
    assert_eq!(events(2).runs, 17);
    let all = records[0].designs[2].all().expect("pools");
    assert_eq!(events(2).settled_by_runs, all.counts.settled);
}

#[test]
fn days_repay_credit_borrow_overnight_and_restore_balances() {
    // Two banks; B pays A more than it holds: it ends the day on intraday
    // credit, borrows overnight, and opens the next day restored.
    let text = r#"
seed = 5
days = 3
[participants]
n = 2
[liquidity]
opening_share = 0.2
credit_share = 0.5
overnight_rate_bp = 360
[[instrument]]
name = "transfer"
daily_count = 400
profile = [{ from = "09:00:00", to = "16:00:00", weight = 1.0 }]
amount = { median_yuan = 1000, sigma = 0.3 }
[[channel]]
name = "gross"
strategy = "rtgs"
instruments = ["transfer"]
"#;
    let (scenario, replication) = Config::parse(Path::new("days.toml"), text, Path::new("."))
        .expect("parses")
        .split();
    let city = build_city(&scenario);
    let result = run(&scenario, &city, replication, &mut NoObserver).expect("runs");
    let mut borrowed_total = 0;
    for day in &result.days {
        let night = &day.overnight;
        // The audit closes: closing + restored in − restored out = next opening.
        assert_eq!(
            night.closing_total_fen + night.restored_in_fen - night.restored_out_fen,
            city.opening_fen.iter().sum::<i64>(),
            "volumes do not grow here, so every day opens at the policy's total"
        );
        assert_eq!(
            night.cost_fen,
            clearsim_model::run::overnight::interest_fen(night.borrowed_fen, 360)
        );
        borrowed_total += night.borrowed_fen;
        assert_eq!(day.opening_total_fen, city.opening_fen.iter().sum::<i64>());
    }
    assert_eq!(
        result.overnight_borrowed_fen.iter().sum::<i64>(),
        borrowed_total
    );
}

#[test]
fn cheques_settled_gross_become_available_after_the_return_window() {
    let text = r#"
seed = 3
[participants]
n = 5
[liquidity]
opening_share = 10.0
[[instrument]]
name = "cheque"
cheque = true
daily_count = 500
dishonour_rate = 0.1
return_window = "90m"
profile = [{ from = "09:00:00", to = "10:00:00", weight = 1.0 }]
amount = { median_yuan = 1000, sigma = 0.5 }
[[channel]]
name = "gross"
strategy = "dns"
cycles = ["12:00"]
instruments = ["cheque"]
"#;
    let (scenario, replication) = Config::parse(Path::new("c.toml"), text, Path::new("."))
        .expect("parses")
        .split();
    let city = build_city(&scenario);
    let rtgs = parse_design("rtgs", scenario.day_end).expect("rtgs");
    let gross = variant(&scenario, &rtgs);
    let result = run(&gross, &city, replication, &mut NoObserver).expect("runs");
    let cheques = &result.instruments[0];
    // Settled on arrival, available exactly 90 minutes later.
    assert_eq!(cheques.in_transit_ms.stats.max, 90 * 60_000);
    assert!(cheques.in_transit_ms.stats.p50 >= 90 * 60_000 - 100);
    // Dishonoured ones come back at the end of their window, gross.
    let returns = &result.instruments[1];
    assert_eq!(returns.counts.payments, cheques.counts.dishonoured);
    assert!(returns.counts.payments > 20);
    assert_eq!(returns.counts.settled, returns.counts.payments);
    // Under the exchange the same cheques wait for 12:00 and are available
    // when the return window — the next session — closes: the next day.
    let exchanged = run(&scenario, &city, replication, &mut NoObserver).expect("runs");
    assert!(exchanged.instruments[0].in_transit_ms.stats.p50 > 24 * 3_600_000);
}

#[test]
fn a_run_with_shocks_reports_the_paired_effect() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().display().to_string();
    ok(&clearsim(&[
        "run",
        "configs/netting-compare.toml",
        "--volume",
        "0.05",
        "-q",
        "--shock",
        "outage:B01@10:00-12:00",
        "--shock",
        "liquidity:B02@09:00=2e6yuan",
        "--replications",
        "3",
        "--out",
        &out,
    ]));
    let summary: RunSummary = clearsim_study::schema::from_json(
        &std::fs::read(dir.path().join("summary.json")).expect("summary"),
    )
    .expect("json");
    assert_eq!(summary.study.shocks.len(), 2);
    // The baseline is the same seeds without the shocks.
    let plain = dir.path().join("plain");
    ok(&clearsim(&[
        "run",
        "configs/netting-compare.toml",
        "--volume",
        "0.05",
        "-q",
        "--replications",
        "3",
        "--out",
        &plain.display().to_string(),
    ]));
    let unshocked: RunSummary = clearsim_study::schema::from_json(
        &std::fs::read(plain.join("summary.json")).expect("summary"),
    )
    .expect("json");
    for (record, base) in summary.replications.iter().zip(&unshocked.replications) {
        let effect = record.shock.expect("paired with its baseline");
        let all = base.all().expect("pools");
        assert_eq!(
            effect.unsettled_value_baseline_fen,
            all.counts.unsettled_value_fen
        );
        assert_eq!(effect.delay_indicator_baseline, all.delay_indicator);
        assert_eq!(
            effect.unsettled_value_shocked_fen,
            record.all().expect("pools").counts.unsettled_value_fen
        );
    }
    assert!(
        summary
            .headline
            .iter()
            .any(|f| f.metric == "knock_on_unsettled_value_fen" && f.estimate.ci95.is_some())
    );
    for bad in [
        "outage:B01@12:00-10:00",
        "liquidity:B01@10:00=5",
        "flood:B01@10:00",
        "outage:NOBODY@10:00-11:00",
    ] {
        let output = clearsim(&[
            "run",
            "configs/netting-compare.toml",
            "-q",
            "--shock",
            bad,
            "--out",
            &out,
        ]);
        assert_eq!(output.status.code(), Some(2), "{bad}");
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

        /// Whatever the seed and the design, every design sees the stream
        /// the scenario's own design sees; a default after the day's last
        /// event changes nothing; and across days the audit closes.
        #[test]
        fn controlled_for_any_seed_and_design(
            seed in 0u64..1_000_000,
            design in 0usize..10,
            opening_share in 0.01f64..1.0,
            days in 1u32..4,
        ) {
            let (mut scenario, _) = small_day("rtgs", "");
            let replication = Replication { seed, days };
            scenario.liquidity.opening_share = opening_share;
            let city = build_city(&scenario);
            let designs = families(&scenario);
            let own = run(&scenario, &city, replication, &mut NoObserver).expect("runs");
            let other = run(&variant(&scenario, &designs[design]), &city, replication, &mut NoObserver)
                .expect("runs");
            prop_assert_eq!(own.instruments[0].counts.payments, other.instruments[0].counts.payments);
            prop_assert_eq!(own.instruments[0].counts.value_fen, other.instruments[0].counts.value_fen);
            let mut late = scenario.clone();
            let one_day = Replication { seed, days: 1 };
            late.shocks = vec![clearsim_model::config::Shock::parse("default:B2@16:30").expect("shock")];
            let shocked = run(&late, &city, one_day, &mut NoObserver).expect("runs");
            let base = baseline(&late, &city, one_day).expect("runs");
            prop_assert_eq!(shocked.untouched, base.untouched);
            let mut opening: i64 = city.opening_fen.iter().sum();
            for day in &own.days {
                prop_assert_eq!(day.opening_total_fen, opening);
                prop_assert_eq!(day.overnight.closing_total_fen, opening);
                opening = day.overnight.closing_total_fen + day.overnight.restored_in_fen
                    - day.overnight.restored_out_fen;
            }
        }
    }
}
