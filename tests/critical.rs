//! `clearsim critical`: each participant defaulting in turn, ranked by the
//! knock-on, each figure the one `compare --default` gives for that bank
//! on the same seeds; `replay --critical` by hand.

// A test reads as one story, setup to assertions: the 70-line limit is
// for the product's code.
#![allow(clippy::too_many_lines)]

mod common;

use common::cli::{ok, refused};

/// Runs clearsim and asserts it succeeded.
fn clearsim(args: &[&str]) -> std::process::Output {
    let output = common::cli::clearsim(args);
    ok(&output);
    output
}

fn knock_on(summary: &serde_json::Value, design: &str) -> f64 {
    summary["headline"]
        .as_array()
        .expect("headline")
        .iter()
        .find(|f| {
            f["design"] == design
                && f["flow"] == "all"
                && f["metric"] == "knock_on_unsettled_value_fen"
        })
        .and_then(|f| f["mean"].as_f64())
        .expect("a knock-on figure")
}

#[test]
fn critical_ranks_each_default_as_compare_measures_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("critical");
    let common = [
        "configs/netting-compare.toml",
        "--volume",
        "0.05",
        "--replications",
        "2",
        "-q",
    ];
    let mut args = vec!["critical"];
    args.extend(common);
    args.extend(["--at", "10:00", "--out", out.to_str().expect("utf-8")]);
    clearsim(&args);
    let ranking = std::fs::read_to_string(out.join("critical.csv")).expect("critical.csv");
    let rows: Vec<Vec<&str>> = ranking
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 50, "every bank of the city, ranked");
    let means: Vec<f64> = rows.iter().map(|r| r[2].parse().expect("mean")).collect();
    assert!(means.windows(2).all(|w| w[0] >= w[1]), "most harmful first");
    assert!(means[0] > 0.0, "some default reaches the others");
    // The top bank's figure is compare --default's for it, same seeds.
    let top = rows[0][1];
    let single = dir.path().join("single");
    let at = format!("{top}@10:00");
    let mut args = vec!["compare"];
    args.extend(common);
    args.extend([
        "--strategies",
        "design",
        "--default",
        &at,
        "--out",
        single.to_str().expect("utf-8"),
    ]);
    clearsim(&args);
    let read = |path: std::path::PathBuf| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json")
    };
    let alone = knock_on(&read(single.join("summary.json")), "design");
    let ranked = knock_on(
        &read(out.join("summary.json")),
        &format!("default:{top}@10:00:00.000"),
    );
    assert_eq!(alone, ranked);
    assert_eq!(means[0], ranked);
    // Participants touched: a count of the other 49, never negative.
    for row in &rows {
        let touched: f64 = row[8].parse().expect("touched");
        assert!((0.0..=49.0).contains(&touched), "{row:?}");
    }
    let top_touched: f64 = rows[0][8].parse().expect("touched");
    assert!(
        top_touched > 0.0,
        "the most harmful default touches someone"
    );
    let page = std::fs::read_to_string(out.join("critical.html")).expect("page");
    assert!(page.contains("whose default hurts the others most") && page.contains("<svg"));
    assert!(page.contains("participants touched"));
}

/// Participants touched, recomputed naively from the files: the day as
/// `generate` writes it, and each payment's outcome with and without the
/// default (`run --settlements`); a participant is touched when the value
/// it was to pay or be paid, among payments not involving the defaulter,
/// left unsettled is larger with the default. It must equal the paired
/// record of `compare --default`, same seed.
#[test]
fn participants_touched_is_what_the_settlements_show() {
    let dir = tempfile::tempdir().expect("tempdir");
    let at = |name: &str| dir.path().join(name).display().to_string();
    let config = "configs/netting-compare.toml";
    let (defaulter, when) = ("B29", "B29@10:00");
    let common = [config, "--volume", "0.05", "-q"];
    let day = at("day");
    clearsim(&[&["generate"], &common[..], &["--out", &day]].concat());
    let baseline = at("baseline");
    clearsim(
        &[
            &["run"],
            &common[..],
            &["--settlements", "--out", &baseline],
        ]
        .concat(),
    );
    let shocked = at("shocked");
    let with_default = ["--settlements", "--default", when, "--out", &shocked];
    clearsim(&[&["run"], &common[..], &with_default[..]].concat());
    let compared = at("compared");
    let compare = [
        "--strategies",
        "design",
        "--default",
        when,
        "--out",
        &compared,
    ];
    clearsim(&[&["compare"], &common[..], &compare[..]].concat());
    let lines = |path: String| -> Vec<Vec<String>> {
        std::fs::read_to_string(path)
            .expect("read")
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect()
    };
    // id,submit,sender,receiver,amount,…
    let payments = lines(format!("{day}/payments.csv"));
    // day,id,status,…: one day, in the same order.
    let unsettled_by_party = |settlements: &str| {
        let outcomes = lines(format!("{settlements}/settlements.csv"));
        assert_eq!(outcomes.len(), payments.len());
        let mut by_party = std::collections::BTreeMap::<String, i64>::new();
        for (payment, outcome) in payments.iter().zip(&outcomes) {
            assert_eq!(payment[0], outcome[1], "the same payment");
            let (sender, receiver) = (&payment[2], &payment[3]);
            if outcome[2] != "unsettled" || sender == defaulter || receiver == defaulter {
                continue;
            }
            let amount: i64 = payment[4].parse().expect("amount");
            for party in [sender, receiver] {
                *by_party.entry(party.clone()).or_default() += amount;
            }
        }
        by_party
    };
    let (with, without) = (unsettled_by_party(&shocked), unsettled_by_party(&baseline));
    let touched = with
        .iter()
        .filter(|(id, value)| **value > without.get(*id).copied().unwrap_or(0))
        .count();
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{compared}/summary.json")).expect("summary"),
    )
    .expect("json");
    let recorded = &summary["replications"][0]["designs"][0]["shock"]["participants_touched"];
    assert_eq!(recorded.as_u64(), Some(touched as u64));
    assert!(touched > 0, "this default touches someone");
}

/// `--liquidity PCT`: each participant loses PCT % of its opening balance
/// (rounded down to the fen) at `--at` instead of defaulting; the same
/// ranking and report, named for the shock. A share outside (0, 100] is
/// refused with exit 2.
#[test]
fn a_liquidity_shock_in_turn_ranks_the_banks_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("liquidity");
    let config = "configs/netting-compare.toml";
    let common = [config, "--volume", "0.05", "-q"];
    let out_text = out.to_str().expect("utf-8");
    let args = [
        &["critical"],
        &common[..],
        &["--at", "10:00", "--liquidity", "50"],
    ]
    .concat();
    clearsim(&[&args[..], &["--out", out_text]].concat());
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("read"))
            .expect("json");
    let designs = summary["designs"].as_array().expect("designs");
    assert_eq!(designs.len(), 50);
    // The amounts are half of each opening balance, as generate writes it.
    let day = dir.path().join("day");
    clearsim(
        &[
            &["generate"],
            &common[..],
            &["--out", day.to_str().expect("utf-8")],
        ]
        .concat(),
    );
    let participants = std::fs::read_to_string(day.join("participants.csv")).expect("read");
    for line in participants.lines().skip(1).take(5) {
        let fields: Vec<&str> = line.split(',').collect();
        let opening: i64 = fields[3].parse().expect("opening");
        let label = format!("liquidity:{}@10:00:00.000={}fen", fields[0], opening / 2);
        assert!(
            designs.iter().any(|d| d == label.as_str()),
            "{label} in {designs:?}"
        );
    }
    let page = std::fs::read_to_string(out.join("critical.html")).expect("page");
    assert!(page.contains("whose liquidity shock hurts the others most"));
    assert!(page.contains("losing 50 % of its opening balance at 10:00:00.000"));
    for bad in ["0", "150", "-5"] {
        let out = dir.path().join(format!("bad{bad}"));
        let liquidity = format!("--liquidity={bad}");
        let args = [
            "critical",
            config,
            &liquidity,
            "--out",
            out.to_str().unwrap(),
        ];
        refused(&common::cli::clearsim(&args), &["--liquidity"]);
    }
}

/// `replay --critical` by hand. A opens with 100, B and C with 0; A pays
/// B 100 at 09:00, B pays C 100 at 09:30, C pays A 50 at 10:30.
/// - A defaulting: B never receives, so B → C (100, between others) stays
///   unsettled: knock-on 100 fen, 1 payment, B and C touched.
/// - B defaulting: C never receives, so C → A (50) stays unsettled:
///   knock-on 50, 1 payment, A and C touched.
/// - C defaulting: A → B still settles: no knock-on.
///
/// Two dated days, the second without C → A: A's knock-on is 100 both
/// days, B's 50 then 0 (mean 25, an interval over the two days).
#[test]
fn replay_critical_ranks_each_default_against_the_day_by_hand() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = |name: &str| dir.path().join(name).display().to_string();
    std::fs::write(
        dir.path().join("p.csv"),
        "id,name,category,opening_balance,credit_limit\nA,A,bank,100,0\nB,B,bank,0,0\nC,C,bank,0,0\n",
    )
    .expect("write");
    let day = "p1,09:00:00,A,B,100\np2,09:30:00,B,C,100\np3,10:30:00,C,A,50\n";
    std::fs::write(
        dir.path().join("x.csv"),
        format!("id,submit,sender,receiver,amount\n{day}"),
    )
    .expect("write");
    let rows = |out: &str| -> Vec<Vec<String>> {
        std::fs::read_to_string(dir.path().join(out).join("critical.csv"))
            .expect("critical.csv")
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(String::from).collect())
            .collect()
    };
    // `replay --critical` of `payments` (a file in dir) into dir/`out`.
    let critical = |payments: &str, out: &str, extra: &[&str]| {
        let (p, x, out) = (d("p.csv"), d(payments), d(out));
        let mut args = vec![
            "replay",
            "--participants",
            &p,
            "--payments",
            &x,
            "--critical",
        ];
        args.extend_from_slice(extra);
        args.extend(["-q", "--out", &out]);
        clearsim(&args);
    };
    critical("x.csv", "one", &[]);
    let ranked = rows("one");
    let shown: Vec<(&str, &str, &str, &str)> = ranked
        .iter()
        .map(|r| (r[1].as_str(), r[2].as_str(), r[5].as_str(), r[8].as_str()))
        .collect();
    assert_eq!(
        shown,
        [
            ("A", "100", "1", "2"),
            ("B", "50", "1", "2"),
            ("C", "0", "0", "0")
        ]
    );
    assert!(
        ranked.iter().all(|r| r[3].is_empty() && r[11] == "1"),
        "one day: no interval"
    );
    // At 10:00 everything A and B owed has settled: no knock-on.
    critical("x.csv", "late", &["--critical-at", "10:00"]);
    assert!(rows("late").iter().all(|r| r[2] == "0"));
    let second = "p4,09:00:00,A,B,100\np5,09:30:00,B,C,100\n";
    let dated: String = day
        .lines()
        .map(|l| format!("2026-01-05,{l}\n"))
        .chain(second.lines().map(|l| format!("2026-01-06,{l}\n")))
        .collect();
    std::fs::write(
        dir.path().join("days.csv"),
        format!("date,id,submit,sender,receiver,amount\n{dated}"),
    )
    .expect("write");
    critical("days.csv", "days", &[]);
    let ranked = rows("days");
    assert_eq!((ranked[0][1].as_str(), ranked[0][2].as_str()), ("A", "100"));
    assert_eq!((ranked[1][1].as_str(), ranked[1][2].as_str()), ("B", "25"));
    let (low, high): (f64, f64) = (ranked[1][3].parse().unwrap(), ranked[1][4].parse().unwrap());
    assert!(
        low < 25.0 && high > 25.0 && ranked[1][11] == "2",
        "{:?}",
        ranked[1]
    );
    let md = std::fs::read_to_string(dir.path().join("days/critical.md")).expect("md");
    assert!(md.contains("per business day") && md.contains("Chart in critical.html"));
}
