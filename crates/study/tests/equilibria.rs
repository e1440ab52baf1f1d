//! `optimise` against games whose equilibria are derived by hand in
//! docs/equilibria.md from clearsim's own rules: Bech and Garratt's
//! two-bank game with priced credit, both ways round, and a three-bank
//! cycle of obligations.

use std::path::Path;

use clearsim_model::config::{Config, Scenario};
use clearsim_model::workload::city::build_city;
use clearsim_study::Runner;
use clearsim_study::optimise::{self, Choice, Game, GameSpec, Objective};

/// Two threads, no progress to show.
const RUNNER: Runner<'static> = Runner {
    threads: 2,
    tick: &|| {},
    stop: None,
};

const EARLY: u16 = 0;
const LATE: u16 = 1;

fn scenario(name: &str) -> Scenario {
    Config::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../configs/games/{name}.toml")),
    )
    .expect("game config")
    .scenario
}

fn spec() -> GameSpec {
    GameSpec {
        levels: 1,
        max_scale: 1.0,
        policies: ["immediate", "deadline:13:00"]
            .iter()
            .map(|p| clearsim_model::bank::policy::parse_policy(p).expect("policy"))
            .collect(),
        days: 1,
        max_rounds: 20,
        tolerance_levels: 0,
        shortcut: true,
    }
}

fn profile(policies: &[u16]) -> Vec<Choice> {
    policies
        .iter()
        .map(|&policy| Choice { level: 0, policy })
        .collect()
}

/// Each bank's cost (yuan per day) at a profile of early/late.
fn costs_yuan(game: &mut Game<'_>, policies: &[u16]) -> Vec<f64> {
    let outcome = game.outcomes(&[profile(policies)]).expect("runs").remove(0);
    outcome.cost.iter().map(|c| c.total_fen() / 100.0).collect()
}

fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6)
}

/// Bech–Garratt payoffs in clearsim's rules: X = 1,000,000 yuan; a late
/// bank pays D = X × 240 min × 0.1 bp = 2,400 yuan of delay; an early bank
/// whose counterpart is late is overdrawn by X at 13:00: F = X × fee.
fn payoffs(name: &str, fee_yuan: f64) {
    let scenario = scenario(name);
    let city = build_city(&scenario);
    let spec = spec();
    let mut game = Game::new(&scenario, &city, &spec, &[1], RUNNER).expect("game");
    let d = 2_400.0;
    assert!(close(&costs_yuan(&mut game, &[EARLY, EARLY]), &[0.0, 0.0]));
    assert!(close(
        &costs_yuan(&mut game, &[EARLY, LATE]),
        &[fee_yuan, d]
    ));
    assert!(close(
        &costs_yuan(&mut game, &[LATE, EARLY]),
        &[d, fee_yuan]
    ));
    assert!(close(&costs_yuan(&mut game, &[LATE, LATE]), &[d, d]));
}

fn equilibria(name: &str) -> Vec<Vec<Choice>> {
    let scenario = scenario(name);
    let city = build_city(&scenario);
    let spec = spec();
    let mut game = Game::new(&scenario, &city, &spec, &[1], RUNNER).expect("game");
    optimise::enumerate(&mut game)
        .expect("runs")
        .expect("a small game")
        .equilibria
}

#[test]
fn delay_dearer_than_the_fee_both_early_is_the_only_equilibrium() {
    payoffs("bech-garratt-early", 1_000.0);
    assert_eq!(
        equilibria("bech-garratt-early"),
        vec![profile(&[EARLY, EARLY])]
    );
}

#[test]
fn fee_dearer_than_delay_both_early_and_both_late_are_equilibria() {
    payoffs("bech-garratt-late", 3_000.0);
    assert_eq!(
        equilibria("bech-garratt-late"),
        vec![profile(&[EARLY, EARLY]), profile(&[LATE, LATE])]
    );
}

#[test]
fn a_cycle_of_three_all_early_or_all_late() {
    let scenario = scenario("three-bank-cycle");
    let city = build_city(&scenario);
    let spec = spec();
    let mut game = Game::new(&scenario, &city, &spec, &[1], RUNNER).expect("game");
    // B1 early, the others late: B1 is overdrawn at 13:00 (B3 owes it and
    // is late) — 3,000 yuan; B2 received and is late: 2,400; B3 likewise.
    assert!(close(
        &costs_yuan(&mut game, &[EARLY, LATE, LATE]),
        &[3_000.0, 2_400.0, 2_400.0]
    ));
    // B1 and B2 early, B3 late: B1 waits for B3 (3,000), B2 is repaid by B1.
    assert!(close(
        &costs_yuan(&mut game, &[EARLY, EARLY, LATE]),
        &[3_000.0, 0.0, 2_400.0]
    ));
    let found = optimise::enumerate(&mut game)
        .expect("runs")
        .expect("small");
    assert_eq!(
        found.equilibria,
        vec![profile(&[EARLY; 3]), profile(&[LATE; 3])]
    );
    assert_eq!(found.optimum, profile(&[EARLY; 3]));
    assert_eq!(found.optimum_total_fen, 0.0);
}

#[test]
fn best_responses_stop_at_the_equilibrium_they_start_in() {
    let scenario = scenario("bech-garratt-late");
    let city = build_city(&scenario);
    let spec = spec();
    let mut game = Game::new(&scenario, &city, &spec, &[1], RUNNER).expect("game");
    for start in [[EARLY, EARLY], [LATE, LATE]] {
        let search = optimise::iterate(&mut game, profile(&start), Objective::Own).expect("runs");
        assert_eq!(search.ending, optimise::Ending::Converged);
        assert_eq!(search.last().profile, profile(&start));
    }
    // From a mixed start the early bank's best reply is to wait (3,000 >
    // 2,400): the search lands on both late.
    let search =
        optimise::iterate(&mut game, profile(&[EARLY, LATE]), Objective::Own).expect("runs");
    assert_eq!(search.last().profile, profile(&[LATE, LATE]));
    // The planner's bank-by-bank search is local: from both late no single
    // bank's change lowers the total (5,400 > 4,800), so it stays — even
    // from a mixed start the first bank's move to late lowers the total.
    // From both early it stays there. Enumeration (small games) is exact.
    for (start, end) in [
        ([LATE, LATE], [LATE, LATE]),
        ([EARLY, LATE], [LATE, LATE]),
        ([EARLY, EARLY], [EARLY, EARLY]),
    ] {
        let planner =
            optimise::iterate(&mut game, profile(&start), Objective::Total).expect("runs");
        assert_eq!(planner.last().profile, profile(&end));
    }
}
