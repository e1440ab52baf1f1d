//! `clearsim plan` against a hand computation: two tiny designs whose every
//! payment settles on arrival (ample liquidity), so each payment's time in
//! transit is exactly its hours outside the city: 2 h before, 0.5 h after.

mod common;

use std::path::Path;

use common::cli::{clearsim, ok, refused};

fn design(dir: &Path, name: &str, outside_hours: f64) -> String {
    design_of(dir, name, outside_hours, 4, "")
}

/// `n` participants; `extra` goes into the instrument (e.g. `assumed`).
fn design_of(dir: &Path, name: &str, outside_hours: f64, n: u32, extra: &str) -> String {
    let text = format!(
        r#"name = "{name}"
seed = 11
[participants]
n = {n}
[liquidity]
scale = 50.0
[[instrument]]
name = "away"
cross_city = "out"
outside_hours = {outside_hours}
{extra}
daily_count = 400
amount = {{ median_yuan = 100, sigma = 1.0 }}
[[channel]]
name = "gross"
strategy = "rtgs"
instruments = ["away"]
"#
    );
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, text).expect("config");
    file.display().to_string()
}

#[test]
fn the_plan_report_matches_a_hand_computation() {
    let dir = tempfile::tempdir().expect("tmp");
    let before = design(dir.path(), "before", 2.0);
    let after = design(dir.path(), "after", 0.5);
    let out = dir.path().join("plan").display().to_string();
    let shown = ok(&clearsim(&[
        "plan",
        &before,
        &after,
        "--replications",
        "3",
        "--days",
        "2",
        "--out",
        &out,
    ]));
    // 2 h → 0.5 h: −75 %, the same on every seed (an interval of width 0).
    // One instrument, its whole value both times: all of it is speed-up.
    let headline = "funds-in-transit time, value-weighted: 2.00 h in before → 30 min in after (−75.0 %); paired change −1.50 h, 95 % CI −1.50 h … −1.50 h; of it: instruments' own speed-up −1.50 h, value mix 0, legs whose times are assumptions 0";
    assert!(shown.contains(headline), "{shown}");
    let report = std::fs::read_to_string(Path::new(&out).join("report.html")).expect("html");
    assert!(report.contains(headline));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(Path::new(&out).join("summary.json")).expect("json"))
            .expect("parses");
    assert_eq!(summary["seeds"], serde_json::json!([11, 12, 13]));
    let away = &summary["transit"][1];
    assert_eq!(away["flow"], "away");
    assert_eq!(away["value_weighted_mean_h"]["before"]["mean"], 2.0);
    assert_eq!(away["value_weighted_mean_h"]["after"]["mean"], 0.5);
    assert_eq!(away["p99_h"]["before"]["mean"], 2.0);
    assert_eq!(away["p99_h"]["after"]["mean"], 0.5);
    let parts = &summary["decomposition"];
    assert_eq!(parts["speed_h"]["mean"], -1.5);
    assert_eq!(parts["mix_h"]["mean"], 0.0);
    assert_eq!(parts["assumed_h"]["mean"], 0.0);
    let csv = std::fs::read_to_string(Path::new(&out).join("decomposition.csv")).expect("csv");
    assert!(csv.starts_with("part,flow,assumed,mean_h,"), "{csv}");
    assert!(Path::new(&out).join("transit.csv").exists());
    // Every payment settles on arrival: the liquidity used is the upper bound.
    let used = &summary["liquidity_used_fen"]["before"]["mean"];
    assert_eq!(used, &summary["upper_bound_fen"]["before"]["mean"]);
}

#[test]
fn a_bad_design_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let before = design(dir.path(), "before", 2.0);
    let missing = dir.path().join("nowhere.toml").display().to_string();
    let out = dir.path().join("plan");
    refused(
        &clearsim(&[
            "plan",
            &before,
            &missing,
            "--out",
            &out.display().to_string(),
        ]),
        &["nowhere.toml"],
    );
    assert!(!out.exists());
}

#[test]
fn an_assumed_leg_is_its_own_part_of_the_change() {
    let dir = tempfile::tempdir().expect("tmp");
    let assumed = "assumed = true\nsource = \"a choice\"";
    let before = design_of(dir.path(), "before", 2.0, 4, assumed);
    let after = design_of(dir.path(), "after", 0.5, 4, assumed);
    let out = dir.path().join("plan").display().to_string();
    ok(&clearsim(&[
        "plan", &before, &after, "--days", "1", "-q", "--out", &out,
    ]));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(Path::new(&out).join("summary.json")).expect("json"))
            .expect("parses");
    let parts = &summary["decomposition"];
    assert_eq!(parts["speed_h"]["mean"], 0.0);
    assert_eq!(parts["assumed_h"]["mean"], -1.5);
    assert_eq!(parts["instruments"][0]["assumed"], true);
    // An assumed leg without its note is refused, by field.
    let bare = design_of(dir.path(), "bare", 2.0, 4, "assumed = true");
    refused(
        &clearsim(&["plan", &bare, &after, "--out", &out]),
        &["bare.toml", "instrument[0] (away).source", "source note"],
    );
}

#[test]
fn two_cities_are_not_paired() {
    let dir = tempfile::tempdir().expect("tmp");
    let before = design_of(dir.path(), "before", 2.0, 4, "");
    let other = design_of(dir.path(), "other", 0.5, 5, "");
    let out = dir.path().join("plan").display().to_string();
    refused(
        &clearsim(&["plan", &before, &other, "--out", &out]),
        &[
            "before and other are not one city",
            "participant",
            "only in other",
        ],
    );
}
