//! `fit` from Python: a scenario fitted to a day (or days) of payments by
//! the same job as `clearsim fit`; its files handed back as the command
//! line writes them.

use std::path::PathBuf;
use std::sync::Arc;

use clearsim_jobs::JobError;
use clearsim_jobs::fit::{self as job, FitInputs, FitOutcome};
use clearsim_jobs::replay as replay_job;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::replay::{Table, parse_tables, settlement};

/// A fit and the lines that say what it read.
struct Fitted {
    outcome: FitOutcome,
    context: Vec<String>,
}

/// Fits a scenario to two tables (see `clearsim.fit`): `options` holds
/// `day_end`; `fit` is (`instrument_column`, `name`, `twin_days`).
#[pyfunction]
#[pyo3(signature = (participants, payments, options=None, fit=(false, "fitted".to_string(), 5, false), progress=None))]
pub fn fit(
    py: Python<'_>,
    participants: &Bound<'_, PyAny>,
    payments: &Bound<'_, PyAny>,
    options: Option<&Bound<'_, PyDict>>,
    fit: (bool, String, u32, bool),
    progress: Option<Py<PyAny>>,
) -> PyResult<NativeFit> {
    let options = settlement(options)?;
    let participants = Table::from_python(participants)?;
    let payments = Table::from_python(payments)?;
    let (by_instrument, name, twin_days, observed_pairs) = fit;
    let fitted = crate::control::run(py, progress, move |control| {
        control.set_total(1);
        let (day, files) = parse_tables(&participants, &payments, &options)?;
        let inputs = FitInputs {
            day: &day,
            names: (&files.0, &files.1),
            options: clearsim_model::fit::Options {
                by_instrument,
                observed_pairs,
            },
            name: &name,
            twin_days,
        };
        let outcome = job::fit(&inputs)?;
        let context = job::context(&inputs, &outcome.fitted);
        control.tick();
        Ok::<_, JobError>(Fitted { outcome, context })
    })?;
    Ok(NativeFit {
        inner: Arc::new(fitted),
    })
}

/// The outcome of `fit`, behind `clearsim.Fit`.
#[pyclass(frozen, module = "clearsim._native")]
pub struct NativeFit {
    inner: Arc<Fitted>,
}

#[pymethods]
impl NativeFit {
    /// scenario.toml, as `clearsim fit` writes it.
    fn scenario_toml(&self) -> String {
        self.inner.outcome.scenario_toml.clone()
    }

    /// fit.csv, twin.csv, fit.md and fit.html.
    fn tables<'py>(&self, py: Python<'py>) -> Vec<(&'static str, Bound<'py, PyBytes>)> {
        let outcome = &self.inner.outcome;
        clearsim_report::fit::fit_files(&outcome.fitted, &outcome.twin, self.inner.context.clone())
            .into_iter()
            .map(|(name, bytes)| (name, PyBytes::new(py, &bytes)))
            .collect()
    }

    /// Publishes the output set in `out`, as `clearsim fit --out` does.
    fn write(&self, py: Python<'_>, out: PathBuf) -> PyResult<()> {
        let inner = Arc::clone(&self.inner);
        crate::control::run(py, None, move |_| {
            let set = replay_job::output_set(&out)?;
            job::publish(set, &inner.outcome, inner.context.clone())
        })
    }
}
