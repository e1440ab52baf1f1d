//! `clearsim load`: banks' gateways driving a running `clearsim serve` over
//! the network with a scenario's stream.
//!
//! One connection per gateway (`connections`, spread over the banks that
//! send in the stream, round robin). Each sends its banks' payments of the
//! scenario's first day, in order, again and again until the duration
//! ends: closed loop (at most `window` awaiting an answer), or open loop
//! (its share of the rate, evenly spaced, latency measured from the
//! intended send time so that queueing cannot hide). Latencies: submit →
//! ACCEPTED and submit → SETTLED, in HDR histograms. At the end each
//! connection says BYE, and the service's GOODBYE counts must equal what
//! the connection saw: every instruction is accounted for.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::client::{Client, ClientError, ClientWriter};

use super::protocol::{Notice, Request, Submit, VERSION};
use super::tokens::Tokens;
use crate::live::Load;

/// Instructions a closed-loop connection keeps awaiting an answer, by
/// default, and at most (the service's default `--max-in-flight`: beyond
/// it a connection's SUBMITs are refused, REJECTED 5).
pub const WINDOW: u64 = 512;
pub const MAX_WINDOW: u64 = 4096;
/// Limits on what a user may ask.
pub const MAX_CONNECTIONS: usize = 10_000;

/// What `load` is asked.
pub struct LoadSetup {
    pub address: SocketAddr,
    pub ids: Vec<String>,
    pub tokens: Tokens,
    pub connections: usize,
    pub load: Load,
    /// Closed loop: instructions each connection keeps awaiting an answer
    /// (1 to [`MAX_WINDOW`]).
    pub window: u64,
    pub duration: Duration,
    /// Per participant, its payments of the day: (receiver, amount, priority).
    pub payments: Vec<Vec<(u32, i64, u8)>>,
    /// TLS to the service (`--tls-ca`), if it serves TLS.
    pub tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

/// What a load run measured.
#[derive(Debug)]
pub struct LoadReport {
    pub connections: usize,
    pub elapsed: Duration,
    pub sent: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub settled: u64,
    pub accepted_ns: Histogram<u64>,
    pub settled_ns: Histogram<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}")]
    Client(#[from] ClientError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("no participant of the scenario has a token and payments to send")]
    NobodyToSend,
    #[error(
        "connection of {id}: the service counted {server_accepted} accepted and {server_rejected} rejected, the connection saw {accepted} and {rejected}"
    )]
    Unaccounted {
        id: String,
        server_accepted: u64,
        server_rejected: u64,
        accepted: u64,
        rejected: u64,
    },
    #[error("the service closed the connection of {0} before GOODBYE")]
    Closed(String),
}

/// One connection's share of the work and its tallies.
struct Gateway {
    participant: u32,
    /// Payments per second for this connection (open loop).
    rate_per_s: Option<f64>,
    /// Closed loop: instructions kept awaiting an answer.
    window: u64,
}

#[derive(Default)]
struct Tally {
    sent: u64,
    accepted: u64,
    rejected: u64,
    settled: u64,
}

/// Connections authenticating at once (well below the service's default
/// limit per address, 64).
const CONNECTING: usize = 8;

/// Runs the load (the caller's tokio runtime).
pub async fn run(setup: &LoadSetup) -> Result<LoadReport, LoadError> {
    let senders: Vec<u32> = (0..setup.ids.len() as u32)
        .filter(|&p| setup.tokens.of(p).is_some() && !setup.payments[p as usize].is_empty())
        .collect();
    if senders.is_empty() {
        return Err(LoadError::NobodyToSend);
    }
    let connections = setup.connections.clamp(1, MAX_CONNECTIONS);
    let gateways: Vec<Gateway> = (0..connections)
        .map(|k| Gateway {
            participant: senders[k % senders.len()],
            rate_per_s: match setup.load {
                Load::ClosedLoop => None,
                Load::OpenLoop { rate_per_s } => Some(rate_per_s as f64 / connections as f64),
            },
            window: setup.window.clamp(1, MAX_WINDOW),
        })
        .collect();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    // A few HELLOs at a time: the service takes only so many connections
    // from one address before they authenticate.
    let connecting = std::sync::Arc::new(tokio::sync::Semaphore::new(CONNECTING));
    for gateway in gateways {
        let id = setup.ids[gateway.participant as usize].clone();
        let token = setup
            .tokens
            .of(gateway.participant)
            .unwrap_or_default()
            .to_vec();
        let payments = setup.payments[gateway.participant as usize].clone();
        let (address, duration) = (setup.address, setup.duration);
        let connecting = connecting.clone();
        let tls = setup.tls.clone();
        tasks.spawn(async move {
            let permit = connecting.acquire_owned().await;
            let client = Client::connect_with(address, &id, &token, tls.as_ref(), VERSION).await?;
            drop(permit);
            drive(client, &id, &payments, &gateway, duration).await
        });
    }
    let mut report = LoadReport {
        connections,
        elapsed: Duration::ZERO,
        sent: 0,
        accepted: 0,
        rejected: 0,
        settled: 0,
        accepted_ns: crate::live::new_latency_histogram(),
        settled_ns: crate::live::new_latency_histogram(),
    };
    while let Some(joined) = tasks.join_next().await {
        let (tally, accepted_ns, settled_ns) = joined.map_err(std::io::Error::other)??;
        report.sent += tally.sent;
        report.accepted += tally.accepted;
        report.rejected += tally.rejected;
        report.settled += tally.settled;
        let _ = report.accepted_ns.add(&accepted_ns);
        let _ = report.settled_ns.add(&settled_ns);
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

type Measured = (Tally, Histogram<u64>, Histogram<u64>);

/// One connection's state while it runs.
struct Connection<'a> {
    payments: &'a [(u32, i64, u8)],
    rate_per_s: Option<f64>,
    window: u64,
    duration: Duration,
    start: Instant,
    /// Send (or intended send) times by client reference, ns since
    /// `start`, until the payment settles or is refused.
    sent_ns: hashbrown::HashMap<u64, u64, foldhash::fast::FixedState>,
    tally: Tally,
    accepted_ns: Histogram<u64>,
    settled_ns: Histogram<u64>,
}

impl Connection<'_> {
    fn elapsed_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// When the open loop means to send payment `k`.
    fn intended(&self, k: u64) -> Option<Duration> {
        self.rate_per_s
            .map(|rate| Duration::from_secs_f64(k as f64 / rate))
    }

    /// Queues what may go now: every payment due by now (open loop), or
    /// up to the window (closed loop).
    fn queue_due(&mut self, writer: &mut ClientWriter) {
        // One clock read: they leave together, in one write.
        let now = self.start.elapsed();
        // Bounded: the window, or the payments due by now.
        loop {
            let k = self.tally.sent;
            let stamp_ns = match self.intended(k) {
                Some(at) if at >= self.duration || at > now => return,
                Some(at) => at.as_nanos() as u64,
                None if k - (self.tally.accepted + self.tally.rejected) >= self.window => return,
                None => now.as_nanos() as u64,
            };
            let (receiver, amount_fen, priority) =
                self.payments[(k % self.payments.len() as u64) as usize];
            self.sent_ns.insert(k, stamp_ns);
            writer.queue(&Request::Submit(Submit {
                client_ref: k,
                receiver,
                amount_fen,
                priority,
                instrument: 0,
            }));
            self.tally.sent += 1;
        }
    }

    /// Tallies one notice; the service's GOODBYE counts when it ends.
    /// `now_ns`: when the read that brought it ended (one clock read
    /// for all the notices of a read).
    fn heard(&mut self, notice: Notice, now_ns: u64) -> Result<Option<(u64, u64)>, LoadError> {
        match notice {
            Notice::Accepted { client_ref, .. } => {
                self.tally.accepted += 1;
                if let Some(&sent) = self.sent_ns.get(&client_ref) {
                    let _ = self.accepted_ns.record(now_ns.saturating_sub(sent).max(1));
                }
            }
            Notice::Rejected { client_ref, .. } => {
                self.tally.rejected += 1;
                self.sent_ns.remove(&client_ref);
            }
            Notice::Settled { client_ref, .. } => {
                self.tally.settled += 1;
                if let Some(sent) = self.sent_ns.remove(&client_ref) {
                    let _ = self.settled_ns.record(now_ns.saturating_sub(sent).max(1));
                }
            }
            // Version 2: accepted and settled on arrival, one notice.
            Notice::AcceptedSettled { client_ref, .. } => {
                self.tally.accepted += 1;
                self.tally.settled += 1;
                if let Some(sent) = self.sent_ns.remove(&client_ref) {
                    let waited_ns = now_ns.saturating_sub(sent).max(1);
                    let _ = self.accepted_ns.record(waited_ns);
                    let _ = self.settled_ns.record(waited_ns);
                }
            }
            Notice::Goodbye { accepted, rejected } => return Ok(Some((accepted, rejected))),
            Notice::Error { code, message } => {
                return Err(ClientError::Refused { code, message }.into());
            }
            Notice::Credit { .. } | Notice::Balance { .. } | Notice::Welcome { .. } => {}
        }
        Ok(None)
    }
}

/// One connection: sends what is due, reads what comes, until the
/// duration ends; then BYE, and GOODBYE's counts checked against its own.
async fn drive(
    client: Client,
    id: &str,
    payments: &[(u32, i64, u8)],
    gateway: &Gateway,
    duration: Duration,
) -> Result<Measured, LoadError> {
    let Client {
        mut writer,
        mut reader,
        ..
    } = client;
    let mut c = Connection {
        payments,
        rate_per_s: gateway.rate_per_s,
        window: gateway.window,
        duration,
        start: Instant::now(),
        sent_ns: Default::default(),
        tally: Tally::default(),
        accepted_ns: crate::live::new_latency_histogram(),
        settled_ns: crate::live::new_latency_histogram(),
    };
    let mut bye = false;
    // Bounded: sending stops at the duration, and the service answers BYE
    // (or closes) behind every answer it owes. Each turn takes every
    // notice already received, then sends what is due in one write.
    let goodbye = 'run: loop {
        let now_ns = c.elapsed_ns();
        while let Some(notice) = reader.try_next()? {
            if let Some(counts) = c.heard(notice, now_ns)? {
                break 'run counts;
            }
        }
        if !bye {
            if c.start.elapsed() >= duration {
                writer.queue(&Request::Bye);
                bye = true;
            } else {
                c.queue_due(&mut writer);
            }
            if writer.queued_bytes() > 0 {
                writer.flush().await?;
            }
        }
        let wake = match c.intended(c.tally.sent) {
            Some(at) if !bye => at.min(duration),
            _ if !bye => duration,
            _ => duration + Duration::from_secs(60),
        };
        let wake = tokio::time::Instant::from_std(c.start + wake);
        tokio::select! {
            more = reader.fill() => if !more? {
                return Err(LoadError::Closed(id.to_string()));
            },
            () = tokio::time::sleep_until(wake) => {
                if bye {
                    return Err(LoadError::Closed(id.to_string()));
                }
            }
        }
    };
    let t = &c.tally;
    if goodbye != (t.accepted, t.rejected) || t.accepted + t.rejected != t.sent {
        return Err(LoadError::Unaccounted {
            id: id.to_string(),
            server_accepted: goodbye.0,
            server_rejected: goodbye.1,
            accepted: t.accepted,
            rejected: t.rejected,
        });
    }
    Ok((c.tally, c.accepted_ns, c.settled_ns))
}

/// Each participant's payments of the scenario's first day under `seed`,
/// in order.
pub fn payments_of(
    scenario: &clearsim_model::config::Scenario,
    city: &clearsim_model::workload::city::City,
    seed: u64,
) -> Vec<Vec<(u32, i64, u8)>> {
    let model = clearsim_model::run::stream_model(scenario, city);
    let mut by_sender = vec![Vec::new(); city.len()];
    for g in model.day(seed, 0, 1.0) {
        by_sender[g.sender as usize].push((g.receiver, g.amount_fen, g.priority));
    }
    by_sender
}

impl clearsim_core::Blamed for LoadError {
    fn blame(&self) -> clearsim_core::Blame {
        match self {
            LoadError::Client(e) => e.blame(),
            LoadError::Io(_) | LoadError::NobodyToSend => clearsim_core::Blame::User,
            LoadError::Unaccounted { .. } | LoadError::Closed(_) => clearsim_core::Blame::Bug,
        }
    }
}
