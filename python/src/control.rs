//! Running a job off the calling thread: the GIL released, progress
//! reported and Ctrl-C honoured from the thread Python gave us.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use clearsim_jobs::JobError;
use pyo3::prelude::*;

/// What a running job and its caller share.
#[derive(Default)]
pub struct Control {
    /// Runs the job will do (0 until known).
    pub total: AtomicUsize,
    pub done: AtomicUsize,
    /// Set on Ctrl-C: the job starts no new run.
    pub stop: AtomicBool,
}

impl Control {
    pub fn set_total(&self, total: usize) {
        self.total.store(total, Ordering::Relaxed);
    }

    pub fn tick(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }
}

/// How often the caller wakes to check for Ctrl-C and show progress.
const POLL: Duration = Duration::from_millis(100);

/// Runs `job` on a thread of its own and waits for it with the GIL
/// released, waking every [`POLL`] to run Python's signal handlers (a
/// Ctrl-C raises `KeyboardInterrupt` at once and tells the job to stop;
/// what it was doing is dropped, nothing is published) and to call
/// `progress(done, total)` when it moved.
pub fn run<T: Send + 'static>(
    py: Python<'_>,
    progress: Option<Py<PyAny>>,
    job: impl FnOnce(&Control) -> Result<T, JobError> + Send + 'static,
) -> PyResult<T> {
    let control = Arc::new(Control::default());
    let (sender, mut receiver) = std::sync::mpsc::sync_channel(1);
    let shared = Arc::clone(&control);
    std::thread::Builder::new()
        .name("clearsim-job".into())
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&shared)))
                .unwrap_or_else(|_| Err(JobError::Bug("the job panicked".into())));
            // The caller may have gone (Ctrl-C): nobody to tell.
            let _ = sender.send(result);
        })
        .map_err(|e| crate::InternalError::new_err(format!("cannot start a thread: {e}")))?;
    let mut shown = (usize::MAX, usize::MAX);
    // Bounded by the job's length: each turn waits POLL or ends.
    loop {
        let (waited, back) = py.detach(move || (receiver.recv_timeout(POLL), receiver));
        receiver = back;
        let now = (
            control.done.load(Ordering::Relaxed),
            control.total.load(Ordering::Relaxed),
        );
        if let Some(progress) = &progress
            && now != shown
        {
            progress.call1(py, now)?;
            shown = now;
        }
        match waited {
            Ok(result) => return result.map_err(crate::raised),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(crate::InternalError::new_err(
                    "the job ended without a result",
                ));
            }
        }
        if let Err(interrupt) = py.check_signals() {
            control.stop.store(true, Ordering::Relaxed);
            return Err(interrupt);
        }
    }
}
