//! clearsim's model: what is settled, and how it is measured.
//!
//! Scenario configs (`config`), the city and its seeded payment streams
//! (`workload`), the banks' queues and costs (`bank`), replay files
//! (`input`), one day replayed to the contract (`replay`), a scenario run
//! over days (`run`) and every reported number (`metrics`).

pub mod bank;
pub mod config;
pub mod csvout;
pub mod input;
pub mod metrics;
pub mod replay;
pub mod run;
pub mod workload;
