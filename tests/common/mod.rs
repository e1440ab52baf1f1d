//! Shared test helpers: running the `clearsim` binary (`cli`), the
//! service's client side (`net`), and the reference implementation of
//! `semantics.md` (`reference`, re-exported here).

#![allow(dead_code, unused_imports)]

pub mod cli;
pub mod net;
mod reference;

pub use reference::*;
