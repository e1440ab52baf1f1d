//! Bounds that bound, and one liquidity figure for one day: on every day
//! of a 20-day run of every bundled config, lower bound ≤ upper bound, and
//! liquidity used ≤ upper bound on every day where each bank held its own
//! part of it (`banks_short_of_need` = 0: nothing then waits or is
//! unwound, so the design settles as the bound assumes); a generated day replayed through the
//! config's channels states the run's figures for that day (settled,
//! unsettled and carried value, liquidity used, both bounds).

// A test reads as one story, setup to assertions: the 70-line limit is
// for the product's code.
#![allow(clippy::too_many_lines)]

mod common;

use std::path::{Path, PathBuf};

use common::cli::{clearsim, ok, path, replayable};

/// Every bundled config, with the volume that keeps a 20-day run short.
fn bundled() -> Vec<(PathBuf, &'static str)> {
    let mut configs = Vec::new();
    for dir in ["configs", "configs/games"] {
        for entry in std::fs::read_dir(dir).expect("configs") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "toml") {
                let name = path.file_name().expect("name").to_string_lossy();
                // The throughput configs stream millions a day: a slice.
                let volume = if name.starts_with("serve-bench") || name.starts_with("throughput") {
                    "0.05"
                } else {
                    "1"
                };
                configs.push((path, volume));
            }
        }
    }
    configs.sort();
    assert!(configs.len() >= 9, "{configs:?}");
    configs
}

fn days_csv(dir: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(dir.join("days.csv")).expect("days.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    lines
        .map(|l| {
            header
                .iter()
                .zip(l.split(','))
                .map(|(h, v)| ((*h).to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn fen(row: &std::collections::HashMap<String, String>, key: &str) -> i64 {
    row[key]
        .parse()
        .unwrap_or_else(|_| panic!("{key}: {}", row[key]))
}

#[test]
fn liquidity_used_stays_within_the_upper_bound_when_banks_hold_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Days with no bank short, where used ≤ upper must hold (large-city's
    // smallest banks are short every day).
    let mut checked = 0;
    for (config, volume) in bundled() {
        let out = dir.path().join(config.file_stem().expect("stem"));
        ok(&clearsim(&[
            "run",
            &config.display().to_string(),
            "--days",
            "20",
            "--volume",
            volume,
            "-q",
            "--out",
            &out.display().to_string(),
        ]));
        let days = days_csv(&out);
        assert_eq!(days.len(), 20);
        let mut short_days = 0;
        for day in &days {
            let (used, lower, upper) = (
                fen(day, "liquidity_used_fen"),
                fen(day, "lower_bound_fen"),
                fen(day, "upper_bound_fen"),
            );
            let at = format!("{} day {}", config.display(), day["day"]);
            if fen(day, "banks_short_of_need") == 0 {
                assert!(used <= upper, "{at}: used {used} > upper bound {upper}");
            } else {
                short_days += 1;
            }
            assert!(lower <= upper, "{at}: lower bound {lower} > upper {upper}");
        }
        checked += days.len() - short_days;
    }
    assert!(
        checked >= 100,
        "only {checked} days had every bank at its need"
    );
}

#[test]
fn a_replay_through_the_channels_states_the_runs_figures() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (config, volume) in bundled() {
        let config = replayable(&config, dir.path());
        let name = config
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let config = config.display().to_string();
        let at = |p: &str| path(dir.path(), &format!("{name}-{p}"));
        ok(&clearsim(&[
            "generate",
            &config,
            "--volume",
            volume,
            "-q",
            "--out",
            &at("day"),
        ]));
        let (participants, payments) = (at("day/participants.csv"), at("day/payments.csv"));
        ok(&clearsim(&[
            "replay",
            "--participants",
            &participants,
            "--payments",
            &payments,
            "--channels",
            &config,
            "-q",
            "--out",
            &at("replay"),
        ]));
        ok(&clearsim(&[
            "run",
            &config,
            "--days",
            "1",
            "--volume",
            volume,
            "-q",
            "--out",
            &at("run"),
        ]));
        let summary: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(Path::new(&at("replay")).join("summary.json")).expect("json"),
        )
        .expect("json");
        let replay = &summary["as_run"];
        let day = &days_csv(Path::new(&at("run")))[0];
        for (replay_key, run_key) in [
            ("settled_value", "settled_value_fen"),
            ("unsettled_value", "unsettled_value_fen"),
            ("carried_value", "carried_value_fen"),
            ("liquidity_used", "liquidity_used_fen"),
            ("lower_bound", "lower_bound_fen"),
            ("upper_bound", "upper_bound_fen"),
        ] {
            assert_eq!(
                replay[replay_key].as_i64(),
                Some(fen(day, run_key)),
                "{name}: replay's {replay_key} against run's {run_key}"
            );
        }
        // Every payment of the day is in one of the three parts.
        let parts: i64 = ["settled_value", "unsettled_value", "carried_value"]
            .iter()
            .map(|k| replay[k].as_i64().expect("value"))
            .sum();
        assert_eq!(Some(parts), summary["value"].as_i64(), "{name}");
        // The contract's unsettled count carried payments too.
        assert_eq!(
            summary["unsettled"].as_u64(),
            Some(replay["unsettled"].as_u64().expect("n") + replay["carried"].as_u64().expect("n")),
            "{name}"
        );
    }
}
