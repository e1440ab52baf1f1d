//! `clearsim replay`: one day, one strategy, to the contract.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use clap::{Args, ValueEnum};

use super::Failure;
use crate::format::{grouped, millis, yuan};
use crate::input::Day;
use crate::report;
use crate::strategy::{ChannelSpec, Unwind, check_cycles};
use crate::time::{SimTime, parse_duration_ms};

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// participants.csv: id,name,category,opening_balance,credit_limit
    #[arg(long, value_name = "P.csv")]
    participants: PathBuf,
    /// payments.csv: id,submit,sender,receiver,amount[,priority][,instrument]
    #[arg(long, value_name = "X.csv")]
    payments: PathBuf,
    /// Directory for settlements.csv, balances.csv and summary.json (created).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Settlement strategy.
    #[arg(long, value_enum)]
    strategy: StrategyName,
    /// rtgs: run gridlock resolution at every multiple of this interval
    /// (e.g. 1500ms, 90s, 5m, 1h) and at day end. chips: the offsetting-set
    /// runs (default 5m; the day-end run is the final settlement).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    gridlock_every: Option<u32>,
    /// dns and bilateral: netting cycle times, sorted, e.g. 10:00:00,15:30:00
    /// (default: one cycle at day end).
    #[arg(long, value_name = "HH:MM:SS,...", value_parser = parse_time_arg, value_delimiter = ',')]
    cycles: Option<Vec<SimTime>>,
    /// dns only: how a cycle unwinds when a participant cannot cover its net debit.
    #[arg(long, value_enum)]
    unwind: Option<UnwindName>,
    /// dns only: a settlement guarantee fund of this many fen that covers
    /// short participants' net debits before any unwinding (not in the
    /// contract; see docs/strategies.md).
    #[arg(long, value_name = "FEN", value_parser = clap::value_parser!(i64).range(0..))]
    guarantee_fund: Option<i64>,
    /// chips only: the maximum position, in % of the opening balance
    /// (default 200; at least 100 so that the opening balance fits).
    #[arg(long, value_name = "PCT", value_parser = clap::value_parser!(u32).range(100..))]
    max_position_pct: Option<u32>,
    /// End of the business day.
    #[arg(long, value_name = "HH:MM:SS", default_value = "17:00:00", value_parser = parse_time_arg)]
    day_end: SimTime,
    /// Print nothing on success.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum StrategyName {
    Rtgs,
    Dns,
    Bilateral,
    /// CHIPS-style balanced release (not in the contract).
    Chips,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum UnwindName {
    Participant,
    Latest,
}

pub(super) fn parse_duration_arg(text: &str) -> Result<u32, String> {
    parse_duration_ms(text).ok_or_else(|| {
        format!(
            "`{text}` is not a positive duration of at most a day such as 1500ms, 90s, 5m or 1h"
        )
    })
}

fn parse_time_arg(text: &str) -> Result<SimTime, String> {
    SimTime::parse(text.as_bytes())
        .ok_or_else(|| format!("`{text}` is not a time of day HH:MM:SS or HH:MM:SS.mmm"))
}

/// Checks that the flags fit the strategy and builds the channel spec.
fn channel_spec(args: &ReplayArgs) -> Result<ChannelSpec, String> {
    let strategy = args.strategy;
    let gross = matches!(strategy, StrategyName::Rtgs | StrategyName::Chips);
    if args.gridlock_every.is_some() && !gross {
        return Err("--gridlock-every applies to --strategy rtgs or chips only".into());
    }
    if args.max_position_pct.is_some() && strategy != StrategyName::Chips {
        return Err("--max-position-pct applies to --strategy chips only".into());
    }
    if args.cycles.is_some() && gross {
        return Err("--cycles applies to --strategy dns or bilateral only".into());
    }
    if args.unwind.is_some() && strategy != StrategyName::Dns {
        return Err("--unwind applies to --strategy dns only".into());
    }
    if args.guarantee_fund.is_some() && strategy != StrategyName::Dns {
        return Err("--guarantee-fund applies to --strategy dns only".into());
    }
    let cycles = args.cycles.clone().unwrap_or_else(|| vec![args.day_end]);
    check_cycles(&cycles, args.day_end).map_err(|e| format!("--cycles: {e}"))?;
    Ok(match strategy {
        StrategyName::Rtgs => ChannelSpec::Rtgs {
            gridlock_every_ms: args.gridlock_every,
        },
        StrategyName::Dns => ChannelSpec::Dns {
            cycles,
            unwind: match args.unwind {
                Some(UnwindName::Latest) => Unwind::Latest,
                _ => Unwind::Participant,
            },
            guarantee_fund_fen: args.guarantee_fund,
        },
        StrategyName::Bilateral => ChannelSpec::Bilateral { cycles },
        StrategyName::Chips => ChannelSpec::Chips {
            every_ms: args
                .gridlock_every
                .unwrap_or(crate::strategy::CHIPS_EVERY_MS),
            max_position_pct: args
                .max_position_pct
                .unwrap_or(crate::strategy::CHIPS_MAX_POSITION_PCT),
        },
    })
}

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .with_context(|| format!("{}: cannot read", path.display()))
        .map_err(Failure::BadInput)
}

pub fn run(args: &ReplayArgs) -> Result<(), Failure> {
    let spec = channel_spec(args).map_err(|e| Failure::BadInput(anyhow!(e)))?;
    let participants_bytes = read(&args.participants)?;
    let payments_bytes = read(&args.payments)?;
    let day = Day::parse(
        &args.participants.display().to_string(),
        &participants_bytes,
        &args.payments.display().to_string(),
        &payments_bytes,
        args.day_end,
    )
    .map_err(|e| Failure::BadInput(e.into()))?;
    drop((participants_bytes, payments_bytes));
    let started = std::time::Instant::now();
    let replay = crate::replay::replay(&day, &spec).map_err(|e| Failure::Other(e.into()))?;
    let elapsed = started.elapsed();
    let summary_file = report::ReplaySummaryFile {
        schema: "clearsim.replay.v1",
        strategy: &describe(&spec),
        day_end: day.day_end.to_string(),
        summary: &replay.summary,
    };
    let summary_json = report::to_json(&summary_file).map_err(|e| Failure::Other(e.into()))?;
    let settlements = report::settlements_csv(&day, &replay.settle);
    let balances = report::balances_csv(&day, &replay);
    report::write_all_atomic(
        &args.out,
        &[
            ("settlements.csv", &settlements),
            ("balances.csv", &balances),
            ("summary.json", &summary_json),
        ],
    )
    .with_context(|| format!("{}: cannot write results", args.out.display()))
    .map_err(Failure::Other)?;
    if !args.quiet {
        print_summary(&summary_file, &args.out, elapsed);
    }
    Ok(())
}

/// The strategy with its options, as one line.
fn describe(spec: &ChannelSpec) -> String {
    let times = |cycles: &[SimTime]| {
        cycles
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    match spec {
        ChannelSpec::Rtgs {
            gridlock_every_ms: None,
        } => "rtgs".into(),
        ChannelSpec::Rtgs {
            gridlock_every_ms: Some(ms),
        } => format!("rtgs, gridlock every {}", millis(u64::from(*ms))),
        ChannelSpec::Chips {
            every_ms,
            max_position_pct,
        } => format!(
            "chips balanced release, offsetting sets every {}, maximum position {max_position_pct} % of opening",
            millis(u64::from(*every_ms))
        ),
        ChannelSpec::RtgsLimits {
            gridlock_every_ms,
            limits,
        } => format!(
            "rtgs with {} sender limits{}",
            limits.entries.len(),
            gridlock_every_ms.map_or(String::new(), |ms| format!(
                ", gridlock every {}",
                millis(u64::from(ms))
            ))
        ),
        ChannelSpec::RtgsOffset { gridlock_every_ms } => format!(
            "rtgs with offsetting{}",
            gridlock_every_ms.map_or(String::new(), |ms| format!(
                ", gridlock every {}",
                millis(u64::from(ms))
            ))
        ),
        ChannelSpec::RtgsBypass { gridlock_every_ms } => format!(
            "rtgs with bypass FIFO{}",
            gridlock_every_ms.map_or(String::new(), |ms| format!(
                ", gridlock every {}",
                millis(u64::from(ms))
            ))
        ),
        ChannelSpec::Dns {
            cycles,
            unwind,
            guarantee_fund_fen,
        } => {
            let unwind = match unwind {
                Unwind::Participant => "participant",
                Unwind::Latest => "latest",
            };
            let fund = guarantee_fund_fen.map_or(String::new(), |fen| {
                format!(", guarantee fund {} fen", grouped(i128::from(fen)))
            });
            format!("dns, cycles {}, unwind {unwind}{fund}", times(cycles))
        }
        ChannelSpec::Bilateral { cycles } => format!("bilateral, cycles {}", times(cycles)),
    }
}

fn print_summary(file: &report::ReplaySummaryFile<'_>, out: &Path, elapsed: std::time::Duration) {
    let s = file.summary;
    let percent = |part: u64, whole: u64| {
        if whole == 0 {
            0.0
        } else {
            100.0 * part as f64 / whole as f64
        }
    };
    println!(
        "clearsim replay: {} (day end {})",
        file.strategy, file.day_end
    );
    println!(
        "  payments   {:>12}   value {:>22} yuan",
        grouped(i128::from(s.payments)),
        yuan(s.value)
    );
    println!(
        "  settled    {:>12}   value {:>22} yuan  ({:.1}% of count)",
        grouped(i128::from(s.settled)),
        yuan(s.settled_value),
        percent(s.settled, s.payments)
    );
    println!(
        "  unsettled  {:>12}   value {:>22} yuan",
        grouped(i128::from(s.unsettled)),
        yuan(s.unsettled_value)
    );
    println!(
        "  delay      p50 {}  p99 {}  max {}  mean {}  indicator {:.4}",
        millis(s.delay_ms.p50),
        millis(s.delay_ms.p99),
        millis(s.delay_ms.max),
        millis(s.delay_ms.mean),
        s.delay_indicator
    );
    println!(
        "  liquidity  used {} yuan; lower bound {} ; upper bound {}",
        yuan(s.liquidity_used),
        yuan(s.lower_bound),
        yuan(s.upper_bound)
    );
    println!(
        "  engine     {:.1} ms; results in {}",
        elapsed.as_secs_f64() * 1e3,
        out.display()
    );
}
