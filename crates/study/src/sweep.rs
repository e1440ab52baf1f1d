//! `clearsim sweep`: the liquidity–delay trade-off. For each seed and
//! design, the bounds come from a run with unlimited credit on the very
//! stream the points run on (returned cheques included); then one day at
//! each level: each participant opens with `lower + level·(need − lower)`,
//! no credit.

use clearsim_model::config::Scenario;
use clearsim_model::run::{NoObserver, Replication, RunResult, run};
use clearsim_model::workload::city::City;

use crate::StudyError;
use crate::design::{Design, variant};
use crate::record::{self, SweepCell, SweepRecord};
use crate::runner::{Experiment, Runner};
use crate::summary::{Partial, SweepSummary, meta};

/// Per participant: its lower bound and its need to settle every payment
/// on entry (levels 0 and 1); and Σ the scenario's own openings.
type Bounds = (Vec<i64>, Vec<i64>, i64);

pub struct SweepExperiment<'a> {
    scenario: &'a Scenario,
    city: &'a City,
    labels: Vec<String>,
    variants: Vec<Scenario>,
    levels: Vec<f64>,
}

impl<'a> SweepExperiment<'a> {
    /// Every point runs one business day (and the summary says so).
    pub fn new(
        scenario: &'a Scenario,
        city: &'a City,
        designs: &[Design],
        levels: Vec<f64>,
    ) -> SweepExperiment<'a> {
        SweepExperiment {
            scenario,
            city,
            labels: designs.iter().map(|d| d.label.clone()).collect(),
            variants: designs.iter().map(|d| variant(scenario, d)).collect(),
            levels,
        }
    }

    /// Per (seed, design): Σ of each participant's lower bound and need,
    /// from the reference run with unlimited credit.
    fn bounds(
        &self,
        pairs: &[(u64, usize)],
        runner: &Runner<'_>,
    ) -> Result<Vec<Bounds>, StudyError> {
        let mut ample = self.city.clone();
        ample.credit_limit_fen = vec![i64::MAX; ample.len()];
        runner
            .map(pairs, |&(seed, d)| {
                let one_day = Replication { seed, days: 1 };
                let reference = run(&self.variants[d], &ample, one_day, &mut NoObserver)?;
                let own_fen = reference
                    .days
                    .first()
                    .map_or(0, |day| day.opening_total_fen);
                Ok((reference.day1_lower_fen, reference.day1_need_fen, own_fen))
            })?
            .into_iter()
            .collect()
    }
}

impl Experiment for SweepExperiment<'_> {
    type Record = SweepRecord;
    type Summary = SweepSummary;

    fn jobs(&self, seeds: usize) -> usize {
        seeds * self.variants.len() * (self.levels.len() + 1)
    }

    fn records(&self, seeds: &[u64], runner: &Runner<'_>) -> Result<Vec<SweepRecord>, StudyError> {
        let designs = self.variants.len();
        let pairs: Vec<(u64, usize)> = seeds
            .iter()
            .flat_map(|&seed| (0..designs).map(move |d| (seed, d)))
            .collect();
        let bounds = self.bounds(&pairs, runner)?;
        let jobs: Vec<(usize, usize)> = (0..pairs.len())
            .flat_map(|pair| (0..self.levels.len()).map(move |level| (pair, level)))
            .collect();
        let cells = runner
            .map(&jobs, |&(pair, level)| {
                let (seed, d) = pairs[pair];
                let (lower, need, _) = &bounds[pair];
                let city = at_level(self.city, lower, need, self.levels[level]);
                let result = run(
                    &self.variants[d],
                    &city,
                    Replication { seed, days: 1 },
                    &mut NoObserver,
                )?;
                sweep_cell(&city, &result)
            })?
            .into_iter()
            .collect::<Result<Vec<_>, StudyError>>()?;
        Ok(seeds
            .iter()
            .enumerate()
            .map(|(s, &seed)| {
                let pair = |d: usize| s * designs + d;
                let cell =
                    |d: usize, level: usize| cells[pair(d) * self.levels.len() + level].clone();
                SweepRecord {
                    seed,
                    lower_fen: (0..designs)
                        .map(|d| bounds[pair(d)].0.iter().sum())
                        .collect(),
                    upper_fen: (0..designs)
                        .map(|d| bounds[pair(d)].1.iter().sum())
                        .collect(),
                    own_opening_fen: (0..designs).map(|d| bounds[pair(d)].2).collect(),
                    points: (0..self.levels.len())
                        .map(|level| (0..designs).map(|d| cell(d, level)).collect())
                        .collect(),
                }
            })
            .collect())
    }

    fn summarise(
        &self,
        records: Vec<SweepRecord>,
        partial: Option<Partial>,
    ) -> Result<SweepSummary, StudyError> {
        let meta = meta(self.scenario, self.city, 1);
        SweepSummary::new(
            meta,
            self.labels.clone(),
            self.levels.clone(),
            records,
            partial,
        )
        .map_err(|e| StudyError::Bug(e.to_string()))
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

fn sweep_cell(city: &City, result: &RunResult) -> Result<SweepCell, StudyError> {
    let all = record::pooled(&result.channels).map_err(|e| StudyError::Bug(e.to_string()))?;
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
