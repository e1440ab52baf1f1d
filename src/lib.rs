//! clearsim: an interbank same-city clearing simulator.
//!
//! The library is layered: `time` and `engine` know nothing of files;
//! `strategy` holds the settlement rules; `input` parses replay files from
//! bytes; `metrics` computes every reported number once; `report` writes
//! files; `cli` is the command line on top.

/// Whether this build checks the engine's invariants ([`invariant!`]):
/// debug builds, and any build with the `invariants` feature, which the
/// tests switch on, so `cargo test --release` runs every check.
pub const INVARIANTS_CHECKED: bool = cfg!(any(debug_assertions, feature = "invariants"));

/// An invariant: `assert!` where [`INVARIANTS_CHECKED`], else nothing (the
/// condition is not evaluated, so a check may cost what it must).
#[macro_export]
macro_rules! invariant {
    ($($arg:tt)*) => {
        if $crate::INVARIANTS_CHECKED {
            assert!($($arg)*);
        }
    };
}

/// [`invariant!`] for `assert_eq!`.
#[macro_export]
macro_rules! invariant_eq {
    ($($arg:tt)*) => {
        if $crate::INVARIANTS_CHECKED {
            assert_eq!($($arg)*);
        }
    };
}

pub mod bank;
pub mod cli;
pub mod config;
pub mod engine;
pub mod format;
pub mod input;
pub mod ledger;
pub mod live;
pub mod metrics;
pub mod money;
pub mod net;
pub use net::client;
pub mod replay;
pub mod report;
pub mod run;
pub mod strategy;
pub mod study;
pub mod suite;
pub mod time;
pub mod workload;
