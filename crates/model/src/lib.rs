//! clearsim's model: what is settled, and how it is measured.
//!
//! Scenario configs (`config`), the city and its seeded payment streams
//! (`workload`), the banks' queues and costs (`bank`), replay files
//! (`input`), one day replayed to the contract (`replay`), a scenario run
//! over days (`run`) and every reported number (`metrics`).
//!
//! # Replay a day
//!
//! Two files' bytes, checked (every error names the file, row and field),
//! through one strategy of the catalog, to the contract:
//!
//! ```
//! use clearsim_core::strategy::parse_strategy;
//! use clearsim_core::time::SimTime;
//! use clearsim_model::input::Day;
//! use clearsim_model::replay::replay;
//!
//! let participants = b"id,name,category,opening_balance,credit_limit\n\
//!     A,Bank A,bank,100,0\n\
//!     B,Bank B,bank,0,0\n";
//! let payments = b"id,submit,sender,receiver,amount\n\
//!     p1,09:00:00,B,A,30\n\
//!     p2,09:00:01,A,B,60\n";
//! let day_end = SimTime::parse(b"17:00:00").expect("a time");
//! let day = Day::parse("participants.csv", participants, "payments.csv", payments, day_end)?;
//! let spec = parse_strategy("rtgs", day_end)?.spec;
//! let replayed = replay(&day, &spec)?;
//! // B cannot pay 30 until A's 60 arrives; then both settle.
//! assert_eq!(replayed.summary.settled, 2);
//! assert_eq!(replayed.closing_fen, vec![70, 30]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Run a scenario
//!
//! A scenario file is a [`config::Config`]: the scenario, and the seed and
//! days of its replication. The stream depends on (scenario, seed, day)
//! alone.
//!
//! ```
//! use std::path::Path;
//! use clearsim_model::config::Config;
//! use clearsim_model::run::{NoObserver, run};
//! use clearsim_model::workload::city::build_city;
//!
//! let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/games/bech-garratt-early.toml");
//! let (scenario, replication) = Config::load(&path)?.split();
//! let city = build_city(&scenario);
//! let result = run(&scenario, &city, replication, &mut NoObserver)?;
//! assert_eq!(result.days.len(), replication.days as usize);
//! // Every payment is accounted for: settled, unsettled or carried.
//! for day in &result.days {
//!     assert_eq!(
//!         day.value_fen,
//!         day.settled_value_fen + day.unsettled_value_fen + day.carried_value_fen
//!     );
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod bank;
pub mod config;
pub mod csvout;
pub mod fit;
pub mod input;
pub mod metrics;
pub mod replay;
pub mod run;
pub mod workload;
