//! The command line: parses flags, reads files, calls the library, writes
//! results. The only layer that prints or decides exit codes.

mod args;
mod bench;
mod fit;
mod live;
mod optimise;
mod plan;
mod replay;
mod run;
mod serve;
mod study;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use clearsim_core::{Blame, Blamed};

/// Exit code for any error the user can fix: bad input, bad flags, an
/// output directory that cannot be used (the same code clap uses).
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code for an internal failure: a bug, an invariant broken.
pub const EXIT_FAILURE: u8 = 1;

/// The version, and whether this build checks invariants (tests' builds do).
const VERSION: &str = if clearsim_core::INVARIANTS_CHECKED {
    concat!(env!("CARGO_PKG_VERSION"), " (invariants checked)")
} else {
    env!("CARGO_PKG_VERSION")
};

#[derive(Parser, Debug)]
#[command(
    name = "clearsim",
    version = VERSION,
    about = "Interbank same-city clearing simulator"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Replay one business day of payments through a settlement strategy.
    Replay(replay::ReplayArgs),
    /// Run a scenario config: generate its payment streams and settle them
    /// through its channels; report funds-in-transit time and liquidity.
    Run(run::RunArgs),
    /// Write one day of a scenario as replay files (participants, payments).
    Generate(run::GenerateArgs),
    /// The same stream through several strategies, side by side, in parallel.
    Compare(study::CompareArgs),
    /// The liquidity–delay trade-off: liquidity from the lower to the upper bound.
    Sweep(study::SweepArgs),
    /// Critical participants: each defaulting in turn, ranked by the value
    /// it leaves unsettled between the others (paired with the same seeds'
    /// runs without it, 95 % intervals).
    Critical(study::CriticalArgs),
    /// A scenario fitted to real payments (a replay day or days): its
    /// banks, arrival profiles, amount laws and who pays whom, with a
    /// report of each fit and the fitted scenario's synthetic days.
    Fit(fit::FitArgs),
    /// Rebuild report.md, CSV tables and report.html from a saved summary.json.
    Report(study::ReportArgs),
    /// Pool runs or compares of the same study (e.g. several seeds) into one.
    Merge(study::MergeArgs),
    /// The settlement pipeline under load in wall-clock time: gateways,
    /// engine and reporter threads over lock-free queues.
    Live(live::LiveArgs),
    /// The performance suite: replay per strategy, generation, live
    /// pipeline vs a Mutex + mpsc baseline, open-loop latency.
    Bench(bench::BenchArgs),
    /// The plan's question: funds-in-transit time, 2005 design against 2010.
    Plan(plan::PlanArgs),
    /// What the banks would choose under each design: liquidity (and
    /// policy) at equilibrium, delay, cost, and the planner's optimum.
    Optimise(optimise::OptimiseArgs),
    /// The settlement engine as a network service banks connect to (the
    /// binary protocol of docs/protocol.md).
    Serve(serve::ServeArgs),
    /// Bank gateways driving a running `serve` with a scenario's stream:
    /// throughput and latency over the network.
    Load(serve::LoadArgs),
    /// A `serve --journal` directory: export its day for replay.
    Journal(serve::JournalArgs),
}

/// A failure, classified for the exit code.
#[derive(Debug)]
pub enum Failure {
    /// Anything the user can fix — input, flags, an unusable or unwritable
    /// output directory: exit 2.
    BadInput(anyhow::Error),
    /// A bug or a broken invariant: exit 1.
    Internal(anyhow::Error),
    /// The machine failed under a run that was going well (a disk that
    /// stops taking writes): exit 1, and not called a bug.
    System(anyhow::Error),
}

/// Every library error says whose fault it is ([`Blamed`]): this is where
/// that becomes an exit code.
impl<E> From<E> for Failure
where
    E: Blamed + std::error::Error + Send + Sync + 'static,
{
    fn from(error: E) -> Failure {
        match error.blame() {
            Blame::User => Failure::BadInput(error.into()),
            Blame::Bug => Failure::Internal(error.into()),
            Blame::System => Failure::System(error.into()),
        }
    }
}

impl Failure {
    /// The same failure, its message prefixed with `context: `.
    pub fn context(self, context: &'static str) -> Failure {
        match self {
            Failure::BadInput(e) => Failure::BadInput(e.context(context)),
            Failure::Internal(e) => Failure::Internal(e.context(context)),
            Failure::System(e) => Failure::System(e.context(context)),
        }
    }
}

/// A user's mistake the command line itself finds, with its message: exit 2.
pub fn bad_input(message: impl std::fmt::Display) -> Failure {
    Failure::BadInput(anyhow::anyhow!("{message}"))
}

/// An output directory that cannot be used or written: the user's to fix
/// (another `--out`, room on the disk).
pub fn output_failure(error: clearsim_outset::OutputError, context: &str) -> Failure {
    Failure::BadInput(anyhow::anyhow!("{context}{error}"))
}

/// Logs (`tracing`) to stderr: warnings and errors only unless `RUST_LOG`
/// asks for more (`RUST_LOG=info`, `RUST_LOG=clearsim_service=debug`).
/// Results never go through the log: they are printed or written.
fn logging() {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) => EnvFilter::try_new(&spec).unwrap_or_else(|e| {
            eprintln!("warning: RUST_LOG={spec:?} is not a log filter ({e}): warnings only");
            EnvFilter::new("warn")
        }),
        Err(_) => EnvFilter::new("warn"),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}

/// An error and its causes, each said once: a cause whose text the
/// message already holds (a library error that shows its source, wrapped
/// with context that shows it again) is not repeated.
fn said_once(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let said = cause.to_string();
        if text.contains(&said) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&said);
    }
    text
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    logging();
    let result = match cli.command {
        Command::Replay(args) => replay::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Generate(args) => run::generate(&args),
        Command::Compare(args) => study::compare_command(&args),
        Command::Sweep(args) => study::sweep_command(&args),
        Command::Critical(args) => study::critical_command(&args),
        Command::Fit(args) => fit::fit_command(&args),
        Command::Report(args) => study::report_command(&args),
        Command::Merge(args) => study::merge_command(&args),
        Command::Live(args) => live::live_command(&args),
        Command::Bench(args) => bench::bench_command(&args),
        Command::Plan(args) => plan::plan_command(&args),
        Command::Optimise(args) => optimise::optimise_command(&args),
        Command::Serve(args) => serve::serve_command(&args),
        Command::Load(args) => serve::load_command(&args),
        Command::Journal(args) => serve::journal_command(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadInput(error)) => {
            eprintln!("error: {}", said_once(&error));
            ExitCode::from(EXIT_BAD_INPUT)
        }
        Err(Failure::Internal(error)) => {
            eprintln!("error: {}", said_once(&error));
            eprintln!(
                "This is a bug in clearsim {VERSION}, not a fault of your input: please report it with the command that failed."
            );
            ExitCode::from(EXIT_FAILURE)
        }
        Err(Failure::System(error)) => {
            eprintln!("error: {}", said_once(&error));
            eprintln!(
                "The machine failed under clearsim (not a bug, not your input): fix it and run again."
            );
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::said_once;

    #[test]
    fn each_cause_is_said_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let shown = anyhow::anyhow!("j/journal.bin: {io}");
        let error = anyhow::Error::new(io).context(shown.to_string());
        assert_eq!(said_once(&error), "j/journal.bin: No such file");
        let fresh = anyhow::anyhow!("disk full").context("cannot write out/a.csv");
        assert_eq!(said_once(&fresh), "cannot write out/a.csv: disk full");
    }
}
