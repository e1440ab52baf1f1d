//! The studies of a scenario, each from its config to its summary: what
//! `run`, `compare`, `sweep` and `plan` compute before they print and
//! publish.

use std::path::Path;

use crate::JobError;
use crate::scenario::{Overrides, cover_carry, designs, load, load_with_city};
use clearsim_model::bank::policy::{Policy, parse_policy};
use clearsim_model::workload::city::build_city;
use clearsim_study::optimise::{self, GameSpec, OptimiseExperiment};
use clearsim_study::plan::{PlanExperiment, PlanReport};
use clearsim_study::summary::{CompareSummary, RunSummary, SweepSummary};
use clearsim_study::{
    CompareExperiment, DEFAULT_DESIGNS, Design, Experiment, RunExperiment, Runner, Seeds, Shard,
    SweepExperiment, parse_design, variant,
};

/// A study's config, with what overrides it.
#[derive(Clone, Copy)]
pub struct Source<'a> {
    /// The config's path (its name in messages; relative files beside it).
    pub path: &'a Path,
    /// The config's text, when it is not read from `path`.
    pub text: Option<&'a str>,
    pub overrides: &'a Overrides,
}

/// The replications of a study and how they run: on `threads`, telling
/// `jobs` how many runs there will be, `tick`ing after each, starting no
/// run once `stop` is set.
#[derive(Clone, Copy)]
pub struct Replications<'a> {
    pub count: u32,
    pub shard: Option<Shard>,
    pub threads: usize,
    pub jobs: &'a (dyn Fn(usize) + Sync),
    pub tick: &'a (dyn Fn() + Sync),
    pub stop: Option<&'a std::sync::atomic::AtomicBool>,
}

/// A summary and the notes to show beside it (a horizon lengthened to
/// cover carry-over).
pub struct Outcome<S> {
    pub summary: S,
    pub notes: Vec<String>,
}

pub(crate) fn execute<E: Experiment>(
    experiment: &E,
    first_seed: u64,
    replications: &Replications<'_>,
) -> Result<E::Summary, JobError> {
    let seeds = Seeds {
        first: first_seed,
        replications: replications.count,
        shard: replications.shard,
    };
    let count = seeds
        .shard
        .map_or(seeds.replications as usize, |_| seeds.all().len());
    (replications.jobs)(experiment.jobs(count));
    let runner = Runner {
        threads: replications.threads,
        tick: replications.tick,
        stop: replications.stop,
    };
    clearsim_study::execute(experiment, &seeds, &runner).map_err(JobError::of)
}

/// `run`: the scenario's own design over its replications.
pub fn run(
    source: Source<'_>,
    replications: &Replications<'_>,
) -> Result<Outcome<RunSummary>, JobError> {
    let (mut config, city) = load_with_city(source.path, source.text, source.overrides)?;
    let own = config.scenario.clone();
    let notes = cover_carry(&mut config, source.overrides.days, [&own])?;
    let experiment = RunExperiment::new(&config.scenario, &city, config.days);
    let summary = execute(&experiment, config.seed, replications)?;
    Ok(Outcome {
        summary,
        notes: notes.into_iter().collect(),
    })
}

/// The payment network of a study's stream: every customer payment of
/// day 1 drawn with `seed` (the study's first replication), as network.csv,
/// flows.csv and network.md/html. The stream depends on the scenario,
/// the seed and the day only, so it is the network of every design a
/// compare pairs: the day's flows, submitted, not what settled.
pub fn network_files(
    source: Source<'_>,
    seed: u64,
) -> Result<clearsim_report::ReportFiles, JobError> {
    let (config, city) = load_with_city(source.path, source.text, source.overrides)?;
    let scenario = &config.scenario;
    let model = clearsim_model::run::stream_model(scenario, &city);
    let stream = model.day(seed, 0, scenario.volume_of_day(0));
    let network = clearsim_model::metrics::network::Network::of(
        city.len(),
        stream.map(|p| (p.sender, p.receiver, p.amount_fen)),
    );
    let banks = clearsim_report::network::Banks {
        ids: &city.ids,
        names: &city.names,
        days: 1,
    };
    let what = format!(
        "The network of every customer payment of day 1 of {}, seed {seed} (the study's first replication), as the stream draws it: the same for every design compared (common random numbers). The day's flows, submitted, not a balance.",
        scenario.name
    );
    Ok(clearsim_report::network::network_files(
        &banks, &network, what,
    ))
}

/// `compare`: the designs of `list` (`flag` names it in messages) on
/// common streams, paired against the first.
pub fn compare(
    source: Source<'_>,
    list: Option<&str>,
    flag: &str,
    replications: &Replications<'_>,
) -> Result<Outcome<CompareSummary>, JobError> {
    let (mut config, city) = load_with_city(source.path, source.text, source.overrides)?;
    let designs = designs(&config.scenario, list, flag, &DEFAULT_DESIGNS)?;
    let variants: Vec<_> = designs
        .iter()
        .map(|d| variant(&config.scenario, d))
        .collect();
    let notes = cover_carry(&mut config, source.overrides.days, &variants)?;
    let experiment = CompareExperiment::new(&config.scenario, &city, config.days, &designs);
    let summary = execute(&experiment, config.seed, replications)?;
    Ok(Outcome {
        summary,
        notes: notes.into_iter().collect(),
    })
}

/// `sweep`: the designs of `list` at `levels` of liquidity (0 = each
/// participant's lower bound, 1 = its need to settle on entry), one day.
pub fn sweep(
    source: Source<'_>,
    list: Option<&str>,
    flag: &str,
    levels: Vec<f64>,
    replications: &Replications<'_>,
) -> Result<SweepSummary, JobError> {
    let (config, city) = load_with_city(source.path, source.text, source.overrides)?;
    let scenario = &config.scenario;
    if !scenario.shocks.is_empty() {
        return Err(JobError::user(
            "sweep: shocks are measured against a baseline per point, which a sweep does not run; use compare or run with --shock",
        ));
    }
    if source.overrides.days.is_some_and(|d| d != 1) {
        return Err(JobError::user(
            "sweep: --days: every point runs one business day (its bounds are one day's); use run or compare for several days",
        ));
    }
    let designs = designs(scenario, list, flag, &[clearsim_study::DESIGN])?;
    let experiment = SweepExperiment::new(scenario, &city, &designs, levels);
    execute(&experiment, config.seed, replications)
}

/// The liquidity levels of a sweep: `steps` (2 to 1,000) from `from` to
/// `to`, with 0 ≤ from ≤ to ≤ 100.
pub fn levels(from: f64, to: f64, steps: u32) -> Result<Vec<f64>, JobError> {
    if !(from.is_finite() && to.is_finite() && 0.0 <= from && from <= to && to <= 100.0) {
        return Err(JobError::user(format!(
            "liquidity {from}..{to}: not a range FROM..TO with 0 ≤ FROM ≤ TO ≤ 100"
        )));
    }
    if !(2..=1000).contains(&steps) {
        return Err(JobError::user(format!(
            "steps: {steps} is not from 2 to 1000"
        )));
    }
    let steps = steps as usize;
    Ok((0..steps)
        .map(|i| from + (to - from) * i as f64 / (steps - 1) as f64)
        .collect())
}

/// `plan`: the `before` design against the `after` design of the same
/// city on the same seeds (`seed`, else `before`'s), `days` each, with
/// the lines that say what was compared.
pub fn plan(
    before: Source<'_>,
    after: Source<'_>,
    days: u32,
    replications: &Replications<'_>,
) -> Result<(PlanReport, Vec<String>), JobError> {
    let given_seed = before.overrides.seed;
    let days_only = |seed| Overrides {
        seed,
        days: Some(days),
        ..Overrides::default()
    };
    let first = load(before.path, before.text, &days_only(given_seed))?;
    let seed = given_seed.unwrap_or(first.seed);
    let second = load(after.path, after.text, &days_only(Some(seed)))?;
    let cities = [build_city(&first.scenario), build_city(&second.scenario)];
    for (city, path) in cities.iter().zip([before.path, after.path]) {
        city.check()
            .map_err(|e| JobError::user(format!("{}: {e}", path.display())))?;
    }
    let sides = (
        (&first.scenario, &cities[0]),
        (&second.scenario, &cities[1]),
    );
    clearsim_study::plan::check_same_city(sides.0, sides.1).map_err(JobError::of)?;
    let experiment = PlanExperiment::new(sides.0, sides.1, days);
    let report = execute(&experiment, seed, replications)?;
    let last = seed.saturating_add(u64::from(replications.count) - 1);
    let context = vec![
        format!(
            "{} ({}) against {} ({}): {} business day(s) per replication, seeds {}…{}.",
            first.scenario.name,
            before.path.display(),
            second.scenario.name,
            after.path.display(),
            days,
            seed,
            last
        ),
        format!(
            "clearsim {}. Definitions of every figure: {}.",
            env!("CARGO_PKG_VERSION"),
            clearsim_report::GLOSSARY
        ),
    ];
    Ok((report, context))
}

/// What `optimise` searches over besides the scenario.
#[derive(Clone, Debug)]
pub struct Game<'a> {
    /// Designs (`design` is the scenario's own).
    pub designs: &'a [String],
    /// Liquidity levels per bank (1 to [`optimise::MAX_LEVELS`]).
    pub levels: u32,
    /// The largest level, as a multiple of a bank's own need (0 to 100).
    pub max_scale: f64,
    /// Policies the banks choose among, separated by `;`.
    pub policies: Option<&'a str>,
    /// Best-response rounds at most (1 to [`optimise::MAX_ROUNDS`]).
    pub max_rounds: u32,
    /// Levels a reply may move without counting as a move.
    pub tolerance: u16,
}

fn policy_options(text: Option<&str>) -> Result<Vec<Policy>, JobError> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    let list: Vec<Policy> = text
        .split(';')
        .map(|p| parse_policy(p).map_err(|e| JobError::user(format!("--policies: {e}"))))
        .collect::<Result<_, _>>()?;
    if list.len() > optimise::MAX_POLICY_OPTIONS {
        return Err(JobError::user(format!(
            "--policies: at most {} policies",
            optimise::MAX_POLICY_OPTIONS
        )));
    }
    Ok(list)
}

/// `optimise`: each design's equilibrium of the banks' liquidity (and
/// policy) choices, with the planner's optimum; with the lines that say
/// what was searched.
pub fn optimise(
    source: Source<'_>,
    game: &Game<'_>,
    replications: &Replications<'_>,
) -> Result<Outcome<(optimise::OptimiseReport, Vec<String>)>, JobError> {
    check_game(game)?;
    let mut config = load(source.path, source.text, source.overrides)?;
    let designs = game
        .designs
        .iter()
        .map(|label| {
            parse_design(label, config.scenario.day_end)
                .map_err(|e| JobError::user(format!("--strategies: {e}")))
        })
        .collect::<Result<Vec<Design>, JobError>>()?;
    let variants: Vec<_> = if designs.is_empty() {
        vec![config.scenario.clone()]
    } else {
        designs
            .iter()
            .map(|d| variant(&config.scenario, d))
            .collect()
    };
    let notes = cover_carry(&mut config, source.overrides.days, &variants)?;
    let scenario = &config.scenario;
    if scenario.costs.is_none() {
        return Err(JobError::user(format!(
            "{}: optimise needs a [costs] section (docs/equilibria.md)",
            source.path.display()
        )));
    }
    if !(game.max_scale.is_finite() && (0.0..=100.0).contains(&game.max_scale)) {
        return Err(JobError::user("--max-scale: a number from 0 to 100"));
    }
    let spec = GameSpec {
        levels: game.levels as usize,
        max_scale: game.max_scale,
        policies: policy_options(game.policies)?,
        days: config.days,
        max_rounds: game.max_rounds,
        tolerance_levels: game.tolerance,
        shortcut: true,
    };
    let experiment = OptimiseExperiment::new(scenario, &designs, spec);
    let report = execute(&experiment, config.seed, replications)?;
    let context = optimise_context(&report, source.path, config.seed);
    Ok(Outcome {
        summary: (report, context),
        notes: notes.into_iter().collect(),
    })
}

/// The game's limits, checked before any work.
fn check_game(game: &Game<'_>) -> Result<(), JobError> {
    if !(1..=optimise::MAX_LEVELS as u32).contains(&game.levels) {
        return Err(JobError::user(format!(
            "--levels: {} is not from 1 to {}",
            game.levels,
            optimise::MAX_LEVELS
        )));
    }
    if !(1..=optimise::MAX_ROUNDS).contains(&game.max_rounds) {
        return Err(JobError::user(format!(
            "--max-rounds: {} is not from 1 to {}",
            game.max_rounds,
            optimise::MAX_ROUNDS
        )));
    }
    Ok(())
}

/// The lines that say what `optimise` searched.
fn optimise_context(report: &optimise::OptimiseReport, path: &Path, seed: u64) -> Vec<String> {
    vec![
        format!(
            "{} ({}): {} replication(s) (seeds {}…), {} business day(s) each, up to {} liquidity levels per bank (equal ones merged).",
            report.scenario,
            path.display(),
            report.seeds.len(),
            report.seeds.first().copied().unwrap_or(seed),
            report.days,
            report.levels
        ),
        format!(
            "clearsim {}. Definitions of every figure: {}.",
            env!("CARGO_PKG_VERSION"),
            clearsim_report::GLOSSARY
        ),
    ]
}

/// What strikes each participant in turn in a critical study.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Turn {
    /// It defaults (stops paying) at the instant.
    Default,
    /// It loses this share (%, above 0, at most 100) of its opening
    /// balance at the instant: the money leaves its account, up to its
    /// balance.
    Liquidity { pct: f64 },
}

impl Turn {
    /// What each participant undergoes, for the report's context line.
    pub fn describe(self, at: clearsim_core::time::SimTime) -> String {
        match self {
            Turn::Default => format!("defaulting at {at}"),
            Turn::Liquidity { pct } => {
                format!("losing {pct} % of its opening balance at {at} (a liquidity shock)")
            }
        }
    }
}

/// `critical`: each city participant struck in turn at `at` (a default,
/// or a liquidity shock), one design of a compare paired with the same
/// seeds' runs without it.
pub fn critical(
    source: Source<'_>,
    at: clearsim_core::time::SimTime,
    turn: Turn,
    replications: &Replications<'_>,
) -> Result<Outcome<CompareSummary>, JobError> {
    let (config, city) = load_with_city(source.path, source.text, source.overrides)?;
    let scenario = &config.scenario;
    if !scenario.shocks.is_empty() {
        return Err(JobError::user(
            "critical: each participant's shock is measured against a run without it; give no other shock",
        ));
    }
    if at > scenario.day_end {
        return Err(JobError::user(format!(
            "--at {at}: after the day end {}",
            scenario.day_end
        )));
    }
    if let Turn::Liquidity { pct } = turn
        && !(pct > 0.0 && pct <= 100.0)
    {
        return Err(JobError::user(format!(
            "--liquidity {pct}: a share of the opening balance above 0 and at most 100 (%)"
        )));
    }
    let mut labelled = Vec::new();
    for (i, id) in city.ids.iter().enumerate() {
        if city.categories[i] == clearsim_model::replay::OUTSIDE_CATEGORY {
            continue;
        }
        let (label, shock) = struck_by(turn, id, at, city.opening_fen[i]);
        let mut variant = scenario.clone();
        variant.shocks.push(shock);
        labelled.push((label, variant));
    }
    if labelled.len() < 2 {
        return Err(JobError::user(
            "critical: the city has fewer than two participants to rank",
        ));
    }
    let experiment = CompareExperiment::of_variants(scenario, &city, config.days, labelled);
    let summary = execute(&experiment, config.seed, replications)?;
    Ok(Outcome {
        summary,
        notes: Vec::new(),
    })
}

/// One participant's shock and its design label: `default:ID@T`, or
/// `liquidity:ID@T=Nfen` with N its share of `opening_fen` (rounded down).
fn struck_by(
    turn: Turn,
    id: &str,
    at: clearsim_core::time::SimTime,
    opening_fen: i64,
) -> (String, clearsim_model::config::Shock) {
    use clearsim_model::config::Shock;
    match turn {
        Turn::Default => (
            format!("default:{id}@{at}"),
            Shock::Default {
                participant: id.to_string(),
                at,
            },
        ),
        Turn::Liquidity { pct } => {
            // pct ≤ 100: the share fits wherever the opening does.
            let amount_fen = (opening_fen.max(0) as f64 * pct / 100.0).floor() as i64;
            (
                format!("liquidity:{id}@{at}={amount_fen}fen"),
                Shock::Liquidity {
                    participant: id.to_string(),
                    at,
                    amount_fen,
                },
            )
        }
    }
}
