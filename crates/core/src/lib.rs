//! clearsim's core: units (`time`, `money`, `format`), the ledger, the
//! settlement strategies and the engine with its one scheduler.
//!
//! No serde, no I/O, no clock, no threads: everything here is a
//! deterministic function of its inputs.

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

pub mod engine;
pub mod format;
pub mod ledger;
pub mod money;
pub mod strategy;
pub mod time;
