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

/// The designs table and the figures table state the same unsettled value
/// per business day, and it is the pooled total over replications × days.
#[test]
fn the_designs_table_and_the_figures_table_agree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("compare");
    ok(&clearsim(&[
        "compare",
        "configs/chengdu-2005.toml",
        "--volume",
        "0.05",
        "--replications",
        "3",
        "--days",
        "2",
        "--strategies",
        "design; rtgs; dns",
        "-q",
        "--out",
        &out.display().to_string(),
    ]));
    let mut figures = csv::Reader::from_path(out.join("figures.csv")).expect("figures");
    let header = figures.headers().expect("header").clone();
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let per_day: Vec<(String, f64)> = figures
        .records()
        .map(|r| r.expect("row"))
        .filter(|r| {
            &r[col("flow")] == "all"
                && &r[col("metric")] == "unsettled_value_fen"
                && r[col("versus")].is_empty()
        })
        .map(|r| {
            assert_eq!(&r[col("days")], "mean day");
            (
                r[col("design")].to_string(),
                r[col("mean")].parse().expect("mean"),
            )
        })
        .collect();
    assert_eq!(per_day.len(), 3);
    let mut totals = csv::Reader::from_path(out.join("compare.csv")).expect("compare");
    let header = totals.headers().expect("header").clone();
    let tcol = |name: &str| header.iter().position(|h| h == name).expect(name);
    let report = std::fs::read_to_string(out.join("report.md")).expect("report");
    for row in totals.records().map(|r| r.expect("row")) {
        if &row[tcol("flow")] != "all" {
            continue;
        }
        let design = &row[tcol("design")];
        let total: f64 = row[tcol("unsettled_value_fen")].parse().expect("total");
        let (_, mean) = per_day.iter().find(|(d, _)| d == design).expect(design);
        // 3 replications × 2 days.
        assert!(
            (mean * 6.0 - total).abs() <= 1e-6 * total.max(1.0),
            "{design}: {mean} × 6 ≠ {total}"
        );
        // The same text in the designs' detail table and the figures table.
        let shown = clearsim_report::show_value("unsettled_value_fen", *mean);
        let in_designs_table = report.lines().any(|l| {
            l.starts_with(&format!("| {design} |"))
                && !l.starts_with(&format!("| {design} | all |"))
                && l.contains(&format!("| {shown} |"))
        });
        assert!(in_designs_table, "{design}: no designs row shows {shown}");
        let figure = format!("| {design} | all | unsettled value | mean day | {shown} |");
        assert!(report.contains(&figure), "no {figure}");
    }
}
