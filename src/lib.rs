//! clearsim: an interbank same-city clearing simulator.
//!
//! The library is layered: `time` and `engine` know nothing of files;
//! `strategy` holds the settlement rules; `input` parses replay files from
//! bytes; `metrics` computes every reported number once; `report` writes
//! files; `cli` is the command line on top.

pub mod cli;
pub mod config;
pub mod engine;
pub mod format;
pub mod input;
pub mod ledger;
pub mod live;
pub mod metrics;
pub mod money;
pub mod replay;
pub mod report;
pub mod run;
pub mod strategy;
pub mod study;
pub mod suite;
pub mod time;
pub mod workload;
