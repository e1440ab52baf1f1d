//! An instrument's observed pairs (`pairs = [...]`): checked as written,
//! drawn by weight and nothing else, independent of the order they are
//! written in, and the liquidity policy's expected outflows follow them.

use std::path::Path;

use clearsim_model::config::{Config, ConfigError};
use clearsim_model::run::stream_model;
use clearsim_model::workload::city::{build_city, expected_daily_outflow_fen};

/// Four banks; one instrument of 40,000 payments whose pairs are `pairs`
/// (its other fields `extra`).
fn config(pairs: &str, extra: &str) -> Result<Config, ConfigError> {
    let text = format!(
        r#"
name = "pairs"
seed = 1
days = 1
[participants]
n = 4
[[instrument]]
name = "t"
daily_count = 40000
amount = {{ median_yuan = 100, sigma = 0.5 }}
pairs = [{pairs}]
{extra}
[[channel]]
name = "gross"
strategy = "rtgs"
instruments = ["t"]
"#
    );
    Config::parse(Path::new("pairs.toml"), &text, Path::new("."))
}

/// A ring B1 → B2 → B3 → B1, B1 → B2 three times as heavy; B4 pays and
/// is paid by no one.
const RING: &str = r#"{ from = "B1", to = "B2", weight = 3 }, { from = "B2", to = "B3", weight = 1 }, { from = "B3", to = "B1", weight = 1 }"#;

/// Payments of day 1 at seed 7 per (sender, receiver).
fn drawn(config: &Config) -> std::collections::BTreeMap<(u32, u32), u64> {
    let city = build_city(&config.scenario);
    let model = stream_model(&config.scenario, &city);
    let mut counts = std::collections::BTreeMap::new();
    for payment in model.day(7, 0, 1.0) {
        *counts
            .entry((payment.sender, payment.receiver))
            .or_insert(0) += 1;
    }
    counts
}

#[test]
fn the_stream_draws_the_pairs_by_weight_and_no_others() {
    let counts = drawn(&config(RING, "").expect("a valid config"));
    let total: u64 = counts.values().sum();
    assert!((39_000..41_000).contains(&total), "{total}");
    assert_eq!(
        counts.keys().copied().collect::<Vec<_>>(),
        vec![(0, 1), (1, 2), (2, 0)],
        "only the pairs given"
    );
    // Shares 3/5, 1/5, 1/5: binomial sd about 0.0025 on 40,000 payments.
    let share = |k: (u32, u32)| counts[&k] as f64 / total as f64;
    assert!((share((0, 1)) - 0.6).abs() < 0.01, "{}", share((0, 1)));
    assert!((share((1, 2)) - 0.2).abs() < 0.01, "{}", share((1, 2)));
    assert!((share((2, 0)) - 0.2).abs() < 0.01, "{}", share((2, 0)));
}

#[test]
fn the_order_pairs_are_written_in_changes_nothing() {
    let reversed = r#"{ from = "B3", to = "B1", weight = 1 }, { from = "B2", to = "B3", weight = 1 }, { from = "B1", to = "B2", weight = 3 }"#;
    let (a, b) = (config(RING, "").unwrap(), config(reversed, "").unwrap());
    let stream = |c: &Config| {
        let city = build_city(&c.scenario);
        let model = stream_model(&c.scenario, &city);
        model.day(3, 0, 1.0).collect::<Vec<_>>()
    };
    assert_eq!(stream(&a), stream(&b));
    assert_eq!(
        clearsim_model::config::fingerprint(&a.scenario, 1),
        clearsim_model::config::fingerprint(&b.scenario, 1)
    );
}

#[test]
fn expected_outflows_follow_the_pairs() {
    let config = config(RING, "").unwrap();
    let city = build_city(&config.scenario);
    let outflow = expected_daily_outflow_fen(&config.scenario, &city.size);
    // Mean amount 100 · e^(0.5²/2) yuan; B1 sends 3/5 of 40,000 payments,
    // B2 and B3 1/5 each, B4 none.
    let mean_fen = 10_000.0 * (0.125f64).exp();
    let want = [0.6, 0.2, 0.2, 0.0].map(|share| 40_000.0 * share * mean_fen);
    for (got, want) in outflow.iter().zip(want) {
        assert!((got - want).abs() <= 1e-6 * want.max(1.0), "{got} {want}");
    }
}

#[test]
fn pairs_are_refused_where_they_cannot_stand() {
    let refused = |pairs: &str, extra: &str, says: &str| {
        let error = config(pairs, extra).expect_err("refused").to_string();
        assert!(error.contains(says), "{error}\n  should say: {says}");
        assert!(
            error.starts_with("pairs.toml: instrument[0] (t).pairs"),
            "{error}"
        );
    };
    refused(
        r#"{ from = "B1", to = "B9", weight = 1 }"#,
        "",
        "pairs[0].to: no participant `B9` in the city",
    );
    refused(
        r#"{ from = "B1", to = "B1", weight = 1 }"#,
        "",
        "pairs[0]: a bank does not pay itself",
    );
    refused(
        r#"{ from = "B1", to = "B2", weight = 0 }"#,
        "",
        "pairs[0].weight: a number > 0",
    );
    refused(
        r#"{ from = "B1", to = "B2", weight = 1 }, { from = "B1", to = "B2", weight = 2 }"#,
        "",
        "the pair `B1` → `B2` is given twice",
    );
    refused(RING, "concentration = 1.2", "not with `concentration`");
    refused(RING, "cross_city = \"out\"", "not with `cross_city`");
}
