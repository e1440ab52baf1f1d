//! clearsim's jobs without a command line: what `replay`, `run`,
//! `compare`, `sweep` and `plan` do between reading their inputs and
//! publishing their outputs. The `clearsim` binary and the Python package
//! both call these, so that a job means the same, and fails with the same
//! message, from either.

pub mod critical;
pub mod days;
mod error;
pub mod fit;
pub mod generate;
pub mod merge;
pub mod replay;
pub mod scenario;
pub mod study;

pub use error::{JobError, said_once};
