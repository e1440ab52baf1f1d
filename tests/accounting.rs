//! Every payment is accounted for in every output: in each row of every
//! CSV that counts payments, payments = settled + unsettled + carried, by
//! count and by value, for run and compare (one short day, where cards
//! and cheques are carried to the next morning's cycle, and two days).

mod common;

use std::path::Path;

use common::cli::{clearsim, ok};

/// Checks the identity on every row of every CSV in `dir` that has the
/// columns; returns how many rows it checked.
fn check_dir(dir: &Path) -> usize {
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).expect("the output set") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "csv") {
            checked += check_csv(&path);
        }
    }
    checked
}

fn check_csv(path: &Path) -> usize {
    let mut reader = csv::Reader::from_path(path).expect("a CSV");
    let header = reader.headers().expect("a header").clone();
    let col = |name: &str| header.iter().position(|h| h == name);
    let sets = [
        ["payments", "settled", "unsettled", "carried"],
        [
            "value_fen",
            "settled_value_fen",
            "unsettled_value_fen",
            "carried_value_fen",
        ],
    ];
    let mut checked = 0;
    for names in sets {
        let (Some(all), Some(settled), Some(unsettled), Some(carried)) =
            (col(names[0]), col(names[1]), col(names[2]), col(names[3]))
        else {
            // A CSV that counts payments and what settled must also say
            // where the rest went.
            assert!(
                col(names[0]).is_none() || col(names[1]).is_none(),
                "{}: `{}` and `{}` without unsettled and carried",
                path.display(),
                names[0],
                names[1]
            );
            continue;
        };
        for (i, row) in reader.records().enumerate() {
            let row = row.expect("a row");
            let n = |c: usize| -> i128 { row[c].parse().expect("an integer") };
            // A day's own arrivals and what was carried into it.
            let carried_in = match col("carried_in_value_fen") {
                Some(c) if names[0] == "value_fen" => n(c),
                _ => 0,
            };
            assert_eq!(
                n(all) + carried_in,
                n(settled) + n(unsettled) + n(carried),
                "{} row {}: {} ≠ {} + {} + {}",
                path.display(),
                i + 2,
                names[0],
                names[1],
                names[2],
                names[3]
            );
            checked += 1;
        }
        reader = csv::Reader::from_path(path).expect("a CSV");
    }
    checked
}

#[test]
fn run_and_compare_account_for_every_payment() {
    let dir = tempfile::tempdir().unwrap();
    let commands: [&[&str]; 2] = [
        &["run"],
        &["compare", "--strategies", "design;rtgs;dns:hourly"],
    ];
    for days in ["1", "2"] {
        for command in commands {
            let out = dir.path().join(format!("{}-{days}", command[0]));
            let common = [
                "configs/chengdu-2005.toml",
                "--days",
                days,
                "--replications",
                "2",
                "--quiet",
                "--out",
                out.to_str().unwrap(),
            ];
            ok(&clearsim(&[command, &common[..]].concat()));
            assert!(check_dir(&out) > 10, "{}'s CSVs hold flows", command[0]);
        }
    }
}

#[test]
fn a_short_run_warns_that_payments_were_carried_past_its_last_day() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let output = clearsim(&[
        "run",
        "configs/chengdu-2005.toml",
        "--days",
        "1",
        "--replications",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    ok(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("of card value") && stderr.contains("carried past the last day"),
        "{stderr}"
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("carried past the last day"), "{report}");
}
