//! Every documented limit, and each input that once panicked, hung or ran
//! without bound, as a regression test that finishes in seconds: refused
//! up front with exit code 2 and a message naming the file and the field.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::cli::{clearsim, clearsim_within, ok, path, refused};

const HANG: Duration = Duration::from_secs(60);

/// A one-instrument scenario; `top`, `participants` and `instrument` are
/// spliced into their sections.
fn scenario(dir: &Path, name: &str, top: &str, participants: &str, instrument: &str) -> PathBuf {
    let text = format!(
        r#"name = "t"
seed = 1
{top}
[participants]
{participants}
[[instrument]]
name = "payment"
amount = {{ median_yuan = 100, sigma = 1.0 }}
{instrument}
[[channel]]
name = "g"
strategy = "rtgs"
instruments = ["payment"]
"#
    );
    let file = dir.join(name);
    std::fs::write(&file, text).expect("config");
    file
}

fn run_refused(config: &Path, extra: &[&str], fragments: &[&str]) {
    let out = tempfile::tempdir().expect("tmp");
    let config = config.display().to_string();
    let out_dir = path(out.path(), "o");
    let mut args = vec!["run", &config, "--out", &out_dir, "-q"];
    args.extend_from_slice(extra);
    refused(&clearsim_within(HANG, &args), fragments);
}

#[test]
fn profile_weights_are_bounded() {
    let dir = tempfile::tempdir().expect("tmp");
    // Once a panic ("weights must have a positive finite sum") or a hang.
    let config = scenario(
        dir.path(),
        "w.toml",
        "",
        "n = 10",
        r#"daily_count = 1000
profile = [ { from = "10:00:00", to = "10:00:00.001", weight = 1e308 },
            { from = "11:00:00", to = "12:00:00", weight = 1e308 } ]"#,
    );
    run_refused(&config, &[], &["w.toml", "profile", "weight from 0 to 1e9"]);
}

#[test]
fn volumes_are_bounded_before_and_after_growth_and_overrides() {
    let dir = tempfile::tempdir().expect("tmp");
    let count = scenario(dir.path(), "c.toml", "", "n = 10", "daily_count = 1e12");
    run_refused(&count, &[], &["c.toml", "daily_count", "1e9"]);
    // Once 2.8 GB of payments at one instant of day 2.
    let growth = scenario(
        dir.path(),
        "g.toml",
        "growth_per_year = 1e300\ndays = 2",
        "n = 10",
        "daily_count = 1000",
    );
    run_refused(&growth, &[], &["g.toml", "growth_per_year"]);
    // The derived total: legal growth over many days, or --volume.
    let grown = scenario(
        dir.path(),
        "d.toml",
        "growth_per_year = 10.0\ndays = 3650",
        "n = 10",
        "daily_count = 1000",
    );
    run_refused(&grown, &[], &["d.toml", "day 3650", "at most 1e9 a day"]);
    let big = scenario(dir.path(), "v.toml", "", "n = 10", "daily_count = 5e8");
    run_refused(
        &big,
        &["--volume", "3"],
        &["v.toml", "day 1", "at most 1e9 a day"],
    );
}

#[test]
fn instruments_are_bounded() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut extra = String::new();
    for k in 0..1025 {
        extra += &format!(
            "[[instrument]]\nname = \"i{k}\"\ndaily_count = 1\namount = {{ median_yuan = 1, sigma = 0.5 }}\n"
        );
    }
    let config = dir.path().join("many.toml");
    std::fs::write(
        &config,
        format!(
            "name = \"t\"\nseed = 1\n[participants]\nn = 3\n{extra}\
             [[channel]]\nname = \"g\"\nstrategy = \"rtgs\"\ninstruments = [\"i0\"]\n"
        ),
    )
    .expect("config");
    run_refused(
        &config,
        &[],
        &["many.toml", "1025 instruments, at most 1024"],
    );
}

fn roster(dir: &Path, categories: &str) -> PathBuf {
    std::fs::write(dir.join("roster.toml"), categories).expect("roster");
    scenario(
        dir,
        "r.toml",
        "",
        "roster = \"roster.toml\"",
        "daily_count = 100",
    )
}

#[test]
fn rosters_are_bounded_and_their_ids_are_replayable() {
    let dir = tempfile::tempdir().expect("tmp");
    // Once a u32 overflow (panic) in the sum of counts.
    let two = "[[category]]\nid = \"a\"\nname = \"A\"\ncount = 3000000000\ndeposit_share = 0.5\n\
               [[category]]\nid = \"b\"\nname = \"B\"\ncount = 3000000000\ndeposit_share = 0.5\n";
    run_refused(
        &roster(dir.path(), two),
        &[],
        &["roster.toml", "at most 1000000"],
    );
    // Once 8 GB allocated, then an abort.
    let one = "[[category]]\nid = \"a\"\nname = \"A\"\ncount = 1000000000\ndeposit_share = 1\n";
    run_refused(
        &roster(dir.path(), one),
        &[],
        &["roster.toml", "at most 1000000"],
    );
    let comma = "[[category]]\nid = \"a\"\nname = \"A\"\ncount = 2\ndeposit_share = 1\nmembers = [\"X,Y\"]\n";
    run_refused(
        &roster(dir.path(), comma),
        &[],
        &["category[0] (a).members", "`X,Y`"],
    );
    let twice = "[[category]]\nid = \"a\"\nname = \"A\"\ncount = 3\ndeposit_share = 1\nmembers = [\"a-3\"]\n";
    run_refused(&roster(dir.path(), twice), &[], &["`a-3` appears twice"]);
    let over = "[[category]]\nid = \"a\"\nname = \"A\"\ncount = 1\ndeposit_share = 1\nmembers = [\"x\", \"y\"]\n\
                [[category]]\nid = \"b\"\nname = \"B\"\ncount = 1\ndeposit_share = 1\n";
    run_refused(
        &roster(dir.path(), over),
        &[],
        &["2 members for a count of 1"],
    );
}

#[test]
fn generated_files_quote_free_text_and_replay() {
    let dir = tempfile::tempdir().expect("tmp");
    // Names with a comma, a quote and a line break: once written raw.
    let text = "[[category]]\nid = \"a\"\nname = \"Bank, \\\"the\\\"\\nfirst\"\ncount = 3\ndeposit_share = 1\n";
    let config = roster(dir.path(), text).display().to_string();
    let day = path(dir.path(), "day");
    ok(&clearsim(&["generate", &config, "--out", &day, "-q"]));
    let replayed = path(dir.path(), "replayed");
    let participants = path(&dir.path().join("day"), "participants.csv");
    let payments = path(&dir.path().join("day"), "payments.csv");
    ok(&clearsim(&[
        "replay",
        "--participants",
        &participants,
        "--payments",
        &payments,
        "--out",
        &replayed,
        "-q",
    ]));
    let csv = std::fs::read_to_string(&participants).expect("participants");
    assert!(csv.contains("\"Bank, \"\"the\"\"\nfirst a-1\""), "{csv}");
}

#[test]
fn live_refuses_a_stream_without_payments_instead_of_hanging() {
    let dir = tempfile::tempdir().expect("tmp");
    let zero = scenario(dir.path(), "z.toml", "", "n = 10", "daily_count = 0")
        .display()
        .to_string();
    let closed = scenario(
        dir.path(),
        "e.toml",
        "day_end = \"00:00:00\"",
        "n = 10",
        "daily_count = 1000",
    )
    .display()
    .to_string();
    for args in [
        vec!["live", &zero, "--duration", "1s"],
        vec!["live", &zero, "--duration", "1s", "--pregenerated", "1000"],
        vec!["live", &closed, "--duration", "1s", "--rate", "1000"],
    ] {
        refused(
            &clearsim_within(HANG, &args),
            &["live mode needs a stream with payments"],
        );
    }
    // The other commands run such a day and report it empty.
    let out = path(dir.path(), "o");
    ok(&clearsim_within(HANG, &["run", &zero, "--out", &out, "-q"]));
}

#[test]
fn config_errors_name_the_file_and_the_field() {
    let dir = tempfile::tempdir().expect("tmp");
    let default = scenario(
        dir.path(),
        "d.toml",
        "",
        "n = 10",
        "daily_count = 10\n[default]\nparticipant = \"NOPE\"\nat = \"10:00\"",
    );
    run_refused(&default, &[], &["d.toml", "default.participant", "`NOPE`"]);
    let compare = scenario(
        dir.path(),
        "c.toml",
        "compare = [\"rtgs\", \"bogus\"]",
        "n = 10",
        "daily_count = 10",
    );
    run_refused(&compare, &[], &["c.toml", "compare[1]", "`bogus`"]);
    let config = compare.display().to_string();
    refused(
        &clearsim(&["compare", &config, "--threads", "0", "--strategies", "rtgs"]),
        &["--threads", "1..=1024"],
    );
}

#[test]
fn merge_survives_absurd_summaries() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = scenario(dir.path(), "m.toml", "", "n = 5", "daily_count = 50")
        .display()
        .to_string();
    let a = path(dir.path(), "a");
    ok(&clearsim(&["run", &config, "--out", &a, "-q"]));
    let summary = dir.path().join("a").join("summary.json");
    let text = std::fs::read_to_string(&summary).expect("summary");
    let mut json: serde_json::Value = serde_json::from_str(&text).expect("json");
    // Once an overflow (panic) in merge.
    json["study"]["days"] = serde_json::json!(u32::MAX);
    json["seeds"] = serde_json::json!([u64::MAX]);
    let b = dir.path().join("b");
    std::fs::create_dir(&b).expect("dir");
    std::fs::write(b.join("summary.json"), json.to_string()).expect("write");
    let merged = path(dir.path(), "merged");
    let output = clearsim(&["merge", &a, &b.display().to_string(), "--out", &merged]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Found by the merge fuzz target: a record with fewer channels than its
    // study was indexed out of bounds (a panic).
    let mut json: serde_json::Value = serde_json::from_str(&text).expect("json");
    json["seeds"] = serde_json::json!([2]);
    json["replications"][0]["seed"] = serde_json::json!(2);
    json["replications"][0]["channels"] = serde_json::json!([]);
    std::fs::write(b.join("summary.json"), json.to_string()).expect("write");
    refused(
        &clearsim(&["merge", &a, &b.display().to_string(), "--out", &merged]),
        &["does not match the study's channels"],
    );
}

/// A day whose payments all queue for the whole day: A has nothing.
fn stuck_day(dir: &Path, payments: usize) -> (String, String) {
    let participants = dir.join("p.csv");
    std::fs::write(
        &participants,
        "id,name,category,opening_balance,credit_limit\nA,,,0,0\nB,,,0,0\nC,,,10,0\n",
    )
    .expect("participants");
    let mut rows = String::from("id,submit,sender,receiver,amount\n");
    for k in 0..payments {
        rows += &format!("p{k},08:00:00,A,B,{}\n", k + 1);
    }
    let file = dir.join(format!("x{payments}.csv"));
    std::fs::write(&file, rows).expect("payments");
    (
        participants.display().to_string(),
        file.display().to_string(),
    )
}

#[test]
fn periodic_runs_that_repeat_a_fruitless_one_cost_nothing() {
    // Once 51–76 s (100 queued) and over 120 s (1,000 queued) for rtgs,
    // 11.9 s for chips on 4 payments, and minutes for bypass: every 1 ms
    // run re-resolved (and re-released) queues nothing had changed.
    let dir = tempfile::tempdir().expect("tmp");
    for (payments, strategy) in [
        (1_000, "rtgs"),
        (1_000, "rtgs+bypass"),
        (1_000, "rtgs+offset"),
        (4, "chips"),
        (1_000, "chips"),
    ] {
        let (participants, day) = stuck_day(dir.path(), payments);
        let out = path(dir.path(), "o");
        let output = clearsim_within(
            HANG,
            &[
                "replay",
                "--participants",
                &participants,
                "--payments",
                &day,
                "--strategy",
                strategy,
                "--gridlock-every",
                "1ms",
                "--out",
                &out,
                "-q",
            ],
        );
        ok(&output);
        let settlements =
            std::fs::read_to_string(dir.path().join("o/settlements.csv")).expect("settlements");
        assert_eq!(
            settlements.matches(",unsettled,").count(),
            payments,
            "{strategy}: A cannot pay anything"
        );
    }
}

#[test]
fn wide_headers_and_blank_lines_are_cheap() {
    let dir = tempfile::tempdir().expect("tmp");
    let (participants, _) = stuck_day(dir.path(), 1);
    // 100,000 columns (once quadratic: 12–19 s), the last one a duplicate.
    let mut header: Vec<String> = (0..100_000).map(|k| format!("c{k}")).collect();
    header.extend(["id", "submit", "sender", "receiver", "amount", "c7"].map(String::from));
    let wide = dir.path().join("wide.csv");
    std::fs::write(&wide, header.join(",") + "\n").expect("wide");
    let out = path(dir.path(), "o");
    let wide = wide.display().to_string();
    let args = [
        "replay",
        "--participants",
        &participants,
        "--payments",
        &wide,
        "--out",
        &out,
    ];
    refused(&clearsim_within(HANG, &args), &["c7", "appears twice"]);
    // 50 MB of blank lines after one payment: skipped, and the columns are
    // not sized by the line count.
    let blank = dir.path().join("blank.csv");
    let mut text = String::from("id,submit,sender,receiver,amount\nq,08:00:00,C,B,5\n");
    text += &"\n".repeat(50_000_000);
    std::fs::write(&blank, text).expect("blank");
    let blank = blank.display().to_string();
    let args = [
        "replay",
        "--participants",
        &participants,
        "--payments",
        &blank,
        "--out",
        &out,
        "-q",
    ];
    ok(&clearsim_within(HANG, &args));
}

#[test]
fn the_tests_check_every_invariant() {
    // `cargo test --release` builds the library and the binary with the
    // `invariants` feature (a dev-dependency of the crate on itself).
    const { assert!(clearsim_core::INVARIANTS_CHECKED) };
    let version = ok(&clearsim(&["--version"]));
    assert!(version.contains("(invariants checked)"), "{version}");
}
