//! Running a task by its id in this process: a task of the catalogue by name, or a notebook
//! cell's function from its library.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::catalogue::{ENDS_THE_PROCESS, names, run_named};
use super::cell;
use super::items;
use super::task::{Signature, Task, TaskId};
use super::wire::{TaskFailure, decode_outcomes};

/// Runs `task` on `args` in this process, through the same encoding a worker uses.
///
/// # Errors
/// Why the task gave no result: [`TaskFailure::UnknownTask`], [`TaskFailure::WrongSignature`],
/// [`TaskFailure::Panicked`] (caught quietly), ...
///
/// # Examples
/// ```
/// use parlab::process::tasks::{self, TaskFailure};
/// assert!(matches!(tasks::run_here(&tasks::PANIC, &"no".into()), Err(TaskFailure::Panicked(m)) if m.starts_with("no")));
/// ```
pub fn run_here<A, R>(task: &Task<A, R>, args: &A) -> Result<R, TaskFailure>
where
    A: Serialize + DeserializeOwned + 'static,
    R: DeserializeOwned + 'static,
{
    let mut bytes = Vec::new();
    items::push_encoded(&mut bytes, args).map_err(|e| TaskFailure::BadArgs {
        task: task.name(),
        message: format!("the arguments do not serialize: {e}"),
    })?;
    let out = run_chunk_here(task.id(), task.signature(), &bytes, 1)?;
    let mut outcomes = decode_outcomes::<R>(&out, 1);
    outcomes.remove(0)
}

/// [`run_chunk`] in this process (a thread pool, [`run_here`]): a task that would end this
/// process is refused with why.
///
/// # Errors
/// As [`run_chunk`]; [`TaskFailure::Unavailable`] for a task in [`ENDS_THE_PROCESS`].
pub(crate) fn run_chunk_here(
    task: &TaskId,
    signature: Signature,
    args: &[u8],
    count: usize,
) -> Result<Vec<u8>, TaskFailure> {
    if let TaskId::Named(name) = task {
        if ENDS_THE_PROCESS.contains(&name.as_ref()) {
            return Err(TaskFailure::Unavailable {
                task: name.to_string(),
                message: format!(
                    "`{name}` ends the process that runs it, and this runs tasks in this very \
                     process (in a notebook, the kernel), which would end without a word; a \
                     ProcessPool (or process::spawn) runs it safely: its worker process ends, \
                     the call gets an error, and the pool starts a new worker"
                ),
            });
        }
    }
    run_chunk(task, signature, args, count)
}

/// Runs `count` calls of a task on arguments sent as a run of items (see `items`); returns their
/// outcomes as a run of items, each a postcard `Result<R, TaskFailure>`.
///
/// # Errors
/// Why no call could run: an unknown task, a wrong signature, a cell task that cannot be loaded.
pub(crate) fn run_chunk(
    task: &TaskId,
    signature: Signature,
    args: &[u8],
    count: usize,
) -> Result<Vec<u8>, TaskFailure> {
    match task {
        TaskId::Named(name) => run_named(name, signature, args, count).unwrap_or_else(|| {
            Err(TaskFailure::UnknownTask {
                name: name.to_string(),
                known: names().into_iter().map(String::from).collect(),
            })
        }),
        TaskId::Library { path, symbol } => cell::run(path, symbol, signature, args, count),
    }
}
