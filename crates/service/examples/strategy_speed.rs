//! Times strategies on the bench suite's scarce day (the `replay` rows of
//! `clearsim bench`), one after the other, for profiling one strategy:
//!
//! ```sh
//! cargo run --release -p clearsim-service --example strategy_speed -- 10000000 3 rtgs chips
//! perf record -g target/release/examples/strategy_speed 10000000 1 chips
//! ```
//!
//! Arguments: payments in the day, repeats per strategy (the median is
//! printed), then the strategies (default: the suite's). `OPENING_FEN`
//! skips the bisection for the scarce opening.

use clearsim_core::strategy::parse_strategy;
use clearsim_core::time::SimTime;
use clearsim_service::suite::{STRATEGIES, median_replay, scarce_opening, uniform_day};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let payments: usize = args.next().map_or(Ok(10_000_000), |a| a.parse())?;
    let repeats: usize = args.next().map_or(Ok(3), |a| a.parse())?;
    let mut names: Vec<String> = args.collect();
    if names.is_empty() {
        names = STRATEGIES.iter().map(|s| s.to_string()).collect();
    }
    let participants = 1_000;
    let day = uniform_day(participants, payments);
    // The bisection replays the day 12 times under rtgs; give its result
    // (printed below) as OPENING_FEN to keep it out of a profile.
    let opening_fen = match std::env::var("OPENING_FEN") {
        Ok(value) => value.parse()?,
        Err(_) => scarce_opening(&day, participants)?,
    };
    println!("scarce opening: {opening_fen} fen (OPENING_FEN)");
    for name in &names {
        let spec = parse_strategy(name, SimTime::DEFAULT_DAY_END)?.spec;
        let (median, settled) = median_replay(&day, participants, opening_fen, &spec, repeats)?;
        println!(
            "{name:24} {:6.2} M payments/s  (median of {}: {:.3} s; {settled} settled)",
            payments as f64 / median.as_secs_f64() / 1e6,
            repeats.max(1),
            median.as_secs_f64()
        );
    }
    Ok(())
}
