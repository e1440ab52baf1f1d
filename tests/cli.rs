//! The `clearsim` binary as a user meets it: outputs on success; on bad
//! input exit code 2, one message naming file, row and field, and no output.

// A test reads as one story, setup to assertions: the 70-line limit is
// for the product's code.
#![allow(clippy::too_many_lines)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PARTICIPANTS: &str = "id,name,category,opening_balance,credit_limit\nA,Bank A,state,100,0\nB,Bank B,city,0,50\nC,,,0,0\n";
const PAYMENTS: &str = "id,submit,sender,receiver,amount,priority\np1,09:00:00,A,B,60,0\np2,09:00:00.500,B,C,100,1\np3,10:00:00,C,A,20,0\n";

struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new(participants: &str, payments: &str) -> Case {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("p.csv"), participants).expect("write");
        std::fs::write(dir.path().join("x.csv"), payments).expect("write");
        Case { dir }
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    fn replay(&self, extra: &[&str]) -> Output {
        let path = |name: &str| self.dir.path().join(name).display().to_string();
        Command::new(env!("CARGO_BIN_EXE_clearsim"))
            .args([
                "replay",
                "--participants",
                &path("p.csv"),
                "--payments",
                &path("x.csv"),
            ])
            .args(["--out", &self.out().display().to_string()])
            .args(extra)
            .output()
            .expect("runs")
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Exit 2, a message with every expected fragment, no output directory.
fn assert_rejected(case: &Case, extra: &[&str], fragments: &[&str]) {
    let output = case.replay(extra);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "stderr: {message}");
    for fragment in fragments {
        assert!(
            message.contains(fragment),
            "{fragment:?} not in {message:?}"
        );
    }
    assert!(!message.contains("panicked"), "{message}");
    assert!(!case.out().exists(), "no output may be written on error");
}

fn bad_payments(payments: &str, fragments: &[&str]) {
    assert_rejected(
        &Case::new(PARTICIPANTS, payments),
        &["--strategy", "rtgs"],
        fragments,
    );
}

fn bad_participants(participants: &str, fragments: &[&str]) {
    assert_rejected(
        &Case::new(participants, PAYMENTS),
        &["--strategy", "rtgs"],
        fragments,
    );
}

const HEADER: &str = "id,submit,sender,receiver,amount\n";

#[test]
fn replay_writes_the_three_files() {
    let case = Case::new(PARTICIPANTS, PAYMENTS);
    let output = case.replay(&["--strategy", "rtgs"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let settlements = std::fs::read_to_string(case.out().join("settlements.csv")).expect("written");
    // p1 settles at once (A has 100); p2 B→C 100 needs 60 + 50 credit: ok.
    assert_eq!(
        settlements,
        "id,status,settle,delay_ms\np1,settled,09:00:00.000,0\np2,settled,09:00:00.500,0\np3,settled,10:00:00.000,0\n"
    );
    let balances = std::fs::read_to_string(case.out().join("balances.csv")).expect("written");
    assert_eq!(
        balances,
        "id,opening_balance,closing_balance,min_balance\nA,100,60,40\nB,0,-40,-40\nC,0,80,0\n"
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(case.out().join("summary.json")).expect("written"))
            .expect("json");
    for key in [
        "payments",
        "value",
        "settled",
        "settled_value",
        "unsettled",
        "unsettled_value",
        "lower_bound",
        "upper_bound",
        "liquidity_used",
        "delay_indicator",
        "delay_ms",
    ] {
        assert!(summary.get(key).is_some(), "summary.json lacks {key}");
    }
    assert_eq!(summary["value"], 180);
    assert_eq!(summary["liquidity_used"], 100);
    assert!(String::from_utf8_lossy(&output.stdout).contains("settled"));
    // The set as a whole, and no temporary files left behind, here or
    // beside the directory.
    let mut names: Vec<String> = std::fs::read_dir(case.out())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".clearsim",
            "balances.csv",
            "balances.parquet",
            "report.html",
            "report.md",
            "settlements.csv",
            "settlements.parquet",
            "summary.json"
        ]
    );
    let beside: Vec<String> = std::fs::read_dir(case.dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");
}

#[test]
fn replay_is_byte_identical_across_runs() {
    let case = Case::new(PARTICIPANTS, PAYMENTS);
    let read_all = |dir: &Path| {
        ["settlements.csv", "balances.csv", "summary.json"]
            .map(|name| std::fs::read(dir.join(name)).expect("written"))
    };
    for strategy in [
        &["--strategy", "dns", "--cycles", "09:30:00,12:00:00"][..],
        &["--strategy", "bilateral"],
    ] {
        assert!(case.replay(strategy).status.success());
        let first = read_all(&case.out());
        assert!(case.replay(strategy).status.success());
        assert_eq!(first, read_all(&case.out()));
    }
}

#[test]
fn unknown_participant() {
    bad_payments(
        &format!("{HEADER}p1,09:00:00,A,Z,5\n"),
        &[
            "x.csv",
            "row 1",
            "line 2",
            "`receiver`",
            "unknown participant \"Z\"",
        ],
    );
}

#[test]
fn sender_equals_receiver() {
    bad_payments(
        &format!("{HEADER}p1,09:00:00,A,B,5\np2,09:00:00,A,A,5\n"),
        &["row 2", "line 3", "`receiver`"],
    );
}

#[test]
fn amount_must_be_a_positive_integer() {
    for amount in ["0", "-5", "1.5", "abc", "", "99999999999999999999"] {
        bad_payments(
            &format!("{HEADER}p1,09:00:00,A,B,{amount}\n"),
            &["row 1", "`amount`"],
        );
    }
}

#[test]
fn the_first_duplicate_in_row_order_is_reported() {
    // Row 3 repeats row 1, row 4 repeats row 2, row 5 is bad too: row 3 wins.
    bad_payments(
        &format!(
            "{HEADER}p1,09:00:00,A,B,5\np2,09:00:00,A,B,5\np1,09:00:00,A,B,5\np2,09:00:00,A,B,5\np5,09:00:00,A,B,0\n"
        ),
        &["row 3 (line 4)", "`id`", "first at row 1"],
    );
    // A bad amount before any duplicate is reported first.
    bad_payments(
        &format!("{HEADER}p1,09:00:00,A,B,5\np2,09:00:00,A,B,-1\np1,09:00:00,A,B,5\n"),
        &["row 2", "`amount`"],
    );
    // Many copies of one id: the second copy is the duplicate.
    let rows: String = (0..50).map(|_| "same,09:00:00,A,B,5\n").collect();
    bad_payments(
        &format!("{HEADER}{rows}"),
        &["row 2 (line 3)", "first at row 1"],
    );
}

#[test]
fn duplicate_ids() {
    bad_payments(
        &format!("{HEADER}p1,09:00:00,A,B,5\np1,09:00:00,B,A,5\n"),
        &["row 2", "`id`", "duplicate"],
    );
    bad_participants(
        "id,name,category,opening_balance,credit_limit\nA,,,0,0\nB,,,0,0\nA,,,0,0\n",
        &["p.csv", "row 3", "`id`", "duplicate"],
    );
}

#[test]
fn malformed_times() {
    for submit in ["9:00:00", "09:00", "24:00:00", "09:00:00.5", "noon", ""] {
        bad_payments(
            &format!("{HEADER}p1,{submit},A,B,5\n"),
            &["row 1", "`submit`"],
        );
    }
}

#[test]
fn submit_after_day_end() {
    bad_payments(
        &format!("{HEADER}p1,17:00:00.001,A,B,5\n"),
        &["row 1", "`submit`", "after the day end"],
    );
    // Exactly at day end is allowed.
    let case = Case::new(PARTICIPANTS, &format!("{HEADER}p1,17:00:00,A,B,5\n"));
    assert!(case.replay(&["--strategy", "rtgs"]).status.success());
}

#[test]
fn sums_overflowing_i64() {
    let big = i64::MAX / 2 + 1;
    bad_payments(
        &format!("{HEADER}p1,09:00:00,A,B,{big}\np2,09:00:00,B,A,{big}\n"),
        &["row 2", "`amount`", "overflows"],
    );
    bad_participants(
        &format!("id,name,category,opening_balance,credit_limit\nA,,,{big},0\nB,,,{big},0\n"),
        &["row 2", "`opening_balance`", "overflows"],
    );
}

#[test]
fn missing_columns() {
    bad_payments(
        "id,submit,sender,amount\np1,09:00:00,A,5\n",
        &["x.csv", "line 1", "`receiver`", "missing column"],
    );
    bad_participants(
        "id,name,opening_balance,credit_limit\nA,,0,0\n",
        &["p.csv", "`category`", "missing column"],
    );
}

#[test]
fn malformed_csv() {
    bad_payments(
        &format!("{HEADER}p1,09:00:00,A,B\n"),
        &["x.csv", "row 1", "line 2", "malformed CSV"],
    );
    bad_payments(
        &format!("{HEADER}p1,09:00:00,A,B,5,extra\n"),
        &["row 1", "malformed CSV"],
    );
}

#[test]
fn empty_and_header_only_files() {
    bad_payments("", &["x.csv", "empty"]);
    bad_payments(HEADER, &["x.csv", "only a header"]);
    bad_participants("", &["p.csv", "empty"]);
    bad_participants(
        "id,name,category,opening_balance,credit_limit\n",
        &["p.csv", "only a header"],
    );
}

#[test]
fn bad_participant_fields() {
    let header = "id,name,category,opening_balance,credit_limit\n";
    bad_participants(
        &format!("{header}A,,,-1,0\n"),
        &["row 1", "`opening_balance`"],
    );
    bad_participants(&format!("{header}A,,,0,x\n"), &["row 1", "`credit_limit`"]);
    bad_participants(&format!("{header}A B,,,0,0\n"), &["row 1", "`id`"]);
    bad_participants(
        &format!("{header}{},,,0,0\n", "a".repeat(65)),
        &["row 1", "`id`"],
    );
}

#[test]
fn bad_priority() {
    bad_payments(
        "id,submit,sender,receiver,amount,priority\np1,09:00:00,A,B,5,256\n",
        &["row 1", "`priority`"],
    );
}

#[test]
fn bad_flags() {
    let case = Case::new(PARTICIPANTS, PAYMENTS);
    assert_rejected(
        &case,
        &["--strategy", "dns", "--cycles", "12:00:00,10:00:00"],
        &["--cycles", "unsorted"],
    );
    assert_rejected(
        &case,
        &["--strategy", "dns", "--cycles", "10:00:00,10:00:00"],
        &["--cycles", "duplicate"],
    );
    assert_rejected(
        &case,
        &["--strategy", "bilateral", "--cycles", "18:00:00"],
        &["after the day end"],
    );
    assert_rejected(&case, &["--strategy", "dns", "--cycles", "10am"], &["10am"]);
    assert_rejected(
        &case,
        &["--strategy", "rtgs", "--gridlock-every", "0s"],
        &["0s"],
    );
    assert_rejected(
        &case,
        &["--strategy", "rtgs", "--gridlock-every", "5 parsecs"],
        &["gridlock-every"],
    );
    assert_rejected(
        &case,
        &["--strategy", "rtgs", "--cycles", "10:00:00"],
        &["--cycles"],
    );
    assert_rejected(
        &case,
        &["--strategy", "bilateral", "--unwind", "latest"],
        &["--unwind"],
    );
    assert_rejected(
        &case,
        &["--strategy", "dns", "--unwind", "everyone"],
        &["everyone"],
    );
    assert_rejected(&case, &["--strategy", "gross"], &["gross"]);
    assert_rejected(
        &case,
        &["--strategy", "rtgs", "--guarantee-fund", "100fen"],
        &["--guarantee-fund"],
    );
    assert_rejected(
        &case,
        &["--strategy", "dns", "--guarantee-fund", "100"],
        &["100", "needs a unit"],
    );
    assert_rejected(&case, &["--strategy", "rtgs-bypass"], &["rtgs+bypass"]);
    assert_rejected(&case, &["--strategy", "rtgs+limits"], &["--limits"]);
    assert_rejected(
        &case,
        &["--strategy", "dns", "--guarantee-fund=-5yuan"],
        &["-5yuan"],
    );
    assert_rejected(
        &case,
        &["--strategy", "rtgs", "--max-position-pct", "300"],
        &["--max-position-pct"],
    );
    assert_rejected(
        &case,
        &["--strategy", "chips", "--max-position-pct", "50"],
        &["--max-position-pct", "50"],
    );
    assert_rejected(
        &case,
        &["--strategy", "chips", "--cycles", "10:00:00"],
        &["--cycles"],
    );
    assert_rejected(
        &case,
        &["--strategy", "rtgs", "--day-end", "25:00:00"],
        &["25:00:00"],
    );
    // The default day end is 17:00:00: a payment at 16:00 is before it, but
    // not before a day end of 09:30.
    assert_rejected(
        &case,
        &["--strategy", "rtgs", "--day-end", "09:30:00"],
        &["row 3", "`submit`"],
    );
}

#[test]
fn missing_file() {
    let case = Case::new(PARTICIPANTS, PAYMENTS);
    std::fs::remove_file(case.dir.path().join("x.csv")).expect("remove");
    assert_rejected(&case, &["--strategy", "rtgs"], &["x.csv", "cannot read"]);
}

/// A payments file that cannot be mapped (a pipe) is read whole and gives
/// the same settlements as the file, which is mapped.
#[cfg(unix)]
#[test]
fn payments_through_a_pipe_replay_as_the_file() {
    let case = Case::new(PARTICIPANTS, PAYMENTS);
    let output = case.replay(&["--strategy", "rtgs"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let from_file = std::fs::read(case.out().join("settlements.csv")).expect("read");
    let fifo = case.dir.path().join("pipe.csv");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, PAYMENTS).expect("write the pipe"))
    };
    let path = |name: &str| case.dir.path().join(name).display().to_string();
    let out = case.dir.path().join("out-pipe");
    let output = Command::new(env!("CARGO_BIN_EXE_clearsim"))
        .args(["replay", "--participants", &path("p.csv")])
        .args(["--payments", &fifo.display().to_string()])
        .args(["--out", &out.display().to_string(), "--strategy", "rtgs"])
        .output()
        .expect("runs");
    writer.join().expect("writer");
    assert!(output.status.success(), "{}", stderr(&output));
    let from_pipe = std::fs::read(out.join("settlements.csv")).expect("read");
    assert_eq!(from_pipe, from_file);
    assert!(from_file.starts_with(b"id,status,settle,delay_ms\np1,settled,09:00:00.000,0\n"));
}

#[test]
fn replay_runs_the_strategies_beyond_the_contract() {
    let case = Case::new(PARTICIPANTS, PAYMENTS);
    for extra in [
        &[
            "--strategy",
            "chips",
            "--gridlock-every",
            "1m",
            "--max-position-pct",
            "300",
        ][..],
        &[
            "--strategy",
            "dns",
            "--guarantee-fund",
            "1000fen",
            "--unwind",
            "latest",
        ][..],
    ] {
        let output = case.replay(extra);
        assert!(output.status.success(), "{extra:?}: {}", stderr(&output));
        assert!(case.out().join("settlements.csv").exists());
        std::fs::remove_dir_all(case.out()).expect("clean");
    }
}

#[test]
fn a_copied_config_names_the_roster_path_it_tried_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("mine.toml");
    std::fs::copy("configs/chengdu-2005.toml", &copy).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_clearsim"))
        .args(["run", copy.to_str().unwrap(), "--quiet"])
        .output()
        .expect("runs");
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    let tried = dir.path().join("../seeds/chengdu-2005.toml");
    for fragment in [
        "participants.roster: cannot read",
        tried.display().to_string().as_str(),
        "relative to the config file's directory",
    ] {
        assert!(text.contains(fragment), "{fragment:?} not in {text:?}");
    }
}
