//! clearsim as a running system: the engine in wall-clock time (`live`),
//! as a network service with its journal and HTTP side (`net`), the load
//! generator and client that drive it, and the benchmark suite (`suite`).
//! tokio stays at the network edge; the ledger has one writer thread.

#![forbid(unsafe_code)]

pub mod live;
pub mod net;
pub mod suite;

pub use net::client;
