//! `clearsim serve --http ADDR`: `/metrics` (Prometheus text format) and
//! `/`, a live dashboard fed by server-sent events (`/events`).
//!
//! It runs on the edge's tokio runtime and only reads the service's
//! [`Metrics`] atomics: a sampler task turns them into one [`Sample`] a
//! second (rates from the counters' differences, latency percentiles from
//! the histogram's), keeps the last ten minutes, and broadcasts each new
//! one to the dashboards connected.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use serde::Serialize;
use tokio::sync::broadcast;

use super::metrics::{Metrics, percentile_us, prometheus_text};

/// HTTP connections open at once, at most: the dashboards and scrapers
/// of the operators (a connection beyond it is closed at once).
pub const MAX_HTTP_CONNECTIONS: usize = 64;
/// How long a request's headers may take to arrive, from the connection's
/// start or the end of the request before.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// Samples kept for a dashboard that connects: ten minutes.
pub const HISTORY: usize = 600;
const DASHBOARD: &str = include_str!("dashboard.html");

/// One second of the service, as the dashboard plots it.
#[derive(Clone, Debug, Serialize)]
pub struct Sample {
    /// Seconds since the service started.
    pub t_s: u64,
    pub channel: String,
    pub accepted_per_s: f64,
    pub settled_per_s: f64,
    pub rejected_per_s: f64,
    /// Settlement latency over the second (`None`: nothing settled).
    pub latency_us_p50: Option<f64>,
    pub latency_us_p99: Option<f64>,
    pub queued: u64,
    pub queued_fen: i64,
    pub connections: usize,
}

/// What the HTTP handlers share. The history's lock is taken once a second
/// by the sampler and once per dashboard connecting: never by the engine.
struct Shared {
    metrics: Arc<Metrics>,
    history: Mutex<VecDeque<Sample>>,
    live: broadcast::Sender<Sample>,
}

/// Serves `/`, `/events` and `/metrics` on `listener` until the runtime
/// stops, or returns the error that stopped its listener. Each connection
/// holds one of [`MAX_HTTP_CONNECTIONS`] slots and must send its headers
/// within [`HEADER_TIMEOUT`]; a failed accept (out of descriptors) is
/// retried after a pause, as the bank listener's is.
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
) -> std::io::Result<()> {
    let (live, _) = broadcast::channel(64);
    let shared = Arc::new(Shared {
        metrics,
        history: Mutex::new(VecDeque::with_capacity(HISTORY)),
        live,
    });
    tokio::spawn(sample_every_second(shared.clone()));
    let app = Router::new()
        .route("/", get(|| async { Html(DASHBOARD) }))
        .route("/metrics", get(metrics_text))
        .route("/events", get(events))
        .with_state(shared);
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_HTTP_CONNECTIONS));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "HTTP accept failed; retrying");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        // Over the limit: closed unanswered (no task, no buffer).
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(
                limit = MAX_HTTP_CONNECTIONS,
                "HTTP connection refused: too many"
            );
            continue;
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let _ = connection.await;
            drop(slot);
        });
    }
}

async fn metrics_text(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        prometheus_text(&shared.metrics),
    )
}

/// The history first (one `history` event), then a `sample` event a
/// second.
async fn events(
    State(shared): State<Arc<Shared>>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let receiver = shared.live.subscribe();
    let history: Vec<Sample> = shared
        .history
        .lock()
        .map(|h| h.iter().cloned().collect())
        .unwrap_or_default();
    let first = Event::default()
        .event("history")
        .data(serde_json::to_string(&history).unwrap_or_default());
    let stream = futures_util::stream::unfold(
        (Some(first), receiver),
        |(first, mut receiver)| async move {
            if let Some(first) = first {
                return Some((Ok(first), (None, receiver)));
            }
            loop {
                match receiver.recv().await {
                    Ok(sample) => {
                        let data = serde_json::to_string(&sample).unwrap_or_default();
                        let event = Event::default().event("sample").data(data);
                        return Some((Ok(event), (None, receiver)));
                    }
                    // A slow dashboard skips samples rather than holding any.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// The counters at one instant.
#[derive(Clone, Copy, Default)]
struct Reading {
    ns: u64,
    accepted: u64,
    settled: u64,
    rejected: u64,
    latency: [u64; super::metrics::LATENCY_BOUNDS_US.len() + 1],
}

impl Reading {
    fn of(metrics: &Metrics) -> Reading {
        use std::sync::atomic::Ordering::Relaxed;
        Reading {
            ns: metrics.clock.now_ns(),
            accepted: metrics.accepted.load(Relaxed),
            settled: metrics.settled.load(Relaxed),
            rejected: metrics.rejected_total(),
            latency: metrics.latency_buckets(),
        }
    }
}

/// The sample of the interval from `before` to `now`.
fn sample(metrics: &Metrics, before: &Reading, now: &Reading) -> Sample {
    use std::sync::atomic::Ordering::Relaxed;
    let seconds = (now.ns.saturating_sub(before.ns) as f64 / 1e9).max(1e-9);
    let rate = |a: u64, b: u64| a.saturating_sub(b) as f64 / seconds;
    let latency = std::array::from_fn(|i| now.latency[i].saturating_sub(before.latency[i]));
    Sample {
        t_s: now.ns / 1_000_000_000,
        channel: metrics.channel.clone(),
        accepted_per_s: rate(now.accepted, before.accepted),
        settled_per_s: rate(now.settled, before.settled),
        rejected_per_s: rate(now.rejected, before.rejected),
        latency_us_p50: percentile_us(&latency, 0.5),
        latency_us_p99: percentile_us(&latency, 0.99),
        queued: metrics.queued.load(Relaxed),
        queued_fen: metrics.queued_fen.load(Relaxed),
        connections: metrics.connections.load(Relaxed),
    }
}

async fn sample_every_second(shared: Arc<Shared>) {
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut before = Reading::of(&shared.metrics);
    loop {
        ticks.tick().await;
        let now = Reading::of(&shared.metrics);
        if now.ns <= before.ns {
            continue;
        }
        let sample = sample(&shared.metrics, &before, &now);
        before = now;
        if let Ok(mut history) = shared.history.lock() {
            if history.len() == HISTORY {
                history.pop_front();
            }
            history.push_back(sample.clone());
        }
        // Nobody listening is fine.
        let _ = shared.live.send(sample);
    }
}
