//! `clearsim replay`: one day, one strategy, to the contract.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use super::Failure;
use clearsim_core::format::{grouped, millis, yuan};
use clearsim_core::strategy::{Unwind, options};
use clearsim_core::time::{SimTime, parse_duration_ms};
use clearsim_jobs::replay::{self, Settlement};
use clearsim_model::input::Day;
use clearsim_model::input::Input;
use clearsim_report as report;

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// participants.csv: id,name,category,opening_balance,credit_limit
    #[arg(long, value_name = "P.csv")]
    participants: PathBuf,
    /// payments.csv: id,submit,sender,receiver,amount[,priority][,instrument]
    #[arg(long, value_name = "X.csv")]
    payments: PathBuf,
    /// Directory for settlements.csv/.parquet, balances.csv/.parquet and
    /// summary.json (replaced as a whole; it must be new, empty or a
    /// clearsim output directory).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Settlement strategy: rtgs, rtgs+bypass, rtgs+offset, rtgs+limits,
    /// chips, dns or bilateral (default rtgs). Not with --channels.
    #[arg(long, value_name = "NAME")]
    strategy: Option<String>,
    /// Gross strategies: run gridlock resolution at every multiple of this
    /// interval (e.g. 1500ms, 90s, 5m, 1h) and at day end; chips: the
    /// offsetting-set runs (default 5m; the day-end run is the final
    /// settlement).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    gridlock_every: Option<u32>,
    /// dns and bilateral: netting cycle times, e.g. 10:00,15:30 or `hourly`
    /// (default: one cycle at day end).
    #[arg(long, value_name = "HH:MM,...")]
    cycles: Option<String>,
    /// dns only: how a cycle unwinds when a participant cannot cover its
    /// net debit: participant (default) or latest.
    #[arg(long, value_name = "HOW", value_parser = options::parse_unwind)]
    unwind: Option<Unwind>,
    /// dns only: a settlement guarantee fund that covers short
    /// participants' net debits before any unwinding, with its unit (e.g.
    /// 5e7yuan, 100000fen; see docs/strategies.md).
    #[arg(long, value_name = "AMOUNT", value_parser = clearsim_core::money::parse_amount_fen)]
    guarantee_fund: Option<i64>,
    /// chips only: the maximum position, in % of the opening balance
    /// (default 200; at least 100 so that the opening balance fits).
    #[arg(long, value_name = "PCT")]
    max_position_pct: Option<u32>,
    /// rtgs+limits only: a TOML file of [[limit]] entries, as in a scenario
    /// (docs/config.md).
    #[arg(long, value_name = "FILE")]
    limits: Option<PathBuf>,
    /// Route each payment by its `instrument` column through the channels
    /// of this scenario config (several clearing systems on the same
    /// accounts); the config's day end applies unless --day-end is given.
    #[arg(long, value_name = "CONFIG", conflicts_with_all = ["strategy", "gridlock_every", "cycles", "unwind", "guarantee_fund", "max_position_pct", "limits"])]
    channels: Option<PathBuf>,
    /// End of the business day, HH:MM[:SS] (default 17:00, or the config's).
    #[arg(long, value_name = "HH:MM", value_parser = parse_time_arg)]
    day_end: Option<SimTime>,
    /// A payments file with a `date` column (several business days):
    /// openings.csv (`date,id,opening_balance,credit_limit`) giving the
    /// openings and limits of the participants it names on the dates it
    /// lists.
    #[arg(long, value_name = "FILE")]
    openings: Option<PathBuf>,
    /// Also replay the day with participant B merged into A (one account,
    /// the two's openings and credit limits summed; payments between them
    /// internalised) and write merger.csv / merger.md / merger.html: the
    /// liquidity needed, the delay and the internalised flows, beside the
    /// day as it settled; of a file of several days, day by day (with
    /// --carry-balances or alone).
    #[arg(long, value_name = "A,B")]
    merge: Option<String>,
    /// Also each city participant defaulting in turn at --critical-at,
    /// against the day as it settled: critical.csv / critical.md /
    /// critical.html rank them by the knock-on (value left unsettled
    /// between the others); of a file of several days, per day, with the
    /// mean and 95 % interval over the days.
    #[arg(long)]
    critical: bool,
    /// When each participant defaults with --critical, HH:MM (default
    /// 00:00: the whole day).
    #[arg(long, value_name = "HH:MM", default_value = "00:00", value_parser = parse_time_arg, requires = "critical")]
    critical_at: SimTime,
    /// A payments file with a `date` column: each day after the first opens
    /// with the previous day's closing balances (`--openings` still wins
    /// for what it lists).
    #[arg(long)]
    carry_balances: bool,
    /// A payments file with a `date` column: payments unsettled at a day's
    /// end stay queued into the next day (at 00:00, before its own), their
    /// delay running across the night, instead of being rejected.
    #[arg(long)]
    carry_queue: bool,
    /// Also write the day's payment network (of a file of several days,
    /// all its days together): network.csv (per bank: degrees, strengths,
    /// centrality, k-core), flows.csv (bilateral flows) and network.md /
    /// network.html (figures, the most central banks, the flow matrix as
    /// a heatmap).
    #[arg(long)]
    network: bool,
    /// Print nothing on success.
    #[arg(long, short)]
    quiet: bool,
    /// The per-payment and per-participant files: csv, parquet or both.
    /// CSV alone is the fastest (Parquet's writer costs about 0.4× the
    /// rest of the command on 1 M rows, docs/PERFORMANCE.md).
    #[arg(long, value_enum, default_value_t = Format::Both)]
    format: Format,
}

/// Which formats `replay` writes its tables in.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
    Both,
}

impl Format {
    fn csv(self) -> bool {
        self != Format::Parquet
    }

    fn parquet(self) -> bool {
        self != Format::Csv
    }
}

pub(super) fn parse_duration_arg(text: &str) -> Result<u32, String> {
    parse_duration_ms(text).ok_or_else(|| {
        format!(
            "`{text}` is not a positive duration of at most a day such as 1500ms, 90s, 5m or 1h"
        )
    })
}

pub(super) fn parse_time_arg(text: &str) -> Result<SimTime, String> {
    clearsim_core::time::parse_clock(text)
        .ok_or_else(|| format!("`{text}` is not a time of day HH:MM, HH:MM:SS or HH:MM:SS.mmm"))
}

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    clearsim_model::input::read_regular(path)
        .with_context(|| format!("{}: cannot read", path.display()))
        .map_err(Failure::BadInput)
}

/// The flags that say how the day settles.
fn settlement(args: &ReplayArgs) -> Settlement {
    Settlement {
        strategy: args.strategy.clone(),
        gridlock_every_ms: args.gridlock_every,
        cycles: args.cycles.clone(),
        unwind: args.unwind,
        guarantee_fund_fen: args.guarantee_fund,
        max_position_pct: args.max_position_pct,
        limits: args.limits.clone(),
        channels: args.channels.clone(),
        day_end: args.day_end,
    }
}

pub fn run(args: &ReplayArgs) -> Result<(), Failure> {
    let settlement = settlement(args);
    let mut inputs = replay::inputs(&args.participants, &args.payments, &settlement);
    inputs.extend(args.openings.as_deref().map(|o| ("--openings", o)));
    super::args::refuse_outputs_over_inputs(&[("--out", &args.out)], &inputs)?;
    let set = super::args::output_set(&args.out)?;
    let (participants_file, payments_file) = (
        args.participants.display().to_string(),
        args.payments.display().to_string(),
    );
    let streamed = read_inputs(
        args,
        &settlement,
        &set,
        (&participants_file, &payments_file),
    )?;
    let day = streamed.whole;
    if day.is_dated() {
        return run_days(args, set, &day, &settlement, streamed.days);
    }
    if args.openings.is_some() || args.carry_balances || args.carry_queue {
        return Err(super::bad_input(format!(
            "{}: --openings, --carry-balances and --carry-queue are for a file of several business days, with a `date` column",
            args.payments.display()
        )));
    }
    let route = settlement.route(&day, &payments_file)?;
    let started = std::time::Instant::now();
    let replayed = replay::settle(&day, &route)?;
    let elapsed = started.elapsed();
    let formats = replay::Formats {
        csv: args.format.csv(),
        parquet: args.format.parquet(),
    };
    let files = (participants_file.as_str(), payments_file.as_str());
    let mut extra = if args.network {
        replay::network_files(&day, files)
    } else {
        Vec::new()
    };
    if let Some(text) = &args.merge {
        let pair = clearsim_jobs::merge::pair(&day, text)?;
        let merger = clearsim_jobs::merge::merger(
            &day,
            &|d| settlement.route(d, &payments_file),
            pair,
            &replayed,
        )?;
        let context = vec![
            format!("{} and {}, {}", files.0, files.1, route.described),
            format!("clearsim {}", env!("CARGO_PKG_VERSION")),
        ];
        extra.extend(report::merger::merger_files(&merger, context));
    }
    if args.critical {
        let ranked = clearsim_jobs::critical::critical_days(
            &[(&day, &route, &replayed.settle)],
            args.critical_at,
            clearsim_study::runner::cores(),
        )?;
        extra.extend(critical_files(args, &ranked, files, &route.described));
    }
    let summary_file = replay::publish(set, (&day, &route, &replayed), files, formats, extra)?;
    if !args.quiet {
        print_summary(&summary_file, &args.out, elapsed);
    }
    Ok(())
}

/// Parses the two files; a dated file's days are settled and written
/// as it is read ([`clearsim_jobs::days::stream`]).
fn read_inputs(
    args: &ReplayArgs,
    settlement: &Settlement,
    set: &clearsim_outset::OutputSet,
    (participants_file, payments_file): (&str, &str),
) -> Result<clearsim_jobs::days::Streamed, Failure> {
    let day_end = settlement.day_end()?;
    let participants_bytes = read(&args.participants)?;
    // Mapped, and released as the parse moves on: never held whole.
    let payments = clearsim_model::input::mapped::Mapped::open(&args.payments)
        .with_context(|| format!("{}: cannot read", args.payments.display()))
        .map_err(Failure::BadInput)?;
    // A dated file's days are settled and written while the rest of it is
    // read, unless a day needs the whole file first (carried queues,
    // openings.csv) or no CSV is written.
    let streams = !args.carry_queue && args.openings.is_none() && args.format != Format::Parquet;
    let streamed = clearsim_jobs::days::stream(
        |on_cut| {
            Day::parse_inputs_by_day(
                (participants_file, Input::Csv(&participants_bytes)),
                (payments_file, Input::Csv(payments.bytes())),
                day_end,
                &|upto| payments.release(upto),
                streams.then_some(on_cut),
            )
        },
        &clearsim_jobs::days::Streaming {
            settlement,
            day_end,
            carry_balances: args.carry_balances,
            files: (participants_file, payments_file),
            set,
        },
    )?;
    Ok(streamed)
}

/// `--critical` of a dated file: each business day as it was replayed
/// (its rows, openings and limits), each participant's default on it.
fn critical_of_days(
    args: &ReplayArgs,
    whole: &Day,
    settlement: &Settlement,
    replayed: &clearsim_jobs::days::DaysReplayed,
    files: (&str, &str),
) -> Result<report::ReportFiles, Failure> {
    let ranked = clearsim_jobs::critical::critical_of_days(
        whole,
        (settlement, files.1),
        &replayed.outcomes,
        args.critical_at,
        clearsim_study::runner::cores(),
    )?;
    let described = format!(
        "{} business day(s) through {}",
        replayed.outcomes.len(),
        replayed.strategy
    );
    Ok(critical_files(args, &ranked, files, &described))
}

/// critical.csv, critical.md and critical.html of a replay.
fn critical_files(
    args: &ReplayArgs,
    ranked: &[report::critical::Ranked],
    files: (&str, &str),
    described: &str,
) -> report::ReportFiles {
    let context = vec![
        format!("{} and {}, {described}", files.0, files.1),
        format!(
            "each of {} participants defaulting at {}; clearsim {}. Definitions of every figure: {}.",
            ranked.len(),
            args.critical_at,
            env!("CARGO_PKG_VERSION"),
            report::GLOSSARY
        ),
    ];
    report::critical::ranked_files(
        ranked,
        context,
        ("default", report::critical::BUSINESS_DAYS),
    )
}

/// A file of several business days (a `date` column): each replayed in
/// date order, its openings carried as the flags say.
fn run_days(
    args: &ReplayArgs,
    set: clearsim_outset::OutputSet,
    whole: &Day,
    settlement: &Settlement,
    streamed: Option<clearsim_jobs::days::DaysReplayed>,
) -> Result<(), Failure> {
    if args.format == Format::Parquet {
        return Err(super::bad_input(
            "--format parquet: a replay of several business days writes CSV (settlements, balances, days)",
        ));
    }
    let openings = match &args.openings {
        None => None,
        Some(path) => Some(
            clearsim_model::input::parse_openings(
                &path.display().to_string(),
                &read(path)?,
                &whole.participants,
                &whole.payments.dates,
            )
            .map_err(|e| Failure::BadInput(e.into()))?,
        ),
    };
    let (participants_file, payments_file) = (
        args.participants.display().to_string(),
        args.payments.display().to_string(),
    );
    let carry = clearsim_jobs::days::Carry {
        openings: openings.as_ref(),
        balances: args.carry_balances,
        queue: args.carry_queue,
    };
    let files = (participants_file.as_str(), payments_file.as_str());
    let openings_file = args.openings.as_ref().map(|p| p.display().to_string());
    let replayed = match streamed {
        Some(replayed) => replayed,
        None => clearsim_jobs::days::DaysReplayed::replay(
            whole,
            settlement,
            carry,
            files,
            openings_file.as_deref(),
        )?,
    };
    // The network of every payment of the file, all its days together.
    let mut extra = if args.network {
        replay::network_files(whole, files)
    } else {
        Vec::new()
    };
    if let Some(text) = &args.merge {
        let pair = clearsim_jobs::merge::pair(whole, text)?;
        let days =
            clearsim_jobs::merge::merger_days(whole, settlement, carry, files, pair, &replayed)?;
        let people = &whole.participants;
        let merger = report::merger::MergerDays {
            pair: (people.ids[pair.0].clone(), people.ids[pair.1].clone()),
            days,
        };
        let context = vec![
            format!("{} and {}, {}", files.0, files.1, replayed.strategy),
            format!("clearsim {}", env!("CARGO_PKG_VERSION")),
        ];
        extra.extend(report::merger::merger_days_files(&merger, context));
    }
    if args.critical {
        extra.extend(critical_of_days(args, whole, settlement, &replayed, files)?);
    }
    replayed.publish(set, whole, extra)?;
    if !args.quiet {
        print!("{}", replayed.document().markdown());
        println!("\nresults in {}", args.out.display());
    }
    Ok(())
}

fn print_summary(file: &report::ReplaySummary, out: &Path, elapsed: std::time::Duration) {
    let s = &file.summary;
    println!(
        "clearsim replay: {} (day end {})",
        file.strategy, file.day_end
    );
    let row = |label: &str, count: u64, value_fen: i64| {
        println!(
            "  {label:<10} {:>12}   value {:>22} yuan  ({:.2} % of value)",
            grouped(i128::from(count)),
            yuan(value_fen),
            if s.value == 0 {
                0.0
            } else {
                100.0 * value_fen as f64 / s.value as f64
            }
        );
    };
    println!(
        "  payments   {:>12}   value {:>22} yuan",
        grouped(i128::from(s.payments)),
        yuan(s.value)
    );
    let Some(run) = &file.as_run else {
        return;
    };
    row("settled", run.settled, run.settled_value_fen);
    row("carried", run.carried, run.carried_value_fen);
    row("unsettled", run.unsettled, run.unsettled_value_fen);
    if run.carried > 0 {
        println!(
            "             (carried: after its channel's last session, for the next day's first; summary.json's contract key `unsettled` counts them too)"
        );
    }
    println!(
        "  delay      p50 {}  p99 {}  max {}  mean {}  indicator {:.4}",
        millis(s.delay_ms.p50),
        millis(s.delay_ms.p99),
        millis(s.delay_ms.max),
        millis(s.delay_ms.mean),
        s.delay_indicator
    );
    println!(
        "  liquidity  used {} yuan; under these channels lower bound {} , upper bound {} (over {} participants: category `outside` is left out)",
        yuan(run.liquidity_used_fen),
        yuan(run.lower_bound_fen),
        yuan(run.upper_bound_fen),
        run.city_participants,
    );
    println!(
        "  engine     {:.1} ms; results in {}",
        elapsed.as_secs_f64() * 1e3,
        out.display()
    );
}
