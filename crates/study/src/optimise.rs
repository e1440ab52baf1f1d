//! What the banks would choose: the liquidity game of a design.
//!
//! Each bank (a *player*) chooses its opening liquidity from a grid of
//! levels and, optionally, its queue policy from a list, to minimise its
//! own expected cost per day (`[costs]`) given the others' choices. Costs
//! are means over replications with common random numbers: every profile
//! is evaluated on the same seeds, so two profiles differ only by the
//! choices.
//!
//! - **Best responses** are iterated bank by bank (Gauss–Seidel) until a
//!   round changes no bank by more than the tolerance: a pure-strategy Nash
//!   equilibrium on the grid. A round that returns to an earlier round's
//!   profile is a cycle, reported as such.
//! - **The planner** minimises the total cost by the same iteration with
//!   the total as every bank's objective, from the equilibrium: a profile
//!   no single bank's change improves, never costlier than the
//!   equilibrium (a local optimum of the total).
//! - **Small games** (at most [`MAX_EXHAUSTIVE`] profiles) are enumerated:
//!   every pure equilibrium and the exact planner's optimum.

use std::borrow::Cow;

use clearsim_core::ledger::Payment;
use clearsim_model::bank::costs::CostBreakdown;
use clearsim_model::bank::policy::Policy;
use clearsim_model::config::{PolicyEntry, Scenario};
use clearsim_model::run::{Replication, RunResult};
use clearsim_model::workload::city::{City, build_city};

use crate::StudyError;
use crate::design::{Design, variant};
use crate::runner::{Experiment, Runner};
use crate::summary::Partial;

/// Games with at most this many profiles are enumerated.
pub const MAX_EXHAUSTIVE: usize = 4096;
/// Limits on what a user may ask for.
pub const MAX_LEVELS: usize = 1000;
pub const MAX_ROUNDS: u32 = 1000;
pub const MAX_POLICY_OPTIONS: usize = 64;

/// One bank's choice: indices into its levels and the policy options.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Choice {
    pub level: u16,
    pub policy: u16,
}

/// What `optimise` is asked.
#[derive(Clone, Debug)]
pub struct GameSpec {
    /// Liquidity levels per bank: k/(levels−1) × max_scale × its opening
    /// under the scenario's policy, k = 0…levels−1 (equal ones merged).
    pub levels: usize,
    pub max_scale: f64,
    /// Policies to choose from; empty: each bank keeps the scenario's.
    pub policies: Vec<Policy>,
    /// Business days per replication.
    pub days: u32,
    pub max_rounds: u32,
    /// A round in which no bank moves by more than this many levels (and
    /// none changes its policy) ends the search.
    pub tolerance_levels: u16,
    /// Prices a bank's levels from one run where its margins allow (see
    /// [`Game::reply_outcomes`]); off, every level is run (the tests
    /// compare the two).
    pub shortcut: bool,
}

/// A profile's outcome, averaged over the replications (per day).
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// Per player.
    pub cost: Vec<CostBreakdown>,
    pub total_fen: f64,
    /// Value-weighted mean time from order to settlement, ms.
    pub delay_ms_mean: f64,
    /// Of the value ordered, the share settled.
    pub settled_share: f64,
}

/// The game of one design: the scenario (already the design's variant),
/// its city and the spec, played on `seeds` through a runner.
pub struct Game<'a> {
    scenario: &'a Scenario,
    city: &'a City,
    spec: &'a GameSpec,
    seeds: Vec<u64>,
    runner: Runner<'a>,
    /// Per player (the city's banks, in order), its levels in fen.
    pub levels_fen: Vec<Vec<i64>>,
    cache: hashbrown::HashMap<Vec<Choice>, Outcome, foldhash::fast::FixedState>,
    /// Per seed, its days' customer orders, generated once: every profile
    /// runs on the same stream (common random numbers).
    recorded: Vec<Vec<Vec<Payment>>>,
    /// Profiles evaluated (each a run, or a priced run, per replication).
    pub evaluations: u64,
    /// Of those (profile, replication) pairs: run, and priced from
    /// another level's run.
    pub runs: u64,
    pub priced: u64,
    /// Whether levels may be priced from another level's run: asked for,
    /// and exact for the scenario.
    shortcut: bool,
}

impl<'a> Game<'a> {
    pub fn new(
        scenario: &'a Scenario,
        city: &'a City,
        spec: &'a GameSpec,
        seeds: &[u64],
        runner: Runner<'a>,
    ) -> Result<Game<'a>, StudyError> {
        if scenario.costs.is_none() {
            return Err(StudyError::Request(
                "the scenario has no [costs]: a bank's choice needs what it costs".into(),
            ));
        }
        let levels_fen = (0..city.banks)
            .map(|b| levels_of(city.opening_fen[b], spec.levels, spec.max_scale))
            .collect();
        let recorded = seeds
            .iter()
            .map(|&seed| {
                let replication = Replication {
                    seed,
                    days: spec.days,
                };
                clearsim_model::run::record_days(scenario, city, replication)
            })
            .collect();
        Ok(Game {
            scenario,
            city,
            spec,
            seeds: seeds.to_vec(),
            runner,
            levels_fen,
            cache: Default::default(),
            recorded,
            evaluations: 0,
            runs: 0,
            priced: 0,
            shortcut: spec.shortcut && clearsim_model::run::openings_shift_exactly(scenario),
        })
    }

    /// Runs one round of best responses takes at most: every option of
    /// every bank, once per replication.
    pub fn runs_per_round(&self) -> usize {
        (0..self.players())
            .map(|p| self.options(p).len())
            .sum::<usize>()
            * self.seeds.len()
    }

    pub fn players(&self) -> usize {
        self.levels_fen.len()
    }

    fn policy_options(&self) -> usize {
        self.spec.policies.len().max(1)
    }

    /// Every option of player `p`, in order (levels, then policies).
    fn options(&self, p: usize) -> Vec<Choice> {
        let levels = self.levels_fen[p].len() as u16;
        let policies = self.policy_options() as u16;
        (0..policies)
            .flat_map(|policy| (0..levels).map(move |level| Choice { level, policy }))
            .collect()
    }

    /// The scenario's own choices: every bank at its highest level (its
    /// opening under the scenario's policy, at `max_scale` 1), first policy.
    pub fn start(&self) -> Vec<Choice> {
        (0..self.players())
            .map(|p| Choice {
                level: (self.levels_fen[p].len() - 1) as u16,
                policy: 0,
            })
            .collect()
    }

    /// Outcomes of `profiles`, evaluated (those not cached yet) in parallel.
    pub fn outcomes(&mut self, profiles: &[Vec<Choice>]) -> Result<Vec<Outcome>, StudyError> {
        let missing = self.missing(profiles);
        let per_seed = self.run_every(&missing)?;
        self.store(missing, &per_seed);
        Ok(self.cached(profiles))
    }

    /// The profiles of `profiles` not evaluated yet, each once, in order.
    fn missing(&self, profiles: &[Vec<Choice>]) -> Vec<Vec<Choice>> {
        let mut missing: Vec<Vec<Choice>> = Vec::new();
        for profile in profiles {
            if !self.cache.contains_key(profile) && !missing.contains(profile) {
                missing.push(profile.clone());
            }
        }
        missing
    }

    /// Pools each of `missing`'s replications (`per_seed`, profile-major)
    /// into its outcome, and caches it.
    fn store(&mut self, missing: Vec<Vec<Choice>>, per_seed: &[RunCosts]) {
        let seeds = self.seeds.len();
        clearsim_core::invariant_eq!(per_seed.len(), missing.len() * seeds);
        self.evaluations += missing.len() as u64;
        for (profile, runs) in missing.into_iter().zip(per_seed.chunks(seeds.max(1))) {
            let outcome = outcome_of(runs, self.players());
            self.cache.insert(profile, outcome);
        }
    }

    /// The cached outcomes of `profiles` (every one evaluated).
    fn cached(&self, profiles: &[Vec<Choice>]) -> Vec<Outcome> {
        profiles.iter().map(|q| self.cache[q].clone()).collect()
    }

    /// Outcomes of `profiles`, which differ only in player `p`'s choice.
    /// Where the shortcut is on, the missing ones of each policy are
    /// evaluated in two waves: first the highest level's run per
    /// replication, then only the levels its margins do not cover; a
    /// level they cover is that run with `p`'s balances shifted (the path
    /// is the same; [`clearsim_model::bank::costs::BankDay::shifted`]), priced
    /// without running. Outcomes are identical to running every level.
    pub fn reply_outcomes(
        &mut self,
        p: usize,
        profiles: &[Vec<Choice>],
    ) -> Result<Vec<Outcome>, StudyError> {
        if !self.shortcut {
            return self.outcomes(profiles);
        }
        let missing = self.missing(profiles);
        // Per policy, its highest missing level: the source of the rest.
        let mut sources: Vec<usize> = Vec::new();
        for (i, profile) in missing.iter().enumerate() {
            match sources
                .iter_mut()
                .find(|j| missing[**j][p].policy == profile[p].policy)
            {
                Some(j) if missing[*j][p].level < profile[p].level => *j = i,
                Some(_) => {}
                None => sources.push(i),
            }
        }
        let per_seed = self.shortcut_runs(p, &missing, &sources)?;
        self.store(missing, &per_seed);
        Ok(self.cached(profiles))
    }

    /// Every (missing profile, seed) pair's [`RunCosts`], in that order:
    /// the sources run first, then each other pair priced from its
    /// policy's source where the source's margins cover it, else run.
    fn shortcut_runs(
        &mut self,
        p: usize,
        missing: &[Vec<Choice>],
        sources: &[usize],
    ) -> Result<Vec<RunCosts>, StudyError> {
        let seeds = self.seeds.len();
        let wave: Vec<(usize, usize)> = sources
            .iter()
            .flat_map(|&i| (0..seeds).map(move |s| (i, s)))
            .collect();
        let mut done: Vec<Option<RunCosts>> = vec![None; missing.len() * seeds];
        for (&(i, s), run) in wave.iter().zip(self.run_jobs(missing, &wave)?) {
            done[i * seeds + s] = Some(run?);
        }
        let mut rest: Vec<(usize, usize)> = Vec::new();
        for (i, profile) in missing.iter().enumerate() {
            let Some(&source) = sources
                .iter()
                .find(|&&j| missing[j][p].policy == profile[p].policy)
            else {
                continue;
            };
            for s in 0..seeds {
                if done[i * seeds + s].is_some() {
                    continue;
                }
                let from = done[source * seeds + s].as_ref();
                match from.and_then(|run| self.priced_from(run, p, &missing[source], profile)) {
                    Some(priced) => {
                        self.priced += 1;
                        (self.runner.tick)();
                        done[i * seeds + s] = Some(priced);
                    }
                    None => rest.push((i, s)),
                }
            }
        }
        for (&(i, s), run) in rest.iter().zip(self.run_jobs(missing, &rest)?) {
            done[i * seeds + s] = Some(run?);
        }
        self.runs += (wave.len() + rest.len()) as u64;
        Ok(done.into_iter().flatten().collect())
    }

    /// `run` (of profile `from`) as it would have been had player `p`
    /// chosen its level in `to` (same policy, others equal), if its margins
    /// certify the same path on every day.
    fn priced_from(
        &self,
        run: &RunCosts,
        p: usize,
        from: &[Choice],
        to: &[Choice],
    ) -> Option<RunCosts> {
        let costs = self.scenario.costs.as_ref()?;
        let level_fen = |c: &Choice| self.levels_fen[p][usize::from(c.level)];
        let (from_fen, to_fen) = (level_fen(&from[p]), level_fen(&to[p]));
        let mut priced = run.clone();
        for (day, (bank_days, day_costs)) in priced
            .bank_days
            .iter_mut()
            .zip(priced.costs.iter_mut())
            .enumerate()
        {
            let day = day as u32;
            let shift_fen = clearsim_model::run::opening_of_day_fen(self.scenario, to_fen, day)
                - clearsim_model::run::opening_of_day_fen(self.scenario, from_fen, day);
            let shifted = bank_days.get(p)?.shifted(shift_fen)?;
            day_costs[p] = costs.price_day(&shifted, self.scenario.liquidity.overnight_rate_bp);
            bank_days[p] = shifted;
        }
        Some(priced)
    }

    /// Every (profile, seed) pair of `profiles` run, profile-major (pooled
    /// in seed order: the same on any number of threads).
    fn run_every(&mut self, profiles: &[Vec<Choice>]) -> Result<Vec<RunCosts>, StudyError> {
        let seeds = self.seeds.len();
        let jobs: Vec<(usize, usize)> = (0..profiles.len())
            .flat_map(|p| (0..seeds).map(move |s| (p, s)))
            .collect();
        self.runs += jobs.len() as u64;
        self.run_jobs(profiles, &jobs)?.into_iter().collect()
    }

    /// Runs (profile index, seed index) pairs on the spec's threads, each
    /// reduced to what an outcome needs as it ends; in the jobs' order.
    fn run_jobs(
        &self,
        profiles: &[Vec<Choice>],
        jobs: &[(usize, usize)],
    ) -> Result<Vec<Result<RunCosts, StudyError>>, StudyError> {
        self.runner.map(jobs, |&(p, s)| {
            self.run_one(&profiles[p], s).map(RunCosts::of)
        })
    }

    /// One replication (the `s`-th seed's recorded days) of one profile:
    /// the banks' openings at their levels, and their policies when they
    /// choose them.
    fn run_one(&self, profile: &[Choice], s: usize) -> Result<RunResult, StudyError> {
        let mut scenario = Cow::Borrowed(self.scenario);
        let mut city = self.city.clone();
        for (p, choice) in profile.iter().enumerate() {
            city.opening_fen[p] = self.levels_fen[p][usize::from(choice.level)];
            if let Some(policy) = self.spec.policies.get(usize::from(choice.policy)) {
                scenario.to_mut().policies.push(PolicyEntry {
                    participant: Some(city.ids[p].clone()),
                    category: None,
                    policy: policy.clone(),
                });
            }
        }
        Ok(clearsim_model::run::run_recorded(
            &scenario,
            &city,
            &self.recorded[s],
        )?)
    }

    /// Player `p`'s best reply to `profile` for `objective` (its own cost,
    /// or the total): the cheapest option; a tie keeps the current choice
    /// if it is among the cheapest, else takes the first (least liquidity).
    pub fn best_reply(
        &mut self,
        p: usize,
        profile: &[Choice],
        objective: Objective,
    ) -> Result<Choice, StudyError> {
        let options = self.options(p);
        let profiles: Vec<Vec<Choice>> = options
            .iter()
            .map(|&o| {
                let mut q = profile.to_vec();
                q[p] = o;
                q
            })
            .collect();
        let outcomes = self.reply_outcomes(p, &profiles)?;
        let cost = |o: &Outcome| match objective {
            Objective::Own => o.cost[p].total_fen(),
            Objective::Total => o.total_fen,
        };
        let best = outcomes.iter().map(cost).fold(f64::INFINITY, f64::min);
        let current = options.iter().position(|&o| o == profile[p]);
        let keep = current.filter(|&i| cost(&outcomes[i]) <= best);
        let pick =
            keep.unwrap_or_else(|| outcomes.iter().position(|o| cost(o) <= best).unwrap_or(0));
        Ok(options[pick])
    }
}

/// Whose cost a player minimises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Objective {
    /// Its own: the equilibrium search.
    Own,
    /// Everyone's: the planner.
    Total,
}

/// `levels` levels from 0 to `max_scale` × `opening_fen`, equal ones merged.
fn levels_of(opening_fen: i64, levels: usize, max_scale: f64) -> Vec<i64> {
    let top = opening_fen as f64 * max_scale;
    let mut out: Vec<i64> = (0..levels.max(1))
        .map(|k| {
            let share = if levels > 1 {
                k as f64 / (levels - 1) as f64
            } else {
                1.0
            };
            (top * share).round().clamp(0.0, 9e18) as i64
        })
        .collect();
    out.dedup();
    out
}

/// A profile's runs pooled: per-player costs per day, the total, the
/// value-weighted delay and the settled share, means over the runs.
fn outcome_of(runs: &[RunCosts], players: usize) -> Outcome {
    let mut cost = vec![CostBreakdown::default(); players];
    let (mut delay_fen_ms, mut settled_fen, mut value_fen, mut decided_fen) =
        (0i128, 0i128, 0i128, 0i128);
    let mut days = 0usize;
    for run in runs {
        for day in &run.costs {
            days += 1;
            for (c, d) in cost.iter_mut().zip(day) {
                c.add(d);
            }
        }
        delay_fen_ms += run.delay_fen_ms;
        settled_fen += run.delayed_value_fen;
        value_fen += run.settled_value_fen;
        decided_fen += run.decided_value_fen;
    }
    let per_day = 1.0 / days.max(1) as f64;
    let cost: Vec<CostBreakdown> = cost.iter().map(|c| c.scaled(per_day)).collect();
    Outcome {
        total_fen: cost.iter().map(CostBreakdown::total_fen).sum(),
        cost,
        delay_ms_mean: if settled_fen > 0 {
            delay_fen_ms as f64 / settled_fen as f64
        } else {
            0.0
        },
        settled_share: if decided_fen > 0 {
            value_fen as f64 / decided_fen as f64
        } else {
            1.0
        },
    }
}

/// What a profile's outcome needs of one run: its banks' costs per day,
/// and exact sums for the delay and the settled share. The rest of the
/// run (flows, histograms) is dropped where it ran.
#[derive(Clone, Debug, PartialEq)]
struct RunCosts {
    costs: Vec<Vec<CostBreakdown>>,
    /// Per day, each bank's measured day (to price other levels).
    bank_days: Vec<Vec<clearsim_model::bank::costs::BankDay>>,
    /// Σ amount × (settlement − order) and Σ amount, settled payments.
    delay_fen_ms: i128,
    delayed_value_fen: i128,
    /// Σ over days of the value settled, and of the value decided
    /// (settled or unsettled).
    settled_value_fen: i128,
    decided_value_fen: i128,
}

impl RunCosts {
    fn of(run: RunResult) -> RunCosts {
        let split = clearsim_model::metrics::split::SplitDelay::total(&run.delay_split);
        let settled: i128 = run
            .days
            .iter()
            .map(|d| i128::from(d.settled_value_fen))
            .sum();
        let unsettled: i128 = run
            .days
            .iter()
            .map(|d| i128::from(d.unsettled_value_fen))
            .sum();
        RunCosts {
            costs: run.costs,
            bank_days: run.bank_days,
            delay_fen_ms: split.bank_weighted_fen_ms + split.system_weighted_fen_ms,
            delayed_value_fen: split.settled_value_fen,
            settled_value_fen: settled,
            decided_value_fen: settled + unsettled,
        }
    }
}

/// How an iterated search ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Ending {
    /// No bank moved in the last round: an equilibrium (or, for the
    /// planner, a profile no single bank's change improves).
    Converged,
    /// The last round's profile is that of round `from_round`: the rounds
    /// from there on repeat.
    Cycle { from_round: u32 },
    /// `max_rounds` rounds passed without either.
    RoundLimit,
}

/// One round of an iterated search: the profile after it, its outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Round {
    pub round: u32,
    pub profile: Vec<Choice>,
    pub total_fen: f64,
    /// Banks whose choice changed in this round.
    pub moved: u32,
}

/// An iterated search from a start.
#[derive(Clone, Debug, PartialEq)]
pub struct Search {
    pub ending: Ending,
    /// Round 0 is the start.
    pub rounds: Vec<Round>,
}

impl Search {
    pub fn last(&self) -> &Round {
        self.rounds.last().expect("a search has its start")
    }
}

/// Iterates replies for `objective` from `start` (see the module docs).
pub fn iterate(
    game: &mut Game<'_>,
    start: Vec<Choice>,
    objective: Objective,
) -> Result<Search, StudyError> {
    let mut profile = start;
    let first = game.outcomes(std::slice::from_ref(&profile))?.remove(0);
    let mut rounds = vec![Round {
        round: 0,
        profile: profile.clone(),
        total_fen: first.total_fen,
        moved: 0,
    }];
    let tolerance = game.spec.tolerance_levels;
    for round in 1..=game.spec.max_rounds {
        let mut moved = 0u32;
        let mut beyond_tolerance = false;
        for p in 0..game.players() {
            let reply = game.best_reply(p, &profile, objective)?;
            if reply != profile[p] {
                moved += 1;
                beyond_tolerance |= reply.policy != profile[p].policy
                    || reply.level.abs_diff(profile[p].level) > tolerance;
                profile[p] = reply;
            }
        }
        let total_fen = game.outcomes(std::slice::from_ref(&profile))?[0].total_fen;
        let seen = rounds
            .iter()
            .find(|r| r.profile == profile)
            .map(|r| r.round);
        rounds.push(Round {
            round,
            profile: profile.clone(),
            total_fen,
            moved,
        });
        if !beyond_tolerance {
            return Ok(Search {
                ending: Ending::Converged,
                rounds,
            });
        }
        if let Some(from_round) = seen {
            return Ok(Search {
                ending: Ending::Cycle { from_round },
                rounds,
            });
        }
    }
    Ok(Search {
        ending: Ending::RoundLimit,
        rounds,
    })
}

/// Every profile of a small game: its pure equilibria and the planner's
/// exact optimum.
#[derive(Clone, Debug, PartialEq)]
pub struct Enumeration {
    pub profiles: u64,
    pub equilibria: Vec<Vec<Choice>>,
    pub optimum: Vec<Choice>,
    pub optimum_total_fen: f64,
}

/// Enumerates the game, if it has at most [`MAX_EXHAUSTIVE`] profiles.
pub fn enumerate(game: &mut Game<'_>) -> Result<Option<Enumeration>, StudyError> {
    let counts: Vec<usize> = (0..game.players()).map(|p| game.options(p).len()).collect();
    let total = counts.iter().try_fold(1usize, |acc, &c| {
        acc.checked_mul(c).filter(|&n| n <= MAX_EXHAUSTIVE)
    });
    let Some(total) = total else {
        return Ok(None);
    };
    let options: Vec<Vec<Choice>> = (0..game.players()).map(|p| game.options(p)).collect();
    let profiles: Vec<Vec<Choice>> = (0..total)
        .map(|mut k| {
            options
                .iter()
                .map(|o| {
                    let pick = o[k % o.len()];
                    k /= o.len();
                    pick
                })
                .collect()
        })
        .collect();
    let outcomes = game.outcomes(&profiles)?;
    let index_of = |profile: &[Choice]| -> usize {
        let mut k = 0;
        for (p, choice) in profile.iter().enumerate().rev() {
            k = k * options[p].len() + options[p].iter().position(|o| o == choice).unwrap_or(0);
        }
        k
    };
    let mut equilibria = Vec::new();
    for (profile, outcome) in profiles.iter().zip(&outcomes) {
        let stable = (0..profile.len()).all(|p| {
            options[p].iter().all(|&o| {
                let mut q = profile.clone();
                q[p] = o;
                outcomes[index_of(&q)].cost[p].total_fen() >= outcome.cost[p].total_fen()
            })
        });
        if stable {
            equilibria.push(profile.clone());
        }
    }
    let best = (0..total)
        .min_by(|&a, &b| outcomes[a].total_fen.total_cmp(&outcomes[b].total_fen))
        .unwrap_or(0);
    Ok(Some(Enumeration {
        profiles: total as u64,
        equilibria,
        optimum: profiles[best].clone(),
        optimum_total_fen: outcomes[best].total_fen,
    }))
}

// ------------------------------------------------------------- the report

pub use crate::schema::optimise_v1::SCHEMA;

/// One bank at a profile.
#[derive(Clone, Debug, PartialEq)]
pub struct BankChoice {
    pub id: String,
    pub opening_fen: i64,
    pub policy: String,
    pub cost: CostBreakdown,
    pub cost_fen: f64,
}

/// A profile, described.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileReport {
    pub banks: Vec<BankChoice>,
    pub opening_total_fen: i64,
    pub cost_total_fen: f64,
    pub delay_ms_mean: f64,
    pub settled_share: f64,
}

/// One design's game.
#[derive(Clone, Debug, PartialEq)]
pub struct DesignReport {
    pub design: String,
    pub equilibrium: ProfileReport,
    pub search: Search,
    pub planner: ProfileReport,
    pub planner_search: Search,
    /// Equilibrium total cost / planner's (1 when equal; none when the
    /// planner's is 0 and the equilibrium's is not).
    pub price_of_anarchy: Option<f64>,
    /// For small games: every pure equilibrium and the exact optimum.
    pub enumeration: Option<EnumerationReport>,
    /// Profiles evaluated, each once per replication: by a run
    /// (`runs`), or priced from a run of another of one bank's levels on
    /// the same path (`priced_runs`; docs/PERFORMANCE.md).
    pub evaluations: u64,
    pub runs: u64,
    pub priced_runs: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EnumerationReport {
    pub profiles: u64,
    pub equilibria: Vec<ProfileReport>,
    pub optimum: ProfileReport,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OptimiseReport {
    pub schema: String,
    pub scenario: String,
    pub seeds: Vec<u64>,
    pub days: u32,
    pub levels: usize,
    pub policies: Vec<String>,
    pub designs: Vec<DesignReport>,
}

/// Describes `profile` with its outcome: ids, levels and policy names.
pub fn describe(
    profile: &[Choice],
    outcome: &Outcome,
    ids: &[String],
    levels_fen: &[Vec<i64>],
    policies: &[String],
) -> ProfileReport {
    let banks: Vec<BankChoice> = profile
        .iter()
        .enumerate()
        .map(|(p, c)| BankChoice {
            id: ids[p].clone(),
            opening_fen: levels_fen[p][usize::from(c.level)],
            policy: policies
                .get(usize::from(c.policy))
                .cloned()
                .unwrap_or_else(|| "as configured".into()),
            cost: outcome.cost[p],
            cost_fen: outcome.cost[p].total_fen(),
        })
        .collect();
    ProfileReport {
        opening_total_fen: banks.iter().map(|b| b.opening_fen).sum(),
        banks,
        cost_total_fen: outcome.total_fen,
        delay_ms_mean: outcome.delay_ms_mean,
        settled_share: outcome.settled_share,
    }
}

/// Describes an enumeration's profiles.
pub fn enumeration_report(
    e: &Enumeration,
    describe_one: impl Fn(&[Choice]) -> ProfileReport,
) -> EnumerationReport {
    EnumerationReport {
        profiles: e.profiles,
        equilibria: e.equilibria.iter().map(|p| describe_one(p)).collect(),
        optimum: describe_one(&e.optimum),
    }
}

pub fn price_of_anarchy(equilibrium_fen: f64, planner_fen: f64) -> Option<f64> {
    if planner_fen > 0.0 {
        Some(equilibrium_fen / planner_fen)
    } else if equilibrium_fen <= 0.0 {
        Some(1.0)
    } else {
        None
    }
}

/// `clearsim optimise`: per design, the banks' equilibrium, the planner's
/// optimum and, for small games, every pure equilibrium.
pub struct OptimiseExperiment<'a> {
    scenario: &'a Scenario,
    /// Per design: its label, its variant of the scenario and its city.
    designs: Vec<(String, Scenario, City)>,
    spec: GameSpec,
    /// The policies' names, as the report shows them.
    policies: Vec<String>,
}

/// One design's game, played over every seed.
pub struct OptimiseRecord {
    pub seeds: Vec<u64>,
    pub design: DesignReport,
}

impl<'a> OptimiseExperiment<'a> {
    pub fn new(
        scenario: &'a Scenario,
        designs: &[Design],
        spec: GameSpec,
    ) -> OptimiseExperiment<'a> {
        let designs = designs
            .iter()
            .map(|d| {
                let variant = variant(scenario, d);
                let city = build_city(&variant);
                (d.label.clone(), variant, city)
            })
            .collect();
        let policies = spec.policies.iter().map(Policy::to_string).collect();
        OptimiseExperiment {
            scenario,
            designs,
            spec,
            policies,
        }
    }

    /// One design's game: the equilibrium from the scenario's own choices,
    /// the planner from the equilibrium, the enumeration of a small game.
    fn design(
        &self,
        (label, scenario, city): &(String, Scenario, City),
        seeds: &[u64],
        runner: &Runner<'_>,
    ) -> Result<DesignReport, StudyError> {
        let mut game = Game::new(scenario, city, &self.spec, seeds, *runner)?;
        let start = game.start();
        let search = iterate(&mut game, start, Objective::Own)?;
        // From the equilibrium: the planner's profile costs no more than it.
        let planner_search = iterate(&mut game, search.last().profile.clone(), Objective::Total)?;
        let enumeration = enumerate(&mut game)?;
        let levels_fen = game.levels_fen.clone();
        let mut describe_one = |profile: &[Choice]| -> Result<ProfileReport, StudyError> {
            let outcome = game.outcomes(&[profile.to_vec()])?.remove(0);
            Ok(describe(
                profile,
                &outcome,
                &city.ids,
                &levels_fen,
                &self.policies,
            ))
        };
        let equilibrium = describe_one(&search.last().profile)?;
        let mut planner = describe_one(&planner_search.last().profile)?;
        let enumeration = match enumeration {
            Some(e) => {
                let mut reports = Vec::new();
                for p in e.equilibria.iter().chain([&e.optimum]) {
                    reports.push(describe_one(p)?);
                }
                let optimum = reports
                    .pop()
                    .ok_or_else(|| StudyError::Bug("an enumeration without its optimum".into()))?;
                // The exact optimum is the planner's.
                planner = optimum.clone();
                Some(EnumerationReport {
                    profiles: e.profiles,
                    equilibria: reports,
                    optimum,
                })
            }
            None => None,
        };
        Ok(DesignReport {
            design: label.clone(),
            price_of_anarchy: price_of_anarchy(equilibrium.cost_total_fen, planner.cost_total_fen),
            equilibrium,
            search,
            planner,
            planner_search,
            enumeration,
            evaluations: game.evaluations,
            runs: game.runs,
            priced_runs: game.priced,
        })
    }
}

impl Experiment for OptimiseExperiment<'_> {
    type Record = OptimiseRecord;
    type Summary = OptimiseReport;

    /// Two rounds per design at least: one that moves, one that confirms
    /// (a search's length is not known beforehand).
    fn jobs(&self, seeds: usize) -> usize {
        self.designs
            .iter()
            .map(|(_, _, city)| {
                let options: usize = (0..city.banks)
                    .map(|b| {
                        levels_of(city.opening_fen[b], self.spec.levels, self.spec.max_scale).len()
                    })
                    .sum();
                2 * options * self.spec.policies.len().max(1) * seeds
            })
            .sum()
    }

    fn shards(&self) -> Result<(), &'static str> {
        Err("the equilibrium is one search over every seed at once")
    }

    fn records(
        &self,
        seeds: &[u64],
        runner: &Runner<'_>,
    ) -> Result<Vec<OptimiseRecord>, StudyError> {
        self.designs
            .iter()
            .map(|design| {
                Ok(OptimiseRecord {
                    seeds: seeds.to_vec(),
                    design: self.design(design, seeds, runner)?,
                })
            })
            .collect()
    }

    fn summarise(
        &self,
        records: Vec<OptimiseRecord>,
        _: Option<Partial>,
    ) -> Result<OptimiseReport, StudyError> {
        Ok(OptimiseReport {
            schema: SCHEMA.into(),
            scenario: self.scenario.name.clone(),
            seeds: records.first().map(|r| r.seeds.clone()).unwrap_or_default(),
            days: self.spec.days,
            levels: self.spec.levels,
            policies: self.policies.clone(),
            designs: records.into_iter().map(|r| r.design).collect(),
        })
    }
}
