//! Outputs an analyst can reuse: numeric CSVs, Parquet, whole output sets,
//! one grammar across configs, compare and replay, multi-channel replays
//! that match runs payment by payment, `report` on any output directory.

// A test reads as one story, setup to assertions: the 70-line limit is
// for the product's code.
#![allow(clippy::too_many_lines)]

mod common;

use std::path::Path;

use common::cli::{clearsim, ok, path, refused, replayable};

#[test]
fn a_generated_day_replayed_through_the_channels_matches_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = replayable(Path::new("configs/chengdu-2005.toml"), dir.path());
    let config = config.display().to_string();
    ok(&clearsim(&[
        "generate",
        &config,
        "--volume",
        "0.05",
        "-q",
        "--out",
        &path(dir.path(), "day"),
    ]));
    ok(&clearsim(&[
        "replay",
        "--participants",
        &path(dir.path(), "day/participants.csv"),
        "--payments",
        &path(dir.path(), "day/payments.csv"),
        "--channels",
        &config,
        "-q",
        "--out",
        &path(dir.path(), "replay"),
    ]));
    ok(&clearsim(&[
        "run",
        &config,
        "--days",
        "1",
        "--volume",
        "0.05",
        "--settlements",
        "-q",
        "--out",
        &path(dir.path(), "run"),
    ]));
    let run = std::fs::read_to_string(dir.path().join("run/settlements.csv")).expect("run");
    let replay =
        std::fs::read_to_string(dir.path().join("replay/settlements.csv")).expect("replay");
    let run_rows: Vec<&str> = run
        .lines()
        .skip(1)
        .map(|l| l.split_once(',').expect("day,").1)
        .collect();
    let replay_rows: Vec<&str> = replay.lines().skip(1).collect();
    assert!(run_rows.len() > 10_000);
    assert!(run_rows == replay_rows, "the replay differs from the run");
    // Cheques, transfers and cards went through three channels.
    let summary = std::fs::read_to_string(dir.path().join("replay/summary.json")).expect("json");
    assert!(summary.contains("cheque-exchange") && summary.contains("card-net"));
    // A payment whose instrument no channel takes is refused, by row.
    let payments = std::fs::read_to_string(dir.path().join("day/payments.csv")).expect("day");
    let bad = payments.replacen(",cheque\n", ",telegraph\n", 1);
    std::fs::write(dir.path().join("bad.csv"), bad).expect("write");
    refused(
        &clearsim(&[
            "replay",
            "--participants",
            &path(dir.path(), "day/participants.csv"),
            "--payments",
            &path(dir.path(), "bad.csv"),
            "--channels",
            &config,
            "--out",
            &path(dir.path(), "bad"),
        ]),
        &["bad.csv", "row", "instrument", "telegraph"],
    );
}

const PARTICIPANTS: &str =
    "id,name,category,opening_balance,credit_limit\nA,,,100,0\nB,,,50,0\nC,,,0,0\n";
const PAYMENTS: &str = "id,submit,sender,receiver,amount\np1,09:00:00,A,B,120\np2,09:30:00,B,C,80\np3,10:00:00,C,A,60\np4,10:30:00,B,A,30\n";

#[test]
fn replay_runs_every_strategy_compare_can() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("p.csv"), PARTICIPANTS).expect("write");
    std::fs::write(dir.path().join("x.csv"), PAYMENTS).expect("write");
    std::fs::write(
        dir.path().join("limits.toml"),
        "[[limit]]\nparticipant = \"*\"\nlimit_yuan = 0.5\n",
    )
    .expect("write");
    let day = clearsim_model::input::Day::parse(
        "p.csv",
        PARTICIPANTS.as_bytes(),
        "x.csv",
        PAYMENTS.as_bytes(),
        clearsim_core::time::SimTime::DEFAULT_DAY_END,
    )
    .expect("valid");
    for (compact, flags) in [
        ("rtgs+bypass", &["--strategy", "rtgs+bypass"][..]),
        (
            "rtgs+offset+gridlock:1h",
            &["--strategy", "rtgs+offset", "--gridlock-every", "1h"],
        ),
        (
            "chips+max=300:30m",
            &[
                "--strategy",
                "chips",
                "--max-position-pct",
                "300",
                "--gridlock-every",
                "30m",
            ],
        ),
        (
            "dns+latest+fund=0.4yuan:10:00,12:00",
            &[
                "--strategy",
                "dns",
                "--unwind",
                "latest",
                "--guarantee-fund",
                "40fen",
                "--cycles",
                "10:00,12:00",
            ],
        ),
        (
            "bilateral:hourly",
            &["--strategy", "bilateral", "--cycles", "hourly"],
        ),
    ] {
        let out = path(dir.path(), "out");
        let p = path(dir.path(), "p.csv");
        let x = path(dir.path(), "x.csv");
        let mut args = vec![
            "replay",
            "--participants",
            &p,
            "--payments",
            &x,
            "-q",
            "--out",
            &out,
        ];
        args.extend_from_slice(flags);
        ok(&clearsim(&args));
        // The same settlements as the engine gives the compact form.
        let spec = clearsim_core::strategy::parse_strategy(compact, day.day_end)
            .expect("compact form")
            .spec;
        let expected = clearsim_model::replay::replay(&day, &spec).expect("replays");
        let written = std::fs::read_to_string(dir.path().join("out/settlements.csv")).expect("csv");
        let settled = written
            .lines()
            .skip(1)
            .filter(|l| l.contains(",settled,"))
            .count();
        let count = expected
            .settle
            .iter()
            .filter(|&&t| t != clearsim_model::metrics::UNSETTLED)
            .count();
        assert_eq!(settled, count, "{compact}");
    }
    // Sender limits from a file: 0.5 yuan = 50 fen multilateral.
    let out = path(dir.path(), "limited");
    ok(&clearsim(&[
        "replay",
        "--participants",
        &path(dir.path(), "p.csv"),
        "--payments",
        &path(dir.path(), "x.csv"),
        "--strategy",
        "rtgs+limits",
        "--limits",
        &path(dir.path(), "limits.toml"),
        "-q",
        "--out",
        &out,
    ]));
    let limited = std::fs::read_to_string(dir.path().join("limited/settlements.csv")).expect("csv");
    // A pays B 120: beyond its limit of 50 until it has received; so p1
    // waits for p3 (C → A 60, which needs p2 first).
    assert!(
        limited.contains("p1,unsettled") || limited.contains("p1,settled,10:"),
        "{limited}"
    );
}

#[test]
fn parquet_and_csv_hold_plain_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("p.csv"), PARTICIPANTS).expect("write");
    std::fs::write(dir.path().join("x.csv"), PAYMENTS).expect("write");
    let out = dir.path().join("replay");
    ok(&clearsim(&[
        "replay",
        "--participants",
        &path(dir.path(), "p.csv"),
        "--payments",
        &path(dir.path(), "x.csv"),
        "-q",
        "--out",
        &out.display().to_string(),
    ]));
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let file = std::fs::File::open(out.join("settlements.parquet")).expect("parquet");
    let reader = SerializedFileReader::new(file).expect("a Parquet file");
    let schema: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema()
        .get_fields()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    assert_eq!(
        schema,
        ["id", "status", "submit_ms", "settle_ms", "delay_ms"]
    );
    let rows: Vec<String> = reader
        .get_row_iter(None)
        .expect("rows")
        .map(|r| r.expect("row").to_string())
        .collect();
    assert_eq!(rows.len(), 4);
    assert!(
        rows[0].contains("id: \"p1\"") && rows[0].contains("submit_ms: 32400000"),
        "{rows:?}"
    );
    // Every CSV of run, compare and sweep: numbers in numeric columns.
    let studies: [&[&str]; 3] = [
        &["run", "configs/chengdu-2005.toml", "--volume", "0.02", "-q"],
        &[
            "compare",
            "configs/netting-compare.toml",
            "--volume",
            "0.05",
            "--replications",
            "2",
            "-q",
        ],
        &[
            "sweep",
            "configs/netting-compare.toml",
            "--volume",
            "0.05",
            "--steps",
            "3",
            "-q",
        ],
    ];
    for (s, study) in studies.iter().enumerate() {
        let out = path(dir.path(), &format!("study{s}"));
        ok(&clearsim(&[*study, &["--out", &out]].concat()));
        for entry in std::fs::read_dir(&out).expect("dir") {
            let entry = entry.expect("entry");
            if entry.path().extension().is_none_or(|e| e != "csv") {
                continue;
            }
            let mut reader = csv::Reader::from_path(entry.path()).expect("csv");
            let header: Vec<String> = reader
                .headers()
                .expect("header")
                .iter()
                .map(String::from)
                .collect();
            for record in reader.records() {
                let record = record.expect("record");
                for (column, cell) in header.iter().zip(record.iter()) {
                    let numeric = column.ends_with("_fen")
                        || column.ends_with("_ms")
                        || column.ends_with("_share")
                        || [
                            "payments",
                            "settled",
                            "unsettled",
                            "seed",
                            "day",
                            "level",
                            "delay_indicator",
                        ]
                        .contains(&column.as_str());
                    if numeric && !cell.is_empty() {
                        assert!(
                            cell.parse::<f64>().is_ok(),
                            "{}: {column} = {cell:?} is not a number",
                            entry.path().display()
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn output_sets_are_whole_and_only_replace_clearsim_directories() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = path(dir.path(), "out");
    // A run, then a compare into the same directory: nothing of the run
    // is left (no stale channels.csv beside compare.csv).
    ok(&clearsim(&[
        "run",
        "configs/netting-compare.toml",
        "--volume",
        "0.05",
        "-q",
        "--out",
        &out,
    ]));
    assert!(dir.path().join("out/channels.csv").exists());
    ok(&clearsim(&[
        "compare",
        "configs/netting-compare.toml",
        "--volume",
        "0.05",
        "--strategies",
        "rtgs",
        "-q",
        "--out",
        &out,
    ]));
    assert!(dir.path().join("out/compare.csv").exists());
    assert!(
        !dir.path().join("out/channels.csv").exists(),
        "a stale file of the run"
    );
    // Nothing but the set beside it.
    let beside: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(beside, ["out"]);
    // --out on a file, or on a directory of something else: refused before
    // any work, exit 2, and left as it was.
    std::fs::write(dir.path().join("file"), "mine").expect("write");
    refused(
        &clearsim(&[
            "sweep",
            "configs/chengdu-2010.toml",
            "--out",
            &path(dir.path(), "file"),
        ]),
        &["--out", "not a directory"],
    );
    std::fs::create_dir(dir.path().join("mine")).expect("dir");
    std::fs::write(dir.path().join("mine/notes.txt"), "keep").expect("write");
    refused(
        &clearsim(&[
            "run",
            "configs/netting-compare.toml",
            "--out",
            &path(dir.path(), "mine"),
        ]),
        &["not a clearsim output directory"],
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mine/notes.txt")).expect("kept"),
        "keep"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("file")).expect("kept"),
        "mine"
    );
    // A staging directory left by a killed run is cleaned on the next start.
    let stale = dir.path().join(".out.tmp-999999999-0-0");
    std::fs::create_dir(&stale).expect("stale");
    ok(&clearsim(&[
        "run",
        "configs/netting-compare.toml",
        "--volume",
        "0.05",
        "-q",
        "--out",
        &out,
    ]));
    assert!(
        !stale.exists(),
        "the stale staging directory is still there"
    );
}

#[test]
fn report_works_on_every_output_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("p.csv"), PARTICIPANTS).expect("write");
    std::fs::write(dir.path().join("x.csv"), PAYMENTS).expect("write");
    let replay = path(dir.path(), "replay");
    ok(&clearsim(&[
        "replay",
        "--participants",
        &path(dir.path(), "p.csv"),
        "--payments",
        &path(dir.path(), "x.csv"),
        "-q",
        "--out",
        &replay,
    ]));
    let settlements = std::fs::read(dir.path().join("replay/settlements.csv")).expect("csv");
    std::fs::remove_file(dir.path().join("replay/report.html")).expect("remove");
    // On the directory, and on its summary.json.
    ok(&clearsim(&["report", &replay, "-q"]));
    assert!(dir.path().join("replay/report.html").exists());
    ok(&clearsim(&[
        "report",
        &path(dir.path(), "replay/summary.json"),
        "-q",
    ]));
    assert_eq!(
        std::fs::read(dir.path().join("replay/settlements.csv")).expect("kept"),
        settlements
    );
    let report = std::fs::read_to_string(dir.path().join("replay/report.md")).expect("md");
    assert!(report.contains("clearsim 0.1.0") && report.contains("glossary"));
    refused(
        &clearsim(&["report", &path(dir.path(), "nothing")]),
        &["cannot read"],
    );
}

#[test]
fn every_command_is_quiet_when_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = |n: &str| path(dir.path(), n);
    for args in [
        vec![
            "generate",
            "configs/netting-compare.toml",
            "--volume",
            "0.01",
            "-q",
            "--out",
            &out("g"),
        ],
        vec![
            "run",
            "configs/netting-compare.toml",
            "--volume",
            "0.01",
            "-q",
            "--out",
            &out("r"),
        ],
        vec![
            "run",
            "configs/netting-compare.toml",
            "--volume",
            "0.01",
            "--seed",
            "9",
            "-q",
            "--out",
            &out("r2"),
        ],
        vec![
            "compare",
            "configs/netting-compare.toml",
            "--volume",
            "0.01",
            "--strategies",
            "rtgs",
            "-q",
            "--out",
            &out("c"),
        ],
        vec![
            "sweep",
            "configs/netting-compare.toml",
            "--volume",
            "0.01",
            "--steps",
            "2",
            "-q",
            "--out",
            &out("s"),
        ],
        vec!["merge", &out("r"), &out("r2"), "-q", "--out", &out("m")],
        vec!["report", &out("r"), "-q"],
    ] {
        let stdout = ok(&clearsim(&args));
        assert!(stdout.is_empty(), "{args:?} printed {stdout:?}");
    }
    ok(&clearsim(&[
        "replay",
        "--participants",
        &path(dir.path(), "g/participants.csv"),
        "--payments",
        &path(dir.path(), "g/payments.csv"),
        "--cycles",
        "12:00,16:00",
        "--strategy",
        "dns",
        "-q",
        "--out",
        &out("p"),
    ]))
    .is_empty()
    .then_some(())
    .expect("quiet replay");
}

#[test]
fn live_refuses_a_config_without_gross_settlement() {
    refused(
        &clearsim(&["live", "configs/netting-compare.toml", "--duration", "1s"]),
        &["gross channel", "netting-compare"],
    );
}

/// Outputs never eat their inputs (issue 24): each case is refused with
/// exit 2 before anything is written, and the input is still there.
#[test]
fn outputs_that_would_overwrite_or_delete_inputs_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let at = |p: &str| path(dir.path(), p);
    // A journal directory (export refuses before it reads the journal).
    std::fs::create_dir_all(dir.path().join("j")).expect("dir");
    std::fs::write(dir.path().join("j/journal.bin"), b"journal bytes").expect("write");
    let export = |out: &str, participants: Option<&str>| {
        let mut owned: Vec<String> = vec![
            "journal".into(),
            "export".into(),
            at("j"),
            "--out".into(),
            out.into(),
        ];
        if let Some(p) = participants {
            owned.extend(["--participants".into(), p.into()]);
        }
        let args: Vec<&str> = owned.iter().map(String::as_str).collect();
        clearsim(&args)
    };
    refused(
        &export(&at("j/journal.bin"), None),
        &["--out", "journal.bin", "lies inside the input journal"],
    );
    refused(
        &export(&at("x.csv"), Some(&at("j/p.csv"))),
        &["--participants", "lies inside the input journal"],
    );
    refused(
        &export(&at("same.csv"), Some(&at("same.csv"))),
        &["--participants", "same path as --out"],
    );
    refused(
        &export("/dev/null", None),
        &["--out /dev/null", "not a regular file"],
    );
    assert_eq!(
        std::fs::read(dir.path().join("j/journal.bin")).expect("kept"),
        b"journal bytes"
    );
    // replay --out g, where g holds its own inputs.
    std::fs::create_dir_all(dir.path().join("g")).expect("dir");
    std::fs::write(dir.path().join("g/p.csv"), PARTICIPANTS).expect("write");
    std::fs::write(dir.path().join("g/x.csv"), PAYMENTS).expect("write");
    refused(
        &clearsim(&[
            "replay",
            "--participants",
            &at("g/p.csv"),
            "--payments",
            &at("g/x.csv"),
            "--out",
            &at("g"),
        ]),
        &["--out", "contains the input --participants"],
    );
    assert!(dir.path().join("g/x.csv").exists());
    // merge A B --out A/sub: a later `report A` would delete it.
    for out in ["a", "b"] {
        ok(&clearsim(&[
            "replay",
            "--participants",
            &at("g/p.csv"),
            "--payments",
            &at("g/x.csv"),
            "-q",
            "--out",
            &at(out),
        ]));
    }
    refused(
        &clearsim(&["merge", &at("a"), &at("b"), "--out", &at("a/sub")]),
        &["--out", "lies inside the input"],
    );
}

/// Issue 24's smaller defects, each refused with exit 2 and a message
/// naming what is wrong, where clearsim used to panic, hang or delete.
#[test]
fn hostile_inputs_are_refused_not_obeyed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let at = |p: &str| path(dir.path(), p);
    std::fs::write(dir.path().join("p.csv"), PARTICIPANTS).expect("write");
    std::fs::write(dir.path().join("x.csv"), PAYMENTS).expect("write");
    // Seeds past u64::MAX panicked after the whole study.
    refused(
        &clearsim(&[
            "run",
            "configs/netting-compare.toml",
            "--seed",
            "18446744073709551615",
            "--replications",
            "2",
            "--volume",
            "0.01",
            "--out",
            &at("seeds"),
        ]),
        &[
            "--seed 18446744073709551615",
            "2 replications",
            "would pass",
        ],
    );
    // A FIFO with no writer blocked for ever; /dev/zero was read until
    // memory ran out. Only --payments may be a pipe (it streams).
    let fifo = dir.path().join("fifo.csv");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.expect("mkfifo").success());
    let fifo = fifo.display().to_string();
    for (participants, payments) in [
        (fifo.as_str(), at("x.csv")),
        (&at("p.csv"), "/dev/zero".into()),
    ] {
        let output = common::cli::clearsim_within(
            std::time::Duration::from_secs(60),
            &[
                "replay",
                "--participants",
                participants,
                "--payments",
                &payments,
                "--out",
                &at("r"),
            ],
        );
        let named = if payments == "/dev/zero" {
            "/dev/zero"
        } else {
            participants
        };
        refused(&output, &[named, "not a regular file"]);
    }
    // A payment id in invalid UTF-8 made settlements.parquet unreadable.
    let mut bad = b"id,submit,sender,receiver,amount\n".to_vec();
    bad.extend_from_slice(b"p\xff1,09:00:00,A,B,60\n");
    std::fs::write(dir.path().join("bad.csv"), bad).expect("write");
    refused(
        &clearsim(&[
            "replay",
            "--participants",
            &at("p.csv"),
            "--payments",
            &at("bad.csv"),
            "--out",
            &at("r"),
        ]),
        &["bad.csv", "row 1 (line 2)", "field `id`", "UTF-8"],
    );
    // report DIR deleted a sub-directory of DIR; it now refuses.
    ok(&clearsim(&[
        "replay",
        "--participants",
        &at("p.csv"),
        "--payments",
        &at("x.csv"),
        "-q",
        "--out",
        &at("d"),
    ]));
    std::fs::create_dir_all(dir.path().join("d/mine")).expect("dir");
    std::fs::write(dir.path().join("d/mine/notes.txt"), b"keep").expect("write");
    refused(
        &clearsim(&["report", &at("d")]),
        &["mine", "would delete", "move it out"],
    );
    assert_eq!(
        std::fs::read(dir.path().join("d/mine/notes.txt")).expect("kept"),
        b"keep"
    );
}

#[test]
fn liquidity_past_its_limit_is_refused_not_clamped() {
    let dir = tempfile::tempdir().expect("dir");
    let copy = common::cli::replayable(Path::new("configs/chengdu-2005.toml"), dir.path());
    let text = std::fs::read_to_string(&copy)
        .unwrap()
        .replace("scale = 1.5\n", "scale = 1e7\n");
    std::fs::write(&copy, text).unwrap();
    let config = copy.display().to_string();
    let out = path(dir.path(), "out");
    refused(
        &clearsim(&["run", &config, "--days", "1", "--out", &out]),
        &[&config, "[liquidity]", "10^15 fen", "refused, not clamped"],
    );
    assert!(!Path::new(&out).exists());
}

#[test]
fn messages_name_the_path_given_and_say_each_cause_once() {
    let dir = tempfile::tempdir().expect("dir");
    let missing = path(dir.path(), "no-journal");
    let output = clearsim(&[
        "journal",
        "export",
        &missing,
        "--out",
        &path(dir.path(), "p.csv"),
    ]);
    refused(&output, &["no-journal/journal.bin"]);
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        said.matches("No such file or directory").count(),
        1,
        "{said}"
    );
    // An output directory that cannot be made: named as given, never by
    // its staging name.
    let output = clearsim(&[
        "replay",
        "--participants",
        "configs/examples/chengdu-day/participants.csv",
        "--payments",
        "configs/examples/chengdu-day/payments.csv",
        "--out",
        "/proc/clearsim-cannot/x",
    ]);
    refused(&output, &["/proc/clearsim-cannot/x"]);
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!said.contains(".tmp-"), "{said}");
}

#[test]
fn replay_writes_the_formats_asked_for_and_the_same_rows() {
    let dir = tempfile::tempdir().expect("dir");
    let day = [
        "--participants",
        "configs/examples/chengdu-day/participants.csv",
        "--payments",
        "configs/examples/chengdu-day/payments.csv",
    ];
    let run = |format: &str| {
        let out = path(dir.path(), format);
        let mut args = vec!["replay"];
        args.extend(day);
        args.extend(["--out", &out, "--format", format, "-q"]);
        ok(&clearsim(&args));
        out
    };
    let (csv, parquet, both) = (run("csv"), run("parquet"), run("both"));
    let has = |dir: &str, name: &str| Path::new(dir).join(name).exists();
    for name in ["settlements.csv", "balances.csv"] {
        assert!(
            has(&csv, name) && has(&both, name) && !has(&parquet, name),
            "{name}"
        );
    }
    for name in ["settlements.parquet", "balances.parquet"] {
        assert!(
            has(&parquet, name) && has(&both, name) && !has(&csv, name),
            "{name}"
        );
    }
    // The same files, whichever set they came in.
    for (dir, name) in [(&csv, "settlements.csv"), (&parquet, "settlements.parquet")] {
        assert_eq!(
            std::fs::read(Path::new(dir).join(name)).unwrap(),
            std::fs::read(Path::new(&both).join(name)).unwrap(),
            "{name}"
        );
    }
    assert_eq!(
        std::fs::read(Path::new(&csv).join("summary.json")).unwrap(),
        std::fs::read(Path::new(&both).join("summary.json")).unwrap()
    );
}
