//! `run` and `compare`: designs replicated over seeds, each run paired
//! with its baseline when there are shocks.
//!
//! - **Common random numbers.** A replication is one seed; every design
//!   compared in it sees the same customer stream (a function of scenario,
//!   seed and day only), so differences between designs are paired.
//! - **Paired baselines.** A shocked run is compared with the same seed
//!   and design without the shock.

use clearsim_model::config::Scenario;
use clearsim_model::run::{NoObserver, Observer, Replication, RunResult, baseline, run};
use clearsim_model::workload::city::City;

use crate::StudyError;
use crate::design::{Design, variant};
use crate::record::{CompareRecord, RunRecord};
use crate::runner::{Experiment, Runner};
use crate::summary::{CompareSummary, Partial, RunSummary, meta};

/// One run of one design and seed, shocked or its baseline.
#[derive(Clone, Copy)]
struct Job {
    seed: u64,
    design: usize,
    baseline: bool,
}

/// The scenario's designs (each scenario a design's variant, made once),
/// run for `days` on every seed.
struct Designs<'a> {
    variants: Vec<Scenario>,
    city: &'a City,
    days: u32,
}

impl Designs<'_> {
    fn shocked(&self) -> bool {
        self.variants.first().is_some_and(|s| !s.shocks.is_empty())
    }

    fn jobs(&self, seeds: usize) -> usize {
        seeds * self.variants.len() * if self.shocked() { 2 } else { 1 }
    }

    /// Per seed, per design, its record (every run in parallel).
    fn records(
        &self,
        seeds: &[u64],
        runner: &Runner<'_>,
    ) -> Result<Vec<Vec<RunRecord>>, StudyError> {
        let shocked = self.shocked();
        let jobs: Vec<Job> = seeds
            .iter()
            .flat_map(|&seed| {
                (0..self.variants.len()).flat_map(move |design| {
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
        let results = runner.map(&jobs, |job| {
            let scenario = &self.variants[job.design];
            let replication = Replication {
                seed: job.seed,
                days: self.days,
            };
            if job.baseline {
                baseline(scenario, self.city, replication)
            } else {
                run(scenario, self.city, replication, &mut NoObserver)
            }
        })?;
        let mut results = results.into_iter();
        let mut next = || -> Result<RunResult, StudyError> {
            let result = results
                .next()
                .ok_or_else(|| StudyError::Bug("a job without its result".into()))?;
            Ok(result?)
        };
        let mut out = Vec::with_capacity(seeds.len());
        for &seed in seeds {
            let mut per_design = Vec::with_capacity(self.variants.len());
            for _ in &self.variants {
                let result = next()?;
                let base = if shocked { Some(next()?) } else { None };
                per_design.push(record(seed, result, base.as_ref())?);
            }
            out.push(per_design);
        }
        Ok(out)
    }
}

fn record(seed: u64, result: RunResult, base: Option<&RunResult>) -> Result<RunRecord, StudyError> {
    RunRecord::new(seed, result, base).map_err(|e| StudyError::Bug(e.to_string()))
}

/// `clearsim run`: the scenario's own design, once per seed.
pub struct RunExperiment<'a> {
    scenario: &'a Scenario,
    designs: Designs<'a>,
}

impl<'a> RunExperiment<'a> {
    pub fn new(scenario: &'a Scenario, city: &'a City, days: u32) -> RunExperiment<'a> {
        RunExperiment {
            scenario,
            designs: Designs {
                variants: vec![scenario.clone()],
                city,
                days,
            },
        }
    }

    /// One seed, seen by `observer` (with shocks, the baseline runs too,
    /// unobserved).
    pub fn observed<O: Observer>(
        &self,
        seed: u64,
        observer: &mut O,
    ) -> Result<RunRecord, StudyError> {
        let (scenario, city) = (self.scenario, self.designs.city);
        let replication = Replication {
            seed,
            days: self.designs.days,
        };
        let result = run(scenario, city, replication, observer)?;
        let base = if scenario.shocks.is_empty() {
            None
        } else {
            Some(baseline(scenario, city, replication)?)
        };
        record(seed, result, base.as_ref())
    }
}

impl Experiment for RunExperiment<'_> {
    type Record = RunRecord;
    type Summary = RunSummary;

    fn jobs(&self, seeds: usize) -> usize {
        self.designs.jobs(seeds)
    }

    fn records(&self, seeds: &[u64], runner: &Runner<'_>) -> Result<Vec<RunRecord>, StudyError> {
        Ok(self
            .designs
            .records(seeds, runner)?
            .into_iter()
            .flatten()
            .collect())
    }

    fn summarise(
        &self,
        records: Vec<RunRecord>,
        partial: Option<Partial>,
    ) -> Result<RunSummary, StudyError> {
        let meta = meta(self.scenario, self.designs.city, self.designs.days);
        RunSummary::new(meta, records, partial).map_err(|e| StudyError::Bug(e.to_string()))
    }
}

/// `clearsim compare`: every design on every seed's stream.
pub struct CompareExperiment<'a> {
    scenario: &'a Scenario,
    labels: Vec<String>,
    designs: Designs<'a>,
}

impl<'a> CompareExperiment<'a> {
    pub fn new(
        scenario: &'a Scenario,
        city: &'a City,
        days: u32,
        designs: &[Design],
    ) -> CompareExperiment<'a> {
        CompareExperiment {
            scenario,
            labels: designs.iter().map(|d| d.label.clone()).collect(),
            designs: Designs {
                variants: designs.iter().map(|d| variant(scenario, d)).collect(),
                city,
                days,
            },
        }
    }
}

impl<'a> CompareExperiment<'a> {
    /// Variants of `scenario` built by the caller (each shocked
    /// differently, say), labelled: compared on common streams, each run
    /// paired with its baseline when shocked.
    pub fn of_variants(
        scenario: &'a Scenario,
        city: &'a City,
        days: u32,
        labelled: Vec<(String, Scenario)>,
    ) -> CompareExperiment<'a> {
        let (labels, variants) = labelled.into_iter().unzip();
        CompareExperiment {
            scenario,
            labels,
            designs: Designs {
                variants,
                city,
                days,
            },
        }
    }
}

impl Experiment for CompareExperiment<'_> {
    type Record = CompareRecord;
    type Summary = CompareSummary;

    fn jobs(&self, seeds: usize) -> usize {
        self.designs.jobs(seeds)
    }

    fn records(
        &self,
        seeds: &[u64],
        runner: &Runner<'_>,
    ) -> Result<Vec<CompareRecord>, StudyError> {
        Ok(self
            .designs
            .records(seeds, runner)?
            .into_iter()
            .zip(seeds)
            .map(|(designs, &seed)| CompareRecord { seed, designs })
            .collect())
    }

    fn summarise(
        &self,
        records: Vec<CompareRecord>,
        partial: Option<Partial>,
    ) -> Result<CompareSummary, StudyError> {
        let meta = meta(self.scenario, self.designs.city, self.designs.days);
        CompareSummary::new(meta, self.labels.clone(), records, partial)
            .map_err(|e| StudyError::Bug(e.to_string()))
    }
}
