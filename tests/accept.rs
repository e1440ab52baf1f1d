//! A failed `accept()` does not stop the bank listener (issue 24): with the
//! process out of file descriptors, connections wait in the backlog and
//! the listener retries; once descriptors are free again, a bank connects
//! and is served. A test binary of its own: it lowers this process's file
//! limit. Bounded in count and time.

// getrlimit and setrlimit: libc calls.
#![allow(unsafe_code)]

mod common;

use std::path::Path;
use std::time::Duration;

use clearsim_service::client::Client;
use clearsim_service::net::protocol::{Notice, Request, Submit};
use clearsim_service::net::tokens::Tokens;
use clearsim_service::net::{Limits, ServeSetup};

const WAIT: Duration = Duration::from_secs(20);

/// Sets this process's soft limit of open files; returns the old one.
fn set_open_files(soft: u64) -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write `limit`.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        let old = limit.rlim_cur;
        limit.rlim_cur = soft.min(limit.rlim_max);
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
        old
    }
}

/// Descriptors this process has open now.
fn open_files() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_outlives_running_out_of_descriptors() {
    let scenario = clearsim_model::config::Config::load(Path::new("configs/chengdu-2005.toml"))
        .expect("config")
        .scenario;
    let dir = tempfile::tempdir().expect("dir");
    let mut setup =
        ServeSetup::of_scenario(&scenario, Limits::default(), 1000, 100_000).expect("setup");
    let ids = setup.ids.clone();
    let tokens = Tokens::issue(&dir.path().join("tokens"), &ids).expect("tokens");
    setup.tokens = tokens.clone();
    let server =
        clearsim_service::net::spawn(setup, "127.0.0.1:0".parse().unwrap()).expect("spawn");
    // Room for a few more descriptors only: the connections below take
    // two each (client and accepted side), so the service's accept fails
    // with EMFILE long before they are all in.
    let old = set_open_files(open_files() + 24);
    let mut held = Vec::new();
    for _ in 0..40 {
        match std::net::TcpStream::connect(server.address) {
            Ok(stream) => held.push(stream),
            Err(_) => break,
        }
    }
    // Let the listener hit the limit and back off.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let failed = server.accept_errors();
    drop(held);
    set_open_files(old);
    assert!(failed > 0, "the listener never ran out of descriptors");
    // A bank connects and is served.
    let token = tokens.of(0).expect("token");
    let mut bank = tokio::time::timeout(WAIT, Client::connect(server.address, &ids[0], token))
        .await
        .expect("connects in time after the descriptors came back")
        .expect("connects");
    bank.send(&Request::Submit(Submit {
        client_ref: 1,
        receiver: 1,
        amount_fen: 100,
        priority: 0,
        instrument: 0,
    }))
    .await
    .expect("sends");
    let notice = tokio::time::timeout(WAIT, bank.next())
        .await
        .expect("in time")
        .expect("a good frame")
        .expect("open");
    assert!(
        matches!(notice, Notice::Accepted { client_ref: 1, .. }),
        "{notice:?}"
    );
    let served = server.stop().expect("stops");
    assert_eq!(served.accepted, 1);
}
