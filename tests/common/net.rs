//! What the tests of `clearsim serve` share: a service's setup, a free
//! loopback address, and the browser that renders pages.

use std::path::Path;
use std::process::Command;

use clearsim_service::net::tokens::Tokens;
use clearsim_service::net::{Limits, ServeSetup};

/// A scenario's service setup (gridlock every second, 100,000 payments
/// queued at most) with fresh tokens written into `dir`.
pub fn setup(scenario: &clearsim_model::config::Scenario, dir: &Path) -> (ServeSetup, Tokens) {
    setup_with(scenario, dir, Limits::default(), 100_000)
}

/// [`setup`] with the edge's `limits` and at most `max_queued` payments
/// queued.
pub fn setup_with(
    scenario: &clearsim_model::config::Scenario,
    dir: &Path,
    limits: Limits,
    max_queued: usize,
) -> (ServeSetup, Tokens) {
    let mut setup = ServeSetup::of_scenario(scenario, limits, 1000, max_queued).expect("setup");
    let tokens = Tokens::issue(&dir.join("tokens"), &setup.ids).expect("tokens");
    setup.tokens = tokens.clone();
    (setup, tokens)
}

/// A loopback address nobody listens on (yet).
pub fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").to_string()
}

/// `clearsim ARGS` started with its output piped, returned once `address`
/// takes connections (bounded: 20 s, for a recovery on a busy machine).
pub fn serving(args: &[&str], address: &str) -> std::process::Child {
    let child = Command::new(env!("CARGO_BIN_EXE_clearsim"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(address).is_err() {
        assert!(std::time::Instant::now() < deadline, "serve never listened");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child
}

/// A headless browser, or `None` where there is none and none is required
/// (`.ci/run` requires one: CLEARSIM_REQUIRE_BROWSER=1); `test` names the
/// test that then checks nothing.
pub fn browser(test: &str) -> Option<&'static str> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    if found.is_none() {
        assert!(
            std::env::var_os("CLEARSIM_REQUIRE_BROWSER").is_none(),
            "CLEARSIM_REQUIRE_BROWSER is set but no chromium is on PATH (apt install chromium)"
        );
        eprintln!("SKIPPED {test}: no chromium on PATH (apt install chromium)");
    }
    found
}
