//! `optimise` prices a bank's levels from one run where the run's margins
//! allow (docs/PERFORMANCE.md): the outcomes must be exactly those of
//! running every level. Checked on a small chengdu-2005 under each kind of
//! design, over two days, with balance-reading policies, priced credit,
//! and a design (chips) for which the shortcut must stay off.

use std::path::Path;

use clearsim_core::time::SimTime;
use clearsim_model::bank::costs::Credit;
use clearsim_model::bank::policy::parse_policy;
use clearsim_model::config::{Config, Scenario};
use clearsim_model::workload::city::build_city;
use clearsim_study::Runner;
use clearsim_study::optimise::{Choice, Game, GameSpec};

/// The replications every comparison runs on, on two threads.
const SEEDS: [u64; 2] = [3, 4];
const RUNNER: Runner<'static> = Runner {
    threads: 2,
    tick: &|| {},
    stop: None,
};

/// A small design and its days.
struct Small {
    scenario: Scenario,
    days: u32,
}

/// chengdu-2005 at 2 % of its volume, `days` days, under `design`, with
/// no intraday credit: at low levels banks run short, so that levels on
/// both sides of a run's margin are compared.
fn small(design: &str, days: u32) -> Small {
    let mut scenario = Config::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/chengdu-2005.toml"),
    )
    .expect("config")
    .scenario;
    scenario.scale_volume(0.02);
    scenario.liquidity.credit_share = 0.0;
    scenario.check_volume(days).expect("volume");
    let design = clearsim_study::parse_design(design, scenario.day_end).expect("design");
    Small {
        scenario: clearsim_study::variant(&scenario, &design),
        days,
    }
}

fn spec(policies: &[&str], shortcut: bool, days: u32) -> GameSpec {
    GameSpec {
        levels: 8,
        max_scale: 1.0,
        policies: policies
            .iter()
            .map(|p| parse_policy(p).expect("policy"))
            .collect(),
        days,
        max_rounds: 2,
        tolerance_levels: 0,
        shortcut,
    }
}

/// For each of `players`, every option from the start profile, with and
/// without the shortcut: identical outcomes. Returns how many
/// (profile, seed) pairs the shortcut priced, and how many it ran.
fn same_outcomes(small: &Small, policies: &[&str], players: &[usize]) -> (u64, u64) {
    let scenario = &small.scenario;
    let city = build_city(scenario);
    let on_spec = spec(policies, true, small.days);
    let off_spec = spec(policies, false, small.days);
    let mut on = Game::new(scenario, &city, &on_spec, &SEEDS, RUNNER).expect("game");
    let mut off = Game::new(scenario, &city, &off_spec, &SEEDS, RUNNER).expect("game");
    let start = on.start();
    for &p in players {
        let profiles: Vec<Vec<Choice>> = (0..policies.len().max(1) as u16)
            .flat_map(|policy| {
                (0..on.levels_fen[p].len() as u16).map(move |level| Choice { level, policy })
            })
            .map(|choice| {
                let mut profile = start.clone();
                profile[p] = choice;
                profile
            })
            .collect();
        let priced = on.reply_outcomes(p, &profiles).expect("runs");
        let run = off.outcomes(&profiles).expect("runs");
        assert_eq!(priced, run, "player {p}");
        assert_eq!(off.priced, 0);
    }
    assert_eq!(
        on.runs + on.priced,
        off.runs,
        "every pair is either run or priced"
    );
    (on.priced, on.runs)
}

const PLAYERS: [usize; 4] = [0, 7, 20, 43];

#[test]
fn gross_settlement_prices_most_levels_exactly() {
    let (priced, runs) = same_outcomes(&small("rtgs", 1), &[], &PLAYERS);
    // Some levels beyond each run's margin had to be run: both sides of
    // the boundary are compared.
    assert!(
        priced > 0 && runs > 2 * PLAYERS.len() as u64,
        "priced {priced}, ran {runs}"
    );
}

#[test]
fn the_mixed_design_over_two_days_is_exact() {
    // Gross transfers, netted cheques, bilateral cards; two days (the
    // second day's opening grows with volume: its own shift).
    let (priced, _) = same_outcomes(&small("design", 2), &[], &PLAYERS);
    assert!(priced > 0);
}

#[test]
fn netting_and_bypass_are_exact() {
    same_outcomes(&small("dns", 1), &[], &PLAYERS);
    same_outcomes(&small("rtgs+bypass+gridlock:5m", 1), &[], &PLAYERS);
    same_outcomes(&small("rtgs+offset", 1), &[], &PLAYERS);
}

#[test]
fn balance_reading_policies_are_exact() {
    let policies = [
        "immediate",
        "reserve:100万",
        "throughput:12:00=50%,15:00=80%",
    ];
    let (priced, _) = same_outcomes(&small("rtgs", 1), &policies, &PLAYERS);
    assert!(priced > 0);
}

#[test]
fn priced_credit_shifts_every_pricing_time() {
    let mut small = small("rtgs", 1);
    let costs = small.scenario.costs.as_mut().expect("[costs]");
    costs.credit = Credit::Priced {
        fee_bp: 5.0,
        at: [10, 12, 14, 16]
            .iter()
            .map(|h| SimTime(h * 3_600_000))
            .collect(),
    };
    let (priced, _) = same_outcomes(&small, &[], &PLAYERS);
    assert!(priced > 0);
}

#[test]
fn chips_is_never_priced() {
    // Its maximum positions come from the openings: every level is run.
    let (priced, _) = same_outcomes(&small("chips", 1), &[], &[0, 43]);
    assert_eq!(priced, 0);
}
