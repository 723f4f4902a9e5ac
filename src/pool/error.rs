//! [`PoolError`], what a pool's calls return when something went wrong, and [`task_error`], which
//! names a failed task in it.

use std::time::Duration;

use crate::pi::PiError;
use crate::process::tasks::{self, TaskFailure};
use crate::process::{ProcessError, Types};

/// What went wrong in a pool: bad input, a closed pool, a timeout, or a task that failed.
///
/// A task's error names its index (its position in `map`'s input; 0 for `apply`) and its task.
///
/// A failure that has an error underneath keeps it: [`source`](std::error::Error::source) returns
/// it (the [`ProcessError`] of a worker that could not start, the [`PiError`] of bad samples).
///
/// # Examples
/// ```
/// use parlab::pool::PoolError;
/// let e = PoolError::Panicked { index: 3, task: "calc_pi".into(), worker: "worker process 42".into(), message: "boom".into() };
/// assert_eq!(e.to_string(), "task 3 (calc_pi) panicked in worker process 42: boom");
/// assert_eq!(e.index(), Some(3));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PoolError {
    /// A bad argument: 0 workers, a chunk size of 0, `join` before `close`.
    #[error("{0}")]
    Invalid(String),
    /// Bad samples or estimates (0 samples, no estimates to combine) in code that runs pool
    /// tasks: the [`PiError`], which is also the source.
    #[error("{0}")]
    Pi(#[from] PiError),
    /// A task was submitted after `close` or `terminate`.
    #[error("the pool is closed: no new tasks after close() or terminate()")]
    Closed,
    /// The pool was terminated before the task finished.
    #[error("task {index} ({task}) did not finish: the pool was terminated")]
    Terminated {
        /// The task's index.
        index: usize,
        /// The task's name.
        task: String,
    },
    /// Nothing arrived in time (the task keeps running; ask again or terminate the pool).
    #[error("{what}: nothing within {:.3} s", after.as_secs_f64())]
    Timeout {
        /// What was waited for.
        what: String,
        /// The timeout.
        after: Duration,
    },
    /// The task panicked; the worker lives on.
    #[error("task {index} ({task}) panicked in {worker}: {message}")]
    Panicked {
        /// The task's index.
        index: usize,
        /// The task's name.
        task: String,
        /// Which worker, e.g. `worker process 4242` or `worker thread 2`.
        worker: String,
        /// The panic message, and where it happened when known.
        message: String,
    },
    /// The worker process running the task died (abort, a signal, an exit); the cause says whether
    /// a new one replaced it.
    #[error("task {index} ({task}) was lost: {cause}")]
    WorkerDied {
        /// The task's index.
        index: usize,
        /// The task's name.
        task: String,
        /// How the worker ended and what followed, e.g. `worker 4242 was killed by SIGKILL; a new
        /// worker took its place`.
        cause: String,
    },
    /// The task could not run or its result is unusable: an unknown task, arguments of the wrong
    /// type, a result that is not the type asked for.
    #[error("task {index} ({task}) failed: {message}")]
    Failed {
        /// The task's index.
        index: usize,
        /// The task's name.
        task: String,
        /// What is wrong.
        message: String,
    },
    /// A worker could not be started (the binary is missing, the system refused, the initializer
    /// failed).
    #[error("could not start a pool worker: {what}")]
    Start {
        /// What went wrong, the message of its source included, e.g. `the initializer failed:
        /// task 0 (panic) panicked in worker thread 1: no`.
        what: String,
        /// The error underneath, if there is one: the [`ProcessError`] of starting or greeting
        /// the worker process, the system's `io::Error`, the initializer's [`PoolError`].
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl PoolError {
    /// The index of the task the error is about, if it is about one.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::pool::PoolError::Closed.index(), None);
    /// ```
    pub fn index(&self) -> Option<usize> {
        match self {
            PoolError::Terminated { index, .. }
            | PoolError::Panicked { index, .. }
            | PoolError::WorkerDied { index, .. }
            | PoolError::Failed { index, .. } => Some(*index),
            _ => None,
        }
    }

    /// A [`PoolError::Start`]: `what` failed because of `source`, whose message follows.
    pub(crate) fn start_from(
        what: &str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        PoolError::Start {
            what: format!("{what}: {source}"),
            source: Some(Box::new(source)),
        }
    }

    /// A [`PoolError::Start`] with no error underneath (only the process pool, which needs Unix, has one).
    #[cfg(unix)]
    pub(crate) fn start(what: impl Into<String>) -> Self {
        PoolError::Start {
            what: what.into(),
            source: None,
        }
    }
}

/// A worker process that could not be started or greeted: [`PoolError::Start`], with the
/// [`ProcessError`] as its source.
impl From<ProcessError> for PoolError {
    fn from(e: ProcessError) -> Self {
        PoolError::Start {
            what: e.to_string(),
            source: Some(Box::new(e)),
        }
    }
}

/// Turns a task's failure into the error of task `index` of `task` (whose handle has `types`;
/// none for a closure), run by `worker`.
pub(crate) fn task_error(
    task: &str,
    types: Option<Types>,
    index: usize,
    worker: &str,
    failure: TaskFailure,
) -> PoolError {
    let failed = |message| PoolError::Failed {
        index,
        task: task.to_string(),
        message,
    };
    match failure {
        TaskFailure::Panicked(message) => PoolError::Panicked {
            index,
            task: task.to_string(),
            worker: worker.to_string(),
            message,
        },
        TaskFailure::UnknownTask { name, known } => failed(format!(
            "unknown task `{name}`; known tasks: {}",
            known.join(", ")
        )),
        TaskFailure::WrongSignature { worker, shapes, .. } => failed(format!(
            "the task takes {worker} in the worker, but the handle used here says {}{}: {}",
            types.map_or_else(|| "?".into(), |t| t.text()),
            types
                .map(|t| t.differences_clause(shapes.as_deref()))
                .unwrap_or_default(),
            crate::process::WRONG_SIGNATURE_HINT
        )),
        TaskFailure::Unavailable {
            task: name,
            message,
        } => failed(format!("task `{name}` cannot run: {message}")),
        TaskFailure::BadArgs {
            task: name,
            message,
        } => {
            let takes = tasks::TASKS
                .iter()
                .find(|t| t.name == name)
                .map(|t| format!(" (it takes {})", t.signature()))
                .unwrap_or_default();
            failed(format!(
                "the arguments are not what the task takes{takes}: {message}"
            ))
        }
        TaskFailure::BadResult(message) => failed(format!("the result is unusable: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn task_errors_name_the_index_and_the_signature() {
        let e = task_error(
            "calc_pi",
            Some(tasks::CALC_PI.types()),
            5,
            "worker thread 1",
            TaskFailure::BadArgs {
                task: "calc_pi".into(),
                message: "unexpected end".into(),
            },
        );
        let text = e.to_string();
        assert!(text.starts_with("task 5 (calc_pi) failed"), "{text}");
        assert!(
            text.contains("(it takes (u64, u64) -> PiEstimate)"),
            "{text}"
        );
        let e = task_error(
            "calc_pi",
            Some(Types::of::<(i32, i32), crate::pi::PiEstimate>()),
            0,
            "w",
            TaskFailure::WrongSignature {
                task: "calc_pi".into(),
                worker: "(u64, u64) -> PiEstimate".into(),
                shapes: Some(Box::new(tasks::CALC_PI.types().shapes())),
            },
        );
        assert!(
            e.to_string().contains(
                "takes (u64, u64) -> PiEstimate in the worker, but the handle used here says \
                 (i32, i32) -> PiEstimate (field 0: u64 in the worker, i32 here; field 1: u64 in \
                 the worker, i32 here)"
            ),
            "{e}"
        );
        let e = task_error(
            "x",
            None,
            0,
            "w",
            TaskFailure::UnknownTask {
                name: "x".into(),
                known: vec!["a".into()],
            },
        );
        assert!(e.to_string().contains("known tasks: a"));
        assert_eq!(e.index(), Some(0));
    }

    #[test]
    fn a_failed_start_keeps_its_cause() {
        let missing = ProcessError::WorkerMissing {
            path: "/nonexistent/parlab-worker".into(),
        };
        let text = missing.to_string();
        let e = PoolError::from(missing);
        assert_eq!(
            e.to_string(),
            format!("could not start a pool worker: {text}")
        );
        let cause = e.source().expect("a source");
        assert!(
            matches!(
                cause.downcast_ref::<ProcessError>(),
                Some(ProcessError::WorkerMissing { .. })
            ),
            "{cause:?}"
        );

        let refused = std::io::Error::from(std::io::ErrorKind::WouldBlock);
        let e = PoolError::start_from("could not start a thread", refused);
        assert!(
            e.to_string()
                .starts_with("could not start a pool worker: could not start a thread: "),
            "{e}"
        );
        let io = e.source().and_then(|c| c.downcast_ref::<std::io::Error>());
        assert_eq!(
            io.map(std::io::Error::kind),
            Some(std::io::ErrorKind::WouldBlock)
        );
        assert!(
            PoolError::start("the pool was terminated")
                .source()
                .is_none()
        );
    }

    #[test]
    fn bad_samples_keep_the_pi_error() {
        let e = PoolError::from(PiError::ZeroSamples);
        assert_eq!(e.to_string(), PiError::ZeroSamples.to_string());
        let cause = e.source().and_then(|c| c.downcast_ref::<PiError>());
        assert_eq!(cause, Some(&PiError::ZeroSamples));
    }
}
