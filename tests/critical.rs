//! `clearsim critical`: each participant defaulting in turn, ranked by the
//! knock-on, each figure the one `compare --default` gives for that bank
//! on the same seeds.

use std::process::Command;

fn clearsim(args: &[&str]) -> std::process::Output {
    let output = Command::new(env!("CARGO_BIN_EXE_clearsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn knock_on(summary: &serde_json::Value, design: &str) -> f64 {
    summary["headline"]
        .as_array()
        .expect("headline")
        .iter()
        .find(|f| {
            f["design"] == design
                && f["flow"] == "all"
                && f["metric"] == "knock_on_unsettled_value_fen"
        })
        .and_then(|f| f["mean"].as_f64())
        .expect("a knock-on figure")
}

#[test]
fn critical_ranks_each_default_as_compare_measures_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("critical");
    let common = [
        "configs/netting-compare.toml",
        "--volume",
        "0.05",
        "--replications",
        "2",
        "-q",
    ];
    let mut args = vec!["critical"];
    args.extend(common);
    args.extend(["--at", "10:00", "--out", out.to_str().expect("utf-8")]);
    clearsim(&args);
    let ranking = std::fs::read_to_string(out.join("critical.csv")).expect("critical.csv");
    let rows: Vec<Vec<&str>> = ranking
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 50, "every bank of the city, ranked");
    let means: Vec<f64> = rows.iter().map(|r| r[2].parse().expect("mean")).collect();
    assert!(means.windows(2).all(|w| w[0] >= w[1]), "most harmful first");
    assert!(means[0] > 0.0, "some default reaches the others");
    // The top bank's figure is compare --default's for it, same seeds.
    let top = rows[0][1];
    let single = dir.path().join("single");
    let at = format!("{top}@10:00");
    let mut args = vec!["compare"];
    args.extend(common);
    args.extend([
        "--strategies",
        "design",
        "--default",
        &at,
        "--out",
        single.to_str().expect("utf-8"),
    ]);
    clearsim(&args);
    let read = |path: std::path::PathBuf| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json")
    };
    let alone = knock_on(&read(single.join("summary.json")), "design");
    let ranked = knock_on(
        &read(out.join("summary.json")),
        &format!("default:{top}@10:00:00.000"),
    );
    assert_eq!(alone, ranked);
    assert_eq!(means[0], ranked);
    let page = std::fs::read_to_string(out.join("critical.html")).expect("page");
    assert!(page.contains("whose default hurts the others most") && page.contains("<svg"));
}
