//! `clearsim serve` over loopback: authentication, a bank's own account
//! only, pipelining, notices to sender and receiver, malformed frames and
//! slow readers closed without harm to the others, the connection limit,
//! and money conserved when the service stops. Every loop is bounded in
//! count and time.

// A test reads as one story, setup to assertions: the 70-line limit is
// for the product's code.
#![allow(clippy::too_many_lines)]
// Signals and pipes to a child process: libc calls.
#![allow(unsafe_code)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::cli::{clearsim, clearsim_within, ok, path, refused};
use common::net::free_address;

use clearsim_service::client::{Client, ClientError};
use clearsim_service::net::protocol::{ErrorCode, Notice, Reason, Request, Submit};
use clearsim_service::net::tokens::Tokens;
use clearsim_service::net::{Limits, ServeSetup, Server};

const WAIT: Duration = Duration::from_secs(20);

struct Service {
    server: Server,
    tokens: Tokens,
    ids: Vec<String>,
    opening_fen: Vec<i64>,
    _dir: tempfile::TempDir,
}

fn start(limits: Limits) -> Service {
    let scenario = clearsim_model::config::Config::load(Path::new("configs/chengdu-2005.toml"))
        .expect("config")
        .scenario;
    let dir = tempfile::tempdir().expect("dir");
    let mut setup = ServeSetup::of_scenario(&scenario, limits, 1000, 100_000).expect("setup");
    let ids = setup.ids.clone();
    let tokens = Tokens::issue(&dir.path().join("tokens"), &ids).expect("tokens");
    setup.tokens = tokens.clone();
    let opening_fen = setup.opening_fen.clone();
    let server =
        clearsim_service::net::spawn(setup, "127.0.0.1:0".parse().unwrap()).expect("spawn");
    Service {
        server,
        tokens,
        ids,
        opening_fen,
        _dir: dir,
    }
}

impl Service {
    async fn connect(&self, p: usize) -> Client {
        let token = self.tokens.of(p as u32).expect("token");
        tokio::time::timeout(
            WAIT,
            Client::connect(self.server.address, &self.ids[p], token),
        )
        .await
        .expect("in time")
        .expect("connects")
    }
}

async fn next(client: &mut Client) -> Notice {
    tokio::time::timeout(WAIT, client.next())
        .await
        .expect("a notice in time")
        .expect("a good frame")
        .expect("still open")
}

fn submit(client_ref: u64, receiver: u32, amount_fen: i64) -> Request {
    Request::Submit(Submit {
        client_ref,
        receiver,
        amount_fen,
        priority: 0,
        instrument: 0,
    })
}

async fn balance(client: &mut Client) -> i64 {
    client.send(&Request::Query { query_ref: 9 }).await.unwrap();
    // Bounded: the answer comes behind at most the notices already due.
    for _ in 0..100_000 {
        if let Notice::Balance { balance_fen, .. } = next(client).await {
            return balance_fen;
        }
    }
    panic!("no BALANCE");
}

#[tokio::test]
async fn a_payment_is_accepted_settled_and_credited() {
    let service = start(Limits::default());
    let mut a = service.connect(0).await;
    let mut b = service.connect(1).await;
    assert_eq!((a.participant, b.participant), (0, 1));
    a.send(&submit(7, 1, 12_345)).await.unwrap();
    let Notice::Accepted { client_ref: 7, seq } = next(&mut a).await else {
        panic!("ACCEPTED first");
    };
    assert!(
        matches!(next(&mut a).await, Notice::Settled { client_ref: 7, seq: s, .. } if s == seq)
    );
    assert!(matches!(
        next(&mut b).await,
        Notice::Credit { seq: s, sender: 0, amount_fen: 12_345, .. } if s == seq
    ));
    // Each bank sees its own account: one debited, one credited.
    assert_eq!(balance(&mut a).await, service.opening_fen[0] - 12_345);
    assert_eq!(balance(&mut b).await, service.opening_fen[1] + 12_345);
    // Refusals keep the connection open.
    a.send(&submit(8, 0, 1)).await.unwrap();
    assert!(matches!(
        next(&mut a).await,
        Notice::Rejected {
            client_ref: 8,
            reason: Reason::SelfPayment
        }
    ));
    a.send(&submit(9, 1, 0)).await.unwrap();
    assert!(matches!(
        next(&mut a).await,
        Notice::Rejected {
            reason: Reason::BadAmount,
            ..
        }
    ));
    a.send(&submit(10, 10_000, 5)).await.unwrap();
    assert!(matches!(
        next(&mut a).await,
        Notice::Rejected {
            reason: Reason::UnknownReceiver,
            ..
        }
    ));
    a.send(&Request::Bye).await.unwrap();
    assert_eq!(
        next(&mut a).await,
        Notice::Goodbye {
            accepted: 1,
            rejected: 3
        }
    );
    let served = service.server.stop().expect("stops");
    assert_eq!(
        (served.accepted, served.settled, served.rejected),
        (1, 1, 3)
    );
    assert_eq!(served.total_fen, service.opening_fen.iter().sum::<i64>());
}

/// Protocol version 2: a payment that settles on arrival is answered
/// with one ACCEPTED_SETTLED (its receiver is credited as before); one
/// that queues is answered ACCEPTED, and its SETTLED comes when the queue
/// releases it. A version 1 bank beside it still hears both notices; a
/// version 3 HELLO is refused.
#[tokio::test]
async fn version_2_answers_a_payment_settled_on_arrival_with_one_notice() {
    use clearsim_service::net::protocol::VERSION;
    let service = start(Limits::default());
    let connect = |p: usize, version: u16| {
        let token = service.tokens.of(p as u32).expect("token").to_vec();
        let (address, id) = (service.server.address, service.ids[p].clone());
        async move {
            tokio::time::timeout(
                WAIT,
                Client::connect_with(address, &id, &token, None, version),
            )
            .await
            .expect("in time")
        }
    };
    assert_eq!(VERSION, 2);
    let mut a = connect(0, 2).await.expect("version 2 welcomed");
    let mut b = service.connect(1).await;
    a.send(&submit(7, 1, 12_345)).await.unwrap();
    let Notice::AcceptedSettled {
        client_ref: 7, seq, ..
    } = next(&mut a).await
    else {
        panic!("one ACCEPTED_SETTLED");
    };
    assert!(matches!(
        next(&mut b).await,
        Notice::Credit { seq: s, sender: 0, amount_fen: 12_345, .. } if s == seq
    ));
    // More than A's balance and credit: it queues, then settles once B
    // pays A enough.
    let short = service.opening_fen[0] - 12_345 + 1;
    let limit = balance_and_limit(&mut a).await.1;
    a.send(&submit(8, 1, short + limit)).await.unwrap();
    let Notice::Accepted {
        client_ref: 8,
        seq: queued,
    } = next(&mut a).await
    else {
        panic!("ACCEPTED for a payment that queues");
    };
    b.send(&submit(1, 0, 10_000_000)).await.unwrap();
    // B's answers (version 1): ACCEPTED, then SETTLED.
    assert!(matches!(
        next(&mut b).await,
        Notice::Accepted { client_ref: 1, .. }
    ));
    assert!(matches!(
        next(&mut b).await,
        Notice::Settled { client_ref: 1, .. }
    ));
    // A: credited, then its queued payment settles with the usual SETTLED.
    let mut settled = false;
    for _ in 0..10 {
        match next(&mut a).await {
            Notice::Credit { sender: 1, .. } => {}
            Notice::Settled {
                client_ref: 8,
                seq: s,
                ..
            } if s == queued => {
                settled = true;
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(settled, "the queued payment settled");
    a.send(&Request::Bye).await.unwrap();
    assert_eq!(
        next(&mut a).await,
        Notice::Goodbye {
            accepted: 2,
            rejected: 0
        }
    );
    let refused = connect(2, 3).await;
    assert!(
        matches!(
            &refused,
            Err(ClientError::Refused {
                code: ErrorCode::UnsupportedVersion,
                ..
            })
        ),
        "{:?}",
        refused.err()
    );
    let served = service.server.stop().expect("stops");
    assert_eq!((served.accepted, served.settled), (3, 3));
}

async fn balance_and_limit(client: &mut Client) -> (i64, i64) {
    client.send(&Request::Query { query_ref: 9 }).await.unwrap();
    for _ in 0..100_000 {
        if let Notice::Balance {
            balance_fen,
            credit_limit_fen,
            ..
        } = next(client).await
        {
            return (balance_fen, credit_limit_fen);
        }
    }
    panic!("no BALANCE");
}

#[tokio::test]
async fn amounts_that_could_overflow_the_ledger_are_refused_and_the_service_lives() {
    // Issue 24: SUBMIT(i64::MAX) then SUBMIT(1) overflowed the queued sum
    // at the next gridlock run; ELSEWHERE (unlimited credit) paying
    // i64::MAX overflowed a balance. Each sender now has a share of what
    // the day can hold (clearsim_core::money::AmountBudget).
    let service = start(Limits::default());
    let share = clearsim_core::money::AmountBudget::new(&service.opening_fen)
        .expect("openings fit")
        .share_fen();
    let elsewhere = service.ids.len() - 1;
    assert_eq!(service.ids[elsewhere], "ELSEWHERE");
    let mut a = service.connect(0).await;
    let mut outside = service.connect(elsewhere).await;
    let rejected = |n: Notice| {
        matches!(
            n,
            Notice::Rejected {
                reason: Reason::BadAmount,
                ..
            }
        )
    };
    for (client_ref, amount_fen) in [(1, i64::MAX), (2, 1 << 62), (3, share + 1)] {
        a.send(&submit(client_ref, 1, amount_fen)).await.unwrap();
        assert!(rejected(next(&mut a).await), "{amount_fen} from a bank");
        outside
            .send(&submit(client_ref, 0, amount_fen))
            .await
            .unwrap();
        assert!(
            rejected(next(&mut outside).await),
            "{amount_fen} from outside"
        );
    }
    // ELSEWHERE may pay its whole share, once (it has unlimited credit).
    outside.send(&submit(4, 0, share)).await.unwrap();
    assert!(matches!(
        next(&mut outside).await,
        Notice::Accepted { client_ref: 4, .. }
    ));
    assert!(matches!(
        next(&mut outside).await,
        Notice::Settled { client_ref: 4, .. }
    ));
    outside.send(&submit(5, 0, 1)).await.unwrap();
    assert!(rejected(next(&mut outside).await), "past its share");
    // The others keep theirs, and the service goes on settling.
    a.send(&submit(6, 1, 1)).await.unwrap();
    // Behind the CREDIT of ELSEWHERE's payment.
    assert!(matches!(next(&mut a).await, Notice::Credit { amount_fen, .. } if amount_fen == share));
    assert!(matches!(
        next(&mut a).await,
        Notice::Accepted { client_ref: 6, .. }
    ));
    let served = service.server.stop().expect("stops");
    assert_eq!((served.accepted, served.rejected), (2, 7));
    assert_eq!(served.total_fen, service.opening_fen.iter().sum::<i64>());
}

#[tokio::test]
async fn wrong_tokens_and_unknown_banks_are_refused_alike() {
    let service = start(Limits::default());
    let other = service.tokens.of(1).unwrap();
    for (id, token) in [
        (service.ids[0].as_str(), other),
        ("NOBANK", other),
        (service.ids[0].as_str(), &b"short"[..]),
    ] {
        match Client::connect(service.server.address, id, token).await {
            Err(ClientError::Refused { code, .. }) => assert_eq!(code, ErrorCode::BadCredentials),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("{id} got in"),
        }
    }
    service.server.stop().expect("stops");
}

#[tokio::test]
async fn pipelined_submits_are_all_answered_in_order() {
    let service = start(Limits::default());
    let mut a = service.connect(2).await;
    let _b = service.connect(3).await;
    const N: u64 = 2_000;
    for i in 0..N {
        a.writer.queue(&submit(i, 3, 100));
    }
    a.writer.flush().await.unwrap();
    let (mut accepted, mut settled) = (0u64, 0u64);
    // Bounded: 2 notices per SUBMIT.
    for _ in 0..2 * N {
        match next(&mut a).await {
            Notice::Accepted { client_ref, .. } => {
                assert_eq!(client_ref, accepted, "answers in order");
                accepted += 1;
            }
            Notice::Settled { .. } => settled += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((accepted, settled), (N, N));
    service.server.stop().expect("stops");
}

#[tokio::test]
async fn the_in_flight_limit_refuses_in_turn() {
    let service = start(Limits {
        max_in_flight: 4,
        ..Limits::default()
    });
    let mut a = service.connect(2).await;
    const N: u64 = 5_000;
    for i in 0..N {
        a.writer.queue(&submit(i, 3, 100));
    }
    a.writer.flush().await.unwrap();
    let (mut answered, mut refused) = (0u64, 0u64);
    // Bounded: at most 2 notices per SUBMIT.
    for _ in 0..2 * N {
        if answered == N {
            break;
        }
        match next(&mut a).await {
            Notice::Accepted { client_ref, .. } => {
                assert_eq!(client_ref, answered, "answers in the SUBMITs' order");
                answered += 1;
            }
            Notice::Rejected { client_ref, reason } => {
                assert_eq!(client_ref, answered, "answers in the SUBMITs' order");
                assert_eq!(reason, Reason::TooManyInFlight);
                answered += 1;
                refused += 1;
            }
            _ => {}
        }
    }
    assert_eq!(answered, N);
    // The edge decodes a pipelined burst far faster than the engine
    // answers it: the limit bites.
    assert!(refused > 0, "5,000 pipelined SUBMITs against a limit of 4");
    service.server.stop().expect("stops");
}

#[tokio::test]
async fn a_malformed_frame_closes_only_its_connection() {
    let service = start(Limits::default());
    let mut bad = service.connect(4).await;
    let mut good = service.connect(5).await;
    // A frame of an unknown type, then garbage.
    bad.writer
        .send_raw(&[1, 0, 0, 0, 0x77, 9, 9, 9])
        .await
        .unwrap();
    assert!(matches!(
        next(&mut bad).await,
        Notice::Error {
            code: ErrorCode::UnknownType,
            ..
        }
    ));
    let closed = tokio::time::timeout(WAIT, bad.next())
        .await
        .expect("in time");
    assert!(matches!(closed, Ok(None)), "{closed:?}");
    good.send(&submit(1, 4, 50)).await.unwrap();
    assert!(matches!(next(&mut good).await, Notice::Accepted { .. }));
    // A length beyond the limit: refused before its bytes arrive.
    let mut huge = service.connect(6).await;
    huge.writer.send_raw(&u32::MAX.to_le_bytes()).await.unwrap();
    assert!(matches!(
        next(&mut huge).await,
        Notice::Error {
            code: ErrorCode::TooLarge,
            ..
        }
    ));
    service.server.stop().expect("stops");
}

#[tokio::test]
async fn a_reader_that_does_not_read_is_dropped_and_stalls_nobody() {
    let limits = Limits {
        outbound: 64,
        max_in_flight: 1_000_000,
        ..Limits::default()
    };
    let service = start(limits);
    let mut slow = service.connect(7).await;
    let mut other = service.connect(8).await;
    // Far more answers than its queue and the socket buffers hold, never
    // read while being sent; bounded in count and time.
    let flood = async {
        for round in 0..200u64 {
            for i in 0..1_000 {
                // To a bank with no connection: nobody else gets its credits.
                slow.writer.queue(&submit(round * 1_000 + i, 10, 1));
            }
            if slow.writer.flush().await.is_err() {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(WAIT, flood).await;
    // Dropped: only the other bank's connection is left.
    let deadline = std::time::Instant::now() + WAIT;
    while service.server.connections() > 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the slow reader is still connected"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The other bank is served as before.
    other.send(&submit(1, 9, 10)).await.unwrap();
    let mut accepted = false;
    for _ in 0..1_000_000 {
        match next(&mut other).await {
            Notice::Accepted { client_ref: 1, .. } => {
                accepted = true;
                break;
            }
            _ => continue,
        }
    }
    assert!(accepted);
    // The slow one finds its connection closed (after an ERROR, if the
    // service could still write one): bounded reads.
    let mut ended = false;
    for _ in 0..1_000_000 {
        match tokio::time::timeout(WAIT, slow.next())
            .await
            .expect("in time")
        {
            Ok(Some(Notice::Error { code, .. })) => assert_eq!(code, ErrorCode::SlowReader),
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => {
                ended = true;
                break;
            }
        }
    }
    assert!(ended);
    service.server.stop().expect("stops");
}

#[tokio::test]
async fn connections_beyond_the_limit_are_told_so() {
    let service = start(Limits {
        max_connections: 2,
        ..Limits::default()
    });
    let _a = service.connect(0).await;
    let _b = service.connect(1).await;
    let token = service.tokens.of(2).unwrap();
    match Client::connect(service.server.address, &service.ids[2], token).await {
        Err(ClientError::Refused { code, .. }) => assert_eq!(code, ErrorCode::Busy),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a third connection got in"),
    }
    service.server.stop().expect("stops");
}

/// A free loopback port (bound and released: a small race, on loopback
/// only).
#[test]
fn serve_and_load_run_end_to_end_and_account_for_every_instruction() {
    let dir = tempfile::tempdir().expect("dir");
    let tokens = path(dir.path(), "tokens");
    let config = "configs/chengdu-2005.toml";
    ok(&clearsim(&["serve", config, "--issue-tokens", &tokens]));
    let address = free_address();
    let serve = common::net::serving(
        &[
            "serve",
            config,
            "--tokens",
            &tokens,
            "--listen",
            &address,
            "--duration",
            "8s",
        ],
        &address,
    );
    let out = path(dir.path(), "out");
    let load = clearsim_within(
        Duration::from_secs(60),
        &[
            "load",
            config,
            "--connect",
            &address,
            "--tokens",
            &tokens,
            "--duration",
            "1s",
            "--out",
            &out,
        ],
    );
    let printed = ok(&load);
    assert!(printed.contains("the service's counts agree"), "{printed}");
    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("out/load.json")).expect("load.json"),
    )
    .expect("json");
    let n = |k: &str| json[k].as_u64().expect(k);
    assert!(n("sent") > 0);
    assert_eq!(n("sent"), n("accepted") + n("rejected"));
    // Open loop, a modest rate: latency measured from the intended times.
    let open = clearsim_within(
        Duration::from_secs(60),
        &[
            "load",
            config,
            "--connect",
            &address,
            "--tokens",
            &tokens,
            "--duration",
            "1s",
            "--rate",
            "20000",
        ],
    );
    assert!(ok(&open).contains("open loop, 20000/s"));
    let finished = serve.wait_with_output().expect("serve ends");
    let said = String::from_utf8_lossy(&finished.stdout);
    assert!(finished.status.success(), "{said}");
    assert!(said.contains("money conserved"), "{said}");
}

#[test]
fn token_files_and_unreachable_services_are_refused_with_exit_2() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("dir");
    let tokens = path(dir.path(), "tokens");
    let config = "configs/chengdu-2005.toml";
    ok(&clearsim(&["serve", config, "--issue-tokens", &tokens]));
    // Issuing again would lock out every bank holding the old tokens.
    let issued = std::fs::read(&tokens).unwrap();
    refused(
        &clearsim(&["serve", config, "--issue-tokens", &tokens]),
        &[&tokens, "exists", "--force"],
    );
    assert_eq!(std::fs::read(&tokens).unwrap(), issued);
    ok(&clearsim(&[
        "serve",
        config,
        "--issue-tokens",
        &tokens,
        "--force",
    ]));
    assert_ne!(std::fs::read(&tokens).unwrap(), issued);
    std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o644)).unwrap();
    refused(
        &clearsim(&["serve", config, "--tokens", &tokens, "--duration", "1s"]),
        &[&tokens, "chmod 600"],
    );
    let bad = path(dir.path(), "bad");
    std::fs::write(&bad, "ICBC 00\n").unwrap();
    std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o600)).unwrap();
    refused(
        &clearsim(&["serve", config, "--tokens", &bad, "--duration", "1s"]),
        &[&bad, "line 1", "64 hex digits"],
    );
    refused(&clearsim(&["serve", config]), &["--tokens"]);
    std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o600)).unwrap();
    refused(
        &clearsim(&[
            "load",
            config,
            "--tokens",
            &tokens,
            "--connect",
            &free_address(),
            "--duration",
            "1s",
        ]),
        &["cannot reach the service"],
    );
}

#[test]
fn remote_addresses_and_bad_queue_shares_are_refused_with_exit_2() {
    let dir = tempfile::tempdir().expect("dir");
    let tokens = path(dir.path(), "tokens");
    let config = "configs/chengdu-2005.toml";
    ok(&clearsim(&["serve", config, "--issue-tokens", &tokens]));
    // Beyond loopback only when asked (tokens travel in clear).
    for (flag, address) in [("--listen", "0.0.0.0:0"), ("--http", "0.0.0.0:0")] {
        refused(
            &clearsim(&[
                "serve",
                config,
                "--tokens",
                &tokens,
                flag,
                address,
                "--duration",
                "1s",
            ]),
            &[
                flag,
                "0.0.0.0:0",
                "not a loopback address",
                "--allow-remote",
            ],
        );
    }
    refused(
        &clearsim(&[
            "serve",
            config,
            "--tokens",
            &tokens,
            "--max-queued",
            "10",
            "--max-queued-per-sender",
            "11",
            "--duration",
            "1s",
        ]),
        &["--max-queued-per-sender 11", "more than --max-queued 10"],
    );
}

/// Raises this process's open-file limit to what 1,000 connections need
/// on both ends (the service runs in the test's process).
fn allow_open_files(needed: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write `limit`.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        if limit.rlim_cur < needed {
            assert!(
                limit.rlim_max >= needed,
                "this test needs {needed} open files; the hard limit is {}",
                limit.rlim_max
            );
            limit.rlim_cur = needed;
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
        }
    }
}

#[tokio::test]
async fn a_thousand_connections_are_each_answered() {
    allow_open_files(4096);
    let service = start(Limits::default());
    let banks = service.ids.len() - 1;
    let mut clients = Vec::new();
    for k in 0..1_000 {
        clients.push(service.connect(k % banks).await);
    }
    assert_eq!(service.server.connections(), 1_000);
    for (k, client) in clients.iter_mut().enumerate() {
        let receiver = ((client.participant as usize + 1) % banks) as u32;
        client.send(&submit(k as u64, receiver, 100)).await.unwrap();
    }
    for (k, client) in clients.iter_mut().enumerate() {
        // Bounded: credits from the others may come first (a bank has
        // about 22 connections, each credited by others' payments).
        let mut answered = false;
        for _ in 0..10_000 {
            match next(client).await {
                Notice::Accepted { client_ref, .. } => {
                    assert_eq!(client_ref, k as u64);
                    answered = true;
                    break;
                }
                Notice::Credit { .. } | Notice::Settled { .. } => continue,
                other => panic!("{other:?}"),
            }
        }
        assert!(answered, "connection {k}");
    }
    let served = service.server.stop().expect("stops");
    assert_eq!(served.accepted, 1_000);
    assert_eq!(served.total_fen, service.opening_fen.iter().sum::<i64>());
}

#[tokio::test]
async fn random_bytes_on_some_connections_leave_the_others_working() {
    use rand::{RngExt, SeedableRng};
    let service = start(Limits::default());
    let mut good = service.connect(0).await;
    let mut rng = rand_pcg::Pcg64::seed_from_u64(2026);
    for k in 0..20 {
        let mut bad = service.connect(1 + k % 10).await;
        let length = rng.random_range(1..300);
        let bytes: Vec<u8> = (0..length).map(|_| rng.random()).collect();
        let _ = bad.writer.send_raw(&bytes).await;
        // The good connection is served between every attack.
        good.send(&submit(k as u64, 11, 10)).await.unwrap();
        let mut accepted = false;
        // Bounded: ACCEPTED, or SETTLED of the one before, comes first.
        for _ in 0..10 {
            if let Notice::Accepted { client_ref, .. } = next(&mut good).await {
                assert_eq!(client_ref, k as u64);
                accepted = true;
                break;
            }
        }
        assert!(accepted);
    }
    service.server.stop().expect("stops");
}
