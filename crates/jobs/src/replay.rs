//! `replay`: one day of payments, from files or columns, through one
//! strategy or a scenario's channels, to the contract's figures.

use std::path::{Path, PathBuf};

use crate::JobError;
use clearsim_core::strategy::options::{self, Options};
use clearsim_core::strategy::{self, ChannelSpec, SenderLimits, Unwind};
use clearsim_core::time::SimTime;
use clearsim_model::input::Day;
use clearsim_model::replay::{Replay, Route};
use clearsim_outset::{OutputSet, SetFile};
use clearsim_report::{DelaySplit, REPLAY_SCHEMA, ReplaySummary};

/// How a day is settled: a strategy with its options, or the channels of
/// a scenario config. Each option is named by its command-line flag in
/// messages.
#[derive(Clone, Debug, Default)]
pub struct Settlement {
    /// A strategy of the catalog (default rtgs).
    pub strategy: Option<String>,
    pub gridlock_every_ms: Option<u32>,
    /// Netting cycle times, e.g. `10:00,15:30` or `hourly`.
    pub cycles: Option<String>,
    pub unwind: Option<Unwind>,
    pub guarantee_fund_fen: Option<i64>,
    pub max_position_pct: Option<u32>,
    /// A TOML file of `[[limit]]` entries.
    pub limits: Option<PathBuf>,
    /// Route by instrument through this scenario config's channels.
    pub channels: Option<PathBuf>,
    /// The day end (default: the config's with `channels`, else 17:00).
    pub day_end: Option<SimTime>,
}

impl Settlement {
    /// The day end: the one given, else the config's (with channels), else
    /// 17:00.
    pub fn day_end(&self) -> Result<SimTime, JobError> {
        if let Some(end) = self.day_end {
            return Ok(end);
        }
        match &self.channels {
            Some(config) => Ok(clearsim_model::config::Config::load(config)
                .map_err(JobError::of)?
                .scenario
                .day_end),
            None => Ok(SimTime::DEFAULT_DAY_END),
        }
    }

    /// With channels, options of a single strategy make no sense.
    fn check_exclusive(&self) -> Result<(), JobError> {
        let single = self.strategy.is_some()
            || self.gridlock_every_ms.is_some()
            || self.cycles.is_some()
            || self.unwind.is_some()
            || self.guarantee_fund_fen.is_some()
            || self.max_position_pct.is_some()
            || self.limits.is_some();
        if self.channels.is_some() && single {
            return Err(JobError::user(
                "--channels routes by instrument through the config's channels: give no strategy or strategy option with it",
            ));
        }
        Ok(())
    }

    /// The strategy and its options through the catalog, each option
    /// named by its flag ([`options::FORMS`]); `--limits FILE` is the flag
    /// of sender limits.
    fn spec(&self, day_end: SimTime) -> Result<ChannelSpec, JobError> {
        let name = self.strategy.as_deref().unwrap_or("rtgs");
        let cycles = match &self.cycles {
            None => None,
            Some(text) => Some(
                options::parse_cycles(text, day_end)
                    .map_err(|e| JobError::user(format!("--cycles: {e}")))?,
            ),
        };
        let given = Options {
            gridlock_every_ms: self.gridlock_every_ms,
            cycles,
            unwind: self.unwind,
            guarantee_fund_fen: self.guarantee_fund_fen,
            max_position_pct: self.max_position_pct,
            limits: self.limits.as_ref().map(|_| SenderLimits::default()),
            ..Options::default()
        };
        let spec = strategy::build(name, given, day_end).map_err(|e| {
            let flag = e.opt.map_or("--strategy", |opt| opt.forms().flag);
            JobError::user(format!("{flag}: {e}"))
        })?;
        if spec.limits().is_some() && self.limits.is_none() {
            return Err(JobError::user(format!(
                "--strategy {name} needs --limits FILE ([[limit]] entries)"
            )));
        }
        Ok(spec)
    }

    /// The day's route; `payments_file` names the payments in messages.
    pub fn route(&self, day: &Day, payments_file: &str) -> Result<Route, JobError> {
        self.check_exclusive()?;
        let routed = match &self.channels {
            None => {
                let spec = self.spec(day.day_end)?;
                let entries = match &self.limits {
                    None => None,
                    Some(path) => Some((
                        path.display().to_string(),
                        clearsim_model::config::load_limits(path).map_err(JobError::of)?,
                    )),
                };
                Route::one(
                    spec,
                    entries
                        .as_ref()
                        .map(|(file, e)| (file.as_str(), e.as_slice())),
                    day,
                )
            }
            Some(config) => {
                let scenario = clearsim_model::config::Config::load(config)
                    .map_err(JobError::of)?
                    .scenario;
                Route::channels(&scenario, &config.display().to_string(), day, payments_file)
            }
        };
        routed.map_err(JobError::of)
    }
}

/// Every path a replay reads, with its flag: the outputs must not touch
/// them.
pub fn inputs<'a>(
    participants: &'a Path,
    payments: &'a Path,
    settlement: &'a Settlement,
) -> Vec<(&'static str, &'a Path)> {
    let mut inputs = vec![("--participants", participants), ("--payments", payments)];
    inputs.extend(settlement.channels.as_deref().map(|c| ("--channels", c)));
    inputs.extend(settlement.limits.as_deref().map(|l| ("--limits", l)));
    inputs
}

/// Settles `day` along `route`.
pub fn settle(day: &Day, route: &Route) -> Result<Replay, JobError> {
    clearsim_model::replay::replay_channels(day, &route.specs, &route.channel_of)
        .map_err(JobError::of)
}

/// The day's figures as `run` states them (a second pass over the day).
pub fn as_run(day: &Day, route: &Route, replay: &Replay) -> clearsim_model::replay::RunFigures {
    clearsim_model::replay::run_figures(day, &route.specs, &route.channel_of, replay)
}

/// `summary.json` of a replay; the files are named as the user gave them.
pub fn summary(
    day: &Day,
    route: &Route,
    replay: &Replay,
    files: (&str, &str),
    as_run: clearsim_model::replay::RunFigures,
) -> ReplaySummary {
    ReplaySummary {
        schema: REPLAY_SCHEMA.to_string(),
        clearsim_version: env!("CARGO_PKG_VERSION").to_string(),
        strategy: route.described.clone(),
        day_end: day.day_end.to_string(),
        participants_file: files.0.to_string(),
        payments_file: files.1.to_string(),
        summary: replay.summary.clone(),
        delay_split: clearsim_model::replay::delay_split(day, &replay.settle)
            .as_ref()
            .map(DelaySplit::of),
        as_run: Some(as_run),
    }
}

/// Which formats a replay writes its per-payment and per-participant
/// tables in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Formats {
    pub csv: bool,
    pub parquet: bool,
}

/// Writes a replay's output set — settlements and balances in `formats`,
/// `summary.json` and the report — into `set` and publishes it whole.
/// The as-run figures (a second pass over the day) and
/// settlements.parquet each run on a core of their own while
/// settlements.csv is written: the same bytes, in about the time of the
/// slowest of the three instead of their sum (docs/PERFORMANCE.md).
pub fn publish(
    set: OutputSet,
    (day, route, replay): (&Day, &Route, &Replay),
    files: (&str, &str),
    formats: Formats,
    extra: clearsim_report::ReportFiles,
) -> Result<ReplaySummary, JobError> {
    let (as_run, written) = std::thread::scope(|scope| {
        let parquet = scope.spawn(|| {
            if !formats.parquet {
                return Ok(());
            }
            stream_file(&set, "settlements.parquet", |file| {
                clearsim_report::settlements_parquet(file, day, &replay.settle)
            })
        });
        let figures = scope.spawn(|| as_run(day, route, replay));
        let csv = if formats.csv {
            stream_file(&set, "settlements.csv", |mut file| {
                clearsim_report::write_settlements_csv(&mut file, day, &replay.settle)?;
                Ok(file)
            })
        } else {
            Ok(())
        };
        let panicked = |_| JobError::Bug("a writer thread panicked".into());
        let parquet = parquet.join().map_err(panicked).and_then(|written| written);
        let figures = figures.join().map_err(panicked);
        (figures, csv.and(parquet))
    });
    written?;
    let summary = summary(day, route, replay, files, as_run?);
    let summary_json = clearsim_report::to_json(&summary).map_err(JobError::of)?;
    let mut tables = Vec::new();
    if formats.csv {
        tables.push(("balances.csv", clearsim_report::balances_csv(day, replay)));
    }
    if formats.parquet {
        let parquet = clearsim_report::balances_parquet(day, replay).map_err(JobError::of)?;
        tables.push(("balances.parquet", parquet));
    }
    tables.extend(clearsim_report::replay_files(&summary));
    tables.extend(extra);
    publish_files(set, &summary_json, &tables)?;
    Ok(summary)
}

/// The output set at `out`, checked and staged before the work starts, so
/// that a bad `--out` fails at once and no work is wasted.
pub fn output_set(out: &Path) -> Result<OutputSet, JobError> {
    OutputSet::create(out).map_err(|e| JobError::user(format!("--out {e}")))
}

/// Writes one large file of a set as a stream: `write` gets the file and
/// hands it back when done.
pub(crate) fn stream_file(
    set: &OutputSet,
    name: &str,
    write: impl FnOnce(SetFile) -> Result<SetFile, clearsim_report::ReportError>,
) -> Result<(), JobError> {
    let cannot =
        |e: &dyn std::fmt::Display| JobError::user(format!("cannot write results: {name}: {e}"));
    let file = set.file(name).map_err(|e| cannot(&e))?;
    write(file)
        .map_err(|e| cannot(&e))?
        .finish()
        .map_err(|e| cannot(&e))
}

/// Publishes summary.json and the other files as one set.
pub fn publish_files<N: AsRef<str>>(
    set: OutputSet,
    summary_json: &[u8],
    files: &[(N, Vec<u8>)],
) -> Result<(), JobError> {
    let written = (|| {
        set.write("summary.json", summary_json)?;
        for (name, bytes) in files {
            set.write(name.as_ref(), bytes)?;
        }
        set.commit()
    })();
    written.map_err(|e| JobError::user(format!("cannot write results: {e}")))
}

/// The day's payment network (`replay --network`): network.csv,
/// flows.csv, network.md and network.html, of every payment submitted;
/// of a dated file, every payment of all its days together.
pub fn network_files(day: &Day, files: (&str, &str)) -> clearsim_report::ReportFiles {
    let payments = &day.payments;
    let network = clearsim_model::metrics::network::Network::of(
        day.participants.len(),
        (0..payments.len()).map(|r| {
            (
                payments.sender[r],
                payments.receiver[r],
                payments.amount_fen[r],
            )
        }),
    );
    let days = if day.is_dated() {
        day.payments.dates.len()
    } else {
        1
    };
    let banks = clearsim_report::network::Banks {
        ids: &day.participants.ids,
        names: &day.participants.names,
        days,
    };
    let flows = match days {
        1 => "the day's flows".to_string(),
        n => format!("the flows of its {n} business days together"),
    };
    let what = format!(
        "The network of every payment submitted in {} among the participants of {} (settled or not): {flows}, not a balance.",
        files.1, files.0
    );
    clearsim_report::network::network_files(&banks, &network, what)
}
