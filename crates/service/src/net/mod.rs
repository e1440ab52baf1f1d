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
pub mod commit;
pub mod http;
pub mod journal;
pub mod load;
pub mod metrics;
pub mod outbound;
pub mod protocol;
pub mod server;
pub mod service;
pub mod tls;
pub mod tokens;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::live::Clock;
use clearsim_core::engine::{Engine, EngineError};
use clearsim_core::ledger::Ledger;
use metrics::Metrics;
pub use server::Limits;
use service::Service;

/// Commands waiting for the engine thread at most.
pub const INBOUND: usize = 1 << 16;
/// Commands the engine thread takes before waking the connections it
/// answered: fewer wake-ups, a bounded wait for the first answer.
pub(crate) const TURN: usize = 256;

/// What a service needs.
pub struct ServeSetup {
    pub ids: Vec<String>,
    pub opening_fen: Vec<i64>,
    pub credit_limit_fen: Vec<i64>,
    /// A gross channel (rtgs and its variants), with its gridlock interval.
    pub spec: clearsim_core::strategy::ChannelSpec,
    /// Instrument names by index (SUBMIT's `instrument`), at most 65,535.
    pub instruments: Vec<String>,
    pub tokens: tokens::Tokens,
    pub limits: Limits,
    /// Payments that may wait in the queues at most.
    pub max_queued: usize,
    /// Of those, one sender's at most (by default a quarter: one bank
    /// cannot fill the queue for the others).
    pub max_queued_per_sender: usize,
    /// Where the journal is (`--journal`), if there is one.
    pub journal: Option<PathBuf>,
    /// The gross channel's name (metrics' label).
    pub channel: String,
    /// Where `/metrics` and the dashboard are served (`--http`), if at all.
    pub http: Option<SocketAddr>,
    /// TLS on the bank listener (`--tls-cert`, `--tls-key`), if at all.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl ServeSetup {
    /// A scenario's service: its city's accounts, its gross channel with
    /// gridlock runs every `gridlock_every_ms` of the wall clock.
    /// Nobody may connect until `tokens` is set (for `ids`).
    pub fn of_scenario(
        scenario: &clearsim_model::config::Scenario,
        limits: Limits,
        gridlock_every_ms: u32,
        max_queued: usize,
    ) -> Result<ServeSetup, EngineError> {
        // The service draws no stream: any seed will do.
        let prepared = crate::live::Prepared::new(scenario, 0)?;
        Ok(ServeSetup {
            ids: prepared.city.ids.clone(),
            opening_fen: prepared.city.opening_fen.clone(),
            credit_limit_fen: prepared.city.credit_limit_fen.clone(),
            spec: prepared.spec.with_interval(gridlock_every_ms),
            instruments: scenario
                .instruments
                .iter()
                .take(usize::from(u16::MAX))
                .map(|i| i.name.clone())
                .collect(),
            tokens: tokens::Tokens::default(),
            limits,
            max_queued,
            max_queued_per_sender: default_sender_share(max_queued),
            journal: None,
            channel: scenario
                .channels
                .iter()
                .find(|c| c.spec.is_gross())
                .map_or_else(|| prepared.spec.name().to_string(), |c| c.name.clone()),
            http: None,
            tls: None,
        })
    }

    /// What the journal records of this setup: recovery refuses a journal
    /// of another, and an export states how to replay it.
    pub fn journal_header(&self) -> Result<journal::Header, ServeError> {
        Ok(journal::Header {
            participants: (self.ids.iter().zip(&self.opening_fen))
                .zip(&self.credit_limit_fen)
                .map(|((id, &opening_fen), &credit_limit_fen)| journal::Account {
                    id: id.clone(),
                    opening_fen,
                    credit_limit_fen,
                })
                .collect(),
            instruments: self.instruments.clone(),
            replay_flags: replay_flags(&self.spec)?,
            day_end_ms: DAY_END.ms(),
            max_queued: self.max_queued as u64,
            max_queued_per_sender: self.max_queued_per_sender as u64,
        })
    }
}

/// The default share of the queue one sender may hold: a quarter of it.
pub fn default_sender_share(max_queued: usize) -> usize {
    (max_queued / 4).max(1)
}

/// The service's day: ms since it first started, to 23:59:59.999 (the
/// latest day end a replay can state).
pub const DAY_END: clearsim_core::time::SimTime =
    clearsim_core::time::SimTime(clearsim_core::time::DAY_MS - 1);

/// `clearsim replay` flags that settle as the service's gross channel does.
fn replay_flags(spec: &clearsim_core::strategy::ChannelSpec) -> Result<Vec<String>, ServeError> {
    let mut flags = spec.replay_flags().map_err(|e| {
        ServeError::Engine(EngineError::Design(format!(
            "--journal: a {} channel cannot be exported for replay (its {} are not in the journal); serve an rtgs, rtgs+bypass, rtgs+offset or chips channel",
            spec.name(),
            e.field()
        )))
    })?;
    flags.extend(["--day-end".into(), DAY_END.to_string()]);
    Ok(flags)
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
    #[error("the network edge stopped serving: {0}")]
    EdgeStopped(String),
    #[error("{0}")]
    Journal(#[from] journal::JournalError),
    #[error("{0}")]
    Tls(#[from] tls::TlsError),
}

impl clearsim_core::Blamed for ServeError {
    /// An address or journal the user gave; the service's own threads
    /// failing is not theirs.
    fn blame(&self) -> clearsim_core::Blame {
        match self {
            ServeError::Engine(e) => clearsim_core::Blamed::blame(e),
            ServeError::Journal(e) => clearsim_core::Blamed::blame(e),
            ServeError::Tls(e) => clearsim_core::Blamed::blame(e),
            ServeError::Listen { .. } => clearsim_core::Blame::User,
            ServeError::Runtime(_)
            | ServeError::Stopped(_)
            | ServeError::Panicked
            | ServeError::EdgeStopped(_) => clearsim_core::Blame::Bug,
        }
    }
}

/// What a service did, when it stops.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Served {
    /// This run's (the journal's recovered instructions are
    /// [`Server::next_seq`]).
    pub accepted: u64,
    pub rejected: u64,
    pub settled: u64,
    /// Still queued when it stopped (unsettled at the day's end).
    pub queued: u64,
    /// Σ balances at the end equals Σ openings (checked).
    pub total_fen: i64,
}

/// A running service: where it listens, and how to stop it.
pub struct Server {
    pub address: SocketAddr,
    /// Where `/metrics` and the dashboard are, with `--http`.
    pub http_address: Option<SocketAddr>,
    /// The sequence number it starts from (records recovered).
    pub next_seq: u64,
    /// The torn journal tail cut off at the start, if there was one.
    pub cut: Option<journal::Cut>,
    /// The journal's day was closed already: every SUBMIT is refused.
    pub day_closed: bool,
    edge: Arc<server::Edge>,
    /// Notified (once, with a permit) when the engine thread ends.
    ended: Arc<tokio::sync::Notify>,
    engine: std::thread::JoinHandle<Result<Served, ServeError>>,
    journal: Option<std::thread::JoinHandle<Result<(), journal::JournalError>>>,
    edge_thread: std::thread::JoinHandle<()>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// A listening socket for the edge's runtime (non-blocking).
fn bind(address: SocketAddr) -> Result<std::net::TcpListener, ServeError> {
    std::net::TcpListener::bind(address)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|source| ServeError::Listen { address, source })
}

/// The journal thread's side: its link to the engine, and the file.
type JournalSide = (Arc<commit::Link>, journal::Writer);

/// The engine thread's service, recovered from the journal if there is
/// one (with its journal thread's side, and the bytes of a torn tail cut).
fn start_service(
    setup: &ServeSetup,
    metrics: &Arc<Metrics>,
) -> Result<(Service, Option<JournalSide>, Option<journal::Cut>), ServeError> {
    let Some(dir) = &setup.journal else {
        return Ok((new_service(setup, metrics, None)?, None, None));
    };
    let opened = journal::open(dir, &setup.journal_header()?)?;
    let link = commit::Link::new();
    let mut service = new_service(setup, metrics, Some(link.clone()))?;
    let shown = dir.join(journal::FILE).display().to_string();
    recover(&mut service, &opened.records, opened.day_closed, &shown)?;
    Ok((service, Some((link, opened.writer)), opened.cut))
}

/// The queue's limits: in all, and one sender's.
fn queue_limits(setup: &ServeSetup) -> (usize, usize) {
    (setup.max_queued, setup.max_queued_per_sender)
}

/// The engine thread's service for `setup`, before any recovery.
fn new_service(
    setup: &ServeSetup,
    metrics: &Arc<Metrics>,
    link: Option<Arc<commit::Link>>,
) -> Result<Service, ServeError> {
    let ledger = Ledger::new(&setup.opening_fen, &setup.credit_limit_fen);
    let engine = Engine::new(
        ledger,
        std::slice::from_ref(&setup.spec),
        DAY_END,
        setup.max_queued.min(1 << 22),
    )?;
    let instruments = setup.instruments.len() as u16;
    Ok(Service::new(
        engine,
        queue_limits(setup),
        metrics.clone(),
        instruments,
        link,
    )?)
}

/// Runs the journal's `records` again; a record the engine refuses is a
/// journal this service did not write (`shown` names it).
fn recover(
    service: &mut Service,
    records: &[journal::Record],
    day_closed: bool,
    shown: &str,
) -> Result<(), ServeError> {
    match service.recover(records, day_closed)? {
        Ok(()) => Ok(()),
        Err(seq) => Err(ServeError::Journal(journal::JournalError::BadRecord {
            path: shown.to_string(),
            seq,
            reason: "the engine refuses it (its queue, or its sender's share of it, is full): this service did not write it".into(),
        })),
    }
}

/// A journal's day as a service for `setup` would recover and close it,
/// with no thread, socket or file: what the journal's contents come to
/// (its counts, money conserved). The fuzz target of the service's engine
/// path drives this.
pub fn recover_and_close(
    setup: &ServeSetup,
    contents: &journal::Contents,
) -> Result<Served, ServeError> {
    if contents.header != setup.journal_header()? {
        return Err(ServeError::Journal(journal::JournalError::Mismatch {
            path: "journal".into(),
            field: "the setup",
        }));
    }
    let metrics = Arc::new(Metrics::new(Clock::start(), setup.channel.clone()));
    let mut service = new_service(setup, &metrics, None)?;
    recover(
        &mut service,
        &contents.records,
        contents.day_closed,
        "journal",
    )?;
    service
        .close()
        .map_err(|e| ServeError::Stopped(e.to_string()))
}

/// Starts a service on `listen` (port 0: any free one): the engine thread,
/// the journal thread (with `--journal`), and the edge's runtime on a
/// thread of its own.
pub fn spawn(setup: ServeSetup, listen: SocketAddr) -> Result<Server, ServeError> {
    let metrics = Arc::new(Metrics::new(Clock::start(), setup.channel.clone()));
    let (service, journal, cut) = start_service(&setup, &metrics)?;
    let next_seq = service.next_seq();
    let day_closed = service.day_closed();
    let mut edge = server::Edge::new(
        setup.tokens,
        setup.ids,
        setup.limits,
        metrics.clone(),
        next_seq,
    );
    edge.tls = setup.tls.map(tokio_rustls::TlsAcceptor::from);
    let edge = Arc::new(edge);
    // Bound here, so that the caller learns the address (and a failure)
    // at once; handed to the edge's runtime on its own thread (a caller
    // may be inside a runtime of its own: a test).
    let listener = bind(listen)?;
    let address = listener.local_addr().map_err(ServeError::Runtime)?;
    let http = setup.http.map(bind).transpose()?;
    let http_address = match &http {
        Some(l) => Some(l.local_addr().map_err(ServeError::Runtime)?),
        None => None,
    };
    let journal = spawn_journal(journal, &metrics)?;
    let ended = Arc::new(tokio::sync::Notify::new());
    let engine = {
        let (edge, ended) = (edge.clone(), ended.clone());
        std::thread::Builder::new()
            .name("clearsim-engine".into())
            .spawn(move || run_engine(service, &edge, ended))
            .map_err(ServeError::Runtime)?
    };
    let _ = edge.engine.set(engine.thread().clone());
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let edge_thread = spawn_edge(
        listener,
        http,
        edge.clone(),
        metrics,
        stopped,
        ended.clone(),
    )?;
    tracing::info!(
        %address,
        http = ?http_address,
        journal = ?setup.journal,
        next_seq,
        cut = ?cut,
        day_closed,
        "serving"
    );
    Ok(Server {
        address,
        http_address,
        next_seq,
        cut,
        day_closed,
        edge,
        ended,
        engine,
        journal,
        edge_thread,
        shutdown: Some(shutdown),
    })
}

/// The journal thread, with `--journal`.
fn spawn_journal(
    journal: Option<JournalSide>,
    metrics: &Arc<Metrics>,
) -> Result<Option<std::thread::JoinHandle<Result<(), journal::JournalError>>>, ServeError> {
    let Some((link, writer)) = journal else {
        return Ok(None);
    };
    let metrics = metrics.clone();
    std::thread::Builder::new()
        .name("clearsim-journal".into())
        .spawn(move || commit::journal_loop(writer, &link, &metrics))
        .map(Some)
        .map_err(ServeError::Runtime)
}

/// The edge's thread: one current-thread tokio runtime serving the banks'
/// listener (and the HTTP one) until `stopped`.
fn spawn_edge(
    listener: std::net::TcpListener,
    http: Option<std::net::TcpListener>,
    edge: Arc<server::Edge>,
    metrics: Arc<Metrics>,
    stopped: tokio::sync::oneshot::Receiver<()>,
    ended: Arc<tokio::sync::Notify>,
) -> Result<std::thread::JoinHandle<()>, ServeError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    let (edge_for_watch, ended_for_watch) = (edge.clone(), ended.clone());
    let serve = async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(listener) => listener,
            Err(e) => return edge_failed(&edge, &ended, format!("the bank listener: {e}")),
        };
        let http = async move {
            match http.map(tokio::net::TcpListener::from_std) {
                Some(Ok(listener)) => http::serve(listener, metrics).await,
                Some(Err(e)) => Err(e),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = server::accept(listener, edge.clone()) => {
                return edge_failed(&edge, &ended, "the bank listener stopped".into());
            }
            served = http => {
                let why = match served {
                    Ok(()) => "the HTTP listener stopped".to_string(),
                    Err(e) => format!("the HTTP listener stopped: {e}"),
                };
                return edge_failed(&edge, &ended, why);
            }
            _ = stopped => {}
        }
        // The engine has closed the day: every connection was sent its
        // GOODBYE and ends once it is written (or a write stalls).
        let _ = tokio::time::timeout(edge.limits.stall, edge.drained()).await;
    };
    std::thread::Builder::new()
        .name("clearsim-edge".into())
        .spawn(move || {
            // A panic on this thread is the edge stopping too.
            let mut watch = EdgeWatch(Some((edge_for_watch, ended_for_watch)));
            runtime.block_on(serve);
            watch.0 = None;
        })
        .map_err(ServeError::Runtime)
}

/// The edge stopped serving before the service was stopped: the service's
/// owner is told (it stops, and the process exits 1 saying why).
fn edge_failed(edge: &server::Edge, ended: &tokio::sync::Notify, why: String) {
    edge.failed(why);
    ended.notify_one();
}

/// Dropped only when the edge's thread unwinds: the owner is told.
struct EdgeWatch(Option<(Arc<server::Edge>, Arc<tokio::sync::Notify>)>);

impl Drop for EdgeWatch {
    fn drop(&mut self) {
        if let Some((edge, ended)) = self.0.take() {
            edge_failed(&edge, &ended, "its thread panicked".into());
        }
    }
}

/// Whatever way the engine thread ends (a panic too), the edge stops
/// handing it commands and the service's owner is told.
struct Ended<'a> {
    edge: &'a server::Edge,
    ended: Arc<tokio::sync::Notify>,
    /// The day was closed: every connection has its GOODBYE coming (with
    /// a journal, still on its way through the journal thread).
    closed: bool,
}

impl Drop for Ended<'_> {
    fn drop(&mut self) {
        self.edge.engine_ended(self.closed);
        self.ended.notify_one();
    }
}

/// The engine thread's body: the loop, and whoever waits told how it ended.
fn run_engine(
    service: Service,
    edge: &server::Edge,
    ended: Arc<tokio::sync::Notify>,
) -> Result<Served, ServeError> {
    let mut ended = Ended {
        edge,
        ended,
        closed: false,
    };
    let result = engine_loop(service, edge);
    match &result {
        Ok(_) => ended.closed = true,
        Err(e) => tracing::error!(error = %e, "the engine thread stopped"),
    }
    result
}

impl Server {
    /// Failed accepts of the bank listener so far (each retried).
    pub fn accept_errors(&self) -> u64 {
        self.edge
            .metrics
            .accept_errors
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether the engine thread has ended: only on a failure (the
    /// journal's disk, an engine error) before [`Server::stop`].
    pub fn engine_ended(&self) -> bool {
        self.engine.is_finished()
    }

    /// Returns when the engine thread has ended (see
    /// [`Server::engine_ended`]) or the edge has stopped serving: a
    /// service's owner waits on it beside its own reasons to stop.
    pub async fn ended(&self) {
        self.ended.notified().await;
    }

    /// Connections open now.
    pub fn connections(&self) -> usize {
        self.edge.metrics.connections.load(Ordering::Acquire)
    }

    /// Stops: the edge's gate closes (a SUBMIT still on its way in is
    /// refused or, once the gate is shut, dropped), the engine answers
    /// every command that got in and closes the day (its last
    /// settlements and a GOODBYE go to every connection, which then
    /// closes: waited for up to the stall limit), the edge stops; returns
    /// the counts (money conservation checked).
    pub fn stop(mut self) -> Result<Served, ServeError> {
        tracing::info!(
            connections = self.connections(),
            "stopping: the gate is closed"
        );
        self.edge.close_gate();
        let served = self.engine.join().map_err(|_| ServeError::Panicked);
        let journaled = match self.journal.take() {
            Some(journal) => journal.join().map_err(|_| ServeError::Panicked),
            None => Ok(Ok(())),
        };
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.edge_thread.join().map_err(|_| ServeError::Panicked)?;
        journaled??;
        let served = served??;
        // The day closed cleanly, but banks could not reach it for a while:
        // the owner must hear of it.
        if let Some(why) = self.edge.failure() {
            return Err(ServeError::EdgeStopped(why.to_string()));
        }
        tracing::info!(
            accepted = served.accepted,
            rejected = served.rejected,
            settled = served.settled,
            queued = served.queued,
            "day closed"
        );
        Ok(served)
    }
}

/// The engine thread: commands in order until told to stop and the queue
/// is empty; gridlock runs on the wall clock while idle.
fn engine_loop(mut service: Service, edge: &server::Edge) -> Result<Served, ServeError> {
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
        service.end_turn()?;
        if taken > 0 {
            edge.room_made();
            backoff.reset();
            continue;
        }
        // The gate first: once it is closed and empty nothing more can
        // enter, so an empty queue then is empty for good.
        if edge.closed_and_empty() && edge.inbound.is_empty() {
            return service
                .close()
                .map_err(|e| ServeError::Stopped(e.to_string()));
        }
        if service.run_due() {
            service.advance()?;
            service.end_turn()?;
        }
        if backoff.is_completed() {
            // Announced before the last look, so that a command pushed
            // after it finds the flag and unparks (SeqCst on both sides).
            edge.engine_parked.store(true, Ordering::SeqCst);
            if edge.inbound.is_empty() && !edge.closed_and_empty() {
                std::thread::park_timeout(Duration::from_micros(500));
            }
            edge.engine_parked.store(false, Ordering::SeqCst);
        } else {
            backoff.snooze();
        }
    }
}
