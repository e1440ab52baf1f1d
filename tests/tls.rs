//! TLS for the bank protocol (issue 24): a service with a certificate
//! (generated here with rcgen, for 127.0.0.1) serves banks that trust it;
//! a client in clear, and one that trusts another certificate, get
//! nothing; `serve --tls-cert --tls-key` and `load --tls-ca` run end to
//! end. Every wait is bounded.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use clearsim_service::client::Client;
use clearsim_service::net::protocol::{Notice, Request, Submit};
use clearsim_service::net::{Limits, tls};
use common::cli::{clearsim, clearsim_within, ok, path};
use common::net::free_address;

const WAIT: Duration = Duration::from_secs(20);

/// A self-signed certificate for 127.0.0.1 and its key, as PEM files.
fn certificate(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let generated =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .expect("a certificate");
    let cert = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}.key"));
    std::fs::write(&cert, generated.cert.pem()).unwrap();
    std::fs::write(&key, generated.signing_key.serialize_pem()).unwrap();
    (cert, key)
}

#[tokio::test]
async fn banks_that_trust_the_certificate_are_served_and_others_are_not() {
    let dir = tempfile::tempdir().expect("dir");
    let (cert, key) = certificate(dir.path(), "service");
    let (other, _) = certificate(dir.path(), "other");
    let scenario = clearsim_model::config::Config::load(Path::new("configs/chengdu-2005.toml"))
        .expect("config")
        .scenario;
    let (mut setup, tokens) =
        common::net::setup_with(&scenario, dir.path(), Limits::default(), 1000);
    let ids = setup.ids.clone();
    setup.tls = Some(tls::server_config(&cert, &key).expect("server config"));
    let server =
        clearsim_service::net::spawn(setup, "127.0.0.1:0".parse().unwrap()).expect("spawn");
    let trusted = tls::client_config(&cert).expect("client config");
    let token = tokens.of(0).unwrap();
    let mut bank = tokio::time::timeout(
        WAIT,
        Client::connect_with(server.address, &ids[0], token, Some(&trusted), 1),
    )
    .await
    .expect("in time")
    .expect("a bank that trusts the certificate gets in");
    bank.send(&Request::Submit(Submit {
        client_ref: 7,
        receiver: 1,
        amount_fen: 100,
        priority: 0,
        instrument: 0,
    }))
    .await
    .unwrap();
    let notice = tokio::time::timeout(WAIT, bank.next())
        .await
        .expect("in time")
        .expect("a good frame");
    assert!(
        matches!(notice, Some(Notice::Accepted { client_ref: 7, .. })),
        "{notice:?}"
    );
    // In clear, to a TLS listener: no WELCOME.
    let clear = tokio::time::timeout(WAIT, Client::connect(server.address, &ids[1], token)).await;
    assert!(matches!(clear, Ok(Err(_))), "a client in clear got in");
    // Trusting another certificate: the handshake fails.
    let wrong = tls::client_config(&other).expect("client config");
    let refused = tokio::time::timeout(
        WAIT,
        Client::connect_with(
            server.address,
            &ids[1],
            tokens.of(1).unwrap(),
            Some(&wrong),
            1,
        ),
    )
    .await
    .expect("in time");
    assert!(
        refused.is_err(),
        "a client trusting another certificate got in"
    );
    let served = server.stop().expect("stops");
    assert_eq!(served.accepted, 1);
}

#[test]
fn serve_and_load_run_over_tls_end_to_end() {
    let dir = tempfile::tempdir().expect("dir");
    let (cert, key) = certificate(dir.path(), "service");
    let (cert, key) = (cert.display().to_string(), key.display().to_string());
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
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
            "--duration",
            "6s",
        ],
        &address,
    );
    let load = clearsim_within(
        Duration::from_secs(60),
        &[
            "load",
            config,
            "--connect",
            &address,
            "--tokens",
            &tokens,
            "--tls-ca",
            &cert,
            "--duration",
            "1s",
        ],
    );
    let printed = ok(&load);
    assert!(printed.contains("the service's counts agree"), "{printed}");
    let served = serve.wait_with_output().expect("serve ends");
    assert!(
        served.status.success(),
        "{}",
        String::from_utf8_lossy(&served.stderr)
    );
}
