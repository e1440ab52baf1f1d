//! `replay` of a file of several business days (a `date` column): each
//! day replays as a file of that day alone; `--carry-balances` and
//! `--openings` set the openings; the outputs carry the date.

// A test reads as one story, setup to assertions: the 70-line limit is
// for the product's code.
#![allow(clippy::too_many_lines)]

use std::path::Path;
use std::process::{Command, Output};

const PARTICIPANTS: &str =
    "id,name,category,opening_balance,credit_limit\nA,Bank A,state,100,0\nB,Bank B,city,0,0\n";

fn replay(dir: &Path, payments: &str, extra: &[&str]) -> Output {
    std::fs::write(dir.join("p.csv"), PARTICIPANTS).expect("write");
    std::fs::write(
        dir.join(payments),
        std::fs::read(dir.join(payments)).expect("read"),
    )
    .expect("write");
    Command::new(env!("CARGO_BIN_EXE_clearsim"))
        .current_dir(dir)
        .args(["replay", "--participants", "p.csv", "--payments", payments])
        .args(extra)
        .args(["-q"])
        .output()
        .expect("runs")
}

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path).expect("read")
}

/// Two days, hand-computed. Day 1 (2026-01-05): A pays B 70, then 40
/// (queued: A has 30). Day 2 (2026-01-06): B pays A 50, A pays B 100.
/// - Each day from the participants file (A 100, B 0): day 1 settles p1,
///   p2 waits and is unsettled; day 2: p3 waits (B has 0) until p4 (A
///   has 100) pays B at 10:00, which releases it in the same instant.
/// - With --carry-balances, day 2 opens A 30, B 70: p3 settles (B 70 →
///   20, A 80), p4 (100) waits: A has 80, unsettled.
#[test]
fn days_replay_by_hand_with_and_without_carried_balances() {
    let dir = tempfile::tempdir().expect("tempdir");
    let payments = "date,id,submit,sender,receiver,amount\n\
                    2026-01-06,p3,09:00:00,B,A,50\n\
                    2026-01-05,p1,09:00:00,A,B,70\n\
                    2026-01-05,p2,09:30:00,A,B,40\n\
                    2026-01-06,p4,10:00:00,A,B,100\n";
    std::fs::write(dir.path().join("x.csv"), payments).expect("write");
    let output = replay(dir.path(), "x.csv", &["--out", "each"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        read(dir.path().join("each/settlements.csv")),
        "date,id,status,settle,delay_ms\n\
         2026-01-06,p3,settled,10:00:00.000,3600000\n\
         2026-01-05,p1,settled,09:00:00.000,0\n\
         2026-01-05,p2,unsettled,,\n\
         2026-01-06,p4,settled,10:00:00.000,0\n"
    );
    assert_eq!(
        read(dir.path().join("each/balances.csv")),
        "date,id,opening_balance,closing_balance,min_balance\n\
         2026-01-05,A,100,30,30\n2026-01-05,B,0,70,0\n\
         2026-01-06,A,100,50,50\n2026-01-06,B,0,50,0\n"
    );
    let output = replay(
        dir.path(),
        "x.csv",
        &["--carry-balances", "--out", "carried"],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        read(dir.path().join("carried/settlements.csv")),
        "date,id,status,settle,delay_ms\n\
         2026-01-06,p3,settled,09:00:00.000,0\n\
         2026-01-05,p1,settled,09:00:00.000,0\n\
         2026-01-05,p2,unsettled,,\n\
         2026-01-06,p4,unsettled,,\n"
    );
    assert_eq!(
        read(dir.path().join("carried/balances.csv")),
        "date,id,opening_balance,closing_balance,min_balance\n\
         2026-01-05,A,100,30,30\n2026-01-05,B,0,70,0\n\
         2026-01-06,A,30,80,30\n2026-01-06,B,70,20,20\n"
    );
    let days = read(dir.path().join("carried/days.csv"));
    assert!(days.starts_with(
        "date,payments,from_previous_day,into_next_day,value_fen,settled,settled_value_fen,unsettled,unsettled_value_fen,carried"
    ));
    assert!(
        days.contains("\n2026-01-05,2,0,0,110,1,70,1,40,0,0,100,"),
        "{days}"
    );
    assert!(
        days.contains("\n2026-01-06,2,0,0,150,1,50,1,100,0,0,100,"),
        "{days}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&read(dir.path().join("carried/summary.json"))).expect("json");
    assert_eq!(summary["schema"], "clearsim.replay-days.v1");
    assert_eq!(summary["business_days"], 2);
    assert_eq!(summary["total_over_days"]["payments"], 4);
    assert_eq!(summary["total_over_days"]["settled"], 2);
    assert_eq!(summary["total_over_days"]["unsettled_value"], 140);
    assert_eq!(summary["days"][1]["date"], "2026-01-06");
    // openings.csv wins over the carried balance for what it lists.
    std::fs::write(
        dir.path().join("o.csv"),
        "date,id,opening_balance,credit_limit\n2026-01-06,A,200,0\n",
    )
    .expect("write");
    let output = replay(
        dir.path(),
        "x.csv",
        &["--carry-balances", "--openings", "o.csv", "--out", "opened"],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(read(dir.path().join("opened/balances.csv")).contains("2026-01-06,A,200,150,150\n"));
}

/// The same two days with `--carry-queue`, by hand. Day 1 leaves p2 (A →
/// B 40, submitted 09:30) queued; it arrives on day 2 at 00:00 before
/// the day's own payments.
/// - Openings from the participants file (A 100): p2 settles at 00:00 of
///   day 2 (A 60, B 40), 14.5 h after its submission; p3 (B → A 50) and p4
///   (A → B 100) then wait to the end: unsettled, as the last day ends.
/// - With --carry-balances too (A 30, B 70): p2 waits at 00:00; p3 settles
///   at 09:00 (A 80) and releases p2 in the same instant (23.5 h).
#[test]
fn carried_queues_settle_the_next_day_with_the_night_in_their_delay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let payments = "date,id,submit,sender,receiver,amount\n\
                    2026-01-06,p3,09:00:00,B,A,50\n\
                    2026-01-05,p1,09:00:00,A,B,70\n\
                    2026-01-05,p2,09:30:00,A,B,40\n\
                    2026-01-06,p4,10:00:00,A,B,100\n";
    std::fs::write(dir.path().join("x.csv"), payments).expect("write");
    let output = replay(dir.path(), "x.csv", &["--carry-queue", "--out", "queued"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        read(dir.path().join("queued/settlements.csv")),
        "date,id,status,settle_date,settle,delay_ms\n\
         2026-01-06,p3,unsettled,,,\n\
         2026-01-05,p1,settled,2026-01-05,09:00:00.000,0\n\
         2026-01-05,p2,settled,2026-01-06,00:00:00.000,52200000\n\
         2026-01-06,p4,unsettled,,,\n"
    );
    let days = read(dir.path().join("queued/days.csv"));
    assert!(days.contains("\n2026-01-05,2,0,1,110,"), "{days}");
    assert!(days.contains("\n2026-01-06,3,1,0,190,"), "{days}");
    let summary: serde_json::Value =
        serde_json::from_str(&read(dir.path().join("queued/summary.json"))).expect("json");
    let total = &summary["total_over_days"];
    assert_eq!(
        (total["payments"].as_i64(), total["value"].as_i64()),
        (Some(4), Some(260))
    );
    assert_eq!(
        (total["settled"].as_i64(), total["settled_value"].as_i64()),
        (Some(2), Some(110))
    );
    assert_eq!(
        (
            total["unsettled"].as_i64(),
            total["unsettled_value"].as_i64()
        ),
        (Some(2), Some(150))
    );
    let output = replay(
        dir.path(),
        "x.csv",
        &["--carry-queue", "--carry-balances", "--out", "both"],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        read(dir.path().join("both/settlements.csv")),
        "date,id,status,settle_date,settle,delay_ms\n\
         2026-01-06,p3,settled,2026-01-06,09:00:00.000,0\n\
         2026-01-05,p1,settled,2026-01-05,09:00:00.000,0\n\
         2026-01-05,p2,settled,2026-01-06,09:00:00.000,84600000\n\
         2026-01-06,p4,unsettled,,,\n"
    );
}

/// A dated file without carry flags is its days replayed one by one: the
/// bundled day copied to three dates, each compared with the single-day
/// replay of its own file, through three strategies.
#[test]
fn a_dated_file_is_the_concatenation_of_its_days() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/examples/chengdu-day");
    let day = read(root.join("payments.csv"));
    let (header, rows) = day.split_once('\n').expect("a header");
    let dates = ["2026-01-07", "2026-01-05", "2026-01-06"];
    let mut month = format!("date,{header}\n");
    for date in dates {
        let mut single = format!("{header}\n");
        for row in rows.lines().filter(|r| !r.is_empty()) {
            single += &format!("{date}-{row}\n");
            month += &format!("{date},{date}-{row}\n");
        }
        std::fs::write(dir.path().join(format!("{date}.csv")), single).expect("write");
    }
    std::fs::write(dir.path().join("month.csv"), month).expect("write");
    std::fs::copy(root.join("participants.csv"), dir.path().join("p.csv")).expect("copy");
    let run = |payments: &str, out: &str, strategy: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_clearsim"))
            .current_dir(dir.path())
            .args([
                "replay",
                "--participants",
                "p.csv",
                "--payments",
                payments,
                "--out",
                out,
            ])
            .args(strategy)
            .args(["--format", "csv", "-q"])
            .output()
            .expect("runs");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    for strategy in [
        &["--strategy", "rtgs", "--gridlock-every", "5m"][..],
        &["--strategy", "dns", "--cycles", "hourly"],
        &["--strategy", "chips"],
    ] {
        run("month.csv", "month", strategy);
        let month_rows = read(dir.path().join("month/settlements.csv"));
        let month_balances = read(dir.path().join("month/balances.csv"));
        for date in dates {
            run(&format!("{date}.csv"), date, strategy);
            let single = read(dir.path().join(date).join("settlements.csv"));
            let mine: Vec<String> = month_rows
                .lines()
                .filter_map(|l| l.strip_prefix(&format!("{date},")))
                .map(String::from)
                .collect();
            assert_eq!(
                mine,
                single.lines().skip(1).collect::<Vec<_>>(),
                "{date} {strategy:?}"
            );
            let balances = read(dir.path().join(date).join("balances.csv"));
            let mine: Vec<&str> = month_balances
                .lines()
                .filter_map(|l| l.strip_prefix(&format!("{date},")))
                .collect();
            assert_eq!(
                mine,
                balances.lines().skip(1).collect::<Vec<_>>(),
                "{date} {strategy:?}"
            );
        }
    }
}

#[test]
fn bad_dates_and_flags_are_refused_with_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: [(&str, &[&str], &str); 4] = [
        (
            "date,id,submit,sender,receiver,amount\n2026-02-30,p1,09:00:00,A,B,1\n",
            &[],
            "x.csv: row 1 (line 2), field `date`: must be a date YYYY-MM-DD, got \"2026-02-30\"",
        ),
        (
            "id,submit,sender,receiver,amount\np1,09:00:00,A,B,1\n",
            &["--carry-balances"],
            "--openings, --carry-balances and --carry-queue are for a file of several business days",
        ),
        (
            "date,id,submit,sender,receiver,amount\n2026-01-05,p1,09:00:00,A,B,1\n",
            &["--openings", "o.csv"],
            "o.csv: row 1 (line 2), field `id`: unknown participant \"Z\"",
        ),
        (
            "date,id,submit,sender,receiver,amount\n2026-01-05,p1,09:00:00,A,B,1\n",
            &["--format", "parquet"],
            "a replay of several business days writes CSV",
        ),
    ];
    std::fs::write(
        dir.path().join("o.csv"),
        "date,id,opening_balance,credit_limit\n2026-01-05,Z,1,0\n",
    )
    .expect("write");
    for (payments, extra, message) in cases {
        std::fs::write(dir.path().join("x.csv"), payments).expect("write");
        let mut args = vec!["--out", "out"];
        args.extend_from_slice(extra);
        let output = replay(dir.path(), "x.csv", &args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(message), "{message:?} not in {stderr:?}");
        assert!(!dir.path().join("out").exists());
    }
}

/// `--network` writes the day's network beside the replay: the flows add
/// up to the day's payments, and a bank's strengths to its flows.
#[test]
fn the_network_of_a_day_adds_up_to_its_payments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/examples/chengdu-day");
    let output = Command::new(env!("CARGO_BIN_EXE_clearsim"))
        .args(["replay", "--participants"])
        .arg(root.join("participants.csv"))
        .arg("--payments")
        .arg(root.join("payments.csv"))
        .args(["--network", "-q", "--out"])
        .arg(dir.path().join("out"))
        .output()
        .expect("runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out = dir.path().join("out");
    let payments = read(root.join("payments.csv"));
    let header: Vec<&str> = payments
        .lines()
        .next()
        .expect("header")
        .split(',')
        .collect();
    let at = |name: &str| header.iter().position(|h| *h == name).expect("column");
    let (sender, amount) = (at("sender"), at("amount"));
    let mut paid: std::collections::BTreeMap<String, i64> = Default::default();
    let mut total = 0i64;
    for row in payments.lines().skip(1).filter(|l| !l.is_empty()) {
        let fields: Vec<&str> = row.split(',').collect();
        let value: i64 = fields[amount].parse().expect("amount");
        *paid.entry(fields[sender].to_string()).or_default() += value;
        total += value;
    }
    let flows = read(out.join("flows.csv"));
    let flowed: i64 = flows
        .lines()
        .skip(1)
        .map(|l| {
            l.rsplit(',')
                .next()
                .expect("value")
                .parse::<i64>()
                .expect("fen")
        })
        .sum();
    assert_eq!(flowed, total);
    let network = read(out.join("network.csv"));
    assert!(network.starts_with("id,name,out_degree,in_degree,out_strength_fen,in_strength_fen,eigenvector_centrality,core_number,core\n"));
    for row in network.lines().skip(1) {
        let fields: Vec<&str> = row.split(',').collect();
        let strength: i64 = fields[4].parse().expect("fen");
        assert_eq!(strength, paid.get(fields[0]).copied().unwrap_or(0), "{row}");
        assert!(fields[8] == "core" || fields[8] == "periphery");
    }
    let page = read(out.join("network.html"));
    assert!(page.contains("Bilateral flows of the day") && page.contains("<svg"));
}

/// `--network` on a dated file: the network of all its days together,
/// named as such. By hand: A pays B 70 and 40 on the 5th and 100 on the
/// 6th, B pays A 50 on the 6th: flows A→B 3 payments, 210; B→A 1, 50.
#[test]
fn the_network_of_a_dated_file_spans_its_days() {
    let dir = tempfile::tempdir().expect("tempdir");
    let payments = "date,id,submit,sender,receiver,amount\n\
                    2026-01-06,p3,09:00:00,B,A,50\n\
                    2026-01-05,p1,09:00:00,A,B,70\n\
                    2026-01-05,p2,09:30:00,A,B,40\n\
                    2026-01-06,p4,10:00:00,A,B,100\n";
    std::fs::write(dir.path().join("x.csv"), payments).expect("write");
    let output = replay(dir.path(), "x.csv", &["--network", "--out", "net"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let flows = read(dir.path().join("net/flows.csv"));
    assert!(flows.contains("A,B,3,210"), "{flows}");
    assert!(flows.contains("B,A,1,50"), "{flows}");
    let page = read(dir.path().join("net/network.md"));
    assert!(
        page.contains("the payment network of the 2 business days"),
        "{page}"
    );
    assert!(
        page.contains("the flows of its 2 business days together"),
        "{page}"
    );
    assert!(dir.path().join("net/days.csv").exists());
}

/// A file in date order is settled day by day while it is read (each
/// day's settlements written as soon as it is replayed); the outputs are
/// those of the same file replayed whole (here: with an openings.csv that
/// lists nothing, which needs the whole file first), byte for byte but
/// the openings file's name, with or without carried balances. A bad row
/// or a duplicate id after days already settled still refuses the file.
#[test]
fn a_file_in_date_order_streams_to_the_same_outputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut month = String::from("date,id,submit,sender,receiver,amount,instrument\n");
    for (d, date) in ["2026-02-02", "2026-02-03", "2026-02-04"]
        .iter()
        .enumerate()
    {
        for i in 0..40 {
            let (from, to) = if i % 3 == 0 { ("B", "A") } else { ("A", "B") };
            // The third day brings an instrument the first two lack.
            let instrument = if d == 2 && i % 2 == 0 {
                "card"
            } else {
                "cheque"
            };
            month += &format!(
                "{date},{date}-{i},{:02}:{:02}:00,{from},{to},{},{instrument}\n",
                9 + i / 10,
                i % 60,
                7 + 3 * i + 11 * d
            );
        }
    }
    std::fs::write(dir.path().join("month.csv"), &month).expect("write");
    // The same without the instrument column: one unnamed instrument.
    let plain: String = month
        .lines()
        .map(|l| format!("{}\n", l.rsplit_once(',').expect("a field").0))
        .collect();
    std::fs::write(dir.path().join("plain.csv"), &plain).expect("write");
    std::fs::write(
        dir.path().join("none.csv"),
        "date,id,opening_balance,credit_limit\n",
    )
    .expect("write");
    for (file, carry) in [
        ("month.csv", &[][..]),
        ("month.csv", &["--carry-balances"][..]),
        ("plain.csv", &[][..]),
    ] {
        let mut streamed = vec!["--out", "streamed"];
        streamed.extend(carry);
        let output = replay(dir.path(), file, &streamed);
        assert!(output.status.success(), "{output:?}");
        let mut whole = vec!["--out", "whole", "--openings", "none.csv"];
        whole.extend(carry);
        let output = replay(dir.path(), file, &whole);
        assert!(output.status.success(), "{output:?}");
        for file in ["settlements.csv", "balances.csv", "days.csv", "report.md"] {
            assert_eq!(
                read(dir.path().join("streamed").join(file)),
                read(dir.path().join("whole").join(file)).replace(" (openings from none.csv)", ""),
                "{file} {carry:?}"
            );
        }
        let json = |out: &str| -> serde_json::Value {
            let mut v: serde_json::Value =
                serde_json::from_str(&read(dir.path().join(out).join("summary.json")))
                    .expect("json");
            v["openings_file"] = serde_json::Value::Null;
            v
        };
        assert_eq!(json("streamed"), json("whole"), "{carry:?}");
        for out in ["streamed", "whole"] {
            std::fs::remove_dir_all(dir.path().join(out)).expect("rm");
        }
    }
    // Refused after two days were settled: exit 2, nothing published.
    let late_bad_amount = format!("{month}2026-02-04,late,10:00:00,A,B,-5,cheque\n");
    std::fs::write(dir.path().join("bad.csv"), late_bad_amount).expect("write");
    let output = replay(dir.path(), "bad.csv", &["--out", "bad"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("amount"));
    let duplicate = format!("{month}2026-02-04,2026-02-02-1,16:00:00,A,B,5,cheque\n");
    std::fs::write(dir.path().join("dup.csv"), duplicate).expect("write");
    let output = replay(dir.path(), "dup.csv", &["--out", "bad"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("2026-02-02-1"));
    assert!(!dir.path().join("bad").exists());
}
