//! One error for every job: whose fault it is, and a message that says
//! each cause once.

use clearsim_core::{Blame, Blamed};

/// Why a job gave no result.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The user's to fix: an input, an option, an output that cannot be
    /// written.
    #[error("{0}")]
    User(String),
    /// A bug or a broken invariant.
    #[error("{0}")]
    Bug(String),
    /// Stopped on request (Ctrl-C in Python) before it finished; nothing
    /// was published.
    #[error("interrupted: stopped before every run was done")]
    Interrupted,
}

impl JobError {
    /// The user's mistake, with its message.
    pub fn user(message: impl std::fmt::Display) -> JobError {
        JobError::User(message.to_string())
    }

    /// A library error, classified by its [`Blame`], its causes said once.
    pub fn of<E: Blamed + std::error::Error + 'static>(error: E) -> JobError {
        if matches!(
            (&error as &dyn std::any::Any).downcast_ref::<clearsim_study::StudyError>(),
            Some(clearsim_study::StudyError::Interrupted)
        ) {
            return JobError::Interrupted;
        }
        let message = said_once(&error);
        match error.blame() {
            Blame::User => JobError::User(message),
            // Python has no exit code: a failing disk is an internal error
            // to it, with the disk's message.
            Blame::Bug | Blame::System => JobError::Bug(message),
        }
    }

    /// The same error with `prefix: ` in front of its message.
    pub fn within(self, prefix: impl std::fmt::Display) -> JobError {
        match self {
            JobError::User(m) => JobError::User(format!("{prefix}: {m}")),
            JobError::Bug(m) => JobError::Bug(format!("{prefix}: {m}")),
            JobError::Interrupted => JobError::Interrupted,
        }
    }
}

impl Blamed for JobError {
    fn blame(&self) -> Blame {
        match self {
            JobError::User(_) | JobError::Interrupted => Blame::User,
            JobError::Bug(_) => Blame::Bug,
        }
    }
}

/// An error and its causes, each said once: a cause whose text the
/// message already holds (a library error that shows its source, wrapped
/// with context that shows it again) is not repeated.
pub fn said_once(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = String::new();
    let mut cause = Some(error);
    // Bounded by the length of the source chain.
    while let Some(current) = cause {
        let said = current.to_string();
        if !text.contains(&said) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&said);
        }
        cause = current.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_are_said_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("j/journal.bin: {0}")]
        struct Shown(#[source] std::io::Error);
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        assert_eq!(said_once(&Shown(io)), "j/journal.bin: No such file");
    }
}
