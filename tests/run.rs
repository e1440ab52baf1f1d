//! Scenario runs: every bundled config runs; same seed, same bytes; the
//! cheque life cycle by hand; `generate` + `replay` equals `run`.

mod common;

use common::cli::clearsim;
use std::path::{Path, PathBuf};

use clearsim_core::time::SimTime;
use clearsim_model::config::{Config, Scenario};
use clearsim_model::input::Day;
use clearsim_model::metrics::UNSETTLED;
use clearsim_model::replay::replay;
use clearsim_model::run::Replication;
use clearsim_model::run::{NoObserver, Observer, run};
use clearsim_model::workload::city::build_city;

fn configs() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir("configs")
        .expect("configs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
}

#[test]
fn every_bundled_config_runs_a_shortened_day() {
    let paths = configs();
    assert!(paths.len() >= 5, "{paths:?}");
    for path in paths {
        let (mut scenario, mut replication) = Config::load(&path)
            .unwrap_or_else(|e| panic!("{e}"))
            .split();
        // A shortened day: a hundredth of the volume, two days to cover the
        // carry-over of balances and returned cheques.
        scenario.scale_volume(0.01);
        replication.days = 2;
        let city = build_city(&scenario);
        let result = run(&scenario, &city, replication, &mut NoObserver)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(result.payments > 0, "{}", path.display());
        // Money is conserved within each day, and the nights' flows account
        // for every fen between days.
        let mut opening: i64 = city.opening_fen.iter().sum();
        for day in &result.days {
            assert_eq!(day.opening_total_fen, opening, "{}", path.display());
            assert_eq!(
                day.overnight.closing_total_fen,
                opening + day.injected_fen - day.withdrawn_fen
            );
            opening = day.overnight.closing_total_fen + day.overnight.restored_in_fen
                - day.overnight.restored_out_fen;
        }
        assert_eq!(
            result.closing_fen.iter().sum::<i64>(),
            result.days[1].overnight.closing_total_fen
        );
        // Every payment is accounted for, by channel: settled, unsettled, or
        // carried past the run's end for want of a session.
        let arrived: u64 = result.channels.iter().map(|c| c.counts.payments).sum();
        let ended: u64 = result
            .channels
            .iter()
            .map(|c| c.counts.settled + c.counts.unsettled + c.counts.carried)
            .sum();
        assert_eq!(arrived, result.payments);
        assert_eq!(ended, arrived, "{}", path.display());
        assert_eq!(result.days.len(), 2);
    }
}

#[test]
fn same_seed_gives_byte_identical_summaries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut outputs = Vec::new();
    for run in ["a", "b"] {
        let out = dir.path().join(run);
        let output = clearsim(&[
            "run",
            "configs/chengdu-2005.toml",
            "--volume",
            "0.05",
            "--days",
            "2",
            "--quiet",
            "--out",
            &out.display().to_string(),
        ]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        outputs.push(std::fs::read(out.join("summary.json")).expect("written"));
    }
    assert_eq!(outputs[0], outputs[1]);
    // A different seed gives a different day.
    let out = dir.path().join("c");
    let output = clearsim(&[
        "run",
        "configs/chengdu-2005.toml",
        "--volume",
        "0.05",
        "--days",
        "2",
        "--seed",
        "7",
        "--quiet",
        "--out",
        &out.display().to_string(),
    ]);
    assert!(output.status.success());
    assert_ne!(
        outputs[0],
        std::fs::read(out.join("summary.json")).expect("written")
    );
}

fn scenario(text: &str) -> (Scenario, Replication) {
    Config::parse(Path::new("test.toml"), text, Path::new("."))
        .unwrap_or_else(|e| panic!("{e}"))
        .split()
}

const CHEQUES: &str = r#"
seed = 3
[participants]
n = 5
[liquidity]
opening_share = 10.0
[[instrument]]
name = "cheque"
cheque = true
daily_count = 2000
dishonour_rate = DISHONOUR
profile = [{ from = "09:00:00", to = "10:00:00", weight = 1.0 }]
amount = { median_yuan = 1000, sigma = 0.5 }
[[channel]]
name = "exchange"
strategy = "dns"
cycles = ["11:00:00", "15:00:00"]
instruments = ["cheque"]
"#;

#[test]
fn cheques_become_available_one_session_after_settlement() {
    // Deposited 09:00–10:00, exchanged and settled at 11:00 (ample
    // liquidity), available at 15:00: in transit between 5 and 6 hours.
    let (scenario, replication) = scenario(&CHEQUES.replace("DISHONOUR", "0.0"));
    let city = build_city(&scenario);
    let result = run(&scenario, &city, replication, &mut NoObserver).expect("runs");
    let cheques = result.instruments[0].clone();
    assert!(
        cheques.counts.payments > 1500,
        "{}",
        cheques.counts.payments
    );
    assert_eq!(cheques.counts.settled, cheques.counts.payments);
    let transit = &cheques.in_transit_ms.stats;
    assert!(
        transit.max <= 6 * 3_600_000 && transit.max > 5 * 3_600_000,
        "{transit:?}"
    );
    assert!(
        transit.p50 > 5 * 3_600_000 + 1_200_000 && transit.p50 < 5 * 3_600_000 + 2_400_000,
        "{transit:?}"
    );
    // Settlement itself waited for the 11:00 session: 1 to 2 hours.
    assert!(cheques.delay_indicator > 0.0);
}

#[test]
fn dishonoured_cheques_go_back_at_the_next_session() {
    let (scenario, replication) = scenario(&CHEQUES.replace("DISHONOUR", "1.0"));
    let city = build_city(&scenario);
    let result = run(&scenario, &city, replication, &mut NoObserver).expect("runs");
    let cheques = result.instruments[0].clone();
    let returns = result.instruments[1].clone();
    assert_eq!(cheques.counts.dishonoured, cheques.counts.settled);
    assert_eq!(
        cheques.in_transit_ms.stats.max, 0,
        "no dishonoured cheque becomes available"
    );
    // Every return is submitted at 15:00 and settles in that session.
    assert_eq!(returns.counts.payments, cheques.counts.settled);
    assert_eq!(returns.counts.settled, returns.counts.payments);
    assert_eq!(returns.counts.value_fen, cheques.counts.settled_value_fen);
    // Money went there and back: everyone ends where it started.
    assert_eq!(result.closing_fen, city.opening_fen);
}

/// Settle times of a run by payment key (day 1).
struct Settlements(Vec<Option<u32>>);
impl Observer for Settlements {
    fn settled(&mut self, day: u32, key: u64, at: SimTime) {
        if day == 0 {
            let key = key as usize;
            if self.0.len() <= key {
                self.0.resize(key + 1, None);
            }
            self.0[key] = Some(at.ms());
        }
    }
}

#[test]
fn generate_then_replay_gives_the_settlements_of_run() {
    for (config, strategy) in [
        ("configs/netting-compare.toml", None),
        ("configs/large-city.toml", Some("rtgs")),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let output = clearsim(&[
            "generate",
            config,
            "--volume",
            "0.1",
            "--out",
            &dir.path().display().to_string(),
        ]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let (mut scenario, mut replication) =
            Config::load(Path::new(config)).expect("loads").split();
        scenario.scale_volume(0.1);
        replication.days = 1;
        let city = build_city(&scenario);
        let mut observed = Settlements(Vec::new());
        let result = run(&scenario, &city, replication, &mut observed).expect("runs");
        let participants = std::fs::read(dir.path().join("participants.csv")).expect("written");
        let payments = std::fs::read(dir.path().join("payments.csv")).expect("written");
        let day = Day::parse(
            "participants.csv",
            &participants,
            "payments.csv",
            &payments,
            scenario.day_end,
        )
        .expect("valid");
        assert_eq!(day.payments.len() as u64, result.payments);
        let replayed = replay(&day, &scenario.channels[0].spec).expect("replays");
        observed.0.resize(day.payments.len(), None);
        let from_replay: Vec<Option<u32>> = replayed
            .settle
            .iter()
            .map(|&t| (t != UNSETTLED).then_some(t))
            .collect();
        assert_eq!(from_replay, observed.0, "{config} ({strategy:?})");
        assert_eq!(replayed.closing_fen, result.closing_fen);
    }
}

#[test]
fn config_errors_name_the_file_and_field() {
    let cases = [
        ("seed = 1\nsurprise = 2\n", "surprise"),
        (
            &CHEQUES.replace("DISHONOUR", "0.0").replace(
                "\"exchange\"\nstrategy = \"dns\"",
                "\"exchange\"\nstrategy = \"gross\"",
            ),
            "gross",
        ),
        (
            &CHEQUES.replace("DISHONOUR", "0.0").replace(
                "strategy = \"dns\"\ncycles = [\"11:00:00\", \"15:00:00\"]",
                "strategy = \"rtgs\"",
            ),
            "cheques are exchanged at sessions",
        ),
        (
            &CHEQUES
                .replace("DISHONOUR", "0.0")
                .replace("instruments = [\"cheque\"]", "instruments = [\"cheques\"]"),
            "unknown instrument `cheques`",
        ),
        (
            &CHEQUES
                .replace("DISHONOUR", "0.0")
                .replace("\"15:00:00\"]", "\"10:00:00\"]"),
            "unsorted",
        ),
        (
            &CHEQUES
                .replace("DISHONOUR", "0.0")
                .replace("from = \"09:00:00\"", "from = \"9am\""),
            "profile.from",
        ),
        (&CHEQUES.replace("DISHONOUR", "1.5"), "dishonour_rate"),
        (
            &format!(
                "{}\n[[limit]]\nparticipant = \"*\"\nlimit_yuan = 5\nlimit_share_of_opening = 0.5\n",
                CHEQUES.replace("DISHONOUR", "0.0")
            ),
            "exactly one of limit_yuan and limit_share_of_opening",
        ),
        (
            &format!(
                "{}\n[[limit]]\nparticipant = \"B01\"\nlimit_yuan = -5\n",
                CHEQUES.replace("DISHONOUR", "0.0")
            ),
            "limit[0].limit_yuan",
        ),
        (
            &CHEQUES.replace("DISHONOUR", "0.0").replace(
                "cycles = [\"11:00:00\", \"15:00:00\"]",
                "cycles = [\"11:00:00\", \"15:00:00\"]\nguarantee_fund_yuan = -1",
            ),
            "guarantee_fund_yuan",
        ),
    ];
    for (text, fragment) in cases {
        let error = Config::parse(Path::new("bad.toml"), text, Path::new(".")).expect_err(fragment);
        let message = error.to_string();
        assert!(message.starts_with("bad.toml: "), "{message}");
        assert!(message.contains(fragment), "{fragment:?} not in {message}");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "seed = 1\nsurprise = 2\n").expect("write");
    let output = clearsim(&["run", &path.display().to_string()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("surprise"));
}

#[test]
fn extreme_but_valid_configs_run_without_panicking() {
    // Every bound at its limit (docs/config.md): the highest concentration,
    // amounts far beyond any real payment (clamped to 10^13 fen), and
    // liquidity far beyond any need (clamped per bank).
    let text = r#"
seed = 9
[participants]
n = 20
[liquidity]
opening_share = 1e12
[[instrument]]
name = "p"
daily_count = 5000
amount = { median_yuan = 1e11, sigma = 5.0, tail_share = 0.5, tail_alpha = 1.01, tail_min_yuan = 1e11 }
concentration = 10
[[channel]]
name = "c"
strategy = "dns"
instruments = ["p"]
"#;
    let (scenario, replication) = Config::parse(Path::new("extreme.toml"), text, Path::new("."))
        .expect("valid")
        .split();
    let city = build_city(&scenario);
    let result = run(&scenario, &city, replication, &mut NoObserver).expect("runs");
    assert!(result.payments > 4000);
    assert_eq!(
        result.closing_fen.iter().sum::<i64>(),
        city.opening_fen.iter().sum::<i64>()
    );
}

#[test]
fn sender_limits_name_known_participants_and_bind() {
    let gross = r#"
seed = 5
[participants]
n = 6
[liquidity]
opening_share = 0.2
[[instrument]]
name = "transfer"
daily_count = 3000
profile = [{ from = "09:00:00", to = "12:00:00", weight = 1.0 }]
amount = { median_yuan = 1000, sigma = 0.8 }
[[channel]]
name = "gross"
strategy = "rtgs+limits"
instruments = ["transfer"]
"#;
    let city_of = |text: &str| {
        let (scenario, replication) = scenario(text);
        let city = build_city(&scenario);
        run(&scenario, &city, replication, &mut NoObserver)
    };
    // No [[limit]] at all: an error, not a silent plain rtgs.
    let error = city_of(gross).expect_err("limits are needed");
    assert!(error.to_string().contains("[[limit]]"), "{error}");
    let unknown = format!("{gross}\n[[limit]]\nparticipant = \"B99\"\nlimit_yuan = 1\n");
    let error = city_of(&unknown).expect_err("unknown participant");
    assert!(
        error.to_string().contains("`B99` is not a participant"),
        "{error}"
    );
    // A zero multilateral limit for everyone: a payment settles only once
    // the sender has received at least as much as it pays, which at first
    // nobody has, so nothing ever settles.
    let zero = format!("{gross}\n[[limit]]\nparticipant = \"*\"\nlimit_yuan = 0\n");
    let result = city_of(&zero).expect("runs");
    assert_eq!(result.channels[0].counts.settled, 0);
    // Generous limits change nothing against plain rtgs.
    let generous = format!("{gross}\n[[limit]]\nparticipant = \"*\"\nlimit_yuan = 1e12\n");
    let plain = gross.replace("rtgs+limits", "rtgs");
    let limited = city_of(&generous).expect("runs");
    let unlimited = city_of(&plain).expect("runs");
    assert_eq!(limited.closing_fen, unlimited.closing_fen);
    assert!(limited.channels[0].counts.settled > 0);
}

/// `run --network` and `compare --network` report the network of the
/// stream's day 1 at the first replication's seed: byte for byte the
/// network `replay --network` finds in the day `generate` writes (the
/// same stream), and the same for a compare of two designs (common
/// random numbers: the designs share the flows).
#[test]
fn run_and_compare_report_the_network_of_the_generated_day() {
    let dir = tempfile::tempdir().expect("dir");
    let at = |name: &str| dir.path().join(name).display().to_string();
    let config = "configs/chengdu-2005.toml";
    let volume = ["--volume", "0.02", "--seed", "7"];
    let ok = |args: &[&str]| {
        let output = clearsim(args);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let run_out = at("run");
    ok(&[
        &["run", config, "--network", "-q", "--out", &run_out],
        &volume[..],
    ]
    .concat());
    let compare_out = at("compare");
    ok(&[
        &["compare", config, "--network", "-q", "--out", &compare_out],
        &volume[..],
        &["--strategies", "rtgs; dns:hourly", "--replications", "2"],
    ]
    .concat());
    let day = at("day");
    ok(&[&["generate", config, "-q", "--out", &day], &volume[..]].concat());
    let replayed = at("replayed");
    let (participants, payments) = (
        format!("{day}/participants.csv"),
        format!("{day}/payments.csv"),
    );
    ok(&[
        "replay",
        "--participants",
        &participants,
        "--payments",
        &payments,
        "--network",
        "-q",
        "--out",
        &replayed,
    ]);
    let read = |dir: &str, file: &str| std::fs::read(Path::new(dir).join(file)).expect(file);
    for file in ["network.csv", "flows.csv"] {
        assert_eq!(read(&run_out, file), read(&replayed, file), "{file}");
        assert_eq!(read(&compare_out, file), read(&replayed, file), "{file}");
    }
    let page = String::from_utf8(read(&compare_out, "network.md")).expect("utf-8");
    assert!(
        page.contains("seed 7 (the study's first replication)"),
        "{page}"
    );
}
