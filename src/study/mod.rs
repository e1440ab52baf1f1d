//! Studies over one scenario: `compare` (the same stream through several
//! strategies) and `sweep` (the liquidity–delay trade-off). Runs are
//! independent, so they go in parallel over the cores; each result lands in
//! its own slot, so the output never depends on thread timing.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::config::{Channel, Scenario};
use crate::engine::EngineError;
use crate::metrics::Positions;
use crate::run::{NoObserver, RunResult, run, stream_model, volume_of_day};
use crate::strategy::{ChannelSpec, Unwind, check_cycles};
use crate::time::SimTime;
use crate::workload::city::City;

/// A strategy to compare, as written (`rtgs+gridlock:5m`) and as built.
#[derive(Clone, Debug, PartialEq)]
pub struct StrategyChoice {
    pub label: String,
    pub spec: ChannelSpec,
}

/// Strategies compared when neither the config nor the command line names any.
pub const DEFAULT_STRATEGIES: [&str; 5] = [
    "rtgs",
    "rtgs+gridlock:5m",
    "dns:hourly",
    "dns",
    "bilateral:hourly",
];

/// Parses `rtgs`, `rtgs+gridlock:5m`, `dns`, `dns:10:00,15:00`,
/// `dns+latest:hourly`, `bilateral:12:00,16:30`, `bilateral:hourly`.
/// Times are `HH:MM` or `HH:MM:SS`; no cycle list means one at day end.
pub fn parse_strategy(text: &str, day_end: SimTime) -> Result<StrategyChoice, String> {
    let text = text.trim();
    let (head, cycles_text) = match text.split_once(':') {
        Some((head, rest)) => (head, Some(rest)),
        None => (text, None),
    };
    let cycles = |cycles_text: Option<&str>| -> Result<Vec<SimTime>, String> {
        let cycles = match cycles_text {
            None => vec![day_end],
            Some("hourly") => hourly(day_end),
            Some(list) => list
                .split(',')
                .map(|t| clock(t.trim()))
                .collect::<Result<_, _>>()?,
        };
        check_cycles(&cycles, day_end).map_err(|e| format!("`{text}`: {e}"))?;
        Ok(cycles)
    };
    // The gridlock interval after the colon, e.g. `rtgs+gridlock:5m`.
    let interval = |name: &str| -> Result<u32, String> {
        let every =
            cycles_text.ok_or_else(|| format!("`{text}`: give the interval, e.g. {name}:5m"))?;
        crate::time::parse_duration_ms(every)
            .ok_or_else(|| format!("`{text}`: `{every}` is not a duration"))
    };
    let spec = match head {
        "rtgs" if cycles_text.is_none() => ChannelSpec::Rtgs {
            gridlock_every_ms: None,
        },
        "rtgs+gridlock" => {
            let ms = interval("rtgs+gridlock")?;
            ChannelSpec::Rtgs {
                gridlock_every_ms: Some(ms),
            }
        }
        "rtgs+offset" if cycles_text.is_none() => ChannelSpec::RtgsOffset {
            gridlock_every_ms: None,
        },
        "rtgs+offset+gridlock" => {
            let ms = interval("rtgs+offset+gridlock")?;
            ChannelSpec::RtgsOffset {
                gridlock_every_ms: Some(ms),
            }
        }
        "rtgs+limits" if cycles_text.is_none() => ChannelSpec::RtgsLimits {
            gridlock_every_ms: None,
            limits: Default::default(),
        },
        "rtgs+limits+gridlock" => {
            let ms = interval("rtgs+limits+gridlock")?;
            ChannelSpec::RtgsLimits {
                gridlock_every_ms: Some(ms),
                limits: Default::default(),
            }
        }
        "rtgs+bypass" if cycles_text.is_none() => ChannelSpec::RtgsBypass {
            gridlock_every_ms: None,
        },
        "rtgs+bypass+gridlock" => {
            let ms = interval("rtgs+bypass+gridlock")?;
            ChannelSpec::RtgsBypass {
                gridlock_every_ms: Some(ms),
            }
        }
        _ if head == "chips" || head.starts_with("chips+") => {
            let mut max_position_pct = crate::strategy::CHIPS_MAX_POSITION_PCT;
            for modifier in head.split('+').skip(1) {
                max_position_pct = modifier
                    .strip_prefix("max=")
                    .and_then(|pct| pct.parse().ok())
                    .filter(|&pct: &u32| pct >= 100)
                    .ok_or_else(|| {
                        format!("`{text}`: chips takes +max=PCT with PCT ≥ 100 (e.g. +max=300), not `+{modifier}`")
                    })?;
            }
            ChannelSpec::Chips {
                every_ms: match cycles_text {
                    None => crate::strategy::CHIPS_EVERY_MS,
                    Some(_) => interval("chips")?,
                },
                max_position_pct,
            }
        }
        _ if head == "dns" || head.starts_with("dns+") => {
            let (unwind, guarantee_fund_fen) = dns_modifiers(text, head)?;
            ChannelSpec::Dns {
                cycles: cycles(cycles_text)?,
                unwind,
                guarantee_fund_fen,
            }
        }
        "bilateral" => ChannelSpec::Bilateral {
            cycles: cycles(cycles_text)?,
        },
        _ => {
            return Err(format!(
                "`{text}` is not a strategy (rtgs, rtgs+gridlock:5m, rtgs+bypass, rtgs+offset, rtgs+limits, chips:5m, dns:10:00,15:00, dns+latest:hourly, dns+fund=5e6:hourly, bilateral:hourly)"
            ));
        }
    };
    Ok(StrategyChoice {
        label: text.to_string(),
        spec,
    })
}

/// The `+latest` and `+fund=YUAN` modifiers of `dns`, in any order.
fn dns_modifiers(text: &str, head: &str) -> Result<(Unwind, Option<i64>), String> {
    let mut unwind = Unwind::Participant;
    let mut fund_fen = None;
    for modifier in head.split('+').skip(1) {
        if modifier == "latest" {
            unwind = Unwind::Latest;
        } else if let Some(amount) = modifier.strip_prefix("fund=") {
            let fen = amount
                .parse::<f64>()
                .ok()
                .and_then(crate::config::yuan_to_fen)
                .ok_or_else(|| format!("`{text}`: `{amount}` is not an amount of yuan ≥ 0"))?;
            fund_fen = Some(fen);
        } else {
            return Err(format!(
                "`{text}`: dns takes +latest and +fund=YUAN, not `+{modifier}`"
            ));
        }
    }
    Ok((unwind, fund_fen))
}

/// `HH:MM` or `HH:MM:SS[.mmm]`.
fn clock(text: &str) -> Result<SimTime, String> {
    let full = if text.len() == 5 {
        format!("{text}:00")
    } else {
        text.to_string()
    };
    SimTime::parse(full.as_bytes()).ok_or_else(|| format!("`{text}` is not a time HH:MM[:SS]"))
}

/// Every full hour up to the day end, and the day end itself.
fn hourly(day_end: SimTime) -> Vec<SimTime> {
    let mut out: Vec<SimTime> = (1..24)
        .map(|h| SimTime(h * 3_600_000))
        .take_while(|&t| t <= day_end)
        .collect();
    if out.last() != Some(&day_end) {
        out.push(day_end);
    }
    out
}

/// The scenario with all instruments routed to one channel of `choice`.
/// Under gross settlement there is no exchange session, so cheques settle
/// like transfers (no return window, no returns).
pub fn variant(scenario: &Scenario, choice: &StrategyChoice) -> Scenario {
    let mut out = scenario.clone();
    out.channels = vec![Channel {
        name: choice.label.clone(),
        spec: choice.spec.clone(),
        instruments: (0..scenario.instruments.len()).collect(),
    }];
    out.channel_of = vec![0; scenario.instruments.len()];
    if choice.spec.is_gross() {
        for instrument in &mut out.instruments {
            instrument.cheque = false;
            instrument.dishonour_rate = 0.0;
        }
    }
    out
}

/// Runs `jobs` on up to `threads` threads; results in job order.
pub fn parallel_map<T, R, F>(jobs: &[T], threads: usize, work: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let next = AtomicUsize::new(0);
    let threads = threads.clamp(1, jobs.len().max(1));
    let mut slots: Vec<Option<R>> = (0..jobs.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(index) else { break };
                        done.push((index, work(job)));
                    }
                    done
                })
            })
            .collect();
        for handle in handles {
            // A worker panics only on a bug; propagate it.
            for (index, result) in handle
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e))
            {
                slots[index] = Some(result);
            }
        }
    });
    slots
        .into_iter()
        .map(|slot| slot.unwrap_or_else(|| unreachable!("every job ran")))
        .collect()
}

/// The cores to use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs every strategy over the same stream (same seed), in parallel.
pub fn compare(
    scenario: &Scenario,
    city: &City,
    choices: &[StrategyChoice],
    threads: usize,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<RunResult>, EngineError> {
    parallel_map(choices, threads, |choice| {
        let result = run(&variant(scenario, choice), city, &mut NoObserver);
        on_done();
        result
    })
    .into_iter()
    .collect()
}

/// Each participant's own lower and upper liquidity need on day 1 (the
/// bounds of the contract, per participant), from the generated stream.
pub fn participant_bounds(scenario: &Scenario, city: &City) -> (Vec<i64>, Vec<i64>) {
    let model = stream_model(scenario, city);
    let mut positions = Positions::new(city.len());
    let mut previous: Option<SimTime> = None;
    for payment in model.day(scenario.seed, 0, volume_of_day(scenario, 0)) {
        if previous.is_some_and(|t| t != payment.submit) {
            positions.end_instant();
        }
        previous = Some(payment.submit);
        positions.add(payment.sender, payment.receiver, payment.amount_fen);
    }
    positions.end_instant();
    (
        positions.participant_lower_fen(),
        positions.participant_upper_fen(),
    )
}

/// One point of a sweep: liquidity level `x` (0 = lower bound, 1 = upper).
#[derive(Clone, Debug)]
pub struct SweepPoint {
    pub level: f64,
    pub liquidity_fen: i64,
    /// Per strategy, in the order given.
    pub results: Vec<RunResult>,
}

/// The liquidity–delay trade-off: opening balances set to
/// `lower_i + x·(upper_i − lower_i)` for each participant, no credit, one
/// day, for each level `x` and strategy; computed in parallel.
pub fn sweep(
    scenario: &Scenario,
    city: &City,
    choices: &[StrategyChoice],
    levels: &[f64],
    threads: usize,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<SweepPoint>, EngineError> {
    let mut one_day = scenario.clone();
    one_day.days = 1;
    let (lower, upper) = participant_bounds(&one_day, city);
    let cities: Vec<City> = levels
        .iter()
        .map(|&x| {
            let mut city = city.clone();
            city.opening_fen = lower
                .iter()
                .zip(&upper)
                .map(|(&l, &u)| l + ((u - l).max(0) as f64 * x).round() as i64)
                .collect();
            city.credit_limit_fen = vec![0; city.len()];
            city
        })
        .collect();
    let jobs: Vec<(usize, usize)> = (0..levels.len())
        .flat_map(|p| (0..choices.len()).map(move |s| (p, s)))
        .collect();
    let results = parallel_map(&jobs, threads, |&(point, strategy)| {
        let result = run(
            &variant(&one_day, &choices[strategy]),
            &cities[point],
            &mut NoObserver,
        );
        on_done();
        result
    });
    let mut results = results.into_iter();
    let mut points = Vec::with_capacity(levels.len());
    for (point, &level) in levels.iter().enumerate() {
        let mut per_strategy = Vec::with_capacity(choices.len());
        for _ in choices {
            per_strategy.push(
                results
                    .next()
                    .unwrap_or_else(|| unreachable!("one result per job"))?,
            );
        }
        points.push(SweepPoint {
            level,
            liquidity_fen: cities[point].opening_fen.iter().sum(),
            results: per_strategy,
        });
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strategy_names() {
        let end = SimTime::DEFAULT_DAY_END;
        assert_eq!(
            parse_strategy("rtgs", end).map(|c| c.spec),
            Ok(ChannelSpec::Rtgs {
                gridlock_every_ms: None
            })
        );
        assert_eq!(
            parse_strategy("rtgs+gridlock:5m", end).map(|c| c.spec),
            Ok(ChannelSpec::Rtgs {
                gridlock_every_ms: Some(300_000)
            })
        );
        assert_eq!(
            parse_strategy("dns:10:00,15:00", end).map(|c| c.spec),
            Ok(ChannelSpec::Dns {
                cycles: vec![SimTime(36_000_000), SimTime(54_000_000)],
                unwind: Unwind::Participant,
                guarantee_fund_fen: None,
            })
        );
        assert_eq!(
            parse_strategy("bilateral", end).map(|c| c.spec),
            Ok(ChannelSpec::Bilateral { cycles: vec![end] })
        );
        let Ok(ChannelSpec::Dns {
            cycles,
            unwind: Unwind::Latest,
            ..
        }) = parse_strategy("dns+latest:hourly", end).map(|c| c.spec)
        else {
            panic!("hourly dns");
        };
        assert_eq!(cycles.len(), 17);
        assert_eq!(cycles.last(), Some(&end));
        assert_eq!(
            parse_strategy("chips+max=300:1m", end).map(|c| c.spec),
            Ok(ChannelSpec::Chips {
                every_ms: 60_000,
                max_position_pct: 300
            })
        );
        assert_eq!(
            parse_strategy("dns+latest+fund=1.5:12:00", end).map(|c| c.spec),
            Ok(ChannelSpec::Dns {
                cycles: vec![SimTime(12 * 3_600_000)],
                unwind: Unwind::Latest,
                guarantee_fund_fen: Some(150),
            })
        );
        for bad in [
            "gross",
            "rtgs:5m",
            "rtgs+gridlock",
            "dns:15:00,10:00",
            "dns:25:00",
            "bilateral:noon",
            "chips+max=50",
            "chips+min=5",
            "chips:0s",
            "dns+fund=-1",
            "dns+fund=lots",
            "dns+earliest",
            "rtgs+limits:5m",
        ] {
            assert!(parse_strategy(bad, end).is_err(), "{bad}");
        }
    }

    #[test]
    fn parallel_map_keeps_job_order() {
        let jobs: Vec<u64> = (0..50).collect();
        assert_eq!(
            parallel_map(&jobs, 4, |&j| j * j),
            jobs.iter().map(|j| j * j).collect::<Vec<_>>()
        );
    }
}
