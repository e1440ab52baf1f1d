//! clearsim's core: units (`time`, `money`, `format`), the ledger, the
//! settlement strategies and the engine with its one scheduler.
//!
//! No serde, no I/O, no clock, no threads: everything here is a
//! deterministic function of its inputs.

#![forbid(unsafe_code)]

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

/// Whose fault an error is: the user's, who can fix what they gave (exit
/// code 2); clearsim's (a bug or a broken invariant, exit code 1); or the
/// machine's, failing under a run that was going well (a disk that stops
/// taking writes while serving: exit code 1, but not called a bug). Every
/// library error says which ([`Blamed`]); the command line maps it to the
/// exit code in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blame {
    User,
    Bug,
    System,
}

/// An error that knows whose fault it is.
pub trait Blamed {
    fn blame(&self) -> Blame;
}

/// Text or values a user wrote (a flag, a config field, a strategy's
/// compact form, a shock) that do not parse or do not fit; the message
/// says what is wrong, for the caller to prefix with where it was.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl From<String> for ParseError {
    fn from(message: String) -> ParseError {
        ParseError(message)
    }
}

impl From<&str> for ParseError {
    fn from(message: &str) -> ParseError {
        ParseError(message.to_string())
    }
}

impl Blamed for ParseError {
    fn blame(&self) -> Blame {
        Blame::User
    }
}
