//! Controlled experiments over one scenario: `run`, `compare` (several
//! designs on the same stream) and `sweep` (the liquidity–delay trade-off),
//! each replicated over seeds.
//!
//! The design of every experiment:
//! - **Common random numbers.** A replication is one seed; every design
//!   compared in it sees the same customer stream (a function of scenario,
//!   seed and day only), so differences between designs are paired.
//! - **Paired baselines.** A shocked run is compared with the same seed
//!   and design without the shock; a sweep's bounds come from the very
//!   stream its points run on.
//! - **Replications.** Seeds `seed … seed+N−1`, run in parallel over the
//!   cores; each result lands in its own slot, so the output never depends
//!   on thread timing, and shards of the seeds merge exactly.

pub mod optimise;
pub mod record;
pub mod saved;
pub mod summary;

use std::sync::atomic::{AtomicUsize, Ordering};

use clearsim_core::engine::EngineError;
use clearsim_core::strategy::ChannelSpec;
use clearsim_core::strategy::parse_strategy;
use clearsim_core::time::SimTime;
use clearsim_model::config::{Channel, Scenario};
use clearsim_model::run::{NoObserver, RunResult, baseline, run};
use clearsim_model::workload::city::City;
use record::{CompareRecord, RunRecord, SweepCell, SweepRecord};

/// Most replications one study may have.
pub const MAX_REPLICATIONS: u32 = 10_000;

/// The name of the scenario's own multi-channel design among contenders.
pub const DESIGN: &str = "design";

/// A design under test: the scenario's own channels, or one strategy for
/// every instrument.
#[derive(Clone, Debug, PartialEq)]
pub struct Design {
    /// As written: `design`, `rtgs+gridlock:5m`, …
    pub label: String,
    /// `None`: the scenario's own channels.
    pub single: Option<ChannelSpec>,
}

/// Designs compared when neither the config nor the command line names any.
pub const DEFAULT_DESIGNS: [&str; 6] = [
    DESIGN,
    "rtgs",
    "rtgs+gridlock:5m",
    "dns:hourly",
    "dns",
    "bilateral:hourly",
];

/// `design`, or a strategy in the grammar of [`parse_strategy`].
pub fn parse_design(text: &str, day_end: SimTime) -> Result<Design, String> {
    let text = text.trim();
    if text == DESIGN {
        return Ok(Design {
            label: DESIGN.into(),
            single: None,
        });
    }
    let choice = parse_strategy(text, day_end)?;
    Ok(Design {
        label: choice.label,
        single: Some(choice.spec),
    })
}

/// The scenario as run under `design`: unchanged for `design`, else with
/// every instrument routed to one channel of the strategy. The stream does
/// not change (common random numbers); the cheque life cycle follows the
/// channel (an exchange's sessions, or gross settlement's return window).
pub fn variant(scenario: &Scenario, design: &Design) -> Scenario {
    let Some(spec) = &design.single else {
        return scenario.clone();
    };
    let mut out = scenario.clone();
    out.channels = vec![Channel {
        name: design.label.clone(),
        spec: spec.clone(),
        instruments: (0..scenario.instruments.len()).collect(),
    }];
    out.channel_of = vec![0; scenario.instruments.len()];
    out
}

/// Seeds `first … first+count−1` (wrapping at u64::MAX).
pub fn seeds(first: u64, count: u32) -> Vec<u64> {
    (0..u64::from(count))
        .map(|i| first.wrapping_add(i))
        .collect()
}

/// The `index`-th (1-based) of `of` contiguous slices of the replications.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub of: u32,
}

impl Shard {
    /// Parses `K/N` with 1 ≤ K ≤ N.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not K/N"))?;
        let parse = |v: &str| v.trim().parse::<u32>().ok();
        match (parse(k), parse(n)) {
            (Some(index), Some(of)) if index >= 1 && index <= of && of <= MAX_REPLICATIONS => {
                Ok(Shard { index, of })
            }
            _ => Err(format!(
                "`{text}` is not K/N with 1 ≤ K ≤ N ≤ {MAX_REPLICATIONS}"
            )),
        }
    }

    /// This shard's seeds: slice K of N, as even as can be.
    pub fn of_seeds<'a>(&self, seeds: &'a [u64]) -> &'a [u64] {
        let len = seeds.len() as u64;
        let from = (len * u64::from(self.index - 1) / u64::from(self.of)) as usize;
        let to = (len * u64::from(self.index) / u64::from(self.of)) as usize;
        &seeds[from..to]
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.of)
    }
}

/// A fingerprint of everything in the scenario but its seed: two summaries
/// merge only when their fingerprints (and designs) agree.
pub fn fingerprint(scenario: &Scenario) -> String {
    clearsim_model::config::fingerprint(scenario, scenario.days)
}

/// What the study is, for its summary: the scenario, its participants and
/// design, its shocks and anything else a reader must know.
pub fn meta(scenario: &Scenario, city: &City) -> summary::StudyMeta {
    let mut context = Vec::new();
    for channel in &scenario.channels {
        if let Some(fund) = channel.spec.guarantee_fund_fen() {
            context.push(format!(
                "Channel {} has a settlement guarantee fund of {} a day.",
                channel.name,
                clearsim_core::format::money_short(fund as f64)
            ));
        }
    }
    if !scenario.limits.is_empty() {
        context.push(format!(
            "Sender limits: {} [[limit]] entries (used by rtgs+limits).",
            scenario.limits.len()
        ));
    }
    summary::StudyMeta {
        scenario: scenario.name.clone(),
        fingerprint: fingerprint(scenario),
        clearsim_version: env!("CARGO_PKG_VERSION").into(),
        days: scenario.days,
        day_end: scenario.day_end.to_string(),
        participant_ids: city.ids.clone(),
        participant_names: city.names.clone(),
        participant_categories: city.categories.clone(),
        opening_fen: city.opening_fen.clone(),
        credit_limit_fen: city.credit_limit_fen.clone(),
        channels: scenario
            .channels
            .iter()
            .map(|c| (c.name.clone(), c.spec.name()))
            .collect(),
        instruments: scenario
            .instruments
            .iter()
            .map(|i| i.name.clone())
            .collect(),
        cheques: scenario
            .instruments
            .iter()
            .filter(|i| i.cheque)
            .map(|i| i.name.clone())
            .collect(),
        shocks: scenario.shocks.iter().map(ToString::to_string).collect(),
        context,
    }
}

/// What every study needs: the scenario, its city, the seeds to run and the
/// threads to run them on.
pub struct Study<'a> {
    pub scenario: &'a Scenario,
    pub city: &'a City,
    pub seeds: &'a [u64],
    pub threads: usize,
}

/// One run of one design and seed, shocked or its baseline.
#[derive(Clone, Copy)]
struct Job {
    seed: u64,
    design: usize,
    baseline: bool,
}

impl Study<'_> {
    fn seeded(&self, design: Option<&Design>, seed: u64) -> Scenario {
        let mut scenario = match design {
            Some(design) => variant(self.scenario, design),
            None => self.scenario.clone(),
        };
        scenario.seed = seed;
        scenario
    }

    /// Every (seed, design) run, with its baseline when there are shocks, in
    /// parallel; then paired into records.
    fn records(
        &self,
        designs: &[Option<&Design>],
        on_done: &(dyn Fn() + Sync),
    ) -> Result<Vec<Vec<RunRecord>>, EngineError> {
        let shocked = !self.scenario.shocks.is_empty();
        let jobs: Vec<Job> = self
            .seeds
            .iter()
            .flat_map(|&seed| {
                (0..designs.len()).flat_map(move |design| {
                    [false, true]
                        .into_iter()
                        .filter(move |&b| !b || shocked)
                        .map(move |baseline| Job {
                            seed,
                            design,
                            baseline,
                        })
                })
            })
            .collect();
        let results = parallel_map(&jobs, self.threads, |job| {
            let scenario = self.seeded(designs[job.design], job.seed);
            let result = if job.baseline {
                baseline(&scenario, self.city)
            } else {
                run(&scenario, self.city, &mut NoObserver)
            };
            on_done();
            result
        });
        let mut results = results.into_iter();
        let mut out = Vec::with_capacity(self.seeds.len());
        for &seed in self.seeds {
            let mut per_design = Vec::with_capacity(designs.len());
            for _ in designs {
                let mut next = || -> Result<RunResult, EngineError> {
                    results
                        .next()
                        .unwrap_or_else(|| unreachable!("one result per job"))
                };
                let result = next()?;
                let base = if shocked { Some(next()?) } else { None };
                per_design.push(
                    RunRecord::new(seed, result, base.as_ref()).map_err(EngineError::BadChannel)?,
                );
            }
            out.push(per_design);
        }
        Ok(out)
    }

    /// Jobs a run of the study takes (for progress bars).
    pub fn job_count(&self, designs: usize) -> usize {
        let per = if self.scenario.shocks.is_empty() {
            1
        } else {
            2
        };
        self.seeds.len() * designs * per
    }

    /// `clearsim run`: the scenario's own design, once per seed.
    pub fn run(&self, on_done: &(dyn Fn() + Sync)) -> Result<Vec<RunRecord>, EngineError> {
        Ok(self
            .records(&[None], on_done)?
            .into_iter()
            .flatten()
            .collect())
    }

    /// One seed of the scenario's own design, seen by `observer` (with
    /// shocks, the baseline runs too, unobserved).
    pub fn run_observed<O: clearsim_model::run::Observer>(
        &self,
        seed: u64,
        observer: &mut O,
    ) -> Result<RunRecord, EngineError> {
        let scenario = self.seeded(None, seed);
        let result = run(&scenario, self.city, observer)?;
        let base = if scenario.shocks.is_empty() {
            None
        } else {
            Some(baseline(&scenario, self.city)?)
        };
        RunRecord::new(seed, result, base.as_ref()).map_err(EngineError::BadChannel)
    }

    /// `clearsim compare`: every design on every seed's stream.
    pub fn compare(
        &self,
        designs: &[Design],
        on_done: &(dyn Fn() + Sync),
    ) -> Result<Vec<CompareRecord>, EngineError> {
        let refs: Vec<Option<&Design>> = designs.iter().map(Some).collect();
        Ok(self
            .records(&refs, on_done)?
            .into_iter()
            .zip(self.seeds)
            .map(|(designs, &seed)| CompareRecord { seed, designs })
            .collect())
    }

    /// `clearsim sweep`: for each seed and design, the bounds from a run
    /// with unlimited credit (the very stream the points run on, returned
    /// cheques included), then one day at each level: each participant
    /// opens with `lower + level·(need − lower)`, no credit.
    pub fn sweep(
        &self,
        designs: &[Design],
        levels: &[f64],
        on_done: &(dyn Fn() + Sync),
    ) -> Result<Vec<SweepRecord>, EngineError> {
        let mut one_day = self.scenario.clone();
        one_day.days = 1;
        let study = Study {
            scenario: &one_day,
            ..*self
        };
        let pairs: Vec<(u64, usize)> = self
            .seeds
            .iter()
            .flat_map(|&seed| (0..designs.len()).map(move |d| (seed, d)))
            .collect();
        let bounds = parallel_map(&pairs, self.threads, |&(seed, d)| {
            let scenario = study.seeded(Some(&designs[d]), seed);
            let mut ample = self.city.clone();
            ample.credit_limit_fen = vec![i64::MAX; ample.len()];
            let reference = run(&scenario, &ample, &mut NoObserver)?;
            on_done();
            Ok((reference.day1_lower_fen, reference.day1_need_fen))
        })
        .into_iter()
        .collect::<Result<Vec<_>, EngineError>>()?;
        let jobs: Vec<(usize, usize)> = (0..pairs.len())
            .flat_map(|pair| (0..levels.len()).map(move |level| (pair, level)))
            .collect();
        let cells = parallel_map(&jobs, self.threads, |&(pair, level)| {
            let (seed, d) = pairs[pair];
            let scenario = study.seeded(Some(&designs[d]), seed);
            let (lower, need) = &bounds[pair];
            let city = at_level(self.city, lower, need, levels[level]);
            let result = run(&scenario, &city, &mut NoObserver);
            on_done();
            result.and_then(|r| sweep_cell(&city, &r).map_err(EngineError::BadChannel))
        })
        .into_iter()
        .collect::<Result<Vec<_>, EngineError>>()?;
        let mut cells = cells.into_iter();
        let mut grid: Vec<Vec<Vec<SweepCell>>> = Vec::new();
        for _ in &pairs {
            grid.push((0..levels.len()).map(|_| Vec::new()).collect());
        }
        for (pair, level) in &jobs {
            grid[*pair][*level].push(cells.next().unwrap_or_else(|| unreachable!()));
        }
        Ok(self
            .seeds
            .iter()
            .enumerate()
            .map(|(s, &seed)| {
                let rows = &grid[s * designs.len()..(s + 1) * designs.len()];
                SweepRecord {
                    seed,
                    lower_fen: (0..designs.len())
                        .map(|d| bounds[s * designs.len() + d].0.iter().sum())
                        .collect(),
                    upper_fen: (0..designs.len())
                        .map(|d| bounds[s * designs.len() + d].1.iter().sum())
                        .collect(),
                    points: (0..levels.len())
                        .map(|level| rows.iter().map(|design| design[level][0].clone()).collect())
                        .collect(),
                }
            })
            .collect())
    }

    /// Jobs a sweep takes (for progress bars).
    pub fn sweep_job_count(&self, designs: usize, levels: usize) -> usize {
        self.seeds.len() * designs * (levels + 1)
    }
}

/// The city with each participant's opening at `level` between its bounds,
/// and no credit.
fn at_level(city: &City, lower: &[i64], need: &[i64], level: f64) -> City {
    let mut city = city.clone();
    city.opening_fen = lower
        .iter()
        .zip(need)
        .map(|(&l, &u)| {
            let l = l.min(u);
            l + ((u - l) as f64 * level).round() as i64
        })
        .collect();
    city.credit_limit_fen = vec![0; city.len()];
    city
}

fn sweep_cell(city: &City, result: &RunResult) -> Result<SweepCell, String> {
    let all = record::pooled(&result.channels)?;
    Ok(SweepCell {
        liquidity_fen: city.opening_fen.iter().sum(),
        payments: all.counts.payments,
        settled: all.counts.settled,
        value_fen: all.counts.value_fen,
        unsettled_value_fen: all.counts.unsettled_value_fen,
        delay_indicator: all.delay_indicator,
        liquidity_used_fen: result
            .days
            .iter()
            .map(|d| d.liquidity_used_fen)
            .max()
            .unwrap_or(0),
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_map_keeps_job_order() {
        let jobs: Vec<u64> = (0..50).collect();
        assert_eq!(
            parallel_map(&jobs, 4, |&j| j * j),
            jobs.iter().map(|j| j * j).collect::<Vec<_>>()
        );
    }
}
