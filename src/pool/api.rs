//! The [`Pool`] trait, Python's `Pool` API, and how its calls become chunks on a pool's queue.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::batch::{Batch, task_values};
use super::error::PoolError;
use super::imap::{self, Imap};
use super::jobs::{Chunk, JobQueue, Work};
use super::result::AsyncResult;
use crate::process::{AsTask, Task, TaskId, Types, items};

/// The sealed supertrait of [`Pool`]: only this crate's pools implement it.
pub(super) mod sealed {
    /// What a pool gives the [`Pool`](super::Pool) trait's provided methods: its queue.
    pub trait Submit {
        /// Where the pool's chunks are queued.
        #[allow(private_interfaces)]
        fn jobs(&self) -> &std::sync::Arc<crate::pool::jobs::JobQueue>;

        /// Runs a call's one chunk at once from the calling thread, waiting at most `timeout`,
        /// if the pool can (a process pool with an idle worker and nothing queued); gives it back
        /// to be queued when it cannot.
        #[allow(private_interfaces)]
        fn run_here(
            &self,
            chunk: crate::pool::jobs::Chunk,
            _timeout: std::time::Duration,
        ) -> Result<(), crate::pool::jobs::Chunk> {
            Err(chunk)
        }
    }
}

/// Python's `Pool` API, implemented by [`ProcessPool`](super::ProcessPool) and
/// [`ThreadPool`](super::ThreadPool).
///
/// Tasks are typed handles ([`tasks`](crate::process::tasks), [`cell_task!`](crate::cell_task)):
/// the compiler checks each call's arguments against the task's types and infers the result, and
/// the worker checks the handle's signature again. Arguments and results travel serialized, so the
/// two pools are interchangeable. Blocking calls wait at most the pool's timeout
/// ([`PoolOptions::timeout`](super::PoolOptions::timeout)). In Rust a task takes one argument, which may be a tuple, so
/// `starmap` is `map`; both exist so that Python code translates line by line.
///
/// # Examples
/// ```
/// use parlab::pool::{Pool, PoolError, ThreadPool};
/// use parlab::process::tasks;
/// fn total_samples(pool: &impl Pool) -> Result<u64, PoolError> {
///     let results = pool.map(tasks::CALC_PI, (1..=4).map(|seed| (10_000, seed)), None)?;
///     Ok(results.iter().map(|r| r.samples).sum())
/// }
/// assert_eq!(total_samples(&ThreadPool::new(2)?)?, 40_000);
/// # Ok::<(), PoolError>(())
/// ```
pub trait Pool: sealed::Submit {
    /// The number of workers.
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// assert_eq!(ThreadPool::new(3)?.workers(), 3);
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn workers(&self) -> usize;

    /// How long blocking calls wait.
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// assert_eq!(ThreadPool::new(1)?.timeout(), parlab::pool::DEFAULT_TIMEOUT);
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn timeout(&self) -> Duration;

    /// Stops taking tasks; the workers finish the queued ones, then exit.
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, PoolError, ThreadPool};
    /// let threads = ThreadPool::new(1)?;
    /// threads.close();
    /// assert!(matches!(threads.apply(parlab::process::tasks::SLEEP, &1), Err(PoolError::Closed)));
    /// # Ok::<(), PoolError>(())
    /// ```
    fn close(&self) {
        self.jobs().close();
    }

    /// Waits at most `timeout` for the workers to exit, after [`close`](Pool::close) or
    /// [`terminate`](Pool::terminate).
    ///
    /// # Errors
    /// [`PoolError::Invalid`] if the pool is still open, [`PoolError::Timeout`].
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use parlab::pool::{Pool, ThreadPool};
    /// let threads = ThreadPool::new(2)?;
    /// assert!(threads.join(Duration::from_secs(1)).is_err()); // still open
    /// threads.close();
    /// threads.join(Duration::from_secs(1))?;
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn join(&self, timeout: Duration) -> Result<(), PoolError> {
        self.jobs().join(timeout)
    }

    /// Stops at once: queued tasks fail with [`PoolError::Terminated`] now, worker processes are
    /// killed (threads cannot be: a running task finishes in the background). Dropping a pool
    /// terminates it.
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// let threads = ThreadPool::new(1)?;
    /// threads.terminate();
    /// threads.join(std::time::Duration::from_secs(1))?;
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn terminate(&self);

    /// Runs `task` on `args` in a worker; returns at once with a result to come.
    ///
    /// # Errors
    /// [`PoolError::Closed`] after close, [`PoolError::Failed`] if `args` does not serialize.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use parlab::pool::{Pool, ThreadPool};
    /// use parlab::process::tasks;
    /// let threads = ThreadPool::new(2)?;
    /// let pending = threads.apply_async(tasks::SUM, &vec![1.0, 2.0])?;
    /// assert_eq!(pending.get(Duration::from_secs(5))?, 3.0);
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn apply_async<A, R>(
        &self,
        task: impl AsTask<A, R>,
        args: &A,
    ) -> Result<AsyncResult<R>, PoolError>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    {
        let batch = submit_task(
            self.jobs(),
            task.as_task(),
            std::slice::from_ref(args),
            1,
            None,
        )?;
        Ok(AsyncResult::one(batch, task_values::<R>()))
    }

    /// Runs `task` on `args` in a worker and waits (at most the pool's timeout) for its result.
    ///
    /// On a process pool with an idle worker and nothing queued, the calling thread sends the
    /// task to that worker and reads its answer itself (the worker's manager thread keeps it
    /// busy meanwhile): one round trip between two processes, as fast as a bare socket allows.
    ///
    /// # Errors
    /// As [`apply_async`](Pool::apply_async) and [`AsyncResult::get`]: the task's panic, its
    /// worker's death, a timeout.
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// let threads = ThreadPool::new(1)?;
    /// let est = threads.apply(parlab::process::tasks::CALC_PI, &(100_000, 1))?;
    /// assert_eq!(est.samples, 100_000);
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn apply<A, R>(&self, task: impl AsTask<A, R>, args: &A) -> Result<R, PoolError>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    {
        let (timeout, began) = (self.timeout(), Instant::now());
        let mut here = |chunk| self.run_here(chunk, timeout);
        let batch = submit_task(
            self.jobs(),
            task.as_task(),
            std::slice::from_ref(args),
            1,
            Some(&mut here),
        )?;
        AsyncResult::one(batch, task_values::<R>()).get(timeout.saturating_sub(began.elapsed()))
    }

    /// Runs `task` on each item, in chunks of `chunksize` (`None`: `len / (4 x workers)`, rounded
    /// up); returns at once with the results to come, in input order.
    ///
    /// # Errors
    /// [`PoolError::Closed`], [`PoolError::Invalid`] for a chunk size of 0, [`PoolError::Failed`]
    /// if an item does not serialize.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use parlab::pool::{Pool, ThreadPool};
    /// let threads = ThreadPool::new(2)?;
    /// let pending = threads.map_async(parlab::process::tasks::echo(), 0..10u64, Some(3))?;
    /// assert_eq!(pending.get(Duration::from_secs(5))?, (0..10).collect::<Vec<u64>>());
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn map_async<A, R>(
        &self,
        task: impl AsTask<A, R>,
        items: impl IntoIterator<Item = A>,
        chunksize: Option<usize>,
    ) -> Result<AsyncResult<Vec<R>>, PoolError>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    {
        let args: Vec<A> = items.into_iter().collect();
        let chunk = chunksize_for(chunksize, args.len(), self.workers())?;
        let batch = submit_task(self.jobs(), task.as_task(), &args, chunk, None)?;
        Ok(AsyncResult::all(batch, task_values::<R>()))
    }

    /// Runs `task` on each item and waits for every result, in input order.
    ///
    /// # Errors
    /// As [`map_async`](Pool::map_async); if tasks fail, the error of the first failed one (by
    /// index), once all have finished; if a worker dies, [`PoolError::WorkerDied`] at once. Use [`imap`](Pool::imap) for each task's own outcome.
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// use parlab::process::tasks;
    /// let threads = ThreadPool::new(2)?;
    /// assert_eq!(threads.map(tasks::echo(), [1u32, 4, 9], None)?, [1, 4, 9]);
    /// let e = threads.map(tasks::PANIC, ["no".to_string()], None).unwrap_err();
    /// assert_eq!(e.index(), Some(0));
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn map<A, R>(
        &self,
        task: impl AsTask<A, R>,
        items: impl IntoIterator<Item = A>,
        chunksize: Option<usize>,
    ) -> Result<Vec<R>, PoolError>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    {
        self.map_async(task, items, chunksize)?.get(self.timeout())
    }

    /// Python's `starmap_async`: each item is the task's (tuple of) arguments. The same as
    /// [`map_async`](Pool::map_async), since a Rust task takes one value and a tuple is one value.
    ///
    /// # Errors
    /// As [`map_async`](Pool::map_async).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use parlab::pool::{Pool, ThreadPool};
    /// let threads = ThreadPool::new(2)?;
    /// let r = threads.starmap_async(parlab::process::tasks::CALC_PI, [(1000, 1), (2000, 2)], None)?;
    /// assert_eq!(r.get(Duration::from_secs(5))?[1].samples, 2000);
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn starmap_async<A, R>(
        &self,
        task: impl AsTask<A, R>,
        items: impl IntoIterator<Item = A>,
        chunksize: Option<usize>,
    ) -> Result<AsyncResult<Vec<R>>, PoolError>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    {
        self.map_async(task, items, chunksize)
    }

    /// Python's `starmap`: each item is the task's (tuple of) arguments; see
    /// [`starmap_async`](Pool::starmap_async).
    ///
    /// # Errors
    /// As [`map`](Pool::map).
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// let threads = ThreadPool::new(2)?;
    /// // Python: pool.starmap(calc_pi, repeat((N, seed), 4))
    /// let r = threads.starmap(parlab::process::tasks::CALC_PI, std::iter::repeat((1000, 1)).take(4), None)?;
    /// assert_eq!(r.len(), 4);
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn starmap<A, R>(
        &self,
        task: impl AsTask<A, R>,
        items: impl IntoIterator<Item = A>,
        chunksize: Option<usize>,
    ) -> Result<Vec<R>, PoolError>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    {
        self.map(task, items, chunksize)
    }

    /// Runs `task` on each item; iterate the outcomes in input order as they become available.
    ///
    /// Each item of the iterator is that task's own `Result`. The input is read lazily, a few
    /// chunks ahead of the results taken (at most [`IMAP_WINDOW`] chunks per worker read and not
    /// yet handed out), so an endless input works with `take` and memory stays bounded. Chunks of
    /// `chunksize` tasks (`None`: as `map` for an input of known length, at most
    /// [`IMAP_MAX_DEFAULT_CHUNKSIZE`]; else 1). Iterating waits at most the pool's timeout per
    /// item (see [`Imap::next_timeout`]). Dropping the iterator early reads no more input and
    /// skips its queued chunks. Unlike Python, `close()` ends the input that was not read yet:
    /// each of those tasks still gets its own outcome, an error that says the pool was closed, so
    /// iterate before closing.
    ///
    /// # Errors
    /// [`PoolError::Closed`], [`PoolError::Invalid`] for a chunk size of 0 or in a forked child.
    /// An item that does not serialize fails the tasks of its chunk.
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// let threads = ThreadPool::new(2)?;
    /// let words = ["a".to_string(), "b".to_string()];
    /// let outcomes: Vec<_> = threads.imap(parlab::process::tasks::PANIC, words, Some(1))?.collect();
    /// assert!(outcomes[1].as_ref().unwrap_err().to_string().starts_with("task 1 (panic) panicked"));
    /// // An endless input, read as the results are taken:
    /// let first: Vec<u64> = threads.imap(parlab::process::tasks::echo(), 0u64.., None)?.take(5).collect::<Result<_, _>>()?;
    /// assert_eq!(first, [0, 1, 2, 3, 4]);
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn imap<'a, A, R>(
        &self,
        task: impl AsTask<A, R>,
        items: impl IntoIterator<Item = A, IntoIter: 'a>,
        chunksize: Option<usize>,
    ) -> Result<Imap<'a, R>, PoolError>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    {
        lazy_imap(self, task.as_task(), items.into_iter(), chunksize, false)
    }

    /// Like [`imap`](Pool::imap), but in the order the tasks finish.
    ///
    /// # Errors
    /// As [`imap`](Pool::imap).
    ///
    /// # Examples
    /// ```
    /// use parlab::pool::{Pool, ThreadPool};
    /// let threads = ThreadPool::new(2)?;
    /// let done: Vec<u64> = threads.imap_unordered(parlab::process::tasks::echo(), [3u64, 1, 2], Some(1))?.collect::<Result<_, _>>()?;
    /// assert_eq!(done.len(), 3);
    /// # Ok::<(), parlab::pool::PoolError>(())
    /// ```
    fn imap_unordered<'a, A, R>(
        &self,
        task: impl AsTask<A, R>,
        items: impl IntoIterator<Item = A, IntoIter: 'a>,
        chunksize: Option<usize>,
    ) -> Result<Imap<'a, R>, PoolError>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    {
        lazy_imap(self, task.as_task(), items.into_iter(), chunksize, true)
    }
}

/// Encodes `items` into chunks of `chunksize`, each a run of items (see `process::items`), and
/// queues them on `jobs`; returns their batch.
fn submit_task<A, R>(
    jobs: &JobQueue,
    task: &Task<A, R>,
    args: &[A],
    chunksize: usize,
    here: Option<&mut RunHere<'_>>,
) -> Result<Arc<Batch>, PoolError>
where
    A: Serialize + DeserializeOwned + 'static,
    R: DeserializeOwned + 'static,
{
    let mut encode = |k: usize, run: &mut Vec<u8>| items::push_encoded(run, &args[k]);
    submit_runs(
        jobs,
        task.id(),
        task.types(),
        args.len(),
        chunksize,
        &mut encode,
        here,
    )
}

/// Runs a call's one chunk at once, or gives it back to be queued (see `Submit::run_here`).
type RunHere<'a> = dyn FnMut(Chunk) -> Result<(), Chunk> + 'a;

/// Appends argument `k` of a call, encoded, to a run.
type EncodeArg<'a> = dyn FnMut(usize, &mut Vec<u8>) -> Result<(), postcard::Error> + 'a;

/// [`submit_task`] without its types: `encode(k, run)` appends argument `k` to `run`.
/// Non-generic so that a notebook cell, which compiles every generic function it calls again,
/// compiles only the encoding of the arguments.
#[inline(never)]
fn submit_runs(
    jobs: &JobQueue,
    id: &TaskId,
    types: Types,
    len: usize,
    chunksize: usize,
    encode: &mut EncodeArg<'_>,
    here: Option<&mut RunHere<'_>>,
) -> Result<Arc<Batch>, PoolError> {
    let chunksize = chunksize.max(1);
    let signature = types.signature();
    let batch = Batch::new(id.to_string(), Some(types), len, chunksize, jobs.recorder());
    let chunk = |index: usize, encode: &mut EncodeArg<'_>| -> Result<Chunk, PoolError> {
        let first = index * chunksize;
        let mut run = Vec::with_capacity(chunksize.min(len - first) * 10);
        for k in first..(first + chunksize).min(len) {
            encode(k, &mut run).map_err(|e| PoolError::Failed {
                index: k,
                task: id.to_string(),
                message: format!("the arguments do not serialize: {e}"),
            })?;
        }
        Ok(Chunk {
            batch: Arc::clone(&batch),
            index,
            work: Work::Task {
                task: id.clone(),
                signature,
                args: run,
            },
        })
    };
    if let (Some(here), 1) = (here, batch.chunks()) {
        let one = chunk(0, encode)?;
        // As `submit` checks: a check that gave up on the code calling this stops it here.
        crate::exercise::stop_if_overdue();
        jobs.check_open()?;
        if let Err(one) = here(one) {
            jobs.submit(vec![one])?;
        }
        return Ok(batch);
    }
    // The chunks are queued a group at a time as they are encoded (about `QUEUED_GROUPS` groups
    // per call): the workers start on the first group while the rest are encoded. An argument
    // that does not serialize fails the call, and the chunks queued before it are dropped unrun
    // (those already running finish, unread).
    let total = batch.chunks();
    let group = total.div_ceil(QUEUED_GROUPS).max(1);
    let mut encoded = Vec::with_capacity(group.min(total));
    for index in 0..total {
        let queued = chunk(index, encode).and_then(|c| {
            encoded.push(c);
            if encoded.len() == group || index + 1 == total {
                jobs.submit(std::mem::take(&mut encoded))
            } else {
                Ok(())
            }
        });
        if let Err(e) = queued {
            batch.abandon();
            return Err(e);
        }
    }
    Ok(batch)
}

/// About how many groups a call's chunks are queued in, as they are encoded (see
/// [`submit_runs`]): few enough that a map of 10,000 chunks of 1 does not wake the workers
/// 10,000 times, enough that they start long before the last argument is encoded.
const QUEUED_GROUPS: usize = 16;

/// Python's default chunk size for `map`: `len / (4 * workers)`, rounded up (at least 1).
///
/// # Examples
/// ```
/// use parlab::pool::default_chunksize;
/// assert_eq!(default_chunksize(100_000, 2), 12_500);
/// assert_eq!(default_chunksize(4, 2), 1);
/// assert_eq!(default_chunksize(9, 1), 3);
/// assert_eq!(default_chunksize(0, 2), 1);
/// ```
pub fn default_chunksize(len: usize, workers: usize) -> usize {
    len.div_ceil(4 * workers.max(1)).max(1)
}

/// The chunk size to use: the default for `None`, an error for `Some(0)`.
pub(super) fn chunksize_for(
    chunksize: Option<usize>,
    len: usize,
    workers: usize,
) -> Result<usize, PoolError> {
    match chunksize {
        Some(0) => Err(PoolError::Invalid(
            "a chunk size of 0: use at least 1, or None for the default (len / (4 x workers), rounded up)"
                .into(),
        )),
        Some(n) => Ok(n),
        None => Ok(default_chunksize(len, workers)),
    }
}

/// How many chunks per worker an [`Imap`] has read and not yet handed out, at most (queued,
/// running, or finished and waiting): it reads its input no further ahead.
///
/// # Examples
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
/// use parlab::pool::{IMAP_WINDOW, Pool, ThreadPool};
/// let read = AtomicUsize::new(0);
/// let endless = (0u64..).inspect(|_| { read.fetch_add(1, Relaxed); });
/// let threads = ThreadPool::new(1)?;
/// let first = threads.imap(parlab::process::tasks::echo(), endless, Some(1))?.next().unwrap()?;
/// assert_eq!(first, 0);
/// assert!(read.load(Relaxed) <= IMAP_WINDOW + 1); // 1 worker: a few chunks of 1 read ahead
/// # Ok::<(), parlab::pool::PoolError>(())
/// ```
pub const IMAP_WINDOW: usize = 4;

/// The largest chunk size `imap` picks by itself (`chunksize: None` for an input of known
/// length), so that a long range is read lazily too.
///
/// # Examples
/// ```
/// use parlab::pool::{IMAP_MAX_DEFAULT_CHUNKSIZE, Pool, PoolOptions, ThreadPool};
/// use parlab::timeline::{Kind, Timeline};
/// let tl = Timeline::new();
/// let threads = ThreadPool::with_options(&PoolOptions::new(1).timeline(&tl))?;
/// let all: Vec<u64> = threads.imap(parlab::process::tasks::echo(), 0..640u64, None)?.collect::<Result<_, _>>()?;
/// assert_eq!(all.len(), 640);
/// let chunks = tl.spans().iter().filter(|s| s.kind == Kind::Task).count();
/// assert_eq!(chunks, 640 / IMAP_MAX_DEFAULT_CHUNKSIZE); // chunks of 64, not 160 (640 / 4)
/// # Ok::<(), parlab::pool::PoolError>(())
/// ```
pub const IMAP_MAX_DEFAULT_CHUNKSIZE: usize = 64;

/// The `imap` of `pool`: reads `items` chunk by chunk as the results are taken.
fn lazy_imap<'a, P, A, R, I>(
    pool: &P,
    task: &Task<A, R>,
    mut input: I,
    chunksize: Option<usize>,
    unordered: bool,
) -> Result<Imap<'a, R>, PoolError>
where
    P: Pool + ?Sized,
    A: Serialize + DeserializeOwned + 'static,
    R: DeserializeOwned + 'static,
    I: Iterator<Item = A> + 'a,
{
    let chunksize = imap_chunksize(chunksize, input.size_hint(), pool.workers())?;
    let (jobs, task) = imap_task(pool.jobs(), task.id(), task.types())?;
    let mut first = 0usize;
    let feed: imap::Feed<'a> = Box::new(move || {
        let mut run = Vec::new();
        let mut count = 0usize;
        let mut bad = None;
        for arg in input.by_ref().take(chunksize) {
            if bad.is_none() {
                if let Err(e) = items::push_encoded(&mut run, &arg) {
                    bad = Some(unserializable(first + count, e));
                }
            }
            count += 1;
        }
        first += count;
        (count > 0).then(|| (bad.map_or(Ok(run), Err), count))
    });
    let window = IMAP_WINDOW * pool.workers().max(1);
    Ok(Imap::new(
        jobs,
        task,
        feed,
        window,
        unordered,
        pool.timeout(),
        items::decode_exact::<R>,
    ))
}

/// The chunk size of an imap over an input of `size_hint` on `workers` workers. (This and the
/// two below: non-generic, so that a notebook cell does not compile them again.)
#[inline(never)]
fn imap_chunksize(
    chunksize: Option<usize>,
    size_hint: (usize, Option<usize>),
    workers: usize,
) -> Result<usize, PoolError> {
    Ok(match (chunksize, size_hint) {
        (Some(_), _) => chunksize_for(chunksize, 0, workers)?,
        (None, (low, Some(high))) if low == high => {
            default_chunksize(high, workers).min(IMAP_MAX_DEFAULT_CHUNKSIZE)
        }
        (None, _) => 1, // Python's imap default: the length is not known
    })
}

/// The queue of an open pool, and what an imap's chunks run.
#[inline(never)]
fn imap_task(
    jobs: &Arc<JobQueue>,
    id: &TaskId,
    types: Types,
) -> Result<(Arc<JobQueue>, imap::ImapTask), PoolError> {
    jobs.check_open()?;
    let task = imap::ImapTask {
        id: id.clone(),
        name: id.to_string(),
        types,
    };
    Ok((Arc::clone(jobs), task))
}

/// Why argument `index` of an imap does not serialize.
#[inline(never)]
fn unserializable(index: usize, e: postcard::Error) -> String {
    format!("the arguments of task {index} do not serialize: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_sizes() {
        assert_eq!(default_chunksize(100_000, 2), 12_500);
        assert_eq!(default_chunksize(100_001, 2), 12_501);
        assert_eq!(default_chunksize(1, 8), 1);
        assert_eq!(chunksize_for(None, 10, 1).unwrap(), 3);
        assert_eq!(chunksize_for(Some(7), 10, 1).unwrap(), 7);
        let e = chunksize_for(Some(0), 10, 1).unwrap_err();
        assert!(e.to_string().contains("chunk size of 0"), "{e}");
    }

    #[test]
    fn an_argument_that_does_not_serialize_fails_the_call_and_the_pool_goes_on() {
        use crate::pool::ThreadPool;
        use crate::process::tasks;
        use serde::ser::Error as _;

        /// A `u32` that refuses to serialize 37.
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Picky(u32);
        impl Serialize for Picky {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self.0 {
                    37 => Err(S::Error::custom("37 is not allowed")),
                    n => s.serialize_newtype_struct("Picky", &n),
                }
            }
        }
        let threads = ThreadPool::new(1).unwrap();
        // 100 chunks of 1, queued a group at a time: task 37's group is not the first one.
        let e = threads
            .map(tasks::echo::<Picky>(), (0..100).map(Picky), Some(1))
            .unwrap_err();
        assert!(matches!(e, PoolError::Failed { index: 37, .. }), "{e:?}");
        assert!(e.to_string().contains("do not serialize"), "{e}");
        let fine = threads.map(
            tasks::echo::<Picky>(),
            (0..40).map(Picky).filter(|p| p.0 != 37),
            None,
        );
        assert_eq!(fine.unwrap().len(), 39);
    }
}
