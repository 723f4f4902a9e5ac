//! The outcomes of an `imap` or `imap_unordered` call as they become available: [`Imap`] reads
//! its input lazily, a bounded window of chunks ahead of the results taken.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam::channel::{self, Receiver, Sender};

use super::PoolError;
use super::batch::{Batch, ChunkOutcome, Decoded, deadline};
use super::jobs::{Chunk, JobQueue, Work};
use crate::process::{TaskId, Types};

/// Encodes the next chunk of an imap's input: the run of its arguments (or why one does not
/// serialize) and how many tasks it holds; `None` at the input's end.
pub(crate) type Feed<'a> = Box<dyn FnMut() -> Option<(Result<Vec<u8>, String>, usize)> + 'a>;

/// What an imap's chunks run.
#[derive(Debug)]
pub(crate) struct ImapTask {
    /// The task.
    pub(crate) id: TaskId,
    /// Its name, for errors.
    pub(crate) name: String,
    /// Its handle's types: their signature is checked by whoever runs it.
    pub(crate) types: Types,
}

/// The outcomes of an `imap` or `imap_unordered` call, as they become available.
///
/// Each item is one task's `Result`. The input is read lazily, chunk by chunk: at most
/// [`IMAP_WINDOW`](super::IMAP_WINDOW) chunks per worker are read and not yet handed out (queued,
/// running, or finished and waiting), so an endless input works with `take` and memory stays
/// bounded. [`Iterator::next`] waits at most the pool's timeout; after a timeout it yields that
/// error and then ends. [`Imap::next_timeout`] waits as long as you say and can be called again
/// after a timeout. Unordered, the tasks of one chunk come together, in order. Dropping it early
/// reads no more input; its queued chunks are not run (running ones finish in the background).
///
/// It borrows what its input borrows and is used on the thread that made it (it holds the input).
///
/// # Examples
/// ```
/// use parlab::pool::{Pool, ThreadPool};
/// let threads = ThreadPool::new(2)?;
/// for outcome in threads.imap(parlab::process::tasks::echo(), [1u8, 2, 3], None)? {
///     println!("{}", outcome?);
/// }
/// # Ok::<(), parlab::pool::PoolError>(())
/// ```
#[must_use = "iterate it to get the results"]
pub struct Imap<'a, R> {
    /// All but the outcomes' type, made in parlab as a trait object: dropping it runs parlab's
    /// code, not drop glue that a notebook cell compiles again for each result type.
    core: Box<dyn Feeding + 'a>,
    /// How a task's value decodes.
    decode: fn(&[u8]) -> Result<R, String>,
    /// Decoded outcomes of the chunk being handed out.
    ready: VecDeque<Result<R, PoolError>>,
    ended: bool,
}

/// An [`Imap`] but its outcomes: its input, its chunks in flight, and how to wait for them.
/// Not generic, so that a notebook cell, which compiles every generic function it calls again,
/// compiles only the decoding of values.
struct Core<'a> {
    jobs: Arc<JobQueue>,
    task: ImapTask,
    /// The input, until it ends (or the pool refuses more).
    feed: Option<Feed<'a>>,
    /// The most chunks read and not yet handed out.
    window: usize,
    /// Chunks queued, running or finished but not yet taken, in input order, each a batch of its
    /// own, with its seq number.
    in_flight: VecDeque<(usize, Arc<Batch>)>,
    /// Tasks read from the input so far.
    read: usize,
    next_seq: usize,
    /// Seq numbers of finished chunks (unordered).
    done_tx: Sender<usize>,
    done_rx: Receiver<usize>,
    unordered: bool,
    timeout: Duration,
}

/// What an [`Imap`] asks of its [`Core`] (whose `Debug` shows the imap).
trait Feeding: std::fmt::Debug {
    /// Reads and queues chunks of the input until the window is full or the input ends.
    fn top_up(&mut self);
    /// Waits at most until `deadline` for the next chunk to hand out, and decodes its outcomes
    /// into `into`; `None` once every chunk was handed out, the timeout's error if none finished.
    fn next_chunk(
        &mut self,
        deadline: Instant,
        timeout: Duration,
        into: &mut dyn Decoded,
    ) -> Option<Result<(), PoolError>>;
    /// How long [`Iterator::next`] waits.
    fn timeout(&self) -> Duration;
}

impl<R> std::fmt::Debug for Imap<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.core.fmt(f)
    }
}

impl std::fmt::Debug for Core<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Imap")
            .field("task", &self.task.name)
            .field("unordered", &self.unordered)
            .field("tasks_read", &self.read)
            .field("chunks_in_flight", &self.in_flight.len())
            .finish()
    }
}

impl<'a, R: 'static> Imap<'a, R> {
    /// An imap of `task` over the chunks `feed` reads, at most `window` of them in flight; reads
    /// and queues the first ones now.
    pub(crate) fn new(
        jobs: Arc<JobQueue>,
        task: ImapTask,
        feed: Feed<'a>,
        window: usize,
        unordered: bool,
        timeout: Duration,
        decode: fn(&[u8]) -> Result<R, String>,
    ) -> Self {
        Imap {
            core: Core::boxed(jobs, task, feed, window, unordered, timeout),
            decode,
            ready: VecDeque::new(),
            ended: false,
        }
    }

    /// The next outcome, waiting at most `timeout`; `None` once every task's outcome was given.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use parlab::pool::{Pool, PoolError, ThreadPool};
    /// let threads = ThreadPool::new(1)?;
    /// let mut it = threads.imap(parlab::process::tasks::SLEEP, [300], None)?;
    /// assert!(matches!(it.next_timeout(Duration::from_millis(10)), Some(Err(PoolError::Timeout { .. }))));
    /// assert!(matches!(it.next_timeout(Duration::from_secs(5)), Some(Ok(()))));
    /// assert!(it.next_timeout(Duration::from_secs(5)).is_none());
    /// # Ok::<(), PoolError>(())
    /// ```
    pub fn next_timeout(&mut self, timeout: Duration) -> Option<Result<R, PoolError>> {
        let deadline = deadline(timeout);
        loop {
            if let Some(outcome) = self.ready.pop_front() {
                if self.ready.is_empty() {
                    self.core.top_up(); // that chunk is handed out: send the next
                }
                return Some(outcome);
            }
            let mut ready = Ready {
                ready: &mut self.ready,
                decode: self.decode,
            };
            if let Err(e) = self.core.next_chunk(deadline, timeout, &mut ready)? {
                return Some(Err(e));
            }
        }
    }
}

impl<'a> Core<'a> {
    /// The core of [`Imap::new`], as the trait object an imap holds.
    #[inline(never)]
    fn boxed(
        jobs: Arc<JobQueue>,
        task: ImapTask,
        feed: Feed<'a>,
        window: usize,
        unordered: bool,
        timeout: Duration,
    ) -> Box<dyn Feeding + 'a> {
        let (done_tx, done_rx) = channel::unbounded();
        let mut core = Core {
            jobs,
            task,
            feed: Some(feed),
            window: window.max(1),
            in_flight: VecDeque::new(),
            read: 0,
            next_seq: 0,
            done_tx,
            done_rx,
            unordered,
            timeout,
        };
        core.top_up();
        Box::new(core)
    }

    /// Where in `in_flight` the next chunk to hand out is, once it has finished (by `deadline`).
    fn finished_chunk(&self, deadline: Instant, timeout: Duration) -> Result<usize, PoolError> {
        if !self.unordered {
            let batch = &self.in_flight[0].1;
            if batch
                .wait_until(deadline, |s| s.chunks[0].is_some())
                .is_none()
            {
                let first = batch.range(0).0;
                return Err(batch.timeout(timeout, &format!("task {first}")));
            }
            return Ok(0);
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.done_rx.recv_timeout(left) {
                Ok(seq) => {
                    // A chunk handed out already cannot be told twice, but be sure.
                    if let Some(at) = self.in_flight.iter().position(|(s, _)| *s == seq) {
                        return Ok(at);
                    }
                }
                Err(_) => {
                    let running: usize = self.in_flight.iter().map(|(_, b)| b.len).sum();
                    let hint = format!("the next of {running} tasks sent to finish");
                    return Err(self.in_flight[0].1.timeout(timeout, &hint));
                }
            }
        }
    }
}

// Behind a trait object (see `Imap::core`): not generic, compiled once in parlab.
impl Feeding for Core<'_> {
    fn top_up(&mut self) {
        while self.in_flight.len() < self.window {
            let Some(feed) = self.feed.as_mut() else {
                return;
            };
            let Some((run, count)) = feed() else {
                self.feed = None;
                return;
            };
            let (seq, first) = (self.next_seq, self.read);
            self.next_seq += 1;
            self.read += count;
            let notify = self.unordered.then(|| (self.done_tx.clone(), seq));
            let batch = Batch::at(
                self.task.name.clone(),
                Some(self.task.types),
                count,
                count,
                first,
                notify,
                None,
            );
            self.in_flight.push_back((seq, Arc::clone(&batch)));
            let refused = match run {
                Ok(args) => {
                    let chunk = Chunk {
                        batch: Arc::clone(&batch),
                        index: 0,
                        work: Work::Task {
                            task: self.task.id.clone(),
                            signature: self.task.types.signature(),
                            args,
                        },
                    };
                    // A closed pool takes no more: every chunk read from here on fails, one
                    // outcome per input, so no input the imap took goes without one.
                    self.jobs.submit(vec![chunk]).err().map(|e| {
                        format!(
                            "{e}; an imap reads its input as it is iterated, so this task was not \
                             sent (iterate the imap before closing the pool)"
                        )
                    })
                }
                Err(message) => Some(message),
            };
            if let Some(message) = refused {
                let errors = (first..first + count)
                    .map(|index| PoolError::Failed {
                        index,
                        task: self.task.name.clone(),
                        message: message.clone(),
                    })
                    .collect();
                batch.complete(0, ChunkOutcome::Failed(errors));
            }
        }
    }

    fn next_chunk(
        &mut self,
        deadline: Instant,
        timeout: Duration,
        into: &mut dyn Decoded,
    ) -> Option<Result<(), PoolError>> {
        self.top_up();
        if self.in_flight.is_empty() {
            return None;
        }
        let waiting = Instant::now();
        let at = match self.finished_chunk(deadline, timeout) {
            Ok(at) => at,
            Err(e) => return Some(Err(e)),
        };
        let (_, batch) = self.in_flight.remove(at)?;
        if let Some(recorder) = self.jobs.recorder() {
            let (first, count) = batch.range(0);
            let call = if self.unordered {
                "imap_unordered"
            } else {
                "imap"
            };
            let tasks = crate::timeline::tasks_label(&(first..first + count));
            recorder.waited(format!("{call}: waited for {tasks}"), waiting);
        }
        let outcome = batch.lock().chunks[0].take();
        Some(match outcome {
            Some(outcome) => batch.decode_into(0, outcome, into),
            None => into.failed(PoolError::Invalid("a result went missing".into())),
        })
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// Where an [`Imap`]'s outcomes go as a chunk is decoded: in order, errors among values.
struct Ready<'q, R> {
    ready: &'q mut VecDeque<Result<R, PoolError>>,
    decode: fn(&[u8]) -> Result<R, String>,
}

impl<R: 'static> Decoded for Ready<'_, R> {
    fn type_name(&self) -> &'static str {
        std::any::type_name::<R>()
    }

    fn decodes(&self) -> bool {
        true
    }

    fn encoded(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.ready.push_back(Ok((self.decode)(bytes)?));
        Ok(())
    }

    fn value(
        &mut self,
        value: Box<dyn std::any::Any + Send>,
    ) -> Result<(), Box<dyn std::any::Any + Send>> {
        self.ready.push_back(Ok(*value.downcast::<R>()?));
        Ok(())
    }

    fn failed(&mut self, error: PoolError) -> Result<(), PoolError> {
        self.ready.push_back(Err(error));
        Ok(())
    }
}

impl<R: 'static> Iterator for Imap<'_, R> {
    type Item = Result<R, PoolError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        let next = self.next_timeout(self.core.timeout());
        if matches!(next, Some(Err(PoolError::Timeout { .. })) | None) {
            self.ended = true;
        }
        next
    }
}

impl Drop for Core<'_> {
    /// Reads no more input; the chunks still queued are skipped by the workers.
    fn drop(&mut self) {
        for (_, batch) in &self.in_flight {
            batch.abandon();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::batch::tests_support::encoded;
    use crate::process::items;

    /// An imap over `values` (chunks of `chunksize`) on a queue with no workers: the test plays
    /// the worker. Counts how many input items were read.
    fn imap_on(
        jobs: &Arc<JobQueue>,
        values: Vec<u8>,
        chunksize: usize,
        unordered: bool,
        read: &std::rc::Rc<std::cell::Cell<usize>>,
    ) -> Imap<'static, u8> {
        let read = std::rc::Rc::clone(read);
        let mut input = values
            .into_iter()
            .inspect(move |_| read.set(read.get() + 1));
        let feed: Feed<'static> = Box::new(move || {
            let mut run = Vec::new();
            let mut n = 0;
            for v in input.by_ref().take(chunksize) {
                items::push_encoded(&mut run, &v).unwrap();
                n += 1;
            }
            (n > 0).then_some((Ok(run), n))
        });
        let task = crate::process::tasks::echo::<u8>();
        let it = ImapTask {
            id: task.id().clone(),
            name: task.name(),
            types: task.types(),
        };
        Imap::new(
            Arc::clone(jobs),
            it,
            feed,
            2,
            unordered,
            Duration::from_millis(5),
            items::decode_exact::<u8>,
        )
    }

    /// Answers the next queued chunk by echoing its arguments.
    fn answer(jobs: &JobQueue) -> usize {
        let chunk = jobs.next(Duration::from_secs(1)).unwrap();
        let Work::Task { args, .. } = &chunk.work else {
            panic!("a task")
        };
        let mut bytes = vec![9];
        for item in items::split(args) {
            let mut outcome = vec![0];
            outcome.extend_from_slice(item.unwrap());
            items::push(&mut bytes, &outcome);
        }
        let first = chunk.range().0;
        chunk.batch.complete(
            chunk.index,
            ChunkOutcome::Encoded {
                who: "w".into(),
                bytes: Arc::new(bytes),
                start: 1,
            },
        );
        first
    }

    #[test]
    fn imap_reads_its_input_a_window_ahead_in_order_and_unordered() {
        let jobs = Arc::new(JobQueue::new(None));
        let read = std::rc::Rc::new(std::cell::Cell::new(0));
        let mut ordered = imap_on(&jobs, (0..10).collect(), 2, false, &read);
        assert_eq!(read.get(), 4, "two chunks of two read ahead, no more");
        assert!(matches!(
            ordered.next_timeout(Duration::from_millis(1)),
            Some(Err(PoolError::Timeout { .. }))
        ));
        assert_eq!(answer(&jobs), 0);
        assert_eq!(
            ordered
                .next_timeout(Duration::from_secs(1))
                .unwrap()
                .unwrap(),
            0
        );
        assert_eq!(read.get(), 4, "the first chunk is not handed out yet");
        assert_eq!(
            ordered
                .next_timeout(Duration::from_secs(1))
                .unwrap()
                .unwrap(),
            1
        );
        assert_eq!(read.get(), 6);
        let mut got = vec![0, 1];
        while got.len() < 10 {
            answer(&jobs);
            got.push(
                ordered
                    .next_timeout(Duration::from_secs(1))
                    .unwrap()
                    .unwrap(),
            );
            got.push(
                ordered
                    .next_timeout(Duration::from_secs(1))
                    .unwrap()
                    .unwrap(),
            );
        }
        assert_eq!(got, (0..10).collect::<Vec<u8>>());
        assert!(ordered.next_timeout(Duration::from_secs(1)).is_none());

        let read = std::rc::Rc::new(std::cell::Cell::new(0));
        let mut any = imap_on(&jobs, (0..4).collect(), 2, true, &read);
        let (a, b) = (
            jobs.next(Duration::from_secs(1)).unwrap(),
            jobs.next(Duration::from_secs(1)).unwrap(),
        );
        let batch = Arc::clone(&b.batch);
        for _ in 0..2 {
            // A chunk recorded twice (a lost worker, then terminate) is handed out once.
            batch.complete(
                0,
                ChunkOutcome::Failed(vec![PoolError::Closed, PoolError::Closed]),
            );
        }
        assert!(
            matches!(any.next(), Some(Err(PoolError::Closed))),
            "the second chunk first"
        );
        assert!(matches!(any.next(), Some(Err(PoolError::Closed))));
        a.batch.complete(0, encoded(&[0u8, 1]));
        assert_eq!(any.next().unwrap().unwrap(), 0);
        assert_eq!(any.next().unwrap().unwrap(), 1);
        assert!(any.next().is_none(), "both chunks, each once");

        let read = std::rc::Rc::new(std::cell::Cell::new(0));
        let mut lost = imap_on(&jobs, (0..2).collect(), 1, true, &read);
        drop(jobs.next(Duration::from_secs(1)).unwrap()); // a chunk that never finishes
        assert!(matches!(lost.next(), Some(Err(PoolError::Timeout { .. }))));
        assert!(lost.next().is_none(), "ends after a timeout");
    }

    #[test]
    fn a_dropped_imap_reads_no_more_and_its_queued_chunks_are_skipped() {
        let jobs = Arc::new(JobQueue::new(None));
        let read = std::rc::Rc::new(std::cell::Cell::new(0));
        let mut it = imap_on(&jobs, (0..100).collect(), 1, false, &read);
        answer(&jobs);
        assert_eq!(it.next().unwrap().unwrap(), 0);
        assert_eq!(read.get(), 3, "a window of two chunks ahead, no more");
        drop(it);
        assert_eq!(read.get(), 3);
        assert!(
            jobs.next(Duration::from_millis(20)).is_err(),
            "the dropped imap's queued chunks are not handed to a worker"
        );
        let mut again = imap_on(&jobs, vec![7], 1, false, &read);
        answer(&jobs);
        assert_eq!(again.next().unwrap().unwrap(), 7, "the queue serves on");
    }

    #[test]
    fn imap_after_close_fails_each_input_it_reads() {
        let jobs = Arc::new(JobQueue::new(None));
        jobs.close();
        let read = std::rc::Rc::new(std::cell::Cell::new(0));
        let outcomes: Vec<_> = imap_on(&jobs, vec![1; 100], 1, false, &read).collect();
        assert_eq!(read.get(), 100);
        assert_eq!(outcomes.len(), 100, "one outcome per input");
        for (i, outcome) in outcomes.iter().enumerate() {
            let e = outcome.as_ref().unwrap_err();
            assert_eq!(e.index(), Some(i));
            assert!(e.to_string().contains("closed"), "{e}");
        }
    }
}
