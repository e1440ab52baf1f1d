//! `clearsim serve`: the settlement engine as a network service.
//!
//! ```text
//! bank ──TCP──> task ─┐                                  ┌─> outbound ──> task ──TCP──> bank
//! bank ──TCP──> task ─┼─> inbound (lock-free) ─> engine ─┼─> outbound ──> task ──TCP──> bank
//!   (tokio: frames, tokens,     (one std thread,  (lock-free, bounded,
//!    limits)                     single writer)    one per connection)
//! ```
//!
//! tokio runs the edge ([`server`]): one task per connection decodes
//! frames ([`protocol`]), checks the HELLO's token ([`tokens`]) and limits,
//! and hands commands to the engine thread ([`service`]) through one
//! bounded lock-free queue. The engine thread owns the ledger alone,
//! settles through the same settler and gross channel as `live`, runs
//! gridlock on the wall clock, and answers through each connection's
//! bounded lock-free outbound queue, waking its task. Where tokio stops:
//! at those two queues.

pub mod client;
pub mod load;
pub mod protocol;
pub mod server;
pub mod service;
pub mod tokens;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crossbeam_queue::ArrayQueue;

use crate::engine::{Engine, EngineError};
use crate::ledger::Ledger;
use crate::live::{Clock, Settler};
pub use server::Limits;
use service::Service;

/// Commands waiting for the engine thread at most.
pub const INBOUND: usize = 1 << 16;
/// Commands the engine thread takes before waking the connections it
/// answered: fewer wake-ups, a bounded wait for the first answer.
const TURN: usize = 256;

/// What a service needs.
pub struct ServeSetup {
    pub ids: Vec<String>,
    pub opening_fen: Vec<i64>,
    pub credit_limit_fen: Vec<i64>,
    /// A gross channel (rtgs and its variants), with its gridlock interval.
    pub spec: crate::strategy::ChannelSpec,
    pub instruments: u16,
    pub tokens: tokens::Tokens,
    pub limits: Limits,
    /// Payments that may wait in the queues at most.
    pub max_queued: usize,
}

impl ServeSetup {
    /// A scenario's service: its city's accounts, its gross channel with
    /// gridlock runs every `gridlock_every_ms` of the wall clock.
    /// Nobody may connect until `tokens` is set (for `ids`).
    pub fn of_scenario(
        scenario: &crate::config::Scenario,
        limits: Limits,
        gridlock_every_ms: u32,
        max_queued: usize,
    ) -> Result<ServeSetup, EngineError> {
        let prepared = crate::live::Prepared::new(scenario)?;
        Ok(ServeSetup {
            ids: prepared.city.ids.clone(),
            opening_fen: prepared.city.opening_fen.clone(),
            credit_limit_fen: prepared.city.credit_limit_fen.clone(),
            spec: prepared.spec.with_interval(gridlock_every_ms),
            instruments: scenario.instruments.len().min(usize::from(u16::MAX)) as u16,
            tokens: tokens::Tokens::default(),
            limits,
            max_queued,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Engine(#[from] EngineError),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Runtime(std::io::Error),
    #[error("the engine thread stopped: {0}")]
    Stopped(String),
    #[error("a service thread panicked")]
    Panicked,
}

/// What a service did, when it stops.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Served {
    pub accepted: u64,
    pub rejected: u64,
    pub settled: u64,
    /// Still queued when it stopped.
    pub queued: u64,
    /// Σ balances at the end equals Σ openings (checked).
    pub total_fen: i64,
}

/// A running service: where it listens, and how to stop it.
pub struct Server {
    pub address: SocketAddr,
    edge: Arc<server::Edge>,
    stop: Arc<AtomicBool>,
    engine: std::thread::JoinHandle<Result<Served, ServeError>>,
    edge_thread: std::thread::JoinHandle<()>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Starts a service on `listen` (port 0: any free one): the engine thread,
/// and the edge's runtime on a thread of its own.
pub fn spawn(setup: ServeSetup, listen: SocketAddr) -> Result<Server, ServeError> {
    let ledger = Ledger::new(&setup.opening_fen, &setup.credit_limit_fen);
    let engine = Engine::new(
        ledger,
        std::slice::from_ref(&setup.spec),
        crate::time::SimTime(crate::time::DAY_MS),
        setup.max_queued.min(1 << 22),
    )?;
    let participants = setup.ids.len() as u32;
    let settler = Settler::new(engine, setup.max_queued)?;
    let service = Service::new(settler, Clock::start(), participants, setup.instruments);
    let edge = Arc::new(server::Edge {
        inbound: ArrayQueue::new(INBOUND),
        engine: OnceLock::new(),
        tokens: setup.tokens,
        ids: setup.ids,
        limits: setup.limits,
        connections: AtomicUsize::new(0),
        next_seq: service.next_seq(),
        stopping: AtomicBool::new(false),
        engine_parked: AtomicBool::new(false),
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    // Bound here, so that the caller learns the address (and a failure)
    // at once; handed to the edge's runtime on its own thread (a caller
    // may be inside a runtime of its own: a test).
    let listener = std::net::TcpListener::bind(listen)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|source| ServeError::Listen {
            address: listen,
            source,
        })?;
    let address = listener.local_addr().map_err(ServeError::Runtime)?;
    let stop = Arc::new(AtomicBool::new(false));
    let engine = {
        let (edge, stop) = (edge.clone(), stop.clone());
        std::thread::Builder::new()
            .name("clearsim-engine".into())
            .spawn(move || engine_loop(service, &edge, &stop))
            .map_err(ServeError::Runtime)?
    };
    let _ = edge.engine.set(engine.thread().clone());
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let edge_thread = {
        let edge = edge.clone();
        std::thread::Builder::new()
            .name("clearsim-edge".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    tokio::select! {
                        _ = server::accept(listener, edge) => {}
                        _ = stopped => {}
                    }
                });
            })
            .map_err(ServeError::Runtime)?
    };
    Ok(Server {
        address,
        edge,
        stop,
        engine,
        edge_thread,
        shutdown: Some(shutdown),
    })
}

impl Server {
    /// Connections open now.
    pub fn connections(&self) -> usize {
        self.edge.connections.load(Ordering::Acquire)
    }

    /// Stops: no new SUBMIT is taken, the engine answers what it has, the
    /// edge closes; returns the counts (money conservation checked).
    pub fn stop(mut self) -> Result<Served, ServeError> {
        self.edge.stopping.store(true, Ordering::Release);
        // What is already in the engine's queue is answered first.
        std::thread::sleep(Duration::from_millis(50));
        self.stop.store(true, Ordering::Release);
        self.engine.thread().unpark();
        let served = self.engine.join().map_err(|_| ServeError::Panicked)?;
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.edge_thread.join().map_err(|_| ServeError::Panicked)?;
        served
    }
}

/// The engine thread: commands in order until told to stop and the queue
/// is empty; gridlock runs on the wall clock while idle.
fn engine_loop(
    mut service: Service,
    edge: &server::Edge,
    stop: &AtomicBool,
) -> Result<Served, ServeError> {
    let backoff = crossbeam_utils::Backoff::new();
    loop {
        // A turn: at most TURN commands, then the connections told
        // something are woken (once each, however many notices).
        // The turn's instant: the wall clock, read once.
        if !edge.inbound.is_empty() {
            service.advance()?;
        }
        let mut taken = 0;
        while taken < TURN {
            let Some(command) = edge.inbound.pop() else {
                break;
            };
            service.handle(command)?;
            taken += 1;
        }
        service.wake_all();
        if taken > 0 {
            backoff.reset();
            continue;
        }
        if stop.load(Ordering::Acquire) && edge.inbound.is_empty() {
            return service
                .close()
                .map_err(|e| ServeError::Stopped(e.to_string()));
        }
        if service.run_due() {
            service.advance()?;
            service.wake_all();
        }
        if backoff.is_completed() {
            // Announced before the last look, so that a command pushed
            // after it finds the flag and unparks (SeqCst on both sides).
            edge.engine_parked.store(true, Ordering::SeqCst);
            if edge.inbound.is_empty() && !stop.load(Ordering::SeqCst) {
                std::thread::park_timeout(Duration::from_micros(500));
            }
            edge.engine_parked.store(false, Ordering::SeqCst);
        } else {
            backoff.snooze();
        }
    }
}
