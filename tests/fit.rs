//! `clearsim fit`: recovery (a day generated from a known scenario gives
//! back its parameters) and twin (the fitted scenario's days settle as
//! the known scenario's do), with the tolerances docs/model.md states.

mod common;

use std::path::Path;

use common::cli::{ok, refused};

/// A known scenario: Zipf sizes of exponent 1, one instrument with a
/// Pareto tail and a two-step profile, one more concentrated whose
/// amounts scale with size; liquidity scarce enough to delay.
const KNOWN: &str = r#"
name = "known"
seed = 1
days = 1

[participants]
n = 12
size_exponent = 1.0

[liquidity]
opening_share = 0.03
credit_share = 0.0

[[instrument]]
name = "a"
daily_count = 150000
profile = [{ from = "08:00", to = "12:00", weight = 1.0 }, { from = "12:00", to = "16:00", weight = 3.0 }]
amount = { median_yuan = 1000, sigma = 1.0, tail_share = 0.02, tail_alpha = 1.8, tail_min_yuan = 50000, tail_max_yuan = 1e7 }

[[instrument]]
name = "b"
daily_count = 50000
concentration = 1.5
profile = [{ from = "09:00", to = "17:00", weight = 1.0 }]
amount = { median_yuan = 100, sigma = 0.6, size_elasticity = 0.5 }

[[channel]]
name = "rtgs"
strategy = "rtgs"
instruments = ["a", "b"]
"#;

/// Runs clearsim and asserts it succeeded.
fn clearsim(args: &[&str]) {
    ok(&common::cli::clearsim(args));
}

/// Rows of a CSV file as maps from column to text.
fn rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(path).expect("a CSV file");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    lines
        .map(|line| {
            header
                .iter()
                .zip(line.split(','))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn number(row: &std::collections::HashMap<String, String>, column: &str) -> f64 {
    row[column].parse().expect("a number")
}

/// Generates day 1 of the known scenario at `seed` into `dir/real<seed>`.
fn real_day(dir: &Path, config: &Path, seed: u64) -> std::path::PathBuf {
    let out = dir.join(format!("real{seed}"));
    let seed = seed.to_string();
    clearsim(&[
        "generate",
        config.to_str().unwrap(),
        "--seed",
        &seed,
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    out
}

fn fit(day: &Path, out: &Path) {
    fit_with(day, out, &["--instrument-column"]);
}

/// `clearsim fit` of a generated day with `extra` flags.
fn fit_with(day: &Path, out: &Path, extra: &[&str]) {
    let (participants, payments) = (day.join("participants.csv"), day.join("payments.csv"));
    let mut args = vec![
        "fit",
        "--participants",
        participants.to_str().unwrap(),
        "--payments",
        payments.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--out", out.to_str().unwrap(), "-q"]);
    clearsim(&args);
}

fn close(what: &str, got: f64, want: f64, within: f64) {
    assert!(
        (got - want).abs() <= within,
        "{what}: fitted {got}, known {want}, tolerance ±{within}"
    );
}

#[test]
fn fit_recovers_a_known_scenario() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("known.toml");
    std::fs::write(&config, KNOWN).expect("write");
    let day = real_day(dir.path(), &config, 1);
    let out = dir.path().join("fit");
    fit(&day, &out);
    let laws = rows(&out.join("fit.csv"));
    let (a, b) = (&laws[0], &laws[1]);
    assert_eq!(
        (a["instrument"].as_str(), b["instrument"].as_str()),
        ("a", "b")
    );
    // Counts are the day's: 150,000 and 50,000 drawn as Poisson streams.
    close(
        "a: payments a day",
        number(a, "daily_count"),
        150_000.0,
        1_500.0,
    );
    close(
        "b: payments a day",
        number(b, "daily_count"),
        50_000.0,
        900.0,
    );
    // The amount law of a (no size elasticity: its draws are the amounts).
    close("a: median", number(a, "median_fen") / 100.0, 1000.0, 30.0);
    close("a: sigma", number(a, "sigma"), 1.0, 0.03);
    close("a: tail share", number(a, "tail_share"), 0.02, 0.005);
    close("a: tail alpha", number(a, "tail_alpha"), 1.8, 0.25);
    close(
        "a: tail from",
        number(a, "tail_min_fen") / 100.0,
        50_000.0,
        12_500.0,
    );
    close("a: elasticity", number(a, "size_elasticity"), 0.0, 0.05);
    close("b: sigma", number(b, "sigma"), 0.6, 0.03);
    close("b: elasticity", number(b, "size_elasticity"), 0.5, 0.1);
    // Gravity: sizes are the banks' shares of payments, a blend of both
    // instruments' (3:1), so a's exponent is near 1 and b's above it.
    close("a: concentration", number(a, "concentration"), 1.0, 0.15);
    let b_concentration = number(b, "concentration");
    assert!(
        b_concentration > number(a, "concentration") + 0.2,
        "b is the more concentrated: {b_concentration}"
    );
    for row in &laws {
        assert!(number(row, "ks_law") < 0.01, "{row:?}");
        assert!(number(row, "ks_twin_amounts") < 0.05, "{row:?}");
        assert!(number(row, "ks_twin_arrivals") < 0.02, "{row:?}");
    }
    let scenario = std::fs::read_to_string(out.join("scenario.toml")).expect("scenario");
    // Zipf sizes within the file's one category, exponent 1.
    let within: f64 = scenario
        .lines()
        .find_map(|l| l.strip_prefix("within_category_exponent = "))
        .expect("the exponent")
        .parse()
        .expect("a number");
    close("within-category exponent", within, 1.0, 0.1);
    // a's profile: three times the rate after noon (steps of 30 minutes).
    assert!(scenario.contains("{ from = \"08:00:00.000\", to = \"08:30:00.000\""));
    assert!(scenario.contains("to = \"16:00:00.000\""));
    assert!(!scenario.contains("from = \"16:00:00.000\", to = \"16:30:00.000\", weight = 0"));
}

/// The mean of one column over the rows of one kind in twin.csv, or over
/// real days replayed.
fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

#[test]
fn fitted_twin_settles_as_the_known_scenario() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("known.toml");
    std::fs::write(&config, KNOWN).expect("write");
    let out = dir.path().join("fit");
    fit(&real_day(dir.path(), &config, 1), &out);
    let twin: Vec<_> = rows(&out.join("twin.csv"))
        .into_iter()
        .filter(|r| r["days"] == "twin_as_run")
        .collect();
    assert_eq!(twin.len(), 5);
    // The known scenario's own days at five seeds, replayed as the twin's
    // are: the real side's mean (a day's bounds vary by about 17 %).
    let mut known: Vec<serde_json::Value> = Vec::new();
    for seed in 1..=5 {
        let day = real_day(dir.path(), &config, seed);
        let replayed = dir.path().join(format!("replayed{seed}"));
        clearsim(&[
            "replay",
            "--participants",
            day.join("participants.csv").to_str().unwrap(),
            "--payments",
            day.join("payments.csv").to_str().unwrap(),
            "--format",
            "csv",
            "--out",
            replayed.to_str().unwrap(),
            "-q",
        ]);
        let json = std::fs::read(replayed.join("summary.json")).expect("summary");
        known.push(serde_json::from_slice(&json).expect("json"));
    }
    let figure = |path: &[&str]| -> f64 {
        mean(
            &known
                .iter()
                .map(|s| {
                    path.iter()
                        .fold(s, |v, key| &v[*key])
                        .as_f64()
                        .expect("a figure")
                })
                .collect::<Vec<_>>(),
        )
    };
    let of = |column: &str| mean(&twin.iter().map(|r| number(r, column)).collect::<Vec<_>>());
    let relative = |what: &str, got: f64, want: f64, within: f64| {
        assert!(
            (got / want - 1.0).abs() <= within,
            "{what}: twin {got}, known {want}, tolerance ±{}%",
            within * 100.0
        );
    };
    relative("payments", of("payments"), figure(&["payments"]), 0.02);
    relative("value", of("value_fen"), figure(&["value"]), 0.10);
    let lower = figure(&["as_run", "lower_bound"]);
    relative("lower bound", of("lower_bound_fen"), lower, 0.25);
    let upper = figure(&["as_run", "upper_bound"]);
    relative("upper bound", of("upper_bound_fen"), upper, 0.25);
    relative(
        "delay",
        of("delay_ms_mean"),
        figure(&["delay_ms", "mean"]),
        0.35,
    );
}

#[test]
fn fit_refuses_what_it_cannot_fit_with_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let participants = dir.path().join("p.csv");
    std::fs::write(
        &participants,
        "id,name,category,opening_balance,credit_limit\nA,A,bank,100,0\nB,B,bank,100,0\nELSEWHERE,Outside,outside,0,0\n",
    )
    .expect("write");
    let payments = dir.path().join("x.csv");
    // One instrument both within the city and across its boundary.
    std::fs::write(
        &payments,
        "id,submit,sender,receiver,amount\np1,09:00:00,A,B,10\np2,09:00:01,ELSEWHERE,A,20\n",
    )
    .expect("write");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "fit",
            "--participants",
            participants.to_str().unwrap(),
            "--payments",
            payments.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        common::cli::clearsim(&args)
    };
    let out = dir.path().join("out");
    let output = run(&["--out", out.to_str().unwrap()]);
    refused(
        &output,
        &["x.csv: instrument `payments` mixes payments within the city"],
    );
    assert!(!out.exists(), "nothing published");
    let output = run(&["--twin-days", "0", "--out", out.to_str().unwrap()]);
    refused(&output, &["--twin-days: 0 is not 1 to 100"]);
    // The output may not be an input.
    refused(&run(&["--out", payments.to_str().unwrap()]), &["--out"]);
}

/// Six banks whose payments run round a ring, B1 → B2 → … → B6 → B1, and
/// back from B2 to B1: a network no gravity law draws. Amounts scale with
/// the smaller bank's size.
const RING: &str = r#"
name = "ring"
seed = 1
days = 1

[participants]
n = 6
size_exponent = 1.0

[liquidity]
opening_share = 0.05
credit_share = 0.0

[[instrument]]
name = "t"
daily_count = 60000
profile = [{ from = "09:00", to = "16:00", weight = 1.0 }]
amount = { median_yuan = 500, sigma = 0.8, size_elasticity = 0.7 }
pairs = [
  { from = "B1", to = "B2", weight = 4 }, { from = "B2", to = "B3", weight = 2 },
  { from = "B3", to = "B4", weight = 1 }, { from = "B4", to = "B5", weight = 1 },
  { from = "B5", to = "B6", weight = 1 }, { from = "B6", to = "B1", weight = 1 },
  { from = "B2", to = "B1", weight = 2 },
]

[[channel]]
name = "rtgs"
strategy = "rtgs"
instruments = ["t"]
"#;

#[test]
fn observed_pairs_keep_who_pays_whom() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("ring.toml");
    std::fs::write(&config, RING).expect("write");
    let day = real_day(dir.path(), &config, 1);
    let (pairs, gravity) = (dir.path().join("pairs"), dir.path().join("gravity"));
    fit_with(&day, &pairs, &["--observed-pairs"]);
    fit_with(&day, &gravity, &[]);
    let scenario = std::fs::read_to_string(pairs.join("scenario.toml")).expect("scenario");
    assert_eq!(scenario.matches("{ from = \"B").count(), 7, "{scenario}");
    assert!(
        !scenario.contains("\nconcentration ="),
        "pairs, not gravity"
    );
    // Each pair weighs its payments of the day: B1 → B2 about 4/12.
    let b1_b2: f64 = scenario
        .lines()
        .find_map(|l| l.strip_prefix("  { from = \"B1\", to = \"B2\", weight = "))
        .and_then(|rest| rest.strip_suffix(" },"))
        .expect("B1 → B2")
        .parse()
        .expect("a number");
    close("B1 → B2 payments", b1_b2, 20_000.0, 600.0);
    let twin = |dir: &Path, kind: &str| -> Vec<std::collections::HashMap<String, String>> {
        rows(&dir.join("twin.csv"))
            .into_iter()
            .filter(|r| r["days"] == kind)
            .collect()
    };
    let real = &twin(&pairs, "real")[0];
    assert_eq!(real["links"], "7");
    for day in twin(&pairs, "twin_as_run") {
        // The twin pays along the seven links, no others, and its value
        // (amounts scaled by the pairs' own mean factor) is the day's.
        assert_eq!(day["links"], "7", "{day:?}");
        let value = number(&day, "value_fen") / number(real, "value_fen");
        assert!(
            (value - 1.0).abs() < 0.05,
            "value {value} of the real day's"
        );
    }
    // By gravity every bank pays every other: 30 links.
    for day in twin(&gravity, "twin_as_run") {
        assert_eq!(day["links"], "30", "{day:?}");
    }
}
