//! The result of an `apply_async` or `map_async` call, to come: [`AsyncResult`], Python's
//! `AsyncResult`, waiting on its call's [`Batch`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::PoolError;
use super::batch::{Ahead, Batch, ChunkOutcome, Decode, Decoded, Values, deadline, is_lost};

/// What waits at most a timeout for a batch and turns it into the call's result: a closure that
/// makes the result's values and hands them to [`decode_chunks`], so that the chunks' outcomes are
/// never owned (nor dropped) by code generic in the result type.
type Finish<T> = Box<dyn Fn(&Batch, Duration) -> Result<T, PoolError> + Send + Sync>;

/// The result of an `apply_async` or `map_async` call, to come: Python's `AsyncResult`.
///
/// [`get`](AsyncResult::get) waits with a timeout; [`ready`](AsyncResult::ready) and
/// [`wait`](AsyncResult::wait) do not take the value. Dropping it does not cancel the tasks.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use parlab::pool::{Pool, ThreadPool};
/// use parlab::process::tasks;
/// let threads = ThreadPool::new(1)?;
/// let slow = threads.apply_async(tasks::SLEEP, &200)?;
/// assert!(!slow.ready());
/// assert!(slow.get(Duration::from_millis(10)).is_err()); // a timeout: ask again later
/// slow.get(Duration::from_secs(5))?;
/// # Ok::<(), parlab::pool::PoolError>(())
/// ```
#[must_use = "the tasks run anyway; call get() to see their results or errors"]
pub struct AsyncResult<T> {
    batch: Arc<Batch>,
    finish: Finish<T>,
}

impl<T> std::fmt::Debug for AsyncResult<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.batch.lock();
        f.debug_struct("AsyncResult")
            .field("task", &self.batch.task)
            .field("tasks", &self.batch.len)
            .field("running", &self.batch.tasks_running(&state))
            .finish()
    }
}

impl<R: 'static> AsyncResult<R> {
    /// The result of a single task (`apply_async`, `apply_fn_async`).
    pub(crate) fn one(batch: Arc<Batch>, decode: Decode<R>) -> Self {
        AsyncResult {
            batch,
            finish: Box::new(move |batch, timeout| {
                let mut one = Values::new(decode, 1);
                decode_chunks(batch, timeout, &mut one)?;
                if one.values.is_empty() {
                    return Err(no_task());
                }
                Ok(one.values.swap_remove(0))
            }),
        }
    }
}

impl<R: 'static> AsyncResult<Vec<R>> {
    /// The results of every task, in order (`map_async`, `map_fn`).
    pub(crate) fn all(batch: Arc<Batch>, decode: Decode<R>) -> Self {
        AsyncResult {
            batch,
            finish: Box::new(move |batch, timeout| {
                let mut all = Values::new(decode, batch.len);
                decode_chunks(batch, timeout, &mut all)?;
                Ok(all.values)
            }),
        }
    }
}

/// The error of a result without a task. Non-generic (as [`decode_chunks`]), so that a notebook
/// cell, which compiles every generic function it calls again, does not compile it.
#[inline(never)]
fn no_task() -> PoolError {
    PoolError::Invalid("no task in this result".into())
}

/// Waits at most `timeout` for every task of `batch`, decoding the chunks that arrive meanwhile
/// (see [`Batch::decode_ahead`]), then decodes the rest (once) into `into`: what
/// [`AsyncResult::get`] does but for its result's type.
#[inline(never)]
fn decode_chunks(
    batch: &Batch,
    timeout: Duration,
    into: &mut dyn Decoded,
) -> Result<(), PoolError> {
    let deadline = deadline(timeout);
    let ahead = match batch.chunks() {
        1 => None, // nothing to decode while the others run
        _ => Some(batch.decode_ahead(deadline, into)),
    };
    let chunks = take_chunks(batch, timeout, deadline)?;
    match ahead {
        Some(Ahead {
            error: Some(error), ..
        }) => Err(error),
        Some(Ahead { chunks: done, .. }) => batch.decode_all(done, chunks, into),
        None => batch.decode_all(0, chunks, into),
    }
}

/// Waits until `deadline` for every task of `batch`, then takes the outcomes of its chunks
/// (once); a timeout says it waited `timeout`.
fn take_chunks(
    batch: &Batch,
    timeout: Duration,
    deadline: Instant,
) -> Result<Vec<ChunkOutcome>, PoolError> {
    let Some(mut state) = batch.wait_until(deadline, |s| s.remaining == 0 || s.lost) else {
        let state = batch.lock();
        let hint = format!(
            "{} of {} tasks still running",
            batch.tasks_running(&state),
            batch.len
        );
        return Err(batch.timeout(timeout, &hint));
    };
    if state.taken {
        return Err(PoolError::Invalid(
            "the result was already taken by an earlier get()".into(),
        ));
    }
    state.taken = true;
    if state.remaining > 0 {
        // A worker died: say so now rather than after the other tasks (they run on).
        let lost = state.chunks.iter_mut().find_map(|slot| match slot {
            Some(ChunkOutcome::Failed(errors)) if errors.iter().any(is_lost) => {
                let errors = std::mem::take(errors);
                errors.into_iter().find(is_lost)
            }
            _ => None,
        });
        return Err(lost.unwrap_or_else(|| PoolError::Invalid("a result went missing".into())));
    }
    let mut chunks = Vec::with_capacity(state.chunks.len());
    for slot in state.chunks.iter_mut() {
        match slot.take() {
            Some(outcome) => chunks.push(outcome),
            None => return Err(PoolError::Invalid("a result went missing".into())),
        }
    }
    Ok(chunks)
}

impl<T> AsyncResult<T> {
    /// Waits at most `timeout` for every task, then returns the result (once: it is moved out).
    ///
    /// # Errors
    /// [`PoolError::Timeout`] (the tasks keep running: call `get` again),
    /// [`PoolError::WorkerDied`] as soon as a worker dies running one of the tasks (the others run
    /// on), else the first task error by index once all have finished, [`PoolError::Invalid`] if an earlier `get` took the result.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use parlab::pool::{Pool, ThreadPool};
    /// use parlab::process::tasks;
    /// let threads = ThreadPool::new(2)?;
    /// let r = threads.map_async(tasks::echo(), [1u8, 2], None)?;
    /// assert_eq!(r.get(Duration::from_secs(5))?, [1, 2]);
    /// assert!(r.get(Duration::from_secs(5)).is_err()); // already taken
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn get(&self, timeout: Duration) -> Result<T, PoolError> {
        (self.finish)(&self.batch, timeout)
    }

    /// Whether every task has finished (Python's `ready()`).
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// let r = ThreadPool::new(1)?.apply_async(parlab::process::tasks::PID, &())?;
    /// r.wait(std::time::Duration::from_secs(5));
    /// assert!(r.ready());
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn ready(&self) -> bool {
        self.batch.ready()
    }

    /// Waits at most `timeout` for every task to finish; returns whether they have.
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// let r = ThreadPool::new(1)?.apply_async(parlab::process::tasks::SLEEP, &50)?;
    /// assert!(r.wait(std::time::Duration::from_secs(5)));
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn wait(&self, timeout: Duration) -> bool {
        self.batch.wait(timeout)
    }

    /// `Some(true)` if every task succeeded, `Some(false)` if one failed, `None` while some run.
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// let r = ThreadPool::new(1)?.apply_async(parlab::process::tasks::PANIC, &"no".into())?;
    /// r.wait(std::time::Duration::from_secs(5));
    /// assert_eq!(r.successful(), Some(false));
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn successful(&self) -> Option<bool> {
        self.batch.successful()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::batch::task_values;
    use crate::pool::batch::tests_support::{batch, encoded};

    #[test]
    fn get_waits_then_takes_once() {
        let b = batch(3, 2);
        let r = AsyncResult::<Vec<u32>>::all(Arc::clone(&b), task_values::<u32>());
        assert!(!r.ready());
        assert_eq!(r.successful(), None);
        let e = r.get(Duration::from_millis(5)).unwrap_err();
        assert!(e.to_string().contains("3 of 3 tasks still running"), "{e}");
        b.complete(1, encoded(&[30u32]));
        b.complete(0, encoded(&[10u32, 20]));
        assert_eq!(r.successful(), Some(true));
        assert_eq!(r.get(Duration::from_secs(1)).unwrap(), [10, 20, 30]);
        assert!(matches!(
            r.get(Duration::from_secs(1)),
            Err(PoolError::Invalid(_))
        ));
    }

    #[test]
    fn first_error_by_index_and_wrong_types() {
        let b = batch(3, 1);
        let r = AsyncResult::<Vec<u8>>::all(Arc::clone(&b), task_values::<u8>());
        for i in [1, 2] {
            b.complete(
                i,
                ChunkOutcome::Failed(vec![PoolError::Terminated {
                    index: i,
                    task: "echo".into(),
                }]),
            );
        }
        b.complete(0, encoded(&["not a u8"]));
        assert_eq!(r.successful(), Some(false));
        let e = r.get(Duration::from_secs(1)).unwrap_err();
        assert_eq!(e.index(), Some(0));
        assert!(e.to_string().contains("does not decode as a u8"), "{e}");
        let b = batch(1, 1);
        let r = AsyncResult::<u8>::one(Arc::clone(&b), None);
        b.complete(0, ChunkOutcome::Values(vec![Ok(Box::new("text"))]));
        assert!(r.get(Duration::from_secs(1)).is_err());
    }

    #[test]
    fn chunks_decoded_ahead_count_once_after_a_timeout() {
        let b = batch(5, 1);
        let r = AsyncResult::<Vec<u32>>::all(Arc::clone(&b), task_values::<u32>());
        b.complete(0, encoded(&[0u32]));
        b.complete(1, encoded(&[1u32]));
        b.complete(3, encoded(&[3u32]));
        // Chunks 0 and 1 are decoded ahead, then the wait for chunk 2 times out: nothing is kept.
        let e = r.get(Duration::from_millis(20)).unwrap_err();
        assert!(e.to_string().contains("2 of 5 tasks still running"), "{e}");
        let late = Arc::clone(&b);
        let finisher = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            late.complete(2, encoded(&[2u32]));
            std::thread::sleep(Duration::from_millis(30));
            late.complete(4, encoded(&[4u32]));
        });
        assert_eq!(r.get(Duration::from_secs(5)).unwrap(), [0, 1, 2, 3, 4]);
        finisher.join().unwrap();
    }

    #[test]
    fn a_value_that_does_not_decode_ahead_is_the_error_once_all_finish() {
        let b = batch(3, 1);
        let r = AsyncResult::<Vec<u8>>::all(Arc::clone(&b), task_values::<u8>());
        b.complete(0, encoded(&[7u8]));
        b.complete(1, encoded(&["not a u8"]));
        // Decoded ahead, chunk 1 fails; the call still waits for chunk 2, as for any error.
        let e = r.get(Duration::from_millis(20)).unwrap_err();
        assert!(matches!(e, PoolError::Timeout { .. }), "{e}");
        b.complete(2, encoded(&[9u8]));
        let e = r.get(Duration::from_secs(1)).unwrap_err();
        assert_eq!(e.index(), Some(1));
        assert!(e.to_string().contains("does not decode as a u8"), "{e}");
    }

    #[test]
    fn a_task_failure_stops_decoding_ahead_and_the_first_by_index_is_the_error() {
        let b = batch(4, 1);
        let r = AsyncResult::<Vec<u8>>::all(Arc::clone(&b), task_values::<u8>());
        b.complete(0, encoded(&[1u8]));
        b.complete(
            2,
            ChunkOutcome::Failed(vec![PoolError::Terminated {
                index: 2,
                task: "echo".into(),
            }]),
        );
        b.complete(3, encoded(&[4u8]));
        let late = Arc::clone(&b);
        let finisher = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            late.complete(1, encoded(&["not a u8"]));
        });
        let e = r.get(Duration::from_secs(5)).unwrap_err();
        assert_eq!(e.index(), Some(1), "{e}");
        finisher.join().unwrap();
    }
}
