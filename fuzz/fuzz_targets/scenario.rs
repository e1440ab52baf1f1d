//! The TOML scenario: any text either is refused with a config error, or
//! builds a city and runs (volumes scaled down so that one execution stays
//! short). Never a panic, a hang or an unbounded allocation.
#![no_main]

use std::path::Path;

use clearsim_model::config::Config;
use clearsim_model::run::{NoObserver, run};
use clearsim_model::workload::city::build_city;
use libfuzzer_sys::fuzz_target;

/// Sizes one execution may reach: the limits themselves are checked by
/// tests/limits.rs; here the point is every path, quickly.
const MAX_PARTICIPANTS: usize = 200;
const MAX_PAYMENTS: f64 = 2_000.0;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = Config::parse(Path::new("fuzz.toml"), text, Path::new(".")) else {
        return;
    };
    let (mut scenario, mut replication) = config.split();
    if scenario.population.participant_ids().len() > MAX_PARTICIPANTS {
        return;
    }
    replication.days = replication.days.min(2);
    scenario.liquidity.need_days = scenario.liquidity.need_days.min(2);
    let per_day: f64 = scenario.instruments.iter().map(|i| i.daily_count).sum();
    let busiest = per_day * scenario.volume_of_day(replication.days).max(1.0);
    if busiest > MAX_PAYMENTS {
        scenario.scale_volume(MAX_PAYMENTS / busiest);
    }
    let city = build_city(&scenario);
    if let Ok(result) = run(&scenario, &city, replication, &mut NoObserver) {
        assert_eq!(result.closing_fen.len(), city.len());
    }
});
