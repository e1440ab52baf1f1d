//! `clearsim optimise` from the command line: the games' reports, and each
//! class of bad input refused with exit 2 and its field named.

mod common;

use common::cli::{clearsim, ok, path, refused};

#[test]
fn the_cycle_game_reports_both_equilibria_and_the_planner() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = path(dir.path(), "out");
    let stdout = ok(&clearsim(&[
        "optimise",
        "configs/games/three-bank-cycle.toml",
        "--policies",
        "immediate;deadline:13:00",
        "--out",
        &out,
    ]));
    assert!(
        stdout.contains("All 8 profiles evaluated: 2 pure equilibria."),
        "{stdout}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/summary.json")).expect("json"))
            .expect("parses");
    assert_eq!(json["schema"], "clearsim.optimise.v1");
    let design = &json["designs"][0];
    assert_eq!(design["search"]["ending"], "converged");
    assert_eq!(design["price_of_anarchy"], 1.0);
    assert_eq!(
        design["enumeration"]["equilibria"].as_array().map(Vec::len),
        Some(2)
    );
    // The equilibrium found from the start costs nothing: no chart to draw.
    let html = std::fs::read_to_string(dir.path().join("out/report.html")).expect("html");
    assert!(html.contains("no chart of costs"), "{html}");
}

#[test]
fn a_game_that_costs_something_is_charted() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = path(dir.path(), "out");
    // One option only, late: both banks pay the 240 minutes' delay.
    ok(&clearsim(&[
        "optimise",
        "configs/games/bech-garratt-late.toml",
        "--policies",
        "deadline:13:00",
        "--out",
        &out,
        "-q",
    ]));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/summary.json")).expect("json"))
            .expect("parses");
    assert_eq!(
        json["designs"][0]["equilibrium"]["cost_total_fen"],
        480_000.0
    );
    let html = std::fs::read_to_string(dir.path().join("out/report.html")).expect("html");
    assert!(html.contains("Convergence") && html.contains("Cost per day by component"));
}

#[test]
fn bad_requests_are_refused_with_the_field_named() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = path(dir.path(), "out");
    let game = "configs/games/bech-garratt-early.toml";
    refused(
        &clearsim(&["optimise", game, "--policies", "later", "--out", &out]),
        &["--policies", "unknown policy `later`"],
    );
    refused(
        &clearsim(&["optimise", game, "--max-scale=-1", "--out", &out]),
        &["--max-scale"],
    );
    refused(
        &clearsim(&["optimise", game, "--strategies", "nonsense", "--out", &out]),
        &["--strategies"],
    );
    refused(
        &clearsim(&["optimise", "configs/netting-compare.toml", "--out", &out]),
        &["[costs]"],
    );
    assert!(!dir.path().join("out").exists(), "nothing published");
}

/// A scenario with one broken `[costs]` or `[[policy]]` field.
fn config_with(extra: &str) -> String {
    let base = std::fs::read_to_string("configs/games/bech-garratt-early.toml").expect("game");
    let base = base.split("[costs]").next().expect("head").to_string();
    format!(
        "{base}\n{extra}\n[[instrument]]\nname = \"obligation\"\nfixed = [{{ at = \"09:00\", from = \"B1\", to = \"B2\", amount_yuan = 1 }}]\n[[channel]]\nname = \"gross\"\nstrategy = \"rtgs\"\ninstruments = [\"obligation\"]\n"
    )
}

#[test]
fn bad_costs_and_policies_name_their_field() {
    let dir = tempfile::tempdir().expect("tmp");
    for (extra, fragments) in [
        ("[costs]\ncredit = \"cheap\"", vec!["costs.credit"]),
        (
            "[costs]\nliquidity_bp_per_day = -1",
            vec!["costs.liquidity_bp_per_day"],
        ),
        (
            "[costs]\ncredit = \"collateral\"\ncollateral_haircut = 1.5",
            vec!["costs.collateral_haircut"],
        ),
        (
            "[costs]\ncredit = \"priced\"\npricing_times = [\"14:00\", \"13:00\"]",
            vec!["costs.pricing_times[1]"],
        ),
        ("[[policy]]\nrule = \"reserve\"", vec!["policy[0].rule"]),
        (
            "[[policy]]\nparticipant = \"NOBODY\"\nrule = \"immediate\"",
            vec!["policy[0].participant", "NOBODY"],
        ),
        (
            "[[policy]]\ncategory = \"none\"\nrule = \"immediate\"",
            vec!["policy[0].category"],
        ),
    ] {
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, config_with(extra)).expect("write");
        let out = path(dir.path(), "out");
        let mut wanted = vec!["bad.toml"];
        wanted.extend(fragments);
        refused(
            &clearsim(&["run", &file.display().to_string(), "--out", &out, "-q"]),
            &wanted,
        );
    }
}

#[test]
fn fixed_payments_are_checked() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("bad.toml");
    let text = std::fs::read_to_string("configs/games/bech-garratt-early.toml")
        .expect("game")
        .replace("to = \"B2\"", "to = \"B9\"");
    std::fs::write(&file, text).expect("write");
    refused(
        &clearsim(&[
            "run",
            &file.display().to_string(),
            "--out",
            &path(dir.path(), "o"),
            "-q",
        ]),
        &["instrument[0] (obligation).fixed[0].to", "B9"],
    );
}

#[test]
fn live_refuses_bank_policies() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("policy.toml");
    let text = std::fs::read_to_string("configs/games/bech-garratt-early.toml").expect("game")
        + "\n[[policy]]\nrule = \"deadline:13:00\"\n";
    std::fs::write(&file, text).expect("write");
    refused(
        &clearsim(&[
            "live",
            &file.display().to_string(),
            "--out",
            &path(dir.path(), "o"),
        ]),
        &[
            "policy.toml",
            "live mode does not run the banks' [[policy]] queues",
        ],
    );
}
