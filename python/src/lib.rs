//! The native module behind `import clearsim`: each function runs one of
//! clearsim's jobs (`clearsim_jobs`) on Rust threads with the GIL
//! released, while the calling thread watches for Ctrl-C and reports
//! progress. Tables cross as Arrow buffers; summaries as the JSON the
//! command line saves, byte for byte.

mod control;
mod days;
mod fit;
mod replay;
mod study;

use pyo3::prelude::*;

pyo3::create_exception!(
    _native,
    InputError,
    pyo3::exceptions::PyValueError,
    "The user's input is wrong: a file, row or field, an option, a config. The message names it as the command line does."
);
pyo3::create_exception!(
    _native,
    InternalError,
    pyo3::exceptions::PyRuntimeError,
    "A bug in clearsim, not a fault of the input: please report it with the call that failed."
);

/// A job's error as the Python exception of its kind.
fn raised(error: clearsim_jobs::JobError) -> PyErr {
    use clearsim_jobs::JobError;
    match error {
        JobError::User(message) => InputError::new_err(message),
        JobError::Bug(message) => InternalError::new_err(message),
        JobError::Interrupted => pyo3::exceptions::PyKeyboardInterrupt::new_err("interrupted"),
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("InputError", m.py().get_type::<InputError>())?;
    m.add("InternalError", m.py().get_type::<InternalError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<replay::NativeReplay>()?;
    m.add_function(wrap_pyfunction!(replay::replay, m)?)?;
    m.add_class::<days::NativeDays>()?;
    m.add_function(wrap_pyfunction!(days::replay_days, m)?)?;
    m.add_class::<fit::NativeFit>()?;
    m.add_function(wrap_pyfunction!(fit::fit, m)?)?;
    m.add_function(wrap_pyfunction!(study::study, m)?)?;
    m.add_function(wrap_pyfunction!(study::plan, m)?)?;
    m.add_function(wrap_pyfunction!(study::optimise, m)?)?;
    m.add_function(wrap_pyfunction!(study::merge, m)?)?;
    m.add_function(wrap_pyfunction!(study::read_summary, m)?)?;
    m.add_function(wrap_pyfunction!(study::publish, m)?)?;
    m.add_function(wrap_pyfunction!(study::generate, m)?)?;
    Ok(())
}
