//! The network edge of `clearsim serve`: tokio tasks, one per connection,
//! in front of the engine thread ([`super::service`]).
//!
//! Here tokio stops: a connection's task decodes frames, authenticates the
//! HELLO, and pushes commands into the engine's lock-free inbound queue;
//! its writer half sends what the engine put in its outbound queue. The
//! ledger is never behind a lock and never touched by a task.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::Thread;
use std::time::Duration;

use crossbeam_queue::ArrayQueue;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use super::outbound::Conn;
use super::protocol::{
    ErrorCode, FrameBuf, Notice, OLDEST_VERSION, ProtocolError, Reason, Request, Submit, VERSION,
};
use super::service::Command;
use super::tokens::Tokens;

/// What the edge enforces (docs/protocol.md, limits). A connection is
/// unauthenticated from `accept` to its WELCOME, and counts only against
/// the unauthenticated limits then: sockets that never say HELLO cannot
/// hold the slots of the banks that do.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Authenticated connections open at once.
    pub max_connections: usize,
    /// Authenticated connections one participant may have open.
    pub max_per_participant: usize,
    /// Connections accepted and not yet authenticated.
    pub max_unauthenticated: usize,
    /// Of those, from one IP address.
    pub max_unauthenticated_per_address: usize,
    /// SUBMITs a connection may have awaiting ACCEPTED or REJECTED.
    pub max_in_flight: u32,
    /// Notices waiting to be written to one connection; a connection that
    /// lets it fill is closed (a slow reader). The queue grows to it on
    /// demand.
    pub outbound: usize,
    /// How long a HELLO may take to arrive.
    pub hello: Duration,
    /// How long an authenticated connection may send nothing.
    pub idle: Duration,
    /// How long a write may stall.
    pub stall: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 4096,
            max_per_participant: 256,
            max_unauthenticated: 256,
            max_unauthenticated_per_address: 64,
            max_in_flight: 4096,
            outbound: 65_536,
            hello: Duration::from_secs(2),
            idle: Duration::from_secs(300),
            stall: Duration::from_secs(10),
        }
    }
}

/// The gate's top bit: closed, no command enters the engine's queue any
/// more. The bits below count the tasks inside it (pushing now).
const CLOSED: usize = 1 << (usize::BITS - 1);

/// What every connection's task shares.
pub struct Edge {
    pub inbound: ArrayQueue<Command>,
    /// The engine thread, unparked when a command arrives.
    pub engine: OnceLock<Thread>,
    pub tokens: Tokens,
    pub ids: Vec<String>,
    pub limits: Limits,
    /// Its connection count is the edge's.
    pub metrics: Arc<super::metrics::Metrics>,
    /// The sequence number the engine had reached when it started.
    pub next_seq: u64,
    /// Set by the engine thread while it parks: only then does a command
    /// unpark it (a system call saved per command otherwise).
    pub engine_parked: AtomicBool,
    /// [`CLOSED`] and the tasks pushing: the engine closes the day once
    /// the gate is closed, empty, and its queue drained, so that nothing
    /// a task had begun to hand over is lost or left behind.
    gate: AtomicUsize,
    /// Set by a task that found the queue full; the engine then notifies
    /// `space` after its next turn (no timed retries).
    space_wanted: AtomicBool,
    space: Notify,
    /// Set when the engine thread has ended, for whatever reason: a task
    /// waiting for space gives up.
    engine_gone: AtomicBool,
    /// Notified when the engine thread ends: each connection is told (an
    /// ERROR after whatever the engine had sent it) and closes, instead of
    /// waiting for answers that will not come.
    gone: Notify,
    /// Set with `engine_gone` when the engine ended without closing the day.
    engine_failed: AtomicBool,
    /// Notified whenever a connection ends (the stop waits for the last).
    connection_ended: Notify,
    /// Connections not yet authenticated, in all and by address. The
    /// lock is taken at accept and at a HELLO's end: never by the engine.
    unauthenticated: AtomicUsize,
    by_address: Mutex<HashMap<IpAddr, usize>>,
    /// Authenticated connections by participant.
    by_participant: Vec<AtomicUsize>,
    /// Why the edge stopped serving, if it did before the service was
    /// stopped (the process must then exit and say so).
    failure: OnceLock<String>,
    /// TLS on every bank connection, if the service was given a
    /// certificate.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
}

impl Edge {
    /// An edge whose gate is open.
    pub fn new(
        tokens: Tokens,
        ids: Vec<String>,
        limits: Limits,
        metrics: Arc<super::metrics::Metrics>,
        next_seq: u64,
    ) -> Edge {
        Edge {
            inbound: ArrayQueue::new(super::INBOUND),
            engine: OnceLock::new(),
            tokens,
            limits,
            metrics,
            next_seq,
            engine_parked: AtomicBool::new(false),
            gate: AtomicUsize::new(0),
            space_wanted: AtomicBool::new(false),
            space: Notify::new(),
            engine_gone: AtomicBool::new(false),
            gone: Notify::new(),
            engine_failed: AtomicBool::new(false),
            connection_ended: Notify::new(),
            unauthenticated: AtomicUsize::new(0),
            by_address: Mutex::new(HashMap::new()),
            by_participant: ids.iter().map(|_| AtomicUsize::new(0)).collect(),
            ids,
            failure: OnceLock::new(),
            tls: None,
        }
    }

    /// Hands `command` to the engine thread, waiting (asynchronously,
    /// woken by the engine) while its queue is full: back-pressure reaches
    /// the socket. Once the gate is closed the command is dropped: the day
    /// is closing, and GOODBYE's counts tell the bank what was taken.
    async fn send(&self, mut command: Command) {
        // Left on drop: a connection's task may be cancelled (its other
        // half ended) while it waits here for room.
        let inside = Inside::enter(self);
        if inside.closed {
            return;
        }
        while let Err(back) = self.inbound.push(command) {
            command = back;
            let space = self.space.notified();
            tokio::pin!(space);
            space.as_mut().enable();
            self.space_wanted.store(true, Ordering::SeqCst);
            match self.inbound.push(command) {
                Ok(()) => break,
                Err(back) => command = back,
            }
            if self.engine_gone.load(Ordering::SeqCst) {
                break;
            }
            space.await;
        }
        if self.engine_parked.load(Ordering::SeqCst) {
            self.wake_engine();
        }
    }

    /// The last task out of a closed gate wakes the engine, which may be
    /// waiting for it to close the day.
    fn leave_gate(&self) {
        if self.gate.fetch_sub(1, Ordering::SeqCst) == CLOSED | 1 {
            self.wake_engine();
        }
    }

    fn wake_engine(&self) {
        if let Some(engine) = self.engine.get() {
            engine.unpark();
        }
    }

    /// Closes the gate (the service stops): returns at once; the engine
    /// learns it from [`Edge::closed_and_empty`].
    pub fn close_gate(&self) {
        self.gate.fetch_or(CLOSED, Ordering::SeqCst);
        self.wake_engine();
    }

    /// Whether the service is stopping (the gate is closed): a SUBMIT
    /// still on its way in is refused, shutting down.
    pub fn stopping(&self) -> bool {
        self.gate.load(Ordering::SeqCst) & CLOSED != 0
    }

    /// Whether no command can enter the queue any more.
    pub fn closed_and_empty(&self) -> bool {
        self.gate.load(Ordering::SeqCst) == CLOSED
    }

    /// Called by the engine after a turn that took commands: tasks
    /// waiting for room try again.
    pub fn room_made(&self) {
        if self.space_wanted.load(Ordering::Relaxed)
            && self.space_wanted.swap(false, Ordering::SeqCst)
        {
            self.space.notify_waiters();
        }
    }

    /// Called when the engine thread ends, whatever the reason: `closed`
    /// if it closed the day (its GOODBYEs are on their way), not if it
    /// failed.
    pub fn engine_ended(&self, closed: bool) {
        // Failed first: a waiter that sees the engine gone sees why.
        self.engine_failed.store(!closed, Ordering::SeqCst);
        self.engine_gone.store(true, Ordering::SeqCst);
        self.gate.fetch_or(CLOSED, Ordering::SeqCst);
        self.space.notify_waiters();
        self.gone.notify_waiters();
    }

    /// Returns once the engine thread has failed (never after a clean
    /// close, whose GOODBYEs end the connections).
    async fn engine_failed_wait(&self) {
        loop {
            let gone = self.gone.notified();
            tokio::pin!(gone);
            gone.as_mut().enable();
            if self.engine_failed.load(Ordering::SeqCst) {
                return;
            }
            if self.engine_gone() {
                return std::future::pending().await;
            }
            gone.await;
        }
    }

    /// Returns once no connection is open.
    pub async fn drained(&self) {
        loop {
            let ended = self.connection_ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            if self.metrics.connections.load(Ordering::SeqCst) == 0
                && self.unauthenticated.load(Ordering::SeqCst) == 0
            {
                return;
            }
            ended.await;
        }
    }

    /// Whether the engine thread has ended: nobody is welcomed any more.
    pub fn engine_gone(&self) -> bool {
        self.engine_gone.load(Ordering::SeqCst)
    }

    /// Records why the edge stopped serving (the first reason only).
    pub fn failed(&self, why: String) {
        tracing::error!(why, "the edge stopped serving");
        let _ = self.failure.set(why);
    }

    /// Why the edge stopped serving, if it did.
    pub fn failure(&self) -> Option<&str> {
        self.failure.get().map(String::as_str)
    }

    /// Connections accepted and not yet authenticated.
    pub fn unauthenticated(&self) -> usize {
        self.unauthenticated.load(Ordering::Acquire)
    }

    /// A slot for a connection from `ip` until its HELLO is done, or why
    /// there is none.
    fn admit_unauthenticated(self: &Arc<Self>, ip: IpAddr) -> Result<Pending, &'static str> {
        if self.unauthenticated.fetch_add(1, Ordering::AcqRel) >= self.limits.max_unauthenticated {
            self.unauthenticated.fetch_sub(1, Ordering::AcqRel);
            return Err("too many connections waiting to authenticate");
        }
        let mut pending = Pending {
            edge: self.clone(),
            ip: None,
        };
        let mut by_address = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        let from_ip = by_address.entry(ip).or_insert(0);
        if *from_ip >= self.limits.max_unauthenticated_per_address {
            return Err("too many connections from this address waiting to authenticate");
        }
        *from_ip += 1;
        drop(by_address);
        pending.ip = Some(ip);
        Ok(pending)
    }

    /// A slot for an authenticated connection of `participant`, or why
    /// there is none.
    fn admit_authenticated(self: &Arc<Self>, participant: u32) -> Result<Admitted, &'static str> {
        let mine = &self.by_participant[participant as usize];
        if self.metrics.connections.fetch_add(1, Ordering::AcqRel) >= self.limits.max_connections {
            self.connection_over();
            return Err("too many connections (--max-connections)");
        }
        if mine.fetch_add(1, Ordering::AcqRel) >= self.limits.max_per_participant {
            mine.fetch_sub(1, Ordering::AcqRel);
            self.connection_over();
            return Err(
                "too many connections of this participant (--max-connections-per-participant)",
            );
        }
        Ok(Admitted {
            edge: self.clone(),
            participant,
        })
    }

    fn connection_over(&self) {
        self.metrics.connections.fetch_sub(1, Ordering::SeqCst);
        self.connection_ended.notify_waiters();
    }
}

/// An unauthenticated connection's slot, given back on drop.
struct Pending {
    edge: Arc<Edge>,
    /// Counted against its address (not yet, while being admitted).
    ip: Option<IpAddr>,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(ip) = self.ip {
            let mut by_address = self
                .edge
                .by_address
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if let Some(n) = by_address.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    by_address.remove(&ip);
                }
            }
        }
        self.edge.unauthenticated.fetch_sub(1, Ordering::AcqRel);
        self.edge.connection_ended.notify_waiters();
    }
}

/// An authenticated connection's slot, given back on drop.
struct Admitted {
    edge: Arc<Edge>,
    participant: u32,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.edge.by_participant[self.participant as usize].fetch_sub(1, Ordering::AcqRel);
        self.edge.connection_over();
    }
}

/// A task inside the edge's gate, from [`Inside::enter`] to its drop.
struct Inside<'a> {
    edge: &'a Edge,
    /// The gate was closed when it came: it must not push.
    closed: bool,
}

impl<'a> Inside<'a> {
    fn enter(edge: &'a Edge) -> Inside<'a> {
        let closed = edge.gate.fetch_add(1, Ordering::SeqCst) & CLOSED != 0;
        Inside { edge, closed }
    }
}

impl Drop for Inside<'_> {
    fn drop(&mut self) {
        self.edge.leave_gate();
    }
}

/// The first wait after a failed accept, and the longest.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(5);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Accepts connections for as long as the edge runs. A failed accept is
/// transient — out of descriptors (EMFILE, ENFILE), a connection reset
/// before it was taken — so it is logged, and the edge waits a little
/// longer each time before it tries again; one bad moment never stops the
/// listener for good.
pub async fn accept(listener: TcpListener, edge: Arc<Edge>) {
    let mut backoff = ACCEPT_BACKOFF_MIN;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => {
                backoff = ACCEPT_BACKOFF_MIN;
                accepted
            }
            Err(error) => {
                edge.metrics.accept_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%error, retry_ms = backoff.as_millis() as u64, "accept failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                continue;
            }
        };
        if edge.engine_gone() {
            refuse(&stream, ErrorCode::Unavailable, "the service has stopped");
            continue;
        }
        let pending = match edge.admit_unauthenticated(peer.ip()) {
            Ok(pending) => pending,
            Err(why) => {
                tracing::warn!(%peer, why, "connection refused");
                refuse(&stream, ErrorCode::Busy, why);
                continue;
            }
        };
        tracing::debug!(%peer, "connection accepted");
        let edge = edge.clone();
        tokio::spawn(async move {
            connection(stream, &edge, pending).await;
            tracing::debug!(%peer, "connection closed");
        });
    }
}

/// Answers a connection the edge does not take with one ERROR, if its
/// socket takes it at once (a fresh socket's buffer does), and closes it:
/// no task is spent on it.
fn refuse(stream: &TcpStream, code: ErrorCode, message: &str) {
    let mut out = Vec::new();
    Notice::Error {
        code,
        message: message.into(),
    }
    .encode(&mut out);
    let _ = stream.try_write(&out);
}

/// One connection: its TLS handshake if the service has TLS, then HELLO
/// (each within the HELLO limit, on an unauthenticated slot), then, on a
/// slot of its participant's, its reader and writer side by side.
async fn connection(stream: TcpStream, edge: &Arc<Edge>, pending: Pending) {
    let _ = stream.set_nodelay(true);
    let Some(acceptor) = &edge.tls else {
        let (reader, writer) = stream.into_split();
        return hello(reader, writer, edge, pending).await;
    };
    match tokio::time::timeout(edge.limits.hello, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => {
            // The halves of one TLS session share its state: split at the
            // edge only, never near the ledger.
            let (reader, writer) = tokio::io::split(tls);
            hello(reader, writer, edge, pending).await;
        }
        Ok(Err(error)) => tracing::info!(%error, "TLS handshake failed"),
        Err(_) => tracing::info!("TLS handshake too slow"),
    }
}

/// The HELLO, then the authenticated connection.
async fn hello<R, W>(mut reader: R, mut writer: W, edge: &Arc<Edge>, pending: Pending)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut frames = FrameBuf::default();
    let hello =
        tokio::time::timeout(edge.limits.hello, read_request(&mut reader, &mut frames)).await;
    let conn = match hello {
        Ok(Ok(Some(request))) => match authenticate(edge, request) {
            Ok(conn) => Arc::new(conn),
            Err((code, message)) => {
                tracing::info!(?code, message, "HELLO refused");
                return write_error(&mut writer, code, message).await;
            }
        },
        Ok(Err(e)) => {
            tracing::info!(error = %e, "first frame refused");
            return write_error(&mut writer, e.code(), &e.to_string()).await;
        }
        Ok(Ok(None)) => return,
        Err(_) => {
            let message = format!("no HELLO within {} ms", edge.limits.hello.as_millis());
            return write_error(&mut writer, ErrorCode::Timeout, &message).await;
        }
    };
    // A WELCOME promises an engine that answers.
    if edge.engine_gone() {
        return write_error(
            &mut writer,
            ErrorCode::Unavailable,
            "the service has stopped",
        )
        .await;
    }
    let _admitted = match edge.admit_authenticated(conn.participant) {
        Ok(admitted) => admitted,
        Err(why) => {
            tracing::warn!(participant = %edge.ids[conn.participant as usize], why, "connection refused");
            return write_error(&mut writer, ErrorCode::Busy, why).await;
        }
    };
    drop(pending);
    serve_authenticated(reader, writer, frames, conn, edge).await;
}

/// An authenticated connection: WELCOME, then requests in and notices out
/// until either side ends it.
async fn serve_authenticated<R, W>(
    mut reader: R,
    mut writer: W,
    frames: FrameBuf,
    conn: Arc<Conn>,
    edge: &Edge,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    // Registered first: a credit settled after the bank learns it is in
    // reaches it (queued behind WELCOME, which is written first).
    tracing::debug!(participant = %edge.ids[conn.participant as usize], "authenticated");
    edge.send(Command::Open(conn.clone())).await;
    let mut out = Vec::new();
    Notice::Welcome {
        version: conn.version,
        participant: conn.participant,
        participants: edge.ids.len() as u32,
        next_seq: edge.next_seq,
    }
    .encode(&mut out);
    if write_now(&mut writer, &out).await.is_err() {
        edge.send(Command::Close(conn)).await;
        return;
    }
    let reader_done = AtomicBool::new(false);
    {
        let mut writing = Box::pin(write_notices(&mut writer, &conn, &reader_done, edge.limits));
        tokio::select! {
            _ = &mut writing => {}
            said_bye = read_requests(&mut reader, frames, &conn, edge) => {
                // After BYE the writer ends on GOODBYE; otherwise once
                // what is queued is written.
                if !said_bye {
                    reader_done.store(true, Ordering::Release);
                }
                conn.notify.notify_one();
                writing.await;
            }
            () = edge.engine_failed_wait() => {
                // After what the engine had sent it: its answers stopped.
                conn.push_local(Notice::Error {
                    code: ErrorCode::Unavailable,
                    message: "the service has stopped".into(),
                });
                reader_done.store(true, Ordering::Release);
                writing.await;
            }
        }
    }
    edge.send(Command::Close(conn)).await;
}

/// Writes `bytes` and flushes them onto the socket (a TLS session holds
/// written bytes until flushed; a TCP socket has nothing to flush).
async fn write_now<W: AsyncWrite + Unpin>(writer: &mut W, bytes: &[u8]) -> std::io::Result<()> {
    writer.write_all(bytes).await?;
    writer.flush().await
}

/// Writes one ERROR, best effort (a second at most): the caller then
/// closes the connection.
async fn write_error<W: AsyncWrite + Unpin>(writer: &mut W, code: ErrorCode, message: &str) {
    let mut out = Vec::new();
    Notice::Error {
        code,
        message: message.into(),
    }
    .encode(&mut out);
    let _ = tokio::time::timeout(Duration::from_secs(1), write_now(writer, &out)).await;
}

/// The connection's participant, if its HELLO is right.
fn authenticate(edge: &Edge, request: Request) -> Result<Conn, (ErrorCode, &'static str)> {
    let Request::Hello {
        version,
        participant,
        token,
    } = request
    else {
        return Err((ErrorCode::NotAuthenticated, "the first frame must be HELLO"));
    };
    if !(OLDEST_VERSION..=VERSION).contains(&version) {
        return Err((
            ErrorCode::UnsupportedVersion,
            "this service speaks versions 1 and 2",
        ));
    }
    let index = edge.ids.iter().position(|id| *id == participant);
    match index {
        Some(p) if edge.tokens.admits(p as u32, &token) => {
            Ok(Conn::new(p as u32, edge.limits.outbound, version))
        }
        // One answer for an unknown id and a wrong token.
        _ => Err((
            ErrorCode::BadCredentials,
            "unknown participant or wrong token",
        )),
    }
}

/// Reads until one whole request is in `frames`; `None` at a clean end.
async fn read_request<R: AsyncRead + Unpin>(
    reader: &mut R,
    frames: &mut FrameBuf,
) -> Result<Option<Request>, ProtocolError> {
    loop {
        if let Some(request) = frames.next(Request::decode)? {
            return Ok(Some(request));
        }
        match frames.fill(reader).await {
            Ok(0) | Err(_) => return Ok(None),
            Ok(_) => {}
        }
    }
}

/// The reader half: requests to commands until the bank says BYE (true),
/// goes, or sends a frame that is wrong (answered with ERROR).
async fn read_requests<R: AsyncRead + Unpin>(
    reader: &mut R,
    mut frames: FrameBuf,
    conn: &Arc<Conn>,
    edge: &Edge,
) -> bool {
    loop {
        // A request already read needs no timer: the idle timeout is armed
        // (a clock read and a timer entry) only to wait on the socket, not
        // for each of the many frames one read brings.
        let read = match frames.next(Request::decode) {
            Ok(Some(request)) => Ok(Ok(Some(request))),
            Ok(None) => {
                tokio::time::timeout(edge.limits.idle, read_request(reader, &mut frames)).await
            }
            Err(e) => Ok(Err(e)),
        };
        let request = match read {
            Err(_) => {
                tracing::info!(participant = conn.participant, "idle, closing");
                conn.push_local(Notice::Error {
                    code: ErrorCode::Timeout,
                    message: format!("no request for {} s", edge.limits.idle.as_secs()),
                });
                return false;
            }
            Ok(Ok(Some(request))) => request,
            Ok(Ok(None)) => return false,
            Ok(Err(e)) => {
                tracing::info!(participant = conn.participant, error = %e, "bad frame, closing");
                conn.push_local(Notice::Error {
                    code: e.code(),
                    message: e.to_string(),
                });
                return false;
            }
        };
        match request {
            Request::Submit(submit) => {
                let command = Command::Submit {
                    conn: conn.clone(),
                    submit,
                };
                edge.send(admitted(edge, conn, command)).await;
            }
            Request::Query { query_ref } => {
                edge.send(Command::Query {
                    conn: conn.clone(),
                    query_ref,
                })
                .await
            }
            Request::Bye => {
                // After every answer the engine has yet to give: it goes
                // through the engine's queue, behind them.
                edge.send(Command::Bye(conn.clone())).await;
                return true;
            }
            Request::Hello { .. } => {
                conn.push_local(Notice::Error {
                    code: ErrorCode::AlreadyAuthenticated,
                    message: "a second HELLO".into(),
                });
                return false;
            }
        }
    }
}

/// A SUBMIT's command as the edge lets it through: refused in its turn
/// (through the engine's queue, so that answers keep the order of the
/// SUBMITs) when the service is stopping or the connection has as many
/// instructions in flight as it may. Either way it is now in flight.
fn admitted(edge: &Edge, conn: &Arc<Conn>, submit: Command) -> Command {
    let Command::Submit {
        submit: Submit { client_ref, .. },
        ..
    } = submit
    else {
        return submit;
    };
    let refused = if edge.stopping() {
        Some(Reason::ShuttingDown)
    } else if conn.in_flight.load(Ordering::Acquire) >= edge.limits.max_in_flight {
        Some(Reason::TooManyInFlight)
    } else {
        None
    };
    conn.in_flight.fetch_add(1, Ordering::AcqRel);
    match refused {
        Some(reason) => Command::Refuse {
            conn: conn.clone(),
            client_ref,
            reason,
        },
        None => submit,
    }
}

/// The writer half: whatever the outbound queue holds, in order, until an
/// ERROR or GOODBYE is written, the reader is done and nothing is left, the
/// queue overflowed (a slow reader), or a write stalls or fails.
async fn write_notices<W: AsyncWrite + Unpin>(
    writer: &mut W,
    conn: &Conn,
    reader_done: &AtomicBool,
    limits: Limits,
) {
    let mut out = Vec::with_capacity(64 * 1024);
    loop {
        conn.notify.notified().await;
        let mut last = false;
        // Bounded by the queue's capacity per turn.
        for _ in 0..limits.outbound {
            let Some(notice) = conn.pop() else { break };
            last = matches!(notice, Notice::Error { .. } | Notice::Goodbye { .. });
            notice.encode(&mut out);
            if last {
                break;
            }
        }
        if conn.overflowed() && !last {
            tracing::warn!(
                participant = conn.participant,
                "slow reader: its outbound queue filled, closing"
            );
            Notice::Error {
                code: ErrorCode::SlowReader,
                message: "its notices were not read: the outbound queue filled".into(),
            }
            .encode(&mut out);
            last = true;
        }
        // A write that stalls while the queue overflows ends the
        // connection at once (no partial frame is followed by anything).
        let written = tokio::select! {
            written = tokio::time::timeout(limits.stall, write_now(writer, &out)) => written,
            () = overflow(conn) => return,
        };
        out.clear();
        if last || !matches!(written, Ok(Ok(()))) {
            return;
        }
        if reader_done.load(Ordering::Acquire) && conn.is_empty() {
            return;
        }
        // More may have come in while writing.
        if !conn.is_empty() {
            conn.notify.notify_one();
        }
    }
}

/// Returns once the engine found the connection's queue full. Bounded by
/// the connection's life: every turn waits for a push.
async fn overflow(conn: &Conn) {
    while !conn.overflowed() {
        conn.notify.notified().await;
    }
}
