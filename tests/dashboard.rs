//! `clearsim serve --http`: `/metrics` in the Prometheus text format, and
//! the live dashboard rendered in headless Chromium while load runs,
//! updating. Loopback only; bounded in time.

// Signals and pipes to a child process: libc calls.
#![allow(unsafe_code)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Headless Chromium driven over the DevTools protocol on a pipe
/// (`--remote-debugging-pipe`: it reads fd 3, writes fd 4, messages end
/// in NUL).
struct DevTools {
    child: std::process::Child,
    to: std::fs::File,
    from: BufReader<std::fs::File>,
    next_id: u64,
    session: Option<String>,
}

fn pipe() -> (std::fs::File, std::fs::File) {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both descriptors are fresh and owned by nobody else.
    unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    }
}

impl DevTools {
    fn start(browser: &str, profile: &Path) -> DevTools {
        use std::os::fd::AsRawFd;
        let (chrome_reads, to) = pipe();
        let (from, chrome_writes) = pipe();
        let (r, w) = (chrome_reads.as_raw_fd(), chrome_writes.as_raw_fd());
        let mut command = Command::new(browser);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
            ])
            .args(["--disable-background-networking", "--hide-scrollbars"])
            .args(["--remote-debugging-pipe", "--window-size=1280,1100"])
            .arg(format!("--user-data-dir={}", profile.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: only async-signal-safe calls between fork and exec. The
        // pipe's ends are first moved above 10, so that placing them at 3
        // and 4 cannot overwrite one with the other.
        unsafe {
            command.pre_exec(move || {
                let high_r = libc::fcntl(r, libc::F_DUPFD, 10);
                let high_w = libc::fcntl(w, libc::F_DUPFD, 10);
                if high_r < 0
                    || high_w < 0
                    || libc::dup2(high_r, 3) < 0
                    || libc::dup2(high_w, 4) < 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("chromium starts");
        drop((chrome_reads, chrome_writes));
        DevTools {
            child,
            to,
            from: BufReader::new(from),
            next_id: 0,
            session: None,
        }
    }

    /// Sends one command and returns its result (events in between are
    /// skipped; bounded by the browser answering).
    fn call(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        self.next_id += 1;
        let mut message =
            serde_json::json!({"id": self.next_id, "method": method, "params": params});
        if let Some(session) = &self.session {
            message["sessionId"] = session.clone().into();
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).expect("to chromium");
        for _ in 0..10_000 {
            let mut reply = Vec::new();
            let n = self.from.read_until(0, &mut reply).expect("from chromium");
            assert!(n > 0, "chromium closed the pipe");
            reply.pop();
            let reply: serde_json::Value = serde_json::from_slice(&reply).expect("json");
            if reply["id"] == self.next_id {
                assert!(reply.get("error").is_none(), "{method}: {reply}");
                return reply["result"].clone();
            }
        }
        panic!("no answer to {method}");
    }

    fn open(&mut self, url: &str) {
        let target = self.call(
            "Target.createTarget",
            serde_json::json!({"url": "about:blank"}),
        );
        let attached = self.call(
            "Target.attachToTarget",
            serde_json::json!({"targetId": target["targetId"], "flatten": true}),
        );
        self.session = attached["sessionId"].as_str().map(String::from);
        self.call("Page.navigate", serde_json::json!({"url": url}));
    }

    fn evaluate(&mut self, expression: &str) -> serde_json::Value {
        let result = self.call(
            "Runtime.evaluate",
            serde_json::json!({"expression": expression, "returnByValue": true}),
        );
        result["result"]["value"].clone()
    }
}

impl Drop for DevTools {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the dashboard shows now.
const LOOK: &str = r##"JSON.stringify({
  updates: Number(document.getElementById("updates").textContent),
  state: document.getElementById("state").textContent,
  settled: document.querySelector('[data-key="settled_per_s"]')?.textContent ?? "",
  channels: document.querySelectorAll("#channels section").length,
  lines: document.querySelectorAll("polyline").length,
  points: Array.from(document.querySelectorAll("polyline")).map(p => p.points.numberOfItems).reduce((a, b) => a + b, 0),
})"##;

#[test]
fn the_dashboard_updates_while_load_runs_and_metrics_are_prometheus_text() {
    let scenario = clearsim_model::config::Config::load(Path::new("configs/chengdu-2005.toml"))
        .expect("config")
        .scenario;
    let dir = tempfile::tempdir().expect("dir");
    let (mut setup, tokens) = common::net::setup(&scenario, dir.path());
    let ids = setup.ids.clone();
    setup.http = Some("127.0.0.1:0".parse().unwrap());
    let server =
        clearsim_service::net::spawn(setup, "127.0.0.1:0".parse().unwrap()).expect("spawn");
    let http = server.http_address.expect("http bound");
    // Open-loop load for 12 s at a modest rate, beside the checks.
    let city = clearsim_model::workload::city::build_city(&scenario);
    let load = clearsim_service::net::load::LoadSetup {
        address: server.address,
        ids: ids.clone(),
        tokens,
        connections: 8,
        load: clearsim_service::live::Load::OpenLoop { rate_per_s: 20_000 },
        window: clearsim_service::net::load::WINDOW,
        duration: Duration::from_secs(12),
        payments: clearsim_service::net::load::payments_of(&scenario, &city, 2005),
        tls: None,
    };
    let loader = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(clearsim_service::net::load::run(&load))
            .expect("load runs")
    });
    std::thread::sleep(Duration::from_millis(2500));
    let metrics = http_get(http, "/metrics");
    for family in [
        "# TYPE clearsim_accepted counter",
        "clearsim_settled_total{channel=\"same-city-eft\"}",
        "clearsim_queued_fen{channel=\"same-city-eft\"}",
        "clearsim_rejected_total{channel=\"same-city-eft\",reason=\"queue_full\"}",
        "clearsim_settlement_latency_seconds_bucket{le=\"+Inf\",channel=\"same-city-eft\"}",
        "clearsim_connections 8",
        "# EOF",
    ] {
        assert!(metrics.contains(family), "{family} not in\n{metrics}");
    }
    if let Some(browser) = common::net::browser("the dashboard's check") {
        check_dashboard(browser, http, dir.path());
    }
    let report = loader.join().expect("load thread");
    assert!(report.sent > 0 && report.sent == report.accepted + report.rejected);
    let served = server.stop().expect("stops");
    assert_eq!(served.total_fen, city.opening_fen.iter().sum::<i64>());
}

/// Opens the dashboard and watches it: it goes live, receives samples one
/// a second, plots them, and shows settlements; a screenshot has colour.
fn check_dashboard(browser: &str, http: std::net::SocketAddr, dir: &Path) {
    let mut devtools = DevTools::start(browser, &dir.join("profile"));
    devtools.open(&format!("http://{http}/"));
    let look = |devtools: &mut DevTools| -> serde_json::Value {
        let text = devtools.evaluate(LOOK);
        serde_json::from_str(text.as_str().unwrap_or("{}")).unwrap_or_default()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut first = look(&mut devtools);
    while first["updates"].as_u64().unwrap_or(0) < 1 {
        assert!(Instant::now() < deadline, "no sample arrived: {first}");
        std::thread::sleep(Duration::from_millis(200));
        first = look(&mut devtools);
    }
    let mut later = first.clone();
    while later["updates"].as_u64() < Some(first["updates"].as_u64().unwrap_or(0) + 3) {
        assert!(
            Instant::now() < deadline,
            "the dashboard stopped updating: {later}"
        );
        std::thread::sleep(Duration::from_millis(200));
        later = look(&mut devtools);
    }
    assert_eq!(later["state"], "live", "{later}");
    assert_eq!(later["channels"], 1, "{later}");
    assert!(later["lines"].as_u64() >= Some(4), "{later}");
    assert!(
        later["points"].as_u64() > first["points"].as_u64(),
        "more points plotted: {first} → {later}"
    );
    let settled: f64 = later["settled"]
        .as_str()
        .unwrap_or("")
        .replace(',', "")
        .parse()
        .unwrap_or(0.0);
    assert!(settled > 0.0, "settlements shown: {later}");
    let shot = devtools.call(
        "Page.captureScreenshot",
        serde_json::json!({"format": "png"}),
    );
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().expect("data"))
        .expect("base64");
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().expect("png");
    let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut pixels).expect("frame");
    let channels = info.color_type.samples();
    let blue = pixels[..info.buffer_size()]
        .chunks(channels)
        .filter(|p| p[2] > 140 && p[0] < 110 && p[1] < 150)
        .count();
    assert!(blue > 100, "no chart lines visible: {blue}");
}

/// A plain HTTP/1.1 GET (the test needs no client library for one call).
fn http_get(address: std::net::SocketAddr, path: &str) -> String {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(address).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("reads");
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    text
}
