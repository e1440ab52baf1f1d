//! compare, sweep and report through the binary; the HTML report rendered
//! by a real browser.

// A test reads as one story, setup to assertions: the 70-line limit is
// for the product's code.
#![allow(clippy::too_many_lines)]

mod common;

use std::path::Path;
use std::process::Command;

use common::cli::{clearsim, ok};

use clearsim_core::strategy::parse_strategy;
use clearsim_core::time::SimTime;
use clearsim_model::input::Day;
use clearsim_model::metrics::flow::decode_histogram;
use clearsim_model::replay::settle_day;
use clearsim_study::summary::{CompareSummary, SweepSummary};

fn compare_into(dir: &Path, threads: &str) -> Vec<u8> {
    ok(&clearsim(&[
        "compare",
        "configs/netting-compare.toml",
        "--volume",
        "0.05",
        "--quiet",
        "--threads",
        threads,
        "--strategies",
        "rtgs; rtgs+gridlock:5m; dns:10:00,15:00; dns:hourly; bilateral:12:00,16:30",
        "--out",
        &dir.display().to_string(),
    ]));
    std::fs::read(dir.join("summary.json")).expect("summary")
}

#[test]
fn compare_is_the_same_on_one_thread_or_many() {
    let dir = tempfile::tempdir().expect("tempdir");
    let one = compare_into(&dir.path().join("one"), "1");
    let two = compare_into(&dir.path().join("two"), "2");
    assert_eq!(one, two);
    let summary: CompareSummary = clearsim_study::schema::from_json(&one).expect("json");
    assert_eq!(
        summary.designs,
        [
            "rtgs",
            "rtgs+gridlock:5m",
            "dns:10:00,15:00",
            "dns:hourly",
            "bilateral:12:00,16:30"
        ]
    );
    let first = &summary.rows[0].all.counts;
    for row in &summary.rows {
        let flow = &row.all;
        let c = &flow.counts;
        // Every design saw the same stream.
        assert_eq!((c.payments, c.value_fen), (first.payments, first.value_fen));
        // Settled, failed, or waiting past the run's end for a session.
        assert_eq!(c.settled + c.unsettled + c.carried, c.payments);
        assert_eq!(
            c.settled_value_fen + c.unsettled_value_fen + c.carried_value_fen,
            c.value_fen
        );
        // The histogram in the summary gives back the reported percentiles.
        let histogram = decode_histogram(&flow.in_transit_histogram).expect("decodes");
        assert_eq!(histogram.len(), c.settled);
        let transit = &flow.in_transit_ms.stats;
        assert_eq!(
            histogram.value_at_quantile(0.5).min(transit.max),
            transit.p50
        );
    }
    // Gross settlement moves every fen it settles: netting ratio exactly 1.
    assert_eq!(summary.rows[0].netting_ratio, 1.0);
    // Netting moves less than it settles.
    assert!(summary.rows[3].netting_ratio < 1.0);
    for name in ["report.md", "compare.csv", "report.html"] {
        assert!(dir.path().join("one").join(name).exists(), "{name}");
    }
}

#[test]
fn value_moved_between_accounts_by_hand() {
    // A pays B 100 and B pays A 60, both holding 100. Gross: 160 moves.
    // Multilateral or bilateral net at 12:00: only the net 40 moves. The
    // netting ratio of `compare` is this moved value over the value settled.
    let participants = b"id,name,category,opening_balance,credit_limit\nA,,,100,0\nB,,,100,0\n";
    let payments = b"id,submit,sender,receiver,amount\np1,09:00:00,A,B,100\np2,10:00:00,B,A,60\n";
    let day = Day::parse(
        "p.csv",
        participants,
        "x.csv",
        payments,
        SimTime::DEFAULT_DAY_END,
    )
    .expect("valid");
    for (strategy, moved) in [("rtgs", 160), ("dns:12:00", 40), ("bilateral:12:00", 40)] {
        let spec = parse_strategy(strategy, SimTime::DEFAULT_DAY_END)
            .expect("strategy")
            .spec;
        let (settle, ledger) = settle_day(&day, &spec).expect("runs");
        assert!(
            settle
                .iter()
                .all(|&t| t != clearsim_model::metrics::UNSETTLED),
            "{strategy}"
        );
        assert_eq!(ledger.moved_fen(), moved, "{strategy}");
    }
}

#[test]
fn sweep_spans_the_bounds_and_dns_settles_everything_at_the_lower_bound() {
    let dir = tempfile::tempdir().expect("tempdir");
    ok(&clearsim(&[
        "sweep",
        "configs/netting-compare.toml",
        "--volume",
        "0.05",
        "--steps",
        "3",
        "--quiet",
        "--strategies",
        "rtgs;dns",
        "--out",
        &dir.path().display().to_string(),
    ]));
    let summary: SweepSummary = clearsim_study::schema::from_json(
        &std::fs::read(dir.path().join("summary.json")).expect("summary"),
    )
    .expect("json");
    assert_eq!(summary.points.len(), 3);
    assert_eq!(summary.points[0].level, 0.0);
    assert_eq!(summary.points[2].level, 1.0);
    for (d, bounds) in summary.bounds.iter().enumerate() {
        assert_eq!(
            summary.points[0].cells[d].liquidity_fen.mean,
            bounds.lower_fen.mean
        );
        assert_eq!(
            summary.points[2].cells[d].liquidity_fen.mean,
            bounds.upper_fen.mean
        );
        assert!(bounds.lower_fen.mean <= bounds.upper_fen.mean);
    }
    // One dns cycle at day end with every participant at its lower bound
    // settles everything (the contract's cross-check).
    let dns = &summary.points[0].cells[1];
    assert_eq!(
        (dns.design.as_str(), dns.unsettled_value_fen.mean),
        ("dns", 0.0)
    );
    // At level 1 gross settlement settles every payment the instant it is
    // ordered: the delay indicator is exactly 0.
    assert_eq!(summary.points[2].cells[0].delay_indicator.mean, 0.0);
    // More liquidity never delays gross settlement more.
    let rtgs: Vec<f64> = summary
        .points
        .iter()
        .map(|p| p.cells[0].delay_indicator.mean)
        .collect();
    assert!(rtgs.windows(2).all(|w| w[1] <= w[0]), "{rtgs:?}");
}

#[test]
fn report_rebuilds_the_same_files_from_summary_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    compare_into(dir.path(), "2");
    let before: Vec<Vec<u8>> = ["report.md", "compare.csv", "report.html"]
        .iter()
        .map(|n| std::fs::read(dir.path().join(n)).expect("file"))
        .collect();
    for name in ["report.md", "compare.csv", "report.html"] {
        std::fs::remove_file(dir.path().join(name)).expect("remove");
    }
    ok(&clearsim(&["report", &dir.path().display().to_string()]));
    let after: Vec<Vec<u8>> = ["report.md", "compare.csv", "report.html"]
        .iter()
        .map(|n| std::fs::read(dir.path().join(n)).expect("file"))
        .collect();
    assert!(before == after, "report rebuilt different files");
}

#[test]
fn bad_strategies_and_ranges_are_rejected() {
    for args in [
        &[
            "compare",
            "configs/netting-compare.toml",
            "--strategies",
            "gross",
        ][..],
        &[
            "compare",
            "configs/netting-compare.toml",
            "--strategies",
            "dns:15:00,10:00",
        ],
        &[
            "sweep",
            "configs/netting-compare.toml",
            "--liquidity",
            "1..0",
        ],
        &["sweep", "configs/netting-compare.toml", "--steps", "1"],
        &["report", "/nonexistent/dir"],
    ] {
        let output = clearsim(args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Renders the report pages of a run, a compare and a sweep in headless
/// Chromium at 1,280 px and checks each: not blank; nothing drawn in the
/// page's right margin (everything fits 1,280 px, wide tables scroll in
/// their box); the headline and every chart in the DOM; nothing on the
/// console. Needs Debian's `chromium`, which `.ci/run` installs and then
/// requires (it sets CLEARSIM_REQUIRE_BROWSER=1); on a machine without a
/// browser the test says so and checks nothing.
#[test]
fn html_report_renders_in_a_real_browser() {
    let Some(browser) = common::net::browser("html_report_renders_in_a_real_browser") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let out = |n: &str| dir.path().join(n).display().to_string();
    ok(&clearsim(&[
        "run",
        "configs/chengdu-2005.toml",
        "--volume",
        "0.05",
        "-q",
        "--out",
        &out("run"),
    ]));
    compare_into(&dir.path().join("compare"), "2");
    ok(&clearsim(&[
        "compare",
        "configs/chengdu-2005.toml",
        "--volume",
        "0.05",
        "--strategies",
        "design;rtgs;dns:hourly",
        "--replications",
        "3",
        "-q",
        "--out",
        &out("chengdu"),
    ]));
    ok(&clearsim(&[
        "sweep",
        "configs/netting-compare.toml",
        "--volume",
        "0.05",
        "--steps",
        "3",
        "--strategies",
        "rtgs;dns:hourly",
        "--replications",
        "3",
        "-q",
        "--out",
        &out("sweep"),
    ]));
    // (page, headline expected, charts at least)
    for (page, headline, charts) in [
        ("run", true, 5),
        ("compare", false, 4),
        ("chengdu", true, 5),
        ("sweep", false, 2),
    ] {
        check_page(browser, &dir.path().join(page), headline, charts);
    }
}

fn check_page(browser: &str, dir: &Path, headline: bool, charts: usize) {
    let page = format!("file://{}", dir.join("report.html").display());
    let png = dir.join("report.png");
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ];
    let output = Command::new(browser)
        .args(flags)
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .args([
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,2400",
        ])
        .arg(format!("--screenshot={}", png.display()))
        .arg(&page)
        .output()
        .expect("browser runs");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        !log.contains("CONSOLE") && !log.contains("Uncaught"),
        "console output: {log}"
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png).expect("screenshot written"),
    ));
    let mut reader = decoder.read_info().expect("png");
    let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut pixels).expect("frame");
    let bytes = &pixels[..info.buffer_size()];
    let channels = info.color_type.samples();
    let width = info.width as usize;
    assert_eq!(width, 1280);
    let inked = |p: &[u8]| p[..3].iter().any(|&c| c < 200);
    let coloured = bytes.chunks(channels).filter(|p| inked(p)).count();
    assert!(coloured > 5_000, "{}: the page looks blank", dir.display());
    // The right margin (the last 24 px of every row) stays empty: the page
    // fits 1,280 px.
    let row_bytes = width * channels;
    let spilled = bytes
        .chunks(row_bytes)
        .filter(|row| row[(width - 24) * channels..].chunks(channels).any(inked))
        .count();
    assert_eq!(
        spilled,
        0,
        "{}: something is drawn past 1,256 px",
        dir.display()
    );
    // Chart series drawn in colour (the blue of the first series).
    let blue = bytes
        .chunks(channels)
        .filter(|p| p[2] > 140 && p[0] < 110 && p[1] < 150)
        .count();
    assert!(
        blue > 100,
        "{}: no chart lines visible: {blue}",
        dir.display()
    );
    let dom = Command::new(browser)
        .args(flags)
        .arg(format!(
            "--user-data-dir={}",
            dir.join("profile2").display()
        ))
        .arg("--dump-dom")
        .arg(&page)
        .output()
        .expect("browser runs");
    let dom = String::from_utf8_lossy(&dom.stdout);
    let figures = dom.matches("<figure class=\"chart\"").count();
    assert!(
        figures >= charts,
        "{}: {figures} charts, expected {charts}",
        dir.display()
    );
    let svgs = dom.matches("<svg").count();
    assert!(
        svgs >= figures,
        "{}: {svgs} svg for {figures} charts",
        dir.display()
    );
    assert!(dom.contains("class=\"context\"") && dom.contains("clearsim 0.1.0"));
    if headline {
        assert!(
            dom.contains("id=\"headline\""),
            "{}: no headline",
            dir.display()
        );
    }
}
