//! The service's edge against hostile connections (issue 24): sockets that
//! never say HELLO hold only the unauthenticated slots, and only so many
//! per address, and are closed after the HELLO limit; one participant
//! cannot take every connection; an authenticated connection that sends
//! nothing is closed after the idle limit; the HTTP side has a connection
//! cap and a header timeout. Every loop is bounded in count and time.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use clearsim_service::client::{Client, ClientError};
use clearsim_service::net::protocol::{ErrorCode, Notice, Reason, Request, Submit};
use clearsim_service::net::tokens::Tokens;
use clearsim_service::net::{Limits, ServeSetup, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(20);

struct Service {
    server: Server,
    tokens: Tokens,
    ids: Vec<String>,
    /// Each participant's opening balance plus credit limit.
    cover_fen: Vec<i64>,
    _dir: tempfile::TempDir,
}

fn start(limits: Limits, http: bool) -> Service {
    start_queue(limits, http, 100_000)
}

fn start_queue(limits: Limits, http: bool, max_queued: usize) -> Service {
    let scenario = clearsim_model::config::Config::load(Path::new("configs/chengdu-2005.toml"))
        .expect("config")
        .scenario;
    let dir = tempfile::tempdir().expect("dir");
    let (mut setup, tokens) = common::net::setup_with(&scenario, dir.path(), limits, max_queued);
    let ids = setup.ids.clone();
    let cover_fen = (setup.opening_fen.iter().zip(&setup.credit_limit_fen))
        .map(|(o, c)| o.saturating_add(*c))
        .collect();
    if http {
        setup.http = Some("127.0.0.1:0".parse().unwrap());
    }
    let server =
        clearsim_service::net::spawn(setup, "127.0.0.1:0".parse().unwrap()).expect("spawn");
    Service {
        server,
        tokens,
        ids,
        cover_fen,
        _dir: dir,
    }
}

impl Service {
    async fn connect(&self, p: usize) -> Result<Client, ClientError> {
        let token = self.tokens.of(p as u32).expect("token");
        tokio::time::timeout(
            WAIT,
            Client::connect(self.server.address, &self.ids[p], token),
        )
        .await
        .expect("in time")
    }
}

/// A socket to `to` from the loopback address `from` (any of 127/8).
async fn socket_from(from: [u8; 4], to: SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from((from, 0)))
        .expect("bind a loopback address");
    socket.connect(to).await.expect("connects")
}

/// The first notice the service sends on a raw socket, or `None` if it
/// closes first; bounded by `within`.
async fn first_notice(stream: &mut TcpStream, within: Duration) -> Option<Notice> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 512];
    let deadline = tokio::time::Instant::now() + within;
    // Bounded: a notice is at most 160 bytes.
    for _ in 0..64 {
        if let Ok(Some((notice, _))) = Notice::decode(&bytes) {
            return Some(notice);
        }
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return None,
            Ok(Ok(n)) => bytes.extend_from_slice(&chunk[..n]),
            Err(_) => panic!("nothing within {within:?}"),
        }
    }
    None
}

fn error_code(notice: Option<Notice>) -> ErrorCode {
    match notice {
        Some(Notice::Error { code, .. }) => code,
        other => panic!("expected an ERROR, got {other:?}"),
    }
}

async fn accepted(client: &mut Client, client_ref: u64) -> bool {
    answer(client, client_ref, 100).await == Some(None)
}

/// Sends a payment of `amount_fen` to the next participant; its answer:
/// `Some(None)` accepted, `Some(Some(reason))` rejected, `None` no answer.
async fn answer(client: &mut Client, client_ref: u64, amount_fen: i64) -> Option<Option<Reason>> {
    client
        .send(&Request::Submit(Submit {
            client_ref,
            receiver: (client.participant + 1) % 5,
            amount_fen,
            priority: 0,
            instrument: 0,
        }))
        .await
        .expect("sends");
    // Bounded: credits and settlements may come first.
    for _ in 0..1_000 {
        match tokio::time::timeout(WAIT, client.next()).await {
            Ok(Ok(Some(Notice::Accepted { client_ref: r, .. }))) if r == client_ref => {
                return Some(None);
            }
            Ok(Ok(Some(Notice::Rejected {
                client_ref: r,
                reason,
            }))) if r == client_ref => return Some(Some(reason)),
            Ok(Ok(Some(_))) => continue,
            _ => return None,
        }
    }
    None
}

#[tokio::test]
async fn one_bank_cannot_fill_the_queue_for_the_others() {
    // 100 payments may wait, 25 of them one sender's (a quarter).
    let service = start_queue(Limits::default(), false, 100);
    let mut hostile = service.connect(0).await.expect("in");
    let mut other = service.connect(1).await.expect("in");
    // A payment it cannot cover, then small ones queued behind it (FIFO).
    let blocked = Some(None);
    assert_eq!(
        answer(&mut hostile, 0, service.cover_fen[0] + 1).await,
        blocked
    );
    let mut refused = 0;
    for k in 1..40 {
        match answer(&mut hostile, k, 1).await {
            Some(None) => {}
            Some(Some(Reason::QueueFull)) => refused += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(refused, 40 - 25, "its share is 25 queued payments");
    // Another bank still queues what it cannot cover yet.
    assert_eq!(
        answer(&mut other, 0, service.cover_fen[1] + 1).await,
        blocked
    );
    service.server.stop().expect("stops");
}

#[tokio::test]
async fn sockets_that_never_say_hello_hold_no_bank_slot_and_are_closed() {
    let service = start(
        Limits {
            max_connections: 2,
            max_unauthenticated: 4,
            max_unauthenticated_per_address: 4,
            hello: Duration::from_millis(300),
            ..Limits::default()
        },
        false,
    );
    let mut bank = service.connect(0).await.expect("a bank gets in");
    let mut silent = Vec::new();
    for _ in 0..3 {
        silent.push(TcpStream::connect(service.server.address).await.unwrap());
    }
    // Three silent sockets and a bank already in, with two connections
    // allowed: a second bank still gets in (silent sockets never count
    // against --max-connections).
    let mut second = service.connect(1).await.expect("a second bank gets in");
    assert!(accepted(&mut second, 2).await);
    silent.push(TcpStream::connect(service.server.address).await.unwrap());
    // The unauthenticated slots are full: the next socket is told so...
    let mut fifth = TcpStream::connect(service.server.address).await.unwrap();
    assert_eq!(
        error_code(first_notice(&mut fifth, WAIT).await),
        ErrorCode::Busy
    );
    // ...and the banks in are served.
    assert!(accepted(&mut bank, 1).await);
    // Each silent socket is told its HELLO is late, and closed.
    for stream in &mut silent {
        assert_eq!(
            error_code(first_notice(stream, WAIT).await),
            ErrorCode::Timeout
        );
        assert!(first_notice(stream, WAIT).await.is_none());
    }
    service.server.stop().expect("stops");
}

#[tokio::test]
async fn one_address_cannot_take_every_unauthenticated_slot() {
    let service = start(
        Limits {
            max_unauthenticated: 100,
            max_unauthenticated_per_address: 3,
            hello: Duration::from_secs(5),
            ..Limits::default()
        },
        false,
    );
    let address = service.server.address;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(socket_from([127, 0, 0, 2], address).await);
    }
    let mut fourth = socket_from([127, 0, 0, 2], address).await;
    match first_notice(&mut fourth, WAIT).await {
        Some(Notice::Error { code, message }) => {
            assert_eq!(code, ErrorCode::Busy);
            assert!(message.contains("this address"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // Another address still authenticates at once.
    let mut bank = service.connect(0).await.expect("another address gets in");
    assert!(accepted(&mut bank, 1).await);
    drop(held);
    service.server.stop().expect("stops");
}

#[tokio::test]
async fn one_participant_cannot_take_every_connection() {
    let service = start(
        Limits {
            max_per_participant: 2,
            ..Limits::default()
        },
        false,
    );
    let _a = service.connect(0).await.expect("first");
    let _b = service.connect(0).await.expect("second");
    match service.connect(0).await {
        Err(ClientError::Refused { code, message }) => {
            assert_eq!(code, ErrorCode::Busy);
            assert!(message.contains("this participant"), "{message}");
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a third connection of one participant got in"),
    }
    let mut other = service
        .connect(1)
        .await
        .expect("another participant gets in");
    assert!(accepted(&mut other, 1).await);
    // A slot given back is taken again.
    drop(_a);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match service.connect(0).await {
            Ok(_) => break,
            Err(_) => assert!(tokio::time::Instant::now() < deadline, "slot never freed"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    service.server.stop().expect("stops");
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_idle_limit() {
    let service = start(
        Limits {
            idle: Duration::from_millis(400),
            ..Limits::default()
        },
        false,
    );
    let mut idle = service.connect(0).await.expect("in");
    let mut busy = service.connect(1).await.expect("in");
    let started = tokio::time::Instant::now();
    // The busy one sends a QUERY every 100 ms for a second.
    for k in 0..10 {
        busy.send(&Request::Query { query_ref: k }).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(accepted(&mut busy, 99).await, "a busy connection stays");
    match tokio::time::timeout(WAIT, idle.next())
        .await
        .expect("in time")
    {
        Ok(Some(Notice::Error { code, .. })) => assert_eq!(code, ErrorCode::Timeout),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(400));
    service.server.stop().expect("stops");
}

/// `GET /metrics` on a fresh connection: its status line.
async fn get_metrics(address: SocketAddr) -> String {
    let mut stream = TcpStream::connect(address).await.expect("connects");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    let _ = tokio::time::timeout(WAIT, stream.read_to_string(&mut text)).await;
    text.lines().next().unwrap_or_default().to_string()
}

#[tokio::test]
async fn http_connections_are_capped_and_their_headers_time_out() {
    use clearsim_service::net::http::{HEADER_TIMEOUT, MAX_HTTP_CONNECTIONS};
    let service = start(Limits::default(), true);
    let http = service.server.http_address.expect("http");
    assert_eq!(get_metrics(http).await, "HTTP/1.1 200 OK");
    let mut silent = Vec::new();
    for _ in 0..MAX_HTTP_CONNECTIONS {
        silent.push(TcpStream::connect(http).await.unwrap());
    }
    // Give the listener a moment to take them all.
    tokio::time::sleep(Duration::from_millis(200)).await;
    // One more is closed unanswered.
    let started = tokio::time::Instant::now();
    assert_eq!(get_metrics(http).await, "");
    assert!(started.elapsed() < HEADER_TIMEOUT);
    // The silent ones are closed once their headers are late; then a
    // request is answered again.
    for stream in &mut silent {
        // Whatever it says before (a 408, or nothing), it closes.
        let mut said = Vec::new();
        tokio::time::timeout(HEADER_TIMEOUT * 3, stream.read_to_end(&mut said))
            .await
            .expect("closed within the header timeout")
            .ok();
    }
    assert!(started.elapsed() >= HEADER_TIMEOUT / 2);
    assert_eq!(get_metrics(http).await, "HTTP/1.1 200 OK");
    service.server.stop().expect("stops");
}

#[test]
fn a_journal_past_a_senders_queue_share_is_refused_naming_the_record() {
    use clearsim_service::net::ServeError;
    use clearsim_service::net::journal::{self, JournalError, Record};
    let scenario = clearsim_model::config::Config::load(Path::new("configs/chengdu-2005.toml"))
        .expect("config")
        .scenario;
    let dir = tempfile::tempdir().expect("dir");
    let mut setup =
        ServeSetup::of_scenario(&scenario, Limits::default(), 1000, 100).expect("setup");
    let journal_dir = dir.path().join("journal");
    // Records the service would never have accepted: one the sender
    // cannot cover, then 30 queued behind it, past its share of 25.
    let cover_fen = setup.opening_fen[0] + setup.credit_limit_fen[0];
    let mut writer = journal::open(&journal_dir, &setup.journal_header().unwrap())
        .expect("a new journal")
        .writer;
    let mut bytes = Vec::new();
    for seq in 0..31u64 {
        Record {
            seq,
            client_ref: seq,
            amount_fen: if seq == 0 { cover_fen + 1 } else { 1 },
            sender: 0,
            receiver: 1,
            at_ms: 0,
            instrument: 0,
            priority: 0,
        }
        .encode(&mut bytes);
    }
    writer.append(&bytes);
    writer.commit(0).expect("written");
    drop(writer);
    setup.journal = Some(journal_dir);
    setup.tokens = Tokens::issue(&dir.path().join("tokens"), &setup.ids).expect("tokens");
    match clearsim_service::net::spawn(setup, "127.0.0.1:0".parse().unwrap()) {
        Err(ServeError::Journal(JournalError::BadRecord { seq, reason, .. })) => {
            assert_eq!(seq, 25, "the first record past the share");
            assert!(reason.contains("share"), "{reason}");
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a journal past the share was recovered"),
    }
}
