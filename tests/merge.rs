//! `replay --merge A,B`: a hand-computed day and its merger, every
//! payment accounted for on both sides, and the refusals; `critical
//! --merge` on a config, each seed's day as `replay --merge` has it.

// A test reads as one story, setup to assertions: the 70-line limit is
// for the product's code.
#![allow(clippy::too_many_lines)]

mod common;

use std::collections::HashMap;

use common::cli::{ok, refused};

const PARTICIPANTS: &str = "id,name,category,opening_balance,credit_limit\n\
A,Bank A,bank,100,0\nB,Bank B,bank,0,0\nC,Bank C,bank,0,0\n";
/// A pays B 50, B pays C 50, C pays A 30, B pays A 20 (fen).
const PAYMENTS: &str = "id,submit,sender,receiver,amount\n\
p1,09:00:00,A,B,50\np2,09:01:00,B,C,50\np3,09:02:00,C,A,30\np4,09:03:00,B,A,20\n";

fn replay(dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let (participants, payments) = (dir.join("p.csv"), dir.join("x.csv"));
    std::fs::write(&participants, PARTICIPANTS).expect("write");
    std::fs::write(&payments, PAYMENTS).expect("write");
    let (participants, payments) = (
        participants.display().to_string(),
        payments.display().to_string(),
    );
    let mut args = vec![
        "replay",
        "--participants",
        &participants,
        "--payments",
        &payments,
        "--format",
        "csv",
        "-q",
    ];
    args.extend_from_slice(extra);
    common::cli::clearsim(&args)
}

/// merger.csv as figure → (baseline, merged).
fn figures(path: &std::path::Path) -> HashMap<String, (f64, f64)> {
    let text = std::fs::read_to_string(path).expect("merger.csv");
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            (
                f[0].to_string(),
                (f[2].parse().unwrap(), f[3].parse().unwrap()),
            )
        })
        .collect()
}

#[test]
fn a_merger_internalises_the_pair_and_accounts_for_every_payment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    ok(&replay(
        dir.path(),
        &["--merge", "A,B", "--out", out.to_str().unwrap()],
    ));
    let f = figures(&out.join("merger.csv"));
    // As it settled: p4 waits for B's money, which went to C (unsettled).
    assert_eq!(f["settled"].0, 3.0);
    assert_eq!(f["settled_value"].0, 130.0);
    assert_eq!(f["unsettled"].0, 1.0);
    assert_eq!(f["unsettled_value"].0, 20.0);
    assert_eq!(f["internalised"].0, 0.0);
    // Merged: p1 and p4 are book entries of A; p2 (now A→C) and p3 settle.
    assert_eq!(f["internalised"].1, 2.0);
    assert_eq!(f["internalised_value"].1, 70.0);
    assert_eq!(f["settled"].1, 2.0);
    assert_eq!(f["settled_value"].1, 80.0);
    assert_eq!(f["unsettled"].1, 0.0);
    for side in [|p: (f64, f64)| p.0, |p: (f64, f64)| p.1] {
        let count = ["settled", "unsettled", "carried", "internalised"]
            .iter()
            .map(|k| side(f[*k]))
            .sum::<f64>();
        assert_eq!(count, side(f["payments"]), "every payment counted once");
        let value = [
            "settled_value",
            "unsettled_value",
            "carried_value",
            "internalised_value",
        ]
        .iter()
        .map(|k| side(f[*k]))
        .sum::<f64>();
        assert_eq!(value, side(f["value"]));
    }
    assert_eq!(f["payments"], (4.0, 4.0));
    assert_eq!(f["value"], (150.0, 150.0));
    // The replay's own outputs are the day's as it settled, unchanged.
    let summary = std::fs::read_to_string(out.join("summary.json")).expect("summary");
    assert!(summary.contains("\"unsettled\": 1"), "{summary}");
    let html = std::fs::read_to_string(out.join("merger.html")).expect("html");
    assert!(html.contains("B merged into A"));
}

#[test]
fn bad_mergers_are_refused_with_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    for (merge, says) in [
        ("A,A", "two different participants"),
        ("A,Z", "`Z` is not a participant"),
        ("A", "expected two participant ids"),
    ] {
        let output = replay(
            dir.path(),
            &["--merge", merge, "--out", out.to_str().unwrap()],
        );
        refused(&output, &[says]);
        assert!(!out.exists(), "nothing published");
    }
}

#[test]
fn a_merger_of_several_days_is_each_days_merger() {
    let dir = tempfile::tempdir().expect("tempdir");
    let one = dir.path().join("one");
    ok(&replay(
        dir.path(),
        &["--merge", "A,B", "--out", one.to_str().unwrap()],
    ));
    let single = figures(&one.join("merger.csv"));
    // The same day twice, on two dates, in one file.
    let mut dated = String::from("date,id,submit,sender,receiver,amount\n");
    for date in ["2026-01-05", "2026-01-06"] {
        for line in PAYMENTS.lines().skip(1) {
            dated.push_str(&format!("{date},{date}-{line}\n"));
        }
    }
    let (participants, payments) = (dir.path().join("p.csv"), dir.path().join("month.csv"));
    std::fs::write(&payments, dated).expect("write");
    let days = dir.path().join("days");
    let args = |extra: &[&str], out: &std::path::Path| {
        let mut args = vec![
            "replay".to_string(),
            "--participants".into(),
            participants.display().to_string(),
            "--payments".into(),
            payments.display().to_string(),
            "--merge".into(),
            "A,B".into(),
            "--out".into(),
            out.display().to_string(),
            "-q".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let run = |extra: &[&str], out: &std::path::Path| {
        let args = args(extra, out);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        common::cli::clearsim(&args)
    };
    ok(&run(&[], &days));
    let text = std::fs::read_to_string(days.join("merger.csv")).expect("merger.csv");
    let mut rows: HashMap<(String, String), (f64, f64)> = HashMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let pair = (f[3].parse().unwrap(), f[4].parse().unwrap());
        rows.insert((f[0].to_string(), f[1].to_string()), pair);
    }
    for date in ["2026-01-05", "2026-01-06"] {
        for (figure, value) in &single {
            assert_eq!(
                rows[&(date.to_string(), figure.clone())],
                *value,
                "{date} {figure}"
            );
        }
    }
    assert_eq!(rows[&("all".into(), "internalised".into())], (0.0, 4.0));
    assert_eq!(rows[&("all".into(), "payments".into())], (8.0, 8.0));
    assert!(!rows.contains_key(&("all".into(), "lower_bound".into())));
    // Carried queues would count a payment on two days: refused.
    let refused_out = dir.path().join("refused");
    refused(
        &run(&["--carry-queue"], &refused_out),
        &["not with --carry-queue or --openings"],
    );
}

/// merger.csv of `critical --merge` (seed, figure, unit, baseline,
/// merged, change) as (seed, figure) → (baseline, merged).
fn seeded_figures(path: &std::path::Path) -> HashMap<(String, String), (f64, f64)> {
    let text = std::fs::read_to_string(path).expect("merger.csv");
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            (
                (f[0].to_string(), f[1].to_string()),
                (f[3].parse().unwrap(), f[4].parse().unwrap()),
            )
        })
        .collect()
}

#[test]
fn a_merger_on_a_config_is_each_seeds_replayed_merger_with_intervals() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = |name: &str| dir.path().join(name).display().to_string();
    let config = "configs/netting-compare.toml";
    let common = ["--volume", "0.05", "-q"];
    let mut args = vec!["critical", config, "--merge", "B01,B02"];
    args.extend(common);
    let out = d("study");
    args.extend(["--replications", "3", "--out", &out]);
    ok(&common::cli::clearsim(&args));
    let study = seeded_figures(&dir.path().join("study/merger.csv"));
    // Each seed's row is `replay --merge` of the day `generate` writes for
    // that seed, through the config's channels.
    for seed in ["42", "43", "44"] {
        let (day, replayed) = (d(&format!("day{seed}")), d(&format!("replay{seed}")));
        let mut generate = vec!["generate", config, "--seed", seed, "--out", &day];
        generate.extend(common);
        ok(&common::cli::clearsim(&generate));
        let (participants, payments) = (
            format!("{day}/participants.csv"),
            format!("{day}/payments.csv"),
        );
        ok(&common::cli::clearsim(&[
            "replay",
            "--participants",
            &participants,
            "--payments",
            &payments,
            "--channels",
            config,
            "--merge",
            "B01,B02",
            "--format",
            "csv",
            "-q",
            "--out",
            &replayed,
        ]));
        let alone = figures(&dir.path().join(format!("replay{seed}/merger.csv")));
        assert!(alone.len() == 17, "every figure: {alone:?}");
        for (figure, values) in &alone {
            assert_eq!(
                study[&(seed.to_string(), figure.clone())],
                *values,
                "{seed} {figure}"
            );
        }
        let of = |f: &str| study[&(seed.to_string(), f.to_string())];
        // Every payment on both sides, by count and value.
        for (whole, parts) in [
            (
                "payments",
                ["settled", "unsettled", "carried", "internalised"],
            ),
            (
                "value",
                [
                    "settled_value",
                    "unsettled_value",
                    "carried_value",
                    "internalised_value",
                ],
            ),
        ] {
            let sum = |side: fn((f64, f64)) -> f64| parts.iter().map(|p| side(of(p))).sum::<f64>();
            assert_eq!(of(whole), (sum(|v| v.0), sum(|v| v.1)), "{seed} {whole}");
        }
        assert!(of("internalised").1 > 0.0, "B01 and B02 pay each other");
    }
    // The estimates: the change is the mean of the seeds' changes, with
    // an interval around it.
    let estimates = std::fs::read_to_string(dir.path().join("study/merger-estimates.csv"))
        .expect("merger-estimates.csv");
    let row: Vec<&str> = estimates
        .lines()
        .find(|l| l.starts_with("lower_bound,"))
        .expect("lower_bound")
        .split(',')
        .collect();
    let changes: Vec<f64> = ["42", "43", "44"]
        .iter()
        .map(|s| {
            let (before, after) = study[&(s.to_string(), "lower_bound".to_string())];
            after - before
        })
        .collect();
    let mean: f64 = changes.iter().sum::<f64>() / 3.0;
    let (change, low, high): (f64, f64, f64) = (
        row[8].parse().unwrap(),
        row[9].parse().unwrap(),
        row[10].parse().unwrap(),
    );
    assert!(
        (change - mean).abs() <= 1e-6 * mean.abs().max(1.0),
        "{change} {mean}"
    );
    assert!(low <= change && change <= high && row[11] == "3", "{row:?}");
    let html = std::fs::read_to_string(dir.path().join("study/merger.html")).expect("html");
    assert!(html.contains("B02 merged into B01") && html.contains("<svg"));
}

#[test]
fn bad_mergers_on_a_config_are_refused_with_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("o").display().to_string();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "critical",
            "configs/netting-compare.toml",
            "--volume",
            "0.05",
        ];
        args.extend_from_slice(extra);
        args.extend(["-q", "--out", &out]);
        common::cli::clearsim(&args)
    };
    refused(
        &run(&["--merge", "B01,NOPE"]),
        &["`NOPE` is not a participant"],
    );
    refused(
        &run(&["--merge", "B01,B02", "--shard", "1/2"]),
        &["--shard: a merger study's intervals are drawn from all its seeds at once"],
    );
    refused(
        &run(&["--merge", "B01,B01"]),
        &["two different participants"],
    );
    refused(&run(&["--merge", "B01"]), &["expected two participant ids"]);
    refused(
        &run(&["--merge", "B01,B02", "--shock", "default:B03@10:00"]),
        &["give no shock"],
    );
    refused(
        &run(&["--merge", "B01,B02", "--liquidity", "50"]),
        &["cannot be used with"],
    );
}
