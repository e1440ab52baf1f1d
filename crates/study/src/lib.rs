//! Controlled experiments: `run` (a scenario's own design over seeds),
//! `compare` (several designs on the same streams), `sweep` (the
//! liquidity–delay trade-off), `plan` (two designs of a city, paired) and
//! `optimise` (the banks' liquidity game), each an [`Experiment`] that the
//! one [`runner`] runs over its seeds, in parallel, and summarises.
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
//!
//! # Run an experiment, save its summary, read it back
//!
//! ```
//! use std::path::Path;
//! use clearsim_model::config::Config;
//! use clearsim_model::workload::city::build_city;
//! use clearsim_study::schema::{self, Summary};
//! use clearsim_study::{RunExperiment, Runner, Seeds, execute};
//!
//! let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/games/bech-garratt-early.toml");
//! let config = Config::load(&path)?;
//! let city = build_city(&config.scenario);
//! let experiment = RunExperiment::new(&config.scenario, &city, 2);
//! // Three replications: seeds seed, seed+1, seed+2, on two threads.
//! let seeds = Seeds { first: config.seed, replications: 3, shard: None };
//! let runner = Runner { threads: 2, tick: &|| {}, stop: None };
//! let summary = execute(&experiment, &seeds, &runner)?;
//! assert_eq!(summary.seeds.len(), 3);
//!
//! // Saved as summary.json's versioned schema, and read back whatever
//! // kind it is.
//! let bytes = schema::to_json(&summary)?;
//! let Summary::Run(read) = schema::read(&bytes)? else {
//!     panic!("a run's summary");
//! };
//! assert_eq!(read.seeds, summary.seeds);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

pub mod design;
pub mod merge;
pub mod optimise;
pub mod plan;
pub mod record;
pub mod replay;
pub mod replicate;
pub mod runner;
pub mod schema;
pub mod summary;
pub mod sweep;

pub use design::{DEFAULT_DESIGNS, DESIGN, Design, parse_design, variant};
pub use replicate::{CompareExperiment, RunExperiment};
pub use runner::{
    Experiment, MAX_REPLICATIONS, Runner, Seeds, Shard, cores, execute, parallel_map,
};
pub use sweep::SweepExperiment;

use clearsim_core::engine::EngineError;

/// Why an experiment did not give its summary.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    /// A run failed: the engine's error (the scenario's fault, or a bug:
    /// [`EngineError`] says which).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// What was asked cannot be done (a design that is no strategy, shards
    /// of a search over every seed, a game without costs).
    #[error("{0}")]
    Request(String),
    /// The experiment's own records do not fit together: a bug.
    #[error("{0}")]
    Bug(String),
    /// Stopped on request before every job ran.
    #[error("interrupted: stopped before every run was done")]
    Interrupted,
}

impl clearsim_core::Blamed for StudyError {
    fn blame(&self) -> clearsim_core::Blame {
        match self {
            StudyError::Engine(e) => e.blame(),
            StudyError::Request(_) => clearsim_core::Blame::User,
            StudyError::Bug(_) => clearsim_core::Blame::Bug,
            StudyError::Interrupted => clearsim_core::Blame::User,
        }
    }
}
