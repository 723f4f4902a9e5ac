//! Results to come: a batch of task outcomes filled in by the workers, and the handles that wait
//! for them ([`AsyncResult`], [`Imap`]).

use std::any::Any;
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;

use super::PoolError;

/// A task's value: serialized (a named task) or in memory (a closure on a thread pool).
#[derive(Debug)]
pub enum Payload {
    /// The serialized result of a named task.
    Bytes(Vec<u8>),
    /// The result of a closure.
    Value(Box<dyn Any + Send>),
}

/// The outcome of one task.
pub type Item = Result<Payload, PoolError>;

/// The outcomes of the tasks of one call (`apply`: one; `map`: one per input item).
#[derive(Debug)]
pub struct Batch {
    task: String,
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug)]
struct State {
    items: Vec<Option<Item>>,
    remaining: usize,
    /// Indices in the order they finished, not yet taken by an unordered [`Imap`].
    finished: VecDeque<usize>,
    failed: bool,
    taken: bool,
}

impl Batch {
    /// A batch of `len` tasks of `task`, none finished.
    pub(crate) fn new(task: String, len: usize) -> Arc<Self> {
        Arc::new(Batch {
            task,
            state: Mutex::new(State {
                items: (0..len).map(|_| None).collect(),
                remaining: len,
                finished: VecDeque::new(),
                failed: false,
                taken: false,
            }),
            changed: Condvar::new(),
        })
    }

    /// The task's name.
    pub(crate) fn task(&self) -> &str {
        &self.task
    }

    /// The number of tasks.
    pub(crate) fn len(&self) -> usize {
        self.lock().items.len()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records the outcomes of tasks `first..first + outcomes.len()` (an outcome already recorded
    /// is kept).
    pub(crate) fn complete(&self, first: usize, outcomes: Vec<Item>) {
        let mut state = self.lock();
        for (i, outcome) in (first..).zip(outcomes) {
            if i < state.items.len() && state.items[i].is_none() {
                state.failed |= outcome.is_err();
                state.items[i] = Some(outcome);
                state.remaining -= 1;
                state.finished.push_back(i);
            }
        }
        drop(state);
        self.changed.notify_all();
    }

    /// Fails tasks `first..first + count` with `error(index)`.
    pub(crate) fn fail(&self, first: usize, count: usize, error: impl Fn(usize) -> PoolError) {
        self.complete(
            first,
            (first..first + count).map(|i| Err(error(i))).collect(),
        );
    }

    /// Waits until `done(state)` or `deadline`; `None` on timeout.
    fn wait_until(
        &self,
        deadline: Instant,
        done: impl Fn(&State) -> bool,
    ) -> Option<MutexGuard<'_, State>> {
        let mut state = self.lock();
        loop {
            if done(&state) {
                return Some(state);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            state = self
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn timeout(&self, after: Duration, state_hint: &str) -> PoolError {
        PoolError::Timeout {
            what: format!("waiting for {} ({state_hint})", self.task),
            after,
        }
    }
}

fn deadline(timeout: Duration) -> Instant {
    crate::process::sys::deadline(timeout)
}

/// Turns a named task's or a closure's outcome into an `R`.
fn decode_item<R: DeserializeOwned + 'static>(
    task: &str,
    index: usize,
    item: Item,
) -> Result<R, PoolError> {
    let wrong = |message: String| PoolError::Failed {
        index,
        task: task.to_string(),
        message: format!(
            "the result is not a {}: {message}",
            std::any::type_name::<R>()
        ),
    };
    match item? {
        Payload::Bytes(bytes) => {
            crate::process::decode::<R>(&bytes).map_err(|e| wrong(e.to_string()))
        }
        Payload::Value(value) => value
            .downcast::<R>()
            .map(|b| *b)
            .map_err(|_| wrong("another type".into())),
    }
}

/// Turns a closure's outcome into an `R`.
fn value_item<R: 'static>(task: &str, index: usize, item: Item) -> Result<R, PoolError> {
    let wrong = || PoolError::Failed {
        index,
        task: task.to_string(),
        message: format!("the result is not a {}", std::any::type_name::<R>()),
    };
    match item? {
        Payload::Value(value) => value.downcast::<R>().map(|b| *b).map_err(|_| wrong()),
        Payload::Bytes(_) => Err(wrong()),
    }
}

/// `AsyncResult::get` for `apply_fn`: the closure's value.
fn finish_value<R: 'static>(task: &str, items: Vec<Item>) -> Result<R, PoolError> {
    let item = items
        .into_iter()
        .next()
        .ok_or_else(|| PoolError::Invalid("no task in this result".into()))?;
    value_item(task, 0, item)
}

/// `AsyncResult::get` for `map_fn`: every value in order, or the first error by index.
fn finish_values<R: 'static>(task: &str, items: Vec<Item>) -> Result<Vec<R>, PoolError> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| value_item(task, i, item))
        .collect()
}

/// `AsyncResult::get` for `apply`: the single outcome.
fn finish_one<R: DeserializeOwned + 'static>(task: &str, items: Vec<Item>) -> Result<R, PoolError> {
    let item = items
        .into_iter()
        .next()
        .ok_or_else(|| PoolError::Invalid("no task in this result".into()))?;
    decode_item(task, 0, item)
}

/// `AsyncResult::get` for `map`: every outcome in order, or the first error by index.
fn finish_all<R: DeserializeOwned + 'static>(
    task: &str,
    items: Vec<Item>,
) -> Result<Vec<R>, PoolError> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| decode_item(task, i, item))
        .collect()
}

/// The result of an `apply_async` or `map_async` call, to come: Python's `AsyncResult`.
///
/// [`get`](AsyncResult::get) waits with a timeout; [`ready`](AsyncResult::ready) and
/// [`wait`](AsyncResult::wait) do not take the value. Dropping it does not cancel the tasks.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use parlab::pool::{Pool, ThreadPool};
/// let pool = ThreadPool::new(1)?;
/// let slow = pool.apply_async::<_, ()>("sleep", &200u64)?;
/// assert!(!slow.ready());
/// assert!(slow.get(Duration::from_millis(10)).is_err()); // a timeout: ask again later
/// slow.get(Duration::from_secs(5))?;
/// # Ok::<(), parlab::pool::PoolError>(())
/// ```
#[must_use = "the tasks run anyway; call get() to see their results or errors"]
pub struct AsyncResult<T> {
    batch: Arc<Batch>,
    finish: fn(&str, Vec<Item>) -> Result<T, PoolError>,
}

impl<T> std::fmt::Debug for AsyncResult<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.batch.lock();
        f.debug_struct("AsyncResult")
            .field("task", &self.batch.task)
            .field("tasks", &state.items.len())
            .field("remaining", &state.remaining)
            .finish()
    }
}

impl<R: DeserializeOwned + 'static> AsyncResult<R> {
    /// The result of a single task (`apply_async`).
    pub(crate) fn one(batch: Arc<Batch>) -> Self {
        AsyncResult {
            batch,
            finish: finish_one::<R>,
        }
    }
}

impl<R: 'static> AsyncResult<R> {
    /// The result of a closure (`ThreadPool::apply_fn_async`).
    pub(crate) fn value(batch: Arc<Batch>) -> Self {
        AsyncResult {
            batch,
            finish: finish_value::<R>,
        }
    }
}

impl<R: 'static> AsyncResult<Vec<R>> {
    /// The results of a closure on every item, in order (`ThreadPool::map_fn`).
    pub(crate) fn values(batch: Arc<Batch>) -> Self {
        AsyncResult {
            batch,
            finish: finish_values::<R>,
        }
    }
}

impl<R: DeserializeOwned + 'static> AsyncResult<Vec<R>> {
    /// The results of every task, in order (`map_async`).
    pub(crate) fn all(batch: Arc<Batch>) -> Self {
        AsyncResult {
            batch,
            finish: finish_all::<R>,
        }
    }
}

impl<T> AsyncResult<T> {
    /// The batch behind it, for an [`Imap`].
    pub(crate) fn into_batch(self) -> Arc<Batch> {
        self.batch
    }

    /// Waits at most `timeout` for every task, then returns the result (once: it is moved out).
    ///
    /// # Errors
    /// [`PoolError::Timeout`] (the tasks keep running: call `get` again),
    /// the first task error by index, [`PoolError::Invalid`] if an earlier `get` took the result.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use parlab::pool::{Pool, ThreadPool};
    /// let pool = ThreadPool::new(2)?;
    /// let r = pool.map_async::<_, u8>("echo", [1u8, 2], None)?;
    /// assert_eq!(r.get(Duration::from_secs(5))?, [1, 2]);
    /// assert!(r.get(Duration::from_secs(5)).is_err()); // already taken
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn get(&self, timeout: Duration) -> Result<T, PoolError> {
        let Some(mut state) = self
            .batch
            .wait_until(deadline(timeout), |s| s.remaining == 0)
        else {
            let state = self.batch.lock();
            let hint = format!(
                "{} of {} tasks still running",
                state.remaining,
                state.items.len()
            );
            return Err(self.batch.timeout(timeout, &hint));
        };
        if state.taken {
            return Err(PoolError::Invalid(
                "the result was already taken by an earlier get()".into(),
            ));
        }
        state.taken = true;
        let items: Vec<Item> = state
            .items
            .iter_mut()
            .map(|slot| {
                slot.take()
                    .unwrap_or_else(|| Err(PoolError::Invalid("a result went missing".into())))
            })
            .collect();
        drop(state);
        (self.finish)(&self.batch.task, items)
    }

    /// Whether every task has finished (Python's `ready()`).
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// let r = ThreadPool::new(1)?.apply_async::<_, u8>("echo", &1u8)?;
    /// r.wait(std::time::Duration::from_secs(5));
    /// assert!(r.ready());
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn ready(&self) -> bool {
        self.batch.lock().remaining == 0
    }

    /// Waits at most `timeout` for every task to finish; returns whether they have.
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// let r = ThreadPool::new(1)?.apply_async::<_, ()>("sleep", &50u64)?;
    /// assert!(r.wait(std::time::Duration::from_secs(5)));
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn wait(&self, timeout: Duration) -> bool {
        self.batch
            .wait_until(deadline(timeout), |s| s.remaining == 0)
            .is_some()
    }

    /// `Some(true)` if every task succeeded, `Some(false)` if one failed, `None` while some run.
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// let r = ThreadPool::new(1)?.apply_async::<_, ()>("panic", "no")?;
    /// r.wait(std::time::Duration::from_secs(5));
    /// assert_eq!(r.successful(), Some(false));
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn successful(&self) -> Option<bool> {
        let state = self.batch.lock();
        (state.remaining == 0).then_some(!state.failed)
    }
}

/// The outcomes of an `imap` or `imap_unordered` call, as they become available.
///
/// Each item is one task's `Result`. [`Iterator::next`] waits at most the pool's timeout; after a
/// timeout it yields that error and then ends. [`Imap::next_timeout`] waits as long as you say and
/// can be called again after a timeout.
///
/// # Examples
/// ```
/// use parlab::pool::{Pool, ThreadPool};
/// let pool = ThreadPool::new(2)?;
/// for outcome in pool.imap::<_, u8>("echo", [1u8, 2, 3], None)? {
///     println!("{}", outcome?);
/// }
/// # Ok::<(), parlab::pool::PoolError>(())
/// ```
#[must_use = "iterate it to get the results"]
pub struct Imap<R> {
    batch: Arc<Batch>,
    unordered: bool,
    timeout: Duration,
    yielded: usize,
    next_index: usize,
    ended: bool,
    _result: PhantomData<fn() -> R>,
}

impl<R> std::fmt::Debug for Imap<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Imap")
            .field("task", &self.batch.task)
            .field("unordered", &self.unordered)
            .field("yielded", &self.yielded)
            .finish()
    }
}

impl<R: DeserializeOwned + 'static> Imap<R> {
    pub(crate) fn new(batch: Arc<Batch>, unordered: bool, timeout: Duration) -> Self {
        Imap {
            batch,
            unordered,
            timeout,
            yielded: 0,
            next_index: 0,
            ended: false,
            _result: PhantomData,
        }
    }

    /// The next outcome, waiting at most `timeout`; `None` when all were yielded.
    ///
    /// A timeout yields `Some(Err(PoolError::Timeout))` and does not advance: call again.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use parlab::pool::{Pool, ThreadPool};
    /// let pool = ThreadPool::new(1)?;
    /// let mut it = pool.imap::<_, ()>("sleep", [100u64], None)?;
    /// assert!(it.next_timeout(Duration::from_millis(1)).unwrap().is_err());
    /// assert!(it.next_timeout(Duration::from_secs(5)).unwrap().is_ok());
    /// assert!(it.next_timeout(Duration::from_secs(5)).is_none());
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    pub fn next_timeout(&mut self, timeout: Duration) -> Option<Result<R, PoolError>> {
        let len = self.batch.len();
        if self.yielded >= len {
            return None;
        }
        let (index, item) = if self.unordered {
            let Some(mut state) = self
                .batch
                .wait_until(deadline(timeout), |s| !s.finished.is_empty())
            else {
                return Some(Err(self.batch.timeout(timeout, "the next task to finish")));
            };
            let i = state.finished.pop_front()?;
            (i, state.items[i].take())
        } else {
            let i = self.next_index;
            let Some(mut state) = self
                .batch
                .wait_until(deadline(timeout), |s| s.items[i].is_some())
            else {
                return Some(Err(self.batch.timeout(timeout, &format!("task {i}"))));
            };
            self.next_index += 1;
            (i, state.items[i].take())
        };
        self.yielded += 1;
        let item = item.unwrap_or_else(|| Err(PoolError::Invalid("a result went missing".into())));
        Some(decode_item(self.batch.task(), index, item))
    }
}

impl<R: DeserializeOwned + 'static> Iterator for Imap<R> {
    type Item = Result<R, PoolError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        let next = self.next_timeout(self.timeout);
        if matches!(next, Some(Err(PoolError::Timeout { .. })) | None) {
            self.ended = true;
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes<T: serde::Serialize>(v: T) -> Item {
        Ok(Payload::Bytes(postcard::to_stdvec(&v).unwrap()))
    }

    #[test]
    fn get_waits_then_takes_once() {
        let batch = Batch::new("echo".into(), 3);
        let r = AsyncResult::<Vec<u32>>::all(Arc::clone(&batch));
        assert!(!r.ready());
        assert_eq!(r.successful(), None);
        let e = r.get(Duration::from_millis(5)).unwrap_err();
        assert!(e.to_string().contains("3 of 3 tasks still running"), "{e}");
        batch.complete(1, vec![bytes(20u32), bytes(30u32)]);
        batch.complete(0, vec![bytes(10u32)]);
        assert_eq!(r.successful(), Some(true));
        assert_eq!(r.get(Duration::from_secs(1)).unwrap(), [10, 20, 30]);
        assert!(matches!(
            r.get(Duration::from_secs(1)),
            Err(PoolError::Invalid(_))
        ));
    }

    #[test]
    fn first_error_by_index_and_wrong_types() {
        let batch = Batch::new("t".into(), 3);
        let r = AsyncResult::<Vec<u8>>::all(Arc::clone(&batch));
        batch.fail(1, 2, |index| PoolError::Terminated {
            index,
            task: "t".into(),
        });
        batch.complete(0, vec![bytes("not a u8")]);
        let e = r.get(Duration::from_secs(1)).unwrap_err();
        assert_eq!(e.index(), Some(0));
        assert!(e.to_string().contains("the result is not a u8"), "{e}");
        let batch = Batch::new("f".into(), 1);
        let r = AsyncResult::<u8>::value(Arc::clone(&batch));
        batch.complete(0, vec![Ok(Payload::Value(Box::new("text")))]);
        assert!(r.get(Duration::from_secs(1)).is_err());
    }

    #[test]
    fn imap_in_order_and_unordered() {
        let batch = Batch::new("echo".into(), 3);
        batch.complete(2, vec![bytes(3u8)]);
        let mut ordered = Imap::<u8>::new(Arc::clone(&batch), false, Duration::from_millis(5));
        assert!(matches!(
            ordered.next_timeout(Duration::from_millis(1)),
            Some(Err(PoolError::Timeout { .. }))
        ));
        batch.complete(0, vec![bytes(1u8), bytes(2u8)]);
        let got: Vec<u8> = ordered.map(Result::unwrap).collect();
        assert_eq!(got, [1, 2, 3]);

        let batch = Batch::new("echo".into(), 2);
        batch.complete(1, vec![bytes(2u8)]);
        batch.complete(0, vec![bytes(1u8)]);
        let got: Vec<u8> = Imap::<u8>::new(batch, true, Duration::from_secs(1))
            .map(Result::unwrap)
            .collect();
        assert_eq!(got, [2, 1]);
    }

    #[test]
    fn iterator_ends_after_a_timeout() {
        let batch = Batch::new("slow".into(), 2);
        let mut it = Imap::<u8>::new(batch, false, Duration::from_millis(1));
        assert!(matches!(it.next(), Some(Err(PoolError::Timeout { .. }))));
        assert!(it.next().is_none());
    }
}
