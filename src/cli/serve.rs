//! `clearsim serve` and `clearsim load`: the engine as a network service,
//! and the banks' gateways that drive it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::anyhow;
use clap::Args;
use serde::Serialize;

use super::Failure;
use super::live::nanos;
use clearsim_service::live::Load;
use clearsim_service::net::tokens::Tokens;
use clearsim_service::net::{Limits, ServeSetup};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Scenario config (TOML): its city's accounts and its gross channel.
    config: PathBuf,
    /// Where banks connect (the binary protocol, docs/protocol.md).
    #[arg(long, default_value = "127.0.0.1:7878")]
    listen: SocketAddr,
    /// Serve `/metrics` (Prometheus text format) and a live dashboard at
    /// `/` here, e.g. 127.0.0.1:8080 (keep it on loopback unless a proxy
    /// guards it: it has no authentication).
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
    /// The participants' tokens (`ID TOKEN` lines, mode 0600).
    #[arg(long, value_name = "FILE", required_unless_present = "issue_tokens")]
    tokens: Option<PathBuf>,
    /// Write a fresh token for every participant to FILE (mode 0600) and
    /// exit. An existing FILE is refused (its tokens may be in use)
    /// unless --force is given.
    #[arg(long, value_name = "FILE")]
    issue_tokens: Option<PathBuf>,
    /// With --issue-tokens: replace an existing token file.
    #[arg(long, requires = "issue_tokens")]
    force: bool,
    /// Wall-clock interval of gridlock runs.
    #[arg(long, default_value = "1s", value_parser = super::replay::parse_duration_arg)]
    gridlock_every: u32,
    /// At most this many payments wait in the queues; further payments
    /// that cannot settle at once are rejected.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=4_000_000))]
    max_queued: u64,
    /// Of those, one sender's at most (default: a quarter of
    /// --max-queued), so that one bank cannot fill the queue for the
    /// others; its payments past it that cannot settle at once are
    /// rejected (queue full).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4_000_000))]
    max_queued_per_sender: Option<u64>,
    /// Connections open at once, at most.
    #[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    max_connections: u64,
    /// Connections one participant may have open at once.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    max_connections_per_participant: u64,
    /// Connections accepted and not yet authenticated, at most (they do
    /// not count against --max-connections).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    max_unauthenticated: u64,
    /// Of those, from one IP address.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    max_unauthenticated_per_address: u64,
    /// How long a connection may take to send its HELLO (at most 1 min).
    #[arg(long, default_value = "2s", value_parser = parse_hello_timeout)]
    hello_timeout: Duration,
    /// How long an authenticated connection may send nothing before it is
    /// closed (at most 24h; a bank that only listens sends QUERY now and
    /// then).
    #[arg(long, default_value = "300s", value_parser = parse_service_duration)]
    idle_timeout: Duration,
    /// SUBMITs one connection may have awaiting an answer.
    #[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_in_flight: u32,
    /// Stop after this long (e.g. 30s; at most 24h); without it, at
    /// Ctrl-C or SIGTERM.
    #[arg(long, value_parser = parse_service_duration)]
    duration: Option<Duration>,
    /// Override the config's seed (it sets the calibrated accounts).
    #[arg(long)]
    seed: Option<u64>,
    /// Serve the bank protocol over TLS with this certificate chain (PEM);
    /// needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM, PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Listen on --listen and --http even when they are not loopback
    /// addresses (a warning is printed: the protocol and HTTP are in
    /// clear).
    #[arg(long)]
    allow_remote: bool,
    /// Journal every accepted instruction here (durable before ACCEPTED is
    /// sent); a journal already there is recovered: the day resumes.
    #[arg(long, value_name = "DIR")]
    journal: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct JournalArgs {
    #[command(subcommand)]
    action: JournalAction,
}

#[derive(clap::Subcommand, Debug)]
enum JournalAction {
    /// Write a journal's day in the replay format: `replay` of it gives
    /// the settlements the service reported.
    Export {
        /// The journal's directory (`serve --journal DIR`).
        dir: PathBuf,
        /// payments.csv to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// participants.csv to write (default: beside --out).
        #[arg(long, value_name = "FILE")]
        participants: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct LoadArgs {
    /// The scenario config the service runs: its stream is what the
    /// gateways send.
    config: PathBuf,
    /// The service's address.
    #[arg(long, default_value = "127.0.0.1:7878")]
    connect: SocketAddr,
    /// The participants' tokens (the file `serve --issue-tokens` wrote).
    #[arg(long, value_name = "FILE")]
    tokens: PathBuf,
    /// Gateway connections (spread over the banks that send; at most
    /// 10,000). Default: one per sending bank.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    connections: Option<u64>,
    /// Offered load: `max` (closed loop) or payments per second over all
    /// connections (open loop).
    #[arg(long, default_value = "max", value_parser = super::live::parse_rate)]
    rate: Load,
    /// Closed loop: SUBMITs each connection keeps awaiting an answer (1 to
    /// 4,096, the service's default --max-in-flight).
    #[arg(long, default_value_t = clearsim_service::net::load::WINDOW,
          value_parser = clap::value_parser!(u64).range(1..=clearsim_service::net::load::MAX_WINDOW))]
    window: u64,
    /// How long the gateways send (at most 1h).
    #[arg(long, default_value = "10s", value_parser = super::live::parse_run_duration)]
    duration: Duration,
    /// Also write load.json here (created).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Connect over TLS, trusting the CA certificate(s) in FILE (PEM); the
    /// service's certificate must name the --connect address's IP.
    #[arg(long, value_name = "FILE")]
    tls_ca: Option<PathBuf>,
    #[arg(long)]
    seed: Option<u64>,
}

fn parse_hello_timeout(text: &str) -> Result<Duration, String> {
    let duration = parse_service_duration(text)?;
    if duration > Duration::from_secs(60) || duration.is_zero() {
        return Err(format!("{text}: between 1 ms and 60 s"));
    }
    Ok(duration)
}

fn parse_service_duration(text: &str) -> Result<Duration, String> {
    let ms = super::replay::parse_duration_arg(text)?;
    Ok(Duration::from_millis(u64::from(ms)))
}

/// A runtime for the CLI's own waiting (the service's edge has its own).
fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Internal(anyhow!("cannot start the async runtime: {e}")))
}

impl ServeArgs {
    /// The edge's limits as the flags set them.
    fn limits(&self) -> Limits {
        Limits {
            max_connections: self.max_connections as usize,
            max_per_participant: self.max_connections_per_participant as usize,
            max_unauthenticated: self.max_unauthenticated as usize,
            max_unauthenticated_per_address: self.max_unauthenticated_per_address as usize,
            max_in_flight: self.max_in_flight,
            hello: self.hello_timeout,
            idle: self.idle_timeout,
            ..Limits::default()
        }
    }
}

/// The service the flags describe, its addresses checked.
fn setup_of(
    args: &ServeArgs,
    scenario: &clearsim_model::config::Scenario,
    tokens_path: &std::path::Path,
) -> Result<ServeSetup, Failure> {
    check_addresses(args)?;
    let mut setup = ServeSetup::of_scenario(
        scenario,
        args.limits(),
        args.gridlock_every,
        args.max_queued as usize,
    )?;
    if let Some(share) = args.max_queued_per_sender {
        if share > args.max_queued {
            return Err(super::bad_input(format!(
                "--max-queued-per-sender {share}: more than --max-queued {}",
                args.max_queued
            )));
        }
        setup.max_queued_per_sender = share as usize;
    }
    setup.tokens = Tokens::load(tokens_path, &setup.ids)?;
    setup.journal = args.journal.clone();
    setup.http = args.http;
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        setup.tls = Some(clearsim_service::net::tls::server_config(cert, key)?);
    }
    Ok(setup)
}

/// Listening beyond this machine is a choice made twice: tokens cross the
/// network in clear, and HTTP has no authentication.
fn check_addresses(args: &ServeArgs) -> Result<(), Failure> {
    let listening = [("--listen", Some(args.listen)), ("--http", args.http)];
    for (flag, address) in listening {
        let Some(address) = address else { continue };
        if address.ip().is_loopback() || (flag == "--listen" && args.tls_cert.is_some()) {
            continue;
        }
        if !args.allow_remote {
            return Err(super::bad_input(format!(
                "{flag} {address}: not a loopback address; banks' tokens would cross the network in clear{} (give --allow-remote to serve beyond this machine, behind a TLS-terminating proxy)",
                if flag == "--http" {
                    " and anyone could read the metrics"
                } else {
                    ""
                }
            )));
        }
        eprintln!(
            "warning: {flag} {address} serves beyond this machine without TLS: put a TLS-terminating proxy and a firewall in front of it"
        );
    }
    Ok(())
}

/// What the service started with: its dashboard and journal.
fn print_started(args: &ServeArgs, server: &clearsim_service::net::Server) {
    if let Some(cert) = &args.tls_cert {
        println!("  TLS: certificate {}", cert.display());
    }
    if let Some(http) = server.http_address {
        println!("  dashboard: http://{http}/   metrics: http://{http}/metrics");
    }
    let Some(dir) = &args.journal else { return };
    println!(
        "  journal {}: {} instructions recovered{}",
        dir.display(),
        clearsim_core::format::grouped(i128::from(server.next_seq)),
        match &server.cut {
            None => String::new(),
            Some(cut) => format!(
                "; a torn tail of {} bytes ({} whole records, never acknowledged) cut off and kept in {}",
                cut.bytes,
                cut.whole_records,
                cut.kept.display()
            ),
        }
    );
    if server.day_closed {
        println!(
            "  its day is closed (the service stopped cleanly): every SUBMIT is refused; start a new journal for a new day"
        );
    }
}

pub fn serve_command(args: &ServeArgs) -> Result<(), Failure> {
    let config = super::args::load(&args.config, args.seed, None, None)?;
    let scenario = &config.scenario;
    if let Some(path) = &args.issue_tokens {
        if !args.force && std::fs::symlink_metadata(path).is_ok() {
            return Err(super::bad_input(format!(
                "--issue-tokens {}: exists; its tokens may be in use by the banks (--force replaces them)",
                path.display()
            )));
        }
        return issue_tokens(scenario, path);
    }
    let Some(tokens_path) = &args.tokens else {
        return Err(super::bad_input(
            "--tokens FILE is needed (or --issue-tokens FILE)",
        ));
    };
    let setup = setup_of(args, scenario, tokens_path)?;
    let participants = setup.ids.len();
    let spec = setup.spec.name();
    let server = clearsim_service::net::spawn(setup, args.listen)?;
    println!(
        "clearsim serve: {} — {} over {} participants, listening on {} (Ctrl-C stops)",
        scenario.name, spec, participants, server.address
    );
    print_what_settles(scenario);
    print_started(args, &server);
    runtime()?.block_on(wait_for_stop(args.duration, &server));
    // Whatever fails now (the journal's disk, say) failed while serving.
    let served = server
        .stop()
        .map_err(|e| Failure::from(e).context("the service failed"))?;
    println!(
        "  instructions: {} accepted, {} rejected; {} settled, {} still queued",
        clearsim_core::format::grouped(i128::from(served.accepted)),
        clearsim_core::format::grouped(i128::from(served.rejected)),
        clearsim_core::format::grouped(i128::from(served.settled)),
        clearsim_core::format::grouped(i128::from(served.queued)),
    );
    println!("  money conserved: Σ balances {} fen", served.total_fen);
    Ok(())
}

pub fn journal_command(args: &JournalArgs) -> Result<(), Failure> {
    let JournalAction::Export {
        dir,
        out,
        participants,
    } = &args.action;
    let participants = participants
        .clone()
        .unwrap_or_else(|| out.with_file_name("participants.csv"));
    super::args::refuse_outputs_over_inputs(
        &[("--out", out), ("--participants", &participants)],
        &[("journal", dir)],
    )?;
    let contents = clearsim_service::net::journal::read(dir)?;
    // A replay needs a payment (an empty payments.csv is refused there):
    // an export it would refuse is not written.
    if contents.records.is_empty() {
        return Err(super::bad_input(format!(
            "{}: holds no instructions: there is no day to replay",
            dir.join(clearsim_service::net::journal::FILE).display()
        )));
    }
    let (participants_csv, payments_csv) = contents.replay_files();
    for (path, bytes) in [(&participants, participants_csv), (out, payments_csv)] {
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        parent
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| clearsim_outset::write_file_whole(path, &bytes, 0o644))
            .map_err(|e| Failure::BadInput(anyhow!("cannot write {}: {e}", path.display())))?;
    }
    println!(
        "clearsim journal: {} instructions{} → {} and {}",
        clearsim_core::format::grouped(contents.records.len() as i128),
        if contents.day_closed {
            " (the day closed)"
        } else {
            " (the day still open)"
        },
        out.display(),
        participants.display()
    );
    if contents.valid_bytes < contents.file_bytes {
        println!(
            "  a torn tail of {} bytes after the last good frame was left out",
            contents.file_bytes - contents.valid_bytes
        );
    }
    println!(
        "  replay: clearsim replay --participants {} --payments {} {} --out DIR",
        participants.display(),
        out.display(),
        contents.header.replay_flags.join(" ")
    );
    Ok(())
}

/// Until Ctrl-C, SIGTERM or the duration, or the engine thread ends on
/// its own (a failure, reported by the stop).
async fn wait_for_stop(duration: Option<Duration>, server: &clearsim_service::net::Server) {
    let limit = duration.unwrap_or(Duration::from_secs(24 * 3600));
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    let failed = server.ended();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
        () = tokio::time::sleep(limit) => {}
        () = failed => {}
    }
}

/// The figures of a load run as written to load.json (the shape of
/// live.json, with both latencies).
#[derive(Serialize)]
struct LoadFigures {
    load: String,
    connections: usize,
    elapsed_s: f64,
    sent: u64,
    accepted: u64,
    rejected: u64,
    settled: u64,
    throughput_per_s: f64,
    accepted_latency_ns_p50: u64,
    accepted_latency_ns_p99: u64,
    accepted_latency_ns_p999: u64,
    accepted_latency_ns_max: u64,
    settled_latency_ns_p50: u64,
    settled_latency_ns_p99: u64,
    settled_latency_ns_p999: u64,
    settled_latency_ns_max: u64,
}

pub fn load_command(args: &LoadArgs) -> Result<(), Failure> {
    let set = match &args.out {
        Some(out) => Some(super::args::output_set(out)?),
        None => None,
    };
    let config = super::args::load(&args.config, args.seed, None, None)?;
    let scenario = &config.scenario;
    let city = clearsim_model::workload::city::build_city(scenario);
    let tokens = Tokens::load(&args.tokens, &city.ids)?;
    let senders = clearsim_service::net::load::payments_of(scenario, &city, config.seed);
    let sending = senders.iter().filter(|p| !p.is_empty()).count();
    let setup = clearsim_service::net::load::LoadSetup {
        address: args.connect,
        ids: city.ids.clone(),
        tokens,
        connections: args.connections.map_or(sending, |n| n as usize),
        load: args.rate,
        window: args.window,
        duration: args.duration,
        payments: senders,
        tls: match &args.tls_ca {
            Some(ca) => Some(clearsim_service::net::tls::client_config(ca)?),
            None => None,
        },
    };
    let report = runtime()?
        .block_on(clearsim_service::net::load::run(&setup))
        .map_err(|e| load_failure(e, &args.connect))?;
    let figures = figures_of(&report, args.rate);
    print_load(&scenario.name, &args.connect, &figures);
    if let Some(set) = set {
        let json = serde_json::to_vec_pretty(&figures)
            .map_err(|e| Failure::Internal(anyhow!("cannot encode load.json: {e}")))?;
        set.write("load.json", &json)
            .and_then(|()| set.commit())
            .map_err(|e| super::output_failure(e, "cannot write load.json: "))?;
    }
    Ok(())
}

/// No service there, or one that refuses the tokens: the user's to fix.
fn load_failure(error: clearsim_service::net::load::LoadError, address: &SocketAddr) -> Failure {
    use clearsim_service::client::ClientError;
    use clearsim_service::net::load::LoadError;
    match error {
        LoadError::Client(ClientError::Io(e)) | LoadError::Io(e) => {
            Failure::BadInput(anyhow!("cannot reach the service at {address}: {e}"))
        }
        other => Failure::from(other),
    }
}

fn figures_of(report: &clearsim_service::net::load::LoadReport, load: Load) -> LoadFigures {
    let a = |q: f64| report.accepted_ns.value_at_quantile(q);
    let s = |q: f64| report.settled_ns.value_at_quantile(q);
    LoadFigures {
        load: match load {
            Load::ClosedLoop => "closed loop".into(),
            Load::OpenLoop { rate_per_s } => format!("open loop, {rate_per_s}/s"),
        },
        connections: report.connections,
        elapsed_s: report.elapsed.as_secs_f64(),
        sent: report.sent,
        accepted: report.accepted,
        rejected: report.rejected,
        settled: report.settled,
        throughput_per_s: report.sent as f64 / report.elapsed.as_secs_f64().max(1e-9),
        accepted_latency_ns_p50: a(0.5),
        accepted_latency_ns_p99: a(0.99),
        accepted_latency_ns_p999: a(0.999),
        accepted_latency_ns_max: report.accepted_ns.max(),
        settled_latency_ns_p50: s(0.5),
        settled_latency_ns_p99: s(0.99),
        settled_latency_ns_p999: s(0.999),
        settled_latency_ns_max: report.settled_ns.max(),
    }
}

fn print_load(name: &str, address: &SocketAddr, f: &LoadFigures) {
    let n = |x: u64| clearsim_core::format::grouped(i128::from(x));
    println!(
        "clearsim load: {name} → {address} — {}, {} connection(s), {:.2} s",
        f.load, f.connections, f.elapsed_s
    );
    println!(
        "  instructions: {} sent = {} accepted + {} rejected (the service's counts agree); {} settled",
        n(f.sent),
        n(f.accepted),
        n(f.rejected),
        n(f.settled)
    );
    println!(
        "  throughput:   {}",
        clearsim_core::format::per_second(f.throughput_per_s)
    );
    println!(
        "  submit → ACCEPTED: p50 {}  p99 {}  p99.9 {}  max {}",
        nanos(f.accepted_latency_ns_p50),
        nanos(f.accepted_latency_ns_p99),
        nanos(f.accepted_latency_ns_p999),
        nanos(f.accepted_latency_ns_max)
    );
    println!(
        "  submit → SETTLED:  p50 {}  p99 {}  p99.9 {}  max {}",
        nanos(f.settled_latency_ns_p50),
        nanos(f.settled_latency_ns_p99),
        nanos(f.settled_latency_ns_p999),
        nanos(f.settled_latency_ns_max)
    );
}

/// The service settles every SUBMIT through one gross channel, whatever
/// the scenario routes where: says so, and which netting it does not run.
fn print_what_settles(scenario: &clearsim_model::config::Scenario) {
    let netted: Vec<String> = scenario
        .channels
        .iter()
        .filter(|c| !c.spec.is_gross())
        .map(|c| c.name.clone())
        .collect();
    println!(
        "  every instrument settles gross here ({}){}",
        scenario
            .instruments
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        if netted.is_empty() {
            String::new()
        } else {
            format!(
                "; the scenario's netting channels ({}) are not run by the service",
                netted.join(", ")
            )
        }
    );
}

/// `--issue-tokens FILE`: a token per participant, written 0600.
fn issue_tokens(
    scenario: &clearsim_model::config::Scenario,
    path: &std::path::Path,
) -> Result<(), Failure> {
    let ids = clearsim_model::workload::city::build_city(scenario).ids;
    Tokens::issue(path, &ids)?;
    println!(
        "clearsim serve: {} tokens written to {} (mode 0600)",
        ids.len(),
        path.display()
    );
    Ok(())
}
