//! Cross-city payments: money that leaves the city is an outflow to the
//! banks elsewhere, never lost; their journey outside the city is part of
//! the funds' time in transit; bad cross-city fields are refused.

mod common;

use std::path::{Path, PathBuf};

use common::cli::{clearsim, ok, refused};

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// Three synthetic banks with ample liquidity, a same-city instrument and
/// one cross-city instrument each way; `extra` is spliced into the
/// outgoing instrument.
fn config(dir: &Path, extra: &str) -> PathBuf {
    let text = format!(
        r#"name = "cross"
seed = 7
[participants]
n = 3
[liquidity]
scale = 50.0
[[instrument]]
name = "local"
daily_count = 200
amount = {{ median_yuan = 100, sigma = 1.0 }}
[[instrument]]
name = "out"
cross_city = "out"
outside_hours = 6
daily_count = 300
amount = {{ median_yuan = 500, sigma = 1.0 }}
{extra}
[[instrument]]
name = "in"
cross_city = "in"
outside_hours = 0.5
daily_count = 100
amount = {{ median_yuan = 500, sigma = 1.0 }}
[[channel]]
name = "gross"
strategy = "rtgs"
instruments = ["local", "out", "in"]
"#
    );
    let file = dir.join("cross.toml");
    std::fs::write(&file, text).expect("config");
    file
}

fn column(header: &str, name: &str) -> usize {
    header
        .split(',')
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name} in {header}"))
}

/// A generated day replayed through the config's channels: the banks
/// elsewhere close at (settled out − settled in), the city's banks at their
/// openings less that. Every fen that leaves is accounted for.
#[test]
fn money_leaving_the_city_is_an_outflow_never_lost() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = config(dir.path(), "");
    let day = dir.path().join("day");
    let out = dir.path().join("replay");
    ok(&clearsim(&[
        "generate",
        &path(&config),
        "--out",
        &path(&day),
        "-q",
    ]));
    ok(&clearsim(&[
        "replay",
        "--participants",
        &path(&day.join("participants.csv")),
        "--payments",
        &path(&day.join("payments.csv")),
        "--channels",
        &path(&config),
        "--out",
        &path(&out),
        "-q",
    ]));
    let payments = std::fs::read_to_string(day.join("payments.csv")).expect("payments");
    let settled = std::fs::read_to_string(out.join("settlements.csv")).expect("settlements");
    let mut lines = payments.lines();
    let header = lines.next().expect("header");
    let (sender, receiver, amount) = (
        column(header, "sender"),
        column(header, "receiver"),
        column(header, "amount"),
    );
    let (mut out_fen, mut in_fen, mut crossing) = (0i64, 0i64, 0);
    for (row, status) in lines.zip(settled.lines().skip(1)) {
        let fields: Vec<&str> = row.split(',').collect();
        assert!(status.contains(",settled,"), "ample liquidity: {status}");
        let value: i64 = fields[amount].parse().expect("amount");
        if fields[receiver] == "ELSEWHERE" {
            out_fen += value;
            crossing += 1;
        }
        if fields[sender] == "ELSEWHERE" {
            in_fen += value;
            crossing += 1;
        }
    }
    assert!(crossing > 300, "both directions drawn: {crossing}");
    assert!(out_fen > 0 && in_fen > 0);
    let balances = std::fs::read_to_string(out.join("balances.csv")).expect("balances");
    let (mut city_opening, mut city_closing, mut outside_closing) = (0i64, 0i64, None);
    for line in balances.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (opening, closing): (i64, i64) = (f[1].parse().unwrap(), f[2].parse().unwrap());
        if f[0] == "ELSEWHERE" {
            assert_eq!(opening, 0);
            outside_closing = Some(closing);
        } else {
            city_opening += opening;
            city_closing += closing;
        }
    }
    assert_eq!(outside_closing, Some(out_fen - in_fen));
    assert_eq!(city_closing, city_opening - (out_fen - in_fen));
}

/// With ample liquidity every payment settles on arrival, so a cross-city
/// payment's time in transit is exactly its hours outside the city: 6 h
/// out, 30 min in; the city's own payments 0. The banks elsewhere use no
/// city liquidity: the run's liquidity used is the city banks' only.
#[test]
fn the_journey_outside_the_city_counts_in_transit() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = config(dir.path(), "");
    let out = dir.path().join("run");
    ok(&clearsim(&[
        "run",
        &path(&config),
        "--out",
        &path(&out),
        "-q",
    ]));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).expect("summary"))
            .expect("json");
    let transit = |name: &str| {
        let flow = summary["instruments"]
            .as_array()
            .expect("instruments")
            .iter()
            .find(|i| i["name"] == name)
            .unwrap_or_else(|| panic!("no {name}"));
        let t = &flow["flow"]["in_transit_ms"];
        (
            t["p50"].as_u64(),
            t["max"].as_u64(),
            t["value_weighted_mean"].as_u64(),
        )
    };
    let six_hours = Some(6 * 3_600_000);
    assert_eq!(transit("out"), (six_hours, six_hours, six_hours));
    let half_hour = Some(1_800_000);
    assert_eq!(transit("in"), (half_hour, half_hour, half_hour));
    assert_eq!(transit("local"), (Some(0), Some(0), Some(0)));
    let outside = summary["per_participant"]
        .as_array()
        .expect("participants")
        .iter()
        .find(|p| p["id"] == "ELSEWHERE")
        .expect("the banks outside are listed");
    assert_eq!(outside["liquidity_used_fen"], 0);
    assert_eq!(outside["overnight_borrowed_fen"], 0);
}

#[test]
fn bad_cross_city_fields_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let run = |extra: &str, fragments: &[&str]| {
        // `extra` replaces the outgoing instrument's direction line.
        let config = config(dir.path(), "");
        let text = std::fs::read_to_string(&config).expect("config").replacen(
            "cross_city = \"out\"\noutside_hours = 6",
            extra,
            1,
        );
        std::fs::write(&config, text).expect("config");
        let out = dir.path().join("out");
        refused(
            &clearsim(&["run", &path(&config), "--out", &path(&out), "-q"]),
            fragments,
        );
        assert!(!out.exists());
    };
    run(
        "cross_city = \"sideways\"",
        &["cross.toml", "instrument[1] (out).cross_city", "sideways"],
    );
    run(
        "outside_hours = 3",
        &["instrument[1] (out).outside_hours", "only cross-city"],
    );
    run(
        "cross_city = \"out\"\noutside_hours = 241",
        &["instrument[1] (out).outside_hours", "241"],
    );
    run(
        "cross_city = \"out\"\ncheque = true",
        &["instrument[1] (out).cross_city", "cheques"],
    );
}
