//! `replay` from Python: a day from files or from a DataFrame's columns,
//! settled by the same job as `clearsim replay`; its tables handed back
//! as Arrow buffers written once, straight into Python's memory.

use std::path::PathBuf;
use std::sync::Arc;

use clearsim_core::time::SimTime;
use clearsim_jobs::JobError;
use clearsim_jobs::replay::{self as job, Formats, Settlement};
use clearsim_model::input::{Day, Input, TextColumn, TextColumns};
use clearsim_model::metrics::UNSETTLED;
use clearsim_model::replay::{Replay, Route};
use clearsim_report::ReplaySummary;
use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

/// A table as Python hands it over: a path, or text columns in Arrow's
/// large-string layout (copied once here, so that the job owns them).
pub(crate) enum Table {
    Path(PathBuf),
    Columns {
        name: String,
        names: Vec<String>,
        /// Per column: offsets (rows + 1) and data.
        columns: Vec<(Vec<i64>, Vec<u8>)>,
        rows: usize,
    },
}

impl Table {
    /// `str` or `os.PathLike`: a path; else `(name, names, [(offsets,
    /// data)], rows)`, offsets and data objects with the buffer protocol.
    pub(crate) fn from_python(object: &Bound<'_, PyAny>) -> PyResult<Table> {
        if let Ok(path) = object.extract::<PathBuf>() {
            return Ok(Table::Path(path));
        }
        let (name, names, buffers, rows): (String, Vec<String>, Vec<Bound<'_, PyAny>>, usize) =
            object.extract()?;
        let py = object.py();
        let mut columns = Vec::with_capacity(buffers.len());
        for pair in buffers {
            let (offsets, data): (Bound<'_, PyAny>, Bound<'_, PyAny>) = pair.extract()?;
            let (offsets, data) = (bytes_of(py, &offsets)?, bytes_of(py, &data)?);
            let offsets = offsets
                .chunks_exact(8)
                .map(|b| i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
                .collect();
            columns.push((offsets, data));
        }
        Ok(Table::Columns {
            name,
            names,
            columns,
            rows,
        })
    }

    /// How messages name it.
    fn name(&self) -> String {
        match self {
            Table::Path(path) => path.display().to_string(),
            Table::Columns { name, .. } => name.clone(),
        }
    }
}

/// A buffer's bytes, copied: pyarrow exports its buffers as signed
/// bytes (format `b`), `bytes` as unsigned (`B`).
fn bytes_of(py: Python<'_>, object: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(buffer) = PyBuffer::<u8>::get(object) {
        return buffer.to_vec(py);
    }
    let signed = PyBuffer::<i8>::get(object)?.to_vec(py)?;
    Ok(signed.into_iter().map(|b| b.to_ne_bytes()[0]).collect())
}

/// The bytes of a path table, or the columns' view of a column table.
enum Loaded<'a> {
    Bytes(Vec<u8>),
    Columns(TextColumns<'a>),
}

impl Loaded<'_> {
    fn load(table: &Table) -> Result<Loaded<'_>, JobError> {
        Ok(match table {
            Table::Path(path) => Loaded::Bytes(
                clearsim_model::input::read_regular(path)
                    .map_err(|e| JobError::user(format!("{}: cannot read: {e}", path.display())))?,
            ),
            Table::Columns {
                names,
                columns,
                rows,
                ..
            } => Loaded::Columns(TextColumns {
                names: names.clone(),
                columns: columns
                    .iter()
                    .map(|(offsets, data)| TextColumn { offsets, data })
                    .collect(),
                rows: *rows,
            }),
        })
    }

    fn input(&self) -> Input<'_> {
        match self {
            Loaded::Bytes(bytes) => Input::Csv(bytes),
            Loaded::Columns(columns) => Input::Columns(columns),
        }
    }
}

/// How the day settles, from the keyword arguments of `clearsim.replay`
/// (each as the command line's flag takes it, as text).
pub(crate) fn settlement(options: Option<&Bound<'_, PyDict>>) -> PyResult<Settlement> {
    let mut settlement = Settlement::default();
    let Some(options) = options else {
        return Ok(settlement);
    };
    let bad = |key: &str, message: String| crate::InputError::new_err(format!("{key}: {message}"));
    for (key, value) in options.iter() {
        let key: String = key.extract()?;
        if value.is_none() {
            continue;
        }
        let text = || value.str().map(|s| s.to_string());
        match key.as_str() {
            "strategy" => settlement.strategy = Some(value.extract()?),
            "gridlock_every" => {
                let text = text()?;
                let ms = clearsim_core::time::parse_duration_ms(&text).ok_or_else(|| {
                    bad(&key, format!("`{text}` is not a positive duration of at most a day such as 1500ms, 90s, 5m or 1h"))
                })?;
                settlement.gridlock_every_ms = Some(ms);
            }
            "cycles" => settlement.cycles = Some(value.extract()?),
            "unwind" => {
                let unwind = clearsim_core::strategy::options::parse_unwind(&text()?)
                    .map_err(|e| bad(&key, e.to_string()))?;
                settlement.unwind = Some(unwind);
            }
            "guarantee_fund" => {
                let fen = clearsim_core::money::parse_amount_fen(&text()?)
                    .map_err(|e| bad(&key, e.to_string()))?;
                settlement.guarantee_fund_fen = Some(fen);
            }
            "max_position_pct" => settlement.max_position_pct = Some(value.extract()?),
            "limits" => settlement.limits = Some(value.extract()?),
            "channels" => settlement.channels = Some(value.extract()?),
            "day_end" => {
                let text = text()?;
                let end = clearsim_core::time::parse_clock(&text).ok_or_else(|| {
                    bad(
                        &key,
                        format!("`{text}` is not a time of day HH:MM, HH:MM:SS or HH:MM:SS.mmm"),
                    )
                })?;
                settlement.day_end = Some(end);
            }
            _ => return Err(bad(&key, "is not an option of replay".into())),
        }
    }
    Ok(settlement)
}

/// A replayed day: its inputs and outcome, kept for its tables and report.
struct Replayed {
    day: Day,
    route: Route,
    replay: Replay,
    summary: ReplaySummary,
    files: (String, String),
    /// How the day settled: a merger is settled the same way.
    settlement: Settlement,
}

fn replay_job(
    participants: &Table,
    payments: &Table,
    settlement: &Settlement,
) -> Result<Replayed, JobError> {
    let (day, files) = parse_tables(participants, payments, settlement)?;
    if day.is_dated() {
        return Err(JobError::user(format!(
            "{}: a `date` column holds several business days, which `clearsim replay` replays (docs/semantics.md §11); clearsim.replay takes one day: use clearsim.replay_days, or select one date's rows",
            files.1
        )));
    }
    let route = settlement.route(&day, &files.1)?;
    let replay = job::settle(&day, &route)?;
    let as_run = job::as_run(&day, &route, &replay);
    let summary = job::summary(&day, &route, &replay, (&files.0, &files.1), as_run);
    Ok(Replayed {
        day,
        route,
        replay,
        summary,
        files,
        settlement: settlement.clone(),
    })
}

/// The two tables parsed as the command line parses its files, up to
/// `settlement`'s day end; with their names for messages and summaries.
pub(crate) fn parse_tables(
    participants: &Table,
    payments: &Table,
    settlement: &Settlement,
) -> Result<(Day, (String, String)), JobError> {
    let day_end: SimTime = settlement.day_end()?;
    let files = (participants.name(), payments.name());
    let (first, second) = (Loaded::load(participants)?, Loaded::load(payments)?);
    let day = Day::parse_inputs(
        &files.0,
        first.input(),
        &files.1,
        second.input(),
        day_end,
        &|_| {},
    )
    .map_err(JobError::of)?;
    Ok((day, files))
}

/// Replays one day (see `clearsim.replay`).
#[pyfunction]
#[pyo3(signature = (participants, payments, options=None, progress=None))]
pub fn replay(
    py: Python<'_>,
    participants: &Bound<'_, PyAny>,
    payments: &Bound<'_, PyAny>,
    options: Option<&Bound<'_, PyDict>>,
    progress: Option<Py<PyAny>>,
) -> PyResult<NativeReplay> {
    let settlement = settlement(options)?;
    let participants = Table::from_python(participants)?;
    let payments = Table::from_python(payments)?;
    let replayed = crate::control::run(py, progress, move |control| {
        control.set_total(1);
        let replayed = replay_job(&participants, &payments, &settlement);
        control.tick();
        replayed
    })?;
    Ok(NativeReplay {
        inner: Arc::new(replayed),
    })
}

/// The outcome of `replay`, behind `clearsim.Replay`.
#[pyclass(frozen, module = "clearsim._native")]
pub struct NativeReplay {
    inner: Arc<Replayed>,
}

/// An Arrow column as buffers: (type, nullable, validity or None,
/// offsets or None, values), the types `string`, `large_string` (past
/// 2 GiB of text) and `int64`, as settlements.parquet has them.
type Column = (
    &'static str,
    bool,
    Option<Py<PyBytes>>,
    Option<Py<PyBytes>>,
    Py<PyBytes>,
);

#[pymethods]
impl NativeReplay {
    /// merger.csv of `replay --merge A,B`: the day beside the same
    /// payments with B merged into A, settled the same way.
    fn merger<'py>(&self, py: Python<'py>, pair: &str) -> PyResult<Bound<'py, PyBytes>> {
        let r = &*self.inner;
        let merged = (|| {
            let indexes = clearsim_jobs::merge::pair(&r.day, pair)?;
            clearsim_jobs::merge::merger(
                &r.day,
                &|d| r.settlement.route(d, &r.files.1),
                indexes,
                &r.replay,
            )
        })()
        .map_err(crate::raised)?;
        let files = clearsim_report::merger::merger_files(&merged, Vec::new());
        let csv = files
            .into_iter()
            .find(|(name, _)| *name == "merger.csv")
            .map(|(_, bytes)| bytes)
            .unwrap_or_default();
        Ok(PyBytes::new(py, &csv))
    }

    /// critical.csv of `replay --critical --critical-at AT`: each city
    /// participant defaulting in turn at `at`, ranked by its knock-on
    /// against the day as it settled.
    fn critical<'py>(&self, py: Python<'py>, at: &str) -> PyResult<Bound<'py, PyBytes>> {
        let at = clearsim_core::time::parse_clock(at).ok_or_else(|| {
            crate::InputError::new_err(format!(
                "at: `{at}` is not a time of day HH:MM, HH:MM:SS or HH:MM:SS.mmm"
            ))
        })?;
        let inner = Arc::clone(&self.inner);
        let csv = crate::control::run(py, None, move |_| {
            let r = &*inner;
            let route = r.settlement.route(&r.day, &r.files.1)?;
            let ranked = clearsim_jobs::critical::critical_days(
                &[(&r.day, &route, &r.replay.settle)],
                at,
                clearsim_study::runner::cores(),
            )?;
            let files = clearsim_report::critical::ranked_files(
                &ranked,
                Vec::new(),
                ("default", clearsim_report::critical::BUSINESS_DAYS),
            );
            Ok(files
                .into_iter()
                .find(|(name, _)| *name == "critical.csv")
                .map(|(_, bytes)| bytes)
                .unwrap_or_default())
        })?;
        Ok(PyBytes::new(py, &csv))
    }

    /// `summary.json` as the command line writes it.
    fn summary_json(&self) -> PyResult<String> {
        let bytes = clearsim_report::to_json(&self.inner.summary)
            .map_err(|e| crate::raised(JobError::of(e)))?;
        String::from_utf8(bytes).map_err(|e| crate::InternalError::new_err(e.to_string()))
    }

    /// The columns of settlements.parquet: id, status, submit_ms,
    /// settle_ms, delay_ms (the last two null when unsettled).
    fn settlements(&self, py: Python<'_>) -> PyResult<Vec<(&'static str, usize, Column)>> {
        let payments = &self.inner.day.payments;
        let settle = &self.inner.replay.settle;
        let rows = settle.len();
        let settled = |r: usize| settle[r] != UNSETTLED;
        let submit = |r: usize| i64::from(payments.submit[r].ms());
        let status = |r: usize| -> &[u8] { if settled(r) { b"settled" } else { b"unsettled" } };
        Ok(vec![
            ("id", rows, text_column(py, rows, |r| payments.id(r))?),
            ("status", rows, text_column(py, rows, status)?),
            (
                "submit_ms",
                rows,
                int_column(py, rows, |r| Some(submit(r)))?,
            ),
            (
                "settle_ms",
                rows,
                nullable(int_column(py, rows, |r| {
                    settled(r).then(|| i64::from(settle[r]))
                })?),
            ),
            (
                "delay_ms",
                rows,
                nullable(int_column(py, rows, |r| {
                    settled(r).then(|| i64::from(settle[r]) - submit(r))
                })?),
            ),
        ])
    }

    /// The columns of balances.parquet: id, opening_balance_fen,
    /// closing_balance_fen, min_balance_fen.
    fn balances(&self, py: Python<'_>) -> PyResult<Vec<(&'static str, usize, Column)>> {
        let p = &self.inner.day.participants;
        let replay = &self.inner.replay;
        let rows = p.len();
        Ok(vec![
            ("id", rows, text_column(py, rows, |i| p.ids[i].as_bytes())?),
            (
                "opening_balance_fen",
                rows,
                int_column(py, rows, |i| Some(p.opening_fen[i]))?,
            ),
            (
                "closing_balance_fen",
                rows,
                int_column(py, rows, |i| Some(replay.closing_fen[i]))?,
            ),
            (
                "min_balance_fen",
                rows,
                int_column(py, rows, |i| Some(replay.min_balance_fen[i]))?,
            ),
        ])
    }

    /// Publishes the replay's output set in `out`, as `clearsim replay
    /// --out` does.
    #[pyo3(signature = (out, csv=true, parquet=true))]
    fn write(&self, py: Python<'_>, out: PathBuf, csv: bool, parquet: bool) -> PyResult<()> {
        let inner = Arc::clone(&self.inner);
        crate::control::run(py, None, move |_| {
            let set = job::output_set(&out)?;
            let r = &*inner;
            let files = (r.files.0.as_str(), r.files.1.as_str());
            job::publish(
                set,
                (&r.day, &r.route, &r.replay),
                files,
                Formats { csv, parquet },
                Vec::new(),
            )
            .map(drop)
        })
    }
}

/// A column that may hold nulls, whether or not this one does.
fn nullable(column: Column) -> Column {
    (column.0, true, column.2, column.3, column.4)
}

/// A `string` column of `rows` cells (`large_string` past 2 GiB).
fn text_column<'a>(
    py: Python<'_>,
    rows: usize,
    cell: impl Fn(usize) -> &'a [u8],
) -> PyResult<Column> {
    let total: usize = (0..rows).map(|r| cell(r).len()).sum();
    let wide = i32::try_from(total).is_err();
    let width = if wide { 8 } else { 4 };
    let offsets = PyBytes::new_with(py, width * (rows + 1), |buffer| {
        let mut at = 0i64;
        buffer[..width].fill(0);
        for (r, slot) in buffer[width..].chunks_exact_mut(width).enumerate() {
            at += cell(r).len() as i64;
            // Narrow only when the total fits in i32 (`wide` otherwise).
            slot.copy_from_slice(&at.to_le_bytes()[..width]);
        }
        Ok(())
    })?;
    let data = PyBytes::new_with(py, total, |buffer| {
        let mut at = 0;
        for r in 0..rows {
            let bytes = cell(r);
            buffer[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        }
        Ok(())
    })?;
    let kind = if wide { "large_string" } else { "string" };
    Ok((kind, false, None, Some(offsets.unbind()), data.unbind()))
}

/// An `int64` column of `rows` values, with a validity bitmap when some
/// are null.
fn int_column(
    py: Python<'_>,
    rows: usize,
    value: impl Fn(usize) -> Option<i64>,
) -> PyResult<Column> {
    let nulls = (0..rows).any(|r| value(r).is_none());
    let validity = if nulls {
        Some(
            PyBytes::new_with(py, rows.div_ceil(8), |bits| {
                for r in 0..rows {
                    if value(r).is_some() {
                        bits[r / 8] |= 1 << (r % 8);
                    }
                }
                Ok(())
            })?
            .unbind(),
        )
    } else {
        None
    };
    let values = PyBytes::new_with(py, 8 * rows, |buffer| {
        for (r, slot) in buffer.chunks_exact_mut(8).enumerate() {
            slot.copy_from_slice(&value(r).unwrap_or(0).to_le_bytes());
        }
        Ok(())
    })?;
    Ok(("int64", nulls, validity, None, values.unbind()))
}
