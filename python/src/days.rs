//! `replay_days` from Python: a dated table (a `date` column) replayed
//! day by day by the same job as `clearsim replay` of a dated file; its
//! tables handed back as the CSV files the command line writes.

use std::path::PathBuf;
use std::sync::Arc;

use clearsim_jobs::JobError;
use clearsim_jobs::days::{Carry, DaysReplayed};
use clearsim_jobs::replay as job;
use clearsim_model::input::Day;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::replay::{Table, parse_tables, settlement};

/// The dated file and its days, kept for its tables and report.
struct Replayed {
    whole: Day,
    days: DaysReplayed,
}

/// How the days are chained: `carry_balances`, `carry_queue`, and an
/// openings CSV file (`date,id,opening_balance,credit_limit`).
fn days_job(
    participants: &Table,
    payments: &Table,
    options: &job::Settlement,
    carry: (bool, bool, Option<PathBuf>),
) -> Result<Replayed, JobError> {
    let (whole, files) = parse_tables(participants, payments, options)?;
    if !whole.is_dated() {
        return Err(JobError::user(format!(
            "{}: no `date` column: one business day, which clearsim.replay replays",
            files.1
        )));
    }
    let (balances, queue, openings_path) = carry;
    let openings_file = openings_path.as_ref().map(|p| p.display().to_string());
    let openings = match &openings_path {
        None => None,
        Some(path) => {
            let name = path.display().to_string();
            let bytes = clearsim_model::input::read_regular(path)
                .map_err(|e| JobError::user(format!("{name}: cannot read: {e}")))?;
            let parsed = clearsim_model::input::parse_openings(
                &name,
                &bytes,
                &whole.participants,
                &whole.payments.dates,
            );
            Some(parsed.map_err(JobError::of)?)
        }
    };
    let carry = Carry {
        openings: openings.as_ref(),
        balances,
        queue,
    };
    let days = DaysReplayed::replay(
        &whole,
        options,
        carry,
        (&files.0, &files.1),
        openings_file.as_deref(),
    )?;
    Ok(Replayed { whole, days })
}

/// Replays a dated table day by day (see `clearsim.replay_days`).
#[pyfunction]
#[pyo3(signature = (participants, payments, options=None, carry=(false, false, None), progress=None))]
pub fn replay_days(
    py: Python<'_>,
    participants: &Bound<'_, PyAny>,
    payments: &Bound<'_, PyAny>,
    options: Option<&Bound<'_, PyDict>>,
    carry: (bool, bool, Option<PathBuf>),
    progress: Option<Py<PyAny>>,
) -> PyResult<NativeDays> {
    let options = settlement(options)?;
    let participants = Table::from_python(participants)?;
    let payments = Table::from_python(payments)?;
    let replayed = crate::control::run(py, progress, move |control| {
        control.set_total(1);
        let replayed = days_job(&participants, &payments, &options, carry);
        control.tick();
        replayed
    })?;
    Ok(NativeDays {
        inner: Arc::new(replayed),
    })
}

/// The outcome of `replay_days`, behind `clearsim.Days`.
#[pyclass(frozen, module = "clearsim._native")]
pub struct NativeDays {
    inner: Arc<Replayed>,
}

#[pymethods]
impl NativeDays {
    /// `summary.json` as the command line writes it.
    fn summary_json(&self) -> PyResult<String> {
        let r = &*self.inner;
        let bytes = r.days.summary_json(&r.whole).map_err(crate::raised)?;
        String::from_utf8(bytes).map_err(|e| crate::InternalError::new_err(e.to_string()))
    }

    /// settlements.csv, balances.csv and days.csv as the command line
    /// writes them.
    fn tables<'py>(&self, py: Python<'py>) -> PyResult<Vec<(&'static str, Bound<'py, PyBytes>)>> {
        let r = &*self.inner;
        let tables = r.days.tables(&r.whole).map_err(crate::raised)?;
        Ok(tables
            .into_iter()
            .map(|(name, bytes)| (name, PyBytes::new(py, &bytes)))
            .collect())
    }

    /// Publishes the output set in `out`, as `clearsim replay --out` does
    /// for a dated file.
    fn write(&self, py: Python<'_>, out: PathBuf) -> PyResult<()> {
        let inner = Arc::clone(&self.inner);
        crate::control::run(py, None, move |_| {
            let set = job::output_set(&out)?;
            inner.days.publish(set, &inner.whole, Vec::new())
        })
    }
}
