//! `clearsim serve --journal`: acknowledged instructions survive kill -9,
//! recovery rebuilds exactly the state the service had, and `journal
//! export` replays to exactly the settlements the service reported. All
//! traffic on loopback; every loop bounded in count and time.

// A test reads as one story, setup to assertions: the 70-line limit is
// for the product's code.
#![allow(clippy::too_many_lines)]
// Signals and pipes to a child process: libc calls.
#![allow(unsafe_code)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::cli::{clearsim, clearsim_within, ok, path};
use common::net::free_address;

use clearsim_service::client::Client;
use clearsim_service::net::journal;
use clearsim_service::net::protocol::{Notice, Request, Submit};
use clearsim_service::net::tokens::Tokens;

const CONFIG: &str = "configs/chengdu-2005.toml";
const WAIT: Duration = Duration::from_secs(20);

/// What one bank's connection sent and heard.
#[derive(Default)]
struct Seen {
    participant: u32,
    /// client_ref → (receiver, amount)
    sent: HashMap<u64, (u32, i64)>,
    /// client_ref → seq
    acked: HashMap<u64, u64>,
    /// seq → at_ms
    settled: BTreeMap<u64, u32>,
    goodbye: bool,
}

/// A bank sending `payments` pipelined (at most `window` unanswered), then
/// reading on until GOODBYE or the connection ends (a killed service).
async fn bank(
    address: std::net::SocketAddr,
    id: &str,
    token: &[u8],
    payments: &[(u32, i64, u8)],
    first_ref: u64,
    answers: &AtomicUsize,
) -> Seen {
    let connected = tokio::time::timeout(WAIT, Client::connect(address, id, token))
        .await
        .expect("connects in time");
    // A service killed before it welcomed this bank: it sent nothing, so
    // nothing of it can be lost (a kill that early is a trial's luck on a
    // loaded machine, not a failure).
    let Ok(mut client) = connected else {
        return Seen::default();
    };
    let mut seen = Seen {
        participant: client.participant,
        ..Seen::default()
    };
    let window = 512;
    let mut next = 0;
    let mut answered = 0;
    // Bounded: each turn sends or reads; reads end on EOF or a timeout.
    loop {
        while next < payments.len() && next - answered < window {
            let (receiver, amount_fen, priority) = payments[next];
            let client_ref = first_ref + next as u64;
            seen.sent.insert(client_ref, (receiver, amount_fen));
            client.writer.queue(&Request::Submit(Submit {
                client_ref,
                receiver,
                amount_fen,
                priority,
                instrument: 0,
            }));
            next += 1;
        }
        if client.writer.queued_bytes() > 0 && client.writer.flush().await.is_err() {
            return seen;
        }
        let notice = match tokio::time::timeout(WAIT, client.reader.next()).await {
            Ok(Ok(Some(notice))) => notice,
            _ => return seen,
        };
        match notice {
            Notice::Accepted { client_ref, seq } => {
                seen.acked.insert(client_ref, seq);
                answered += 1;
                answers.fetch_add(1, Ordering::Relaxed);
            }
            Notice::Rejected { .. } => {
                answered += 1;
                answers.fetch_add(1, Ordering::Relaxed);
            }
            Notice::Settled { seq, at_ms, .. } => {
                seen.settled.insert(seq, at_ms);
            }
            Notice::Goodbye { .. } => {
                seen.goodbye = true;
                return seen;
            }
            _ => {}
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// `clearsim serve` with a journal, as its own process, listening.
fn serve(tokens: &str, journal: &str, address: &str) -> Child {
    let args = ["serve", CONFIG, "--tokens", tokens, "--journal", journal];
    let args = [&args[..], &["--listen", address, "--duration", "5m"]].concat();
    common::net::serving(&args, address)
}

fn kill_9(mut child: Child) {
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
}

/// Every acknowledged instruction is in the journal as sent, and every
/// record is an instruction some bank sent.
fn check_journal(dir: &Path, seen: &[Seen]) -> journal::Contents {
    let contents = journal::read(dir).expect("journal reads");
    let records = &contents.records;
    let by_ref: HashMap<(u32, u64), &journal::Record> = records
        .iter()
        .map(|r| ((r.sender, r.client_ref), r))
        .collect();
    assert_eq!(
        by_ref.len(),
        records.len(),
        "each instruction journaled once"
    );
    let mut sent = HashMap::new();
    for s in seen {
        for (client_ref, seq) in &s.acked {
            let r = records
                .get(*seq as usize)
                .unwrap_or_else(|| panic!("ACCEPTED seq {seq} is not in the journal"));
            assert_eq!((r.sender, r.client_ref), (s.participant, *client_ref));
            assert_eq!((r.receiver, r.amount_fen), s.sent[client_ref]);
        }
        for (client_ref, what) in &s.sent {
            sent.insert((s.participant, *client_ref), *what);
        }
    }
    for r in records {
        assert_eq!(
            sent.get(&(r.sender, r.client_ref)),
            Some(&(r.receiver, r.amount_fen)),
            "record {} was never sent",
            r.seq
        );
    }
    contents
}

/// Every participant's (balance, queued, queued value), asked over the
/// protocol: the service's state as the banks see it.
async fn state(address: std::net::SocketAddr, ids: &[String], tokens: &Tokens) -> Vec<[i64; 3]> {
    let mut out = Vec::new();
    for (p, id) in ids.iter().enumerate() {
        let token = tokens.of(p as u32).expect("token");
        let mut client = Client::connect(address, id, token).await.expect("connects");
        client.send(&Request::Query { query_ref: 1 }).await.unwrap();
        loop {
            let notice = tokio::time::timeout(WAIT, client.next()).await;
            if let Ok(Ok(Some(Notice::Balance {
                balance_fen,
                queued,
                queued_fen,
                ..
            }))) = notice
            {
                out.push([balance_fen, i64::from(queued), queued_fen]);
                break;
            }
            assert!(notice.is_ok(), "no BALANCE in time");
        }
    }
    out
}

/// Replays the exported day and returns its settlements: id → settle time.
fn replay_of_export(journal: &str, dir: &Path) -> BTreeMap<u64, Option<String>> {
    let payments = path(dir, "payments.csv");
    let printed = ok(&clearsim(&[
        "journal", "export", journal, "--out", &payments,
    ]));
    let flags = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("replay: clearsim replay "))
        .expect("the replay command is printed")
        .replace(" --out DIR", "");
    let mut args: Vec<String> = vec!["replay".into()];
    args.extend(flags.split_whitespace().map(String::from));
    args.extend(["--out".into(), path(dir, "replayed"), "--quiet".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&clearsim_within(Duration::from_secs(120), &args));
    let text = std::fs::read_to_string(dir.join("replayed/settlements.csv")).expect("settlements");
    text.lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let settle = (fields[1] == "settled").then(|| fields[2].to_string());
            (fields[0].parse().expect("id"), settle)
        })
        .collect()
}

fn at_text(at_ms: u32) -> String {
    clearsim_core::time::SimTime(at_ms).to_string()
}

/// kill -9 under load, 20 times over one growing journal: every ACCEPTED
/// instruction is there, nothing else is, WELCOME says how far the
/// service got, money is conserved; a quiet service's state (balances and
/// queues) is exactly the same after a kill and restart; and the export
/// replays to every SETTLED any bank heard.
#[test]
fn kill_9_loses_no_acknowledged_instruction_and_recovery_is_exact() {
    let dir = tempfile::tempdir().expect("dir");
    let tokens_file = path(dir.path(), "tokens");
    ok(&clearsim(&[
        "serve",
        CONFIG,
        "--issue-tokens",
        &tokens_file,
    ]));
    let journal_dir = path(dir.path(), "journal");
    let scenario = clearsim_model::config::Config::load(Path::new(CONFIG))
        .expect("config")
        .scenario;
    let city = clearsim_model::workload::city::build_city(&scenario);
    let tokens = Tokens::load(Path::new(&tokens_file), &city.ids).expect("tokens");
    let payments = clearsim_service::net::load::payments_of(&scenario, &city, 2005);
    let senders: Vec<usize> = (0..city.len())
        .filter(|&p| payments[p].len() > 5000)
        .collect();
    let answers = Arc::new(AtomicUsize::new(0));
    let rt = runtime();
    let mut seen: Vec<Seen> = Vec::new();
    // Trials killed while instructions were still unanswered.
    let mut cut_short = 0;
    for trial in 0..20u64 {
        let address = free_address();
        let child = serve(&tokens_file, &journal_dir, &address);
        let socket = address.parse().unwrap();
        let banks: Vec<usize> = (0..4)
            .map(|k| senders[(trial as usize * 7 + k * 3) % senders.len()])
            .collect();
        let mut tasks = Vec::new();
        for (k, &p) in banks.iter().enumerate() {
            let id = city.ids[p].clone();
            let token = tokens.of(p as u32).unwrap().to_vec();
            let list: Vec<_> = payments[p].iter().take(20_000).copied().collect();
            let first_ref = (trial * 4 + k as u64) << 32;
            let answers = answers.clone();
            tasks.push(
                rt.spawn(
                    async move { bank(socket, &id, &token, &list, first_ref, &answers).await },
                ),
            );
        }
        // Killed mid-stream: a different moment each trial.
        std::thread::sleep(Duration::from_millis(20 + trial * 7));
        kill_9(child);
        let trial_seen: Vec<Seen> = rt.block_on(async {
            let mut out = Vec::new();
            for task in tasks {
                out.push(task.await.expect("bank task"));
            }
            out
        });
        assert!(trial_seen.iter().all(|s| !s.goodbye));
        if trial_seen.iter().any(|s| s.acked.len() < s.sent.len()) {
            cut_short += 1;
        }
        seen.extend(trial_seen);
        check_journal(Path::new(&journal_dir), &seen);
    }
    let acked: usize = seen.iter().map(|s| s.acked.len()).sum();
    let sent: usize = seen.iter().map(|s| s.sent.len()).sum();
    eprintln!(
        "20 kill -9 trials: {sent} sent, {acked} acknowledged, {cut_short} killed mid-stream"
    );
    assert!(acked > 1000, "the trials acknowledged {acked} instructions");
    assert!(
        cut_short >= 10,
        "only {cut_short} trials were killed under load"
    );

    // Restarted: it says how far it got; money is conserved; a quiet
    // service's state survives kill -9 exactly.
    let address = free_address();
    let child = serve(&tokens_file, &journal_dir, &address);
    let socket = address.parse().unwrap();
    let contents = check_journal(Path::new(&journal_dir), &seen);
    let probe = rt
        .block_on(Client::connect(socket, &city.ids[0], tokens.of(0).unwrap()))
        .expect("connects");
    assert_eq!(probe.next_seq, contents.records.len() as u64);
    drop(probe);
    // Past the next gridlock run (every second) after the last arrival.
    std::thread::sleep(Duration::from_millis(1500));
    let before = rt.block_on(state(socket, &city.ids, &tokens));
    let total: i64 = before.iter().map(|s| s[0]).sum();
    assert_eq!(
        total,
        city.opening_fen.iter().sum::<i64>(),
        "money conserved"
    );
    kill_9(child);
    let child = serve(&tokens_file, &journal_dir, &address);
    std::thread::sleep(Duration::from_millis(1500));
    let after = rt.block_on(state(socket, &city.ids, &tokens));
    assert_eq!(
        before, after,
        "the state after recovery is the state before"
    );

    // A clean stop closes the day; the export replays to every SETTLED
    // the banks heard, at the same instant.
    unsafe_sigterm(&child);
    let output = child.wait_with_output().expect("serve stops");
    assert!(output.status.success());
    let replayed = replay_of_export(&journal_dir, dir.path());
    assert_eq!(replayed.len(), contents.records.len());
    let mut heard = 0;
    for s in &seen {
        for (seq, at_ms) in &s.settled {
            assert_eq!(replayed[seq], Some(at_text(*at_ms)), "payment {seq}");
            heard += 1;
        }
    }
    assert!(heard > 100, "{heard} SETTLED heard");
}

fn unsafe_sigterm(child: &Child) {
    // SAFETY: kill(2) on a child this test started and has not reaped.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(rc, 0);
}

/// In process, with a clean stop: the exported day replays to exactly the
/// settlements the service reported, every one of them (those of the
/// day's closing runs included), and to no other.
#[test]
fn the_exported_day_replays_to_exactly_the_reported_settlements() {
    let scenario = clearsim_model::config::Config::load(Path::new(CONFIG))
        .expect("config")
        .scenario;
    let dir = tempfile::tempdir().expect("dir");
    let (mut setup, tokens) = common::net::setup(&scenario, dir.path());
    let ids = setup.ids.clone();
    let journal_dir = dir.path().join("journal");
    setup.journal = Some(journal_dir.clone());
    let server =
        clearsim_service::net::spawn(setup, "127.0.0.1:0".parse().unwrap()).expect("spawn");
    let city = clearsim_model::workload::city::build_city(&scenario);
    let payments = clearsim_service::net::load::payments_of(&scenario, &city, 2005);
    let rt = runtime();
    let socket = server.address;
    let mut tasks = Vec::new();
    let answers = Arc::new(AtomicUsize::new(0));
    for p in (0..ids.len()).filter(|&p| !payments[p].is_empty()) {
        let (id, token) = (ids[p].clone(), tokens.of(p as u32).unwrap().to_vec());
        let list: Vec<_> = payments[p].iter().take(3000).copied().collect();
        let answers = answers.clone();
        tasks.push(rt.spawn(async move { bank(socket, &id, &token, &list, 0, &answers).await }));
    }
    // Every bank has its answers before the stop (bounded wait), and a
    // gridlock run or two passes.
    let total: usize = (0..ids.len()).map(|p| payments[p].len().min(3000)).sum();
    let deadline = Instant::now() + Duration::from_secs(60);
    while answers.load(Ordering::Relaxed) < total {
        assert!(
            Instant::now() < deadline,
            "the banks' answers never all came"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let served = server.stop().expect("stops");
    let seen: Vec<Seen> = rt.block_on(async {
        let mut out = Vec::new();
        for task in tasks {
            out.push(task.await.expect("bank task"));
        }
        out
    });
    assert!(seen.iter().all(|s| s.goodbye), "every bank told GOODBYE");
    let reported: BTreeMap<u64, u32> = seen.iter().flat_map(|s| s.settled.clone()).collect();
    assert_eq!(reported.len() as u64, served.settled);
    assert_eq!((served.accepted + served.rejected) as usize, total);
    let journal_text = journal_dir.display().to_string();
    let replayed = replay_of_export(&journal_text, dir.path());
    assert_eq!(replayed.len() as u64, served.accepted);
    for (seq, settle) in &replayed {
        assert_eq!(
            settle.clone(),
            reported.get(seq).map(|at| at_text(*at)),
            "payment {seq}"
        );
    }
    assert!(served.queued > 0 && served.settled > 0, "{served:?}");
}

/// A journal that is not one, one written for another config, or none at
/// all: exit 2, naming the file and what is wrong.
#[test]
fn bad_journals_are_refused_with_exit_2() {
    let dir = tempfile::tempdir().expect("dir");
    let missing = path(dir.path(), "nothing-here");
    common::cli::refused(
        &clearsim(&[
            "journal",
            "export",
            &missing,
            "--out",
            &path(dir.path(), "p.csv"),
        ]),
        &["nothing-here/journal.bin"],
    );
    let tokens = path(dir.path(), "tokens");
    ok(&clearsim(&["serve", CONFIG, "--issue-tokens", &tokens]));
    // Written for chengdu-2005 (a clean stop: a day and its end marker).
    let journal_dir = path(dir.path(), "j");
    ok(&clearsim_within(
        Duration::from_secs(60),
        &[
            "serve",
            CONFIG,
            "--tokens",
            &tokens,
            "--journal",
            &journal_dir,
        ]
        .into_iter()
        .chain(["--listen", &free_address(), "--duration", "100ms"])
        .collect::<Vec<_>>(),
    ));
    // It holds no instruction: an export would be refused by replay, so
    // it is not written.
    let empty_export = path(dir.path(), "empty.csv");
    common::cli::refused(
        &clearsim(&["journal", "export", &journal_dir, "--out", &empty_export]),
        &["j/journal.bin", "holds no instructions"],
    );
    assert!(!Path::new(&empty_export).exists());
    let other = "configs/chengdu-2010.toml";
    let other_tokens = path(dir.path(), "tokens-2010");
    ok(&clearsim(&[
        "serve",
        other,
        "--issue-tokens",
        &other_tokens,
    ]));
    let serve_other = [
        "serve",
        other,
        "--tokens",
        &other_tokens,
        "--journal",
        &journal_dir,
        "--listen",
    ];
    let address = free_address();
    let with = |extra: &[&str]| -> Vec<String> {
        serve_other
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect()
    };
    let args = with(&[&address, "--duration", "100ms"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::cli::refused(
        &clearsim_within(Duration::from_secs(60), &args),
        &["j/journal.bin", "written for another setup"],
    );
    std::fs::write(
        Path::new(&journal_dir).join("journal.bin"),
        b"CLRSJNL1 garbage",
    )
    .unwrap();
    common::cli::refused(
        &clearsim_within(Duration::from_secs(60), &args),
        &["j/journal.bin", "not a clearsim journal"],
    );
    // User-fixable paths are the user's (exit 2), not internal errors: a
    // journal others can read, and a --journal that is a file.
    {
        use std::os::unix::fs::PermissionsExt;
        let exposed = Path::new(&journal_dir).join("journal.bin");
        std::fs::set_permissions(&exposed, std::fs::Permissions::from_mode(0o644)).unwrap();
        common::cli::refused(
            &clearsim_within(Duration::from_secs(60), &args),
            &["j/journal.bin", "mode 0644", "chmod 600"],
        );
    }
    let a_file = path(dir.path(), "a-file");
    std::fs::write(&a_file, "not a folder").unwrap();
    let mut args = with(&[&address, "--duration", "100ms"]);
    let at = args.iter().position(|a| a == "--journal").unwrap() + 1;
    args[at] = a_file.clone();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::cli::refused(
        &clearsim_within(Duration::from_secs(60), &args),
        &["a-file"],
    );
}

/// A disk that stops taking the journal's writes mid-day (here a file
/// size limit, `RLIMIT_FSIZE`, with SIGXFSZ ignored so that the write
/// fails with EFBIG as on a full disk): the service stops with exit 1
/// and says which file failed and why, without calling it a bug; from
/// the failure on, no bank is welcomed (a WELCOME promises an engine
/// that answers); and every payment acknowledged before it is in the
/// journal, which a restart on a working disk recovers.
#[test]
fn a_failing_disk_stops_the_service_and_nobody_is_welcomed_after() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().expect("dir");
    let tokens_file = path(dir.path(), "tokens");
    ok(&clearsim(&[
        "serve",
        CONFIG,
        "--issue-tokens",
        &tokens_file,
    ]));
    let journal_dir = path(dir.path(), "journal");
    let scenario = clearsim_model::config::Config::load(Path::new(CONFIG))
        .expect("config")
        .scenario;
    let city = clearsim_model::workload::city::build_city(&scenario);
    let tokens = Tokens::load(Path::new(&tokens_file), &city.ids).expect("tokens");
    let payments = clearsim_service::net::load::payments_of(&scenario, &city, 2005);
    let p = (0..city.len())
        .max_by_key(|&p| payments[p].len())
        .expect("a sender");
    let address = free_address();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_clearsim"));
    command
        .args(["serve", CONFIG, "--tokens", &tokens_file])
        .args(["--journal", &journal_dir, "--listen", &address])
        .args(["--duration", "5m"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    // SAFETY: between fork and exec, only async-signal-safe calls
    // (setrlimit, signal) on the child's own limits and dispositions.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 256 * 1024,
                rlim_max: 256 * 1024,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    let mut child = command.spawn().expect("starts");
    let deadline = Instant::now() + WAIT;
    while std::net::TcpStream::connect(&address).is_err() {
        assert!(Instant::now() < deadline, "serve never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
    let socket: std::net::SocketAddr = address.parse().unwrap();
    let rt = runtime();
    let id = city.ids[p].clone();
    let token = tokens.of(p as u32).unwrap().to_vec();
    // 256 KiB holds a few thousand records: far fewer than are sent.
    let list: Vec<_> = payments[p].iter().take(50_000).copied().collect();
    let answers = AtomicUsize::new(0);
    let seen = rt.block_on(bank(socket, &id, &token, &list, 0, &answers));
    assert!(!seen.goodbye, "the day cannot have closed");
    assert!(!seen.acked.is_empty(), "some payments were acknowledged");
    assert!(
        seen.acked.len() < list.len(),
        "the disk failed before all were acknowledged"
    );
    // The service has failed: until its process is gone, every HELLO is
    // refused (bounded: 200 tries).
    let mut refused = 0;
    for _ in 0..200 {
        match rt.block_on(async {
            tokio::time::timeout(WAIT, Client::connect(socket, &id, &token)).await
        }) {
            Ok(Ok(_)) => panic!("WELCOME after the engine failed"),
            Ok(Err(e)) if e.to_string().contains("Unavailable") => refused += 1,
            Ok(Err(_)) => break, // connection refused: the process is gone
            Err(_) => panic!("no answer to HELLO within {WAIT:?}"),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("waits").is_none() {
        assert!(
            Instant::now() < deadline,
            "serve did not stop after the failure"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains("journal/journal.bin: cannot be written"),
        "{said}"
    );
    assert!(said.contains("File too large"), "{said}");
    assert!(said.contains("not a bug"), "{said}");
    assert!(!said.contains("This is a bug"), "{said}");
    eprintln!(
        "{} acknowledged before the disk failed; {refused} HELLOs refused after",
        seen.acked.len()
    );
    // On a working disk the day resumes with every acknowledged payment:
    // the torn frame the failed write left is cut off (and kept aside).
    let restarted = serve(&tokens_file, &journal_dir, &free_address());
    kill_9(restarted);
    check_journal(Path::new(&journal_dir), &[seen]);
}
