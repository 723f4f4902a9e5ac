//! A simulated Global Interpreter Lock: what Python threads see, on real Rust threads.
//!
//! A [`Gil`] is a lock that only one thread holds at a time. A thread runs its work holding it
//! ([`Gil::with_gil`]) and calls [`GilGuard::tick`] between small steps, as the Python interpreter
//! checks between bytecodes: once the holder has run for the switch interval (5 ms by default,
//! Python's `sys.setswitchinterval`) and another thread waits, it hands the lock over. Waiting
//! threads queue in order (a ticket lock), so each really gets its turn, and threads under the
//! GIL take as long as one thread doing all the work. [`GilGuard::allow_threads`] releases the
//! lock for a section (numba's `nogil=True`, PyO3's `allow_threads`): those sections run in
//! parallel.
//!
//! The GIL is a value you hold, never a `static` (evcxr gives each cell its own copy of statics).
//! Nothing waits forever: acquiring gives up after the GIL's time-out (30 s by default) with
//! [`GilError::Timeout`].
//!
//! # Examples
//! ```
//! use parlab::gil::{calc_pi_gil, Gil};
//!
//! let gil = Gil::new();
//! let held = calc_pi_gil(&gil, 1_000_000, 2, 1, false)?; // like Python threads: no speed-up
//! let released = calc_pi_gil(&gil, 1_000_000, 2, 1, true)?; // like numba nogil: scales
//! assert_eq!(held, released);
//! assert_eq!(gil.stats().max_holders, 1);
//! # Ok::<(), parlab::gil::GilError>(())
//! ```

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use crate::pi::{self, PiError, PiEstimate};
use crate::timeline::{Kind, Timeline};

/// The default switch interval, as Python's: 5 ms.
pub const DEFAULT_SWITCH_INTERVAL: Duration = Duration::from_millis(5);

/// The default time-out for acquiring the GIL: 30 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Samples that [`calc_pi_gil`] counts between two [`GilGuard::tick`]s (about 16 µs of work).
pub const SLICE_SAMPLES: u64 = 1 << 14;

/// What went wrong with the simulated GIL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GilError {
    /// Waited longer than the GIL's time-out: another thread held it without ticking.
    #[error("timed out after {0:?} waiting for the GIL")]
    Timeout(Duration),
    /// This thread already holds the GIL (acquiring it again would wait for itself).
    #[error("this thread already holds the GIL")]
    AlreadyHeld,
    /// A zero switch interval or time-out.
    #[error("the {0} must be longer than zero")]
    ZeroDuration(&'static str),
    /// Bad arguments for the pi calculation.
    #[error(transparent)]
    Pi(#[from] PiError),
}

/// Counts kept by a [`Gil`], to check it and to see it work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GilStats {
    /// Times a thread got the GIL.
    pub acquisitions: u64,
    /// Times a holder handed the GIL over in [`GilGuard::tick`] because another thread waited.
    pub switches: u64,
    /// The most threads ever seen holding the GIL at once (1 if it works).
    pub max_holders: usize,
}

#[derive(Debug, Default)]
struct State {
    holder: Option<ThreadId>,
    queue: VecDeque<u64>,
    next_ticket: u64,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    turn: Condvar,
    /// Threads queued for the GIL (read without the lock, as Python's eval breaker).
    waiting: AtomicUsize,
    interval_ns: AtomicU64,
    timeout_ns: AtomicU64,
    holders: AtomicUsize,
    max_holders: AtomicUsize,
    acquisitions: AtomicU64,
    switches: AtomicU64,
    /// Where hand-overs are recorded, if anywhere ([`Gil::record_into`]).
    timeline: RwLock<Option<Timeline>>,
}

/// A simulated Global Interpreter Lock, shared by the threads that run "Python" work.
///
/// Cloning gives another handle to the same lock.
///
/// # Examples
/// ```
/// let gil = parlab::gil::Gil::new();
/// let answer = gil.with_gil(|py| py.allow_threads(|| 6 * 7))??;
/// assert_eq!(answer, 42);
/// # Ok::<(), parlab::gil::GilError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Gil {
    inner: Arc<Inner>,
}

impl Default for Gil {
    fn default() -> Self {
        Gil::new()
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Gil {
    /// A free GIL with the default switch interval (5 ms) and time-out (30 s).
    ///
    /// # Examples
    /// ```
    /// let gil = parlab::gil::Gil::new();
    /// assert_eq!(gil.switch_interval(), std::time::Duration::from_millis(5));
    /// ```
    pub fn new() -> Self {
        Gil {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                turn: Condvar::new(),
                waiting: AtomicUsize::new(0),
                interval_ns: AtomicU64::new(nanos(DEFAULT_SWITCH_INTERVAL)),
                timeout_ns: AtomicU64::new(nanos(DEFAULT_TIMEOUT)),
                holders: AtomicUsize::new(0),
                max_holders: AtomicUsize::new(0),
                acquisitions: AtomicU64::new(0),
                switches: AtomicU64::new(0),
                timeline: RwLock::new(None),
            }),
        }
    }

    /// How long a holder runs before handing over to a waiting thread.
    ///
    /// # Examples
    /// ```
    /// assert!(parlab::gil::Gil::new().switch_interval().as_millis() == 5);
    /// ```
    pub fn switch_interval(&self) -> Duration {
        Duration::from_nanos(self.inner.interval_ns.load(Ordering::Relaxed))
    }

    /// Sets the switch interval, like Python's `sys.setswitchinterval(seconds)`.
    ///
    /// # Errors
    /// [`GilError::ZeroDuration`] for a zero interval (Python refuses it too).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let gil = parlab::gil::Gil::new();
    /// gil.set_switch_interval(Duration::from_millis(1))?;
    /// assert!(gil.set_switch_interval(Duration::ZERO).is_err());
    /// # Ok::<(), parlab::gil::GilError>(())
    /// ```
    pub fn set_switch_interval(&self, interval: Duration) -> Result<(), GilError> {
        if interval.is_zero() {
            return Err(GilError::ZeroDuration("switch interval"));
        }
        self.inner
            .interval_ns
            .store(nanos(interval), Ordering::Relaxed);
        Ok(())
    }

    /// How long a thread waits for the GIL before giving up with [`GilError::Timeout`].
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::gil::Gil::new().timeout().as_secs(), 30);
    /// ```
    pub fn timeout(&self) -> Duration {
        Duration::from_nanos(self.inner.timeout_ns.load(Ordering::Relaxed))
    }

    /// Sets how long a thread waits for the GIL before giving up.
    ///
    /// # Errors
    /// [`GilError::ZeroDuration`] for a zero time-out.
    ///
    /// # Examples
    /// ```
    /// let gil = parlab::gil::Gil::new();
    /// gil.set_timeout(std::time::Duration::from_secs(2))?;
    /// # Ok::<(), parlab::gil::GilError>(())
    /// ```
    pub fn set_timeout(&self, timeout: Duration) -> Result<(), GilError> {
        if timeout.is_zero() {
            return Err(GilError::ZeroDuration("time-out"));
        }
        self.inner
            .timeout_ns
            .store(nanos(timeout), Ordering::Relaxed);
        Ok(())
    }

    /// The counts so far: acquisitions, hand-overs, the most holders at once.
    ///
    /// # Examples
    /// ```
    /// let gil = parlab::gil::Gil::new();
    /// gil.with_gil(|_| ())?;
    /// assert_eq!(gil.stats().acquisitions, 1);
    /// # Ok::<(), parlab::gil::GilError>(())
    /// ```
    pub fn stats(&self) -> GilStats {
        GilStats {
            acquisitions: self.inner.acquisitions.load(Ordering::Relaxed),
            switches: self.inner.switches.load(Ordering::Relaxed),
            max_holders: self.inner.max_holders.load(Ordering::SeqCst),
        }
    }

    /// Sets the counts of [`Gil::stats`] back to zero.
    ///
    /// # Examples
    /// ```
    /// let gil = parlab::gil::Gil::new();
    /// gil.with_gil(|_| ())?;
    /// gil.reset_stats();
    /// assert_eq!(gil.stats(), Default::default());
    /// # Ok::<(), parlab::gil::GilError>(())
    /// ```
    pub fn reset_stats(&self) {
        self.inner.acquisitions.store(0, Ordering::Relaxed);
        self.inner.switches.store(0, Ordering::Relaxed);
        self.inner.max_holders.store(0, Ordering::SeqCst);
    }

    /// Records every hand-over from now on into `timeline`: each thread's time holding the GIL,
    /// waiting for it, and running with it released, on a lane per thread.
    ///
    /// # Examples
    /// ```
    /// use parlab::{gil::{calc_pi_gil, Gil}, timeline::{Kind, Timeline}};
    /// let gil = Gil::new();
    /// let tl = Timeline::new();
    /// gil.record_into(&tl);
    /// calc_pi_gil(&gil, 1_000_000, 2, 1, false)?;
    /// assert!(tl.spans().iter().any(|s| s.kind == Kind::HoldingGil));
    /// assert!(tl.overlaps_across_lanes(&[Kind::HoldingGil]).is_empty()); // one holder at a time
    /// # Ok::<(), parlab::gil::GilError>(())
    /// ```
    pub fn record_into(&self, timeline: &Timeline) {
        *self
            .inner
            .timeline
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(timeline.clone());
    }

    /// Stops recording hand-overs (see [`Gil::record_into`]).
    ///
    /// # Examples
    /// ```
    /// let gil = parlab::gil::Gil::new();
    /// gil.stop_recording();
    /// ```
    pub fn stop_recording(&self) {
        *self
            .inner
            .timeline
            .write()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Records a span of this thread, if recording.
    fn note(&self, kind: Kind, label: &str, start: Instant, end: Instant) {
        let tl = self
            .inner
            .timeline
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(tl) = tl.as_ref() {
            tl.record(tl.this_thread(), kind, label, start, end);
        }
    }

    /// Waits for the GIL (in turn, behind the threads already waiting) and returns its guard.
    ///
    /// The GIL is released when the guard is dropped.
    ///
    /// # Errors
    /// [`GilError::Timeout`] after [`Gil::timeout`], [`GilError::AlreadyHeld`] if this thread
    /// holds it already.
    ///
    /// # Examples
    /// ```
    /// let gil = parlab::gil::Gil::new();
    /// let guard = gil.acquire()?;
    /// assert!(gil.acquire().is_err()); // not twice from one thread
    /// drop(guard);
    /// # Ok::<(), parlab::gil::GilError>(())
    /// ```
    pub fn acquire(&self) -> Result<GilGuard<'_>, GilError> {
        let asked = Instant::now();
        self.lock_in_turn()?;
        let since = Instant::now();
        self.note(Kind::Waiting, "waiting for the GIL", asked, since);
        Ok(GilGuard {
            gil: self,
            since,
            held: true,
            _not_send: PhantomData,
        })
    }

    /// Runs `f` holding the GIL; `f` gets the guard to [`tick`](GilGuard::tick) and to
    /// [`allow_threads`](GilGuard::allow_threads).
    ///
    /// # Errors
    /// As [`Gil::acquire`].
    ///
    /// # Examples
    /// ```
    /// let gil = parlab::gil::Gil::new();
    /// let sum = gil.with_gil(|py| {
    ///     let mut sum = 0u64;
    ///     for i in 0..1000 {
    ///         sum += i;
    ///         py.tick()?; // a "bytecode boundary": hand over if it is time
    ///     }
    ///     Ok::<_, parlab::gil::GilError>(sum)
    /// })??;
    /// assert_eq!(sum, 499_500);
    /// # Ok::<(), parlab::gil::GilError>(())
    /// ```
    pub fn with_gil<R>(&self, f: impl FnOnce(&mut GilGuard<'_>) -> R) -> Result<R, GilError> {
        let mut guard = self.acquire()?;
        Ok(f(&mut guard))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state is a few counters changed without panicking: a poisoned lock is still sound.
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the GIL in FIFO order, or times out.
    fn lock_in_turn(&self) -> Result<(), GilError> {
        let me = thread::current().id();
        let mut state = self.state();
        if state.holder == Some(me) {
            return Err(GilError::AlreadyHeld);
        }
        if state.holder.is_some() || !state.queue.is_empty() {
            let ticket = state.next_ticket;
            state.next_ticket += 1;
            state.queue.push_back(ticket);
            self.inner.waiting.fetch_add(1, Ordering::SeqCst);
            let timeout = self.timeout();
            let deadline = Instant::now() + timeout;
            loop {
                if state.holder.is_none() && state.queue.front() == Some(&ticket) {
                    state.queue.pop_front();
                    break;
                }
                let now = Instant::now();
                if now >= deadline {
                    state.queue.retain(|&t| t != ticket);
                    self.inner.waiting.fetch_sub(1, Ordering::SeqCst);
                    drop(state);
                    self.inner.turn.notify_all(); // the next in line may be first now
                    return Err(GilError::Timeout(timeout));
                }
                state = self
                    .inner
                    .turn
                    .wait_timeout(state, deadline - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            self.inner.waiting.fetch_sub(1, Ordering::SeqCst);
        }
        state.holder = Some(me);
        drop(state);
        let holders = self.inner.holders.fetch_add(1, Ordering::SeqCst) + 1;
        self.inner.max_holders.fetch_max(holders, Ordering::SeqCst);
        self.inner.acquisitions.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn unlock(&self) {
        self.inner.holders.fetch_sub(1, Ordering::SeqCst);
        self.state().holder = None;
        self.inner.turn.notify_all();
    }
}

/// Proof that this thread holds the [`Gil`]; releases it when dropped. Stays on its thread.
///
/// # Examples
/// ```
/// let gil = parlab::gil::Gil::new();
/// let mut py = gil.acquire()?;
/// py.tick()?;
/// # Ok::<(), parlab::gil::GilError>(())
/// ```
#[derive(Debug)]
#[must_use = "if unused the GIL is released at once"]
pub struct GilGuard<'a> {
    gil: &'a Gil,
    since: Instant,
    held: bool,
    _not_send: PhantomData<*const ()>,
}

impl GilGuard<'_> {
    /// A point where the holder may hand over: if it has held the GIL for the switch interval and
    /// another thread waits, it releases the GIL and queues behind the waiting threads.
    ///
    /// Call it often (every few microseconds of work), as Python checks between bytecodes.
    ///
    /// # Errors
    /// [`GilError::Timeout`] if getting the GIL back takes longer than the time-out.
    ///
    /// # Examples
    /// ```
    /// let gil = parlab::gil::Gil::new();
    /// gil.with_gil(|py| py.tick())??; // alone: keeps the GIL
    /// assert_eq!(gil.stats().switches, 0);
    /// # Ok::<(), parlab::gil::GilError>(())
    /// ```
    pub fn tick(&mut self) -> Result<(), GilError> {
        if !self.held {
            return self.reacquire(Instant::now());
        }
        let inner = &self.gil.inner;
        if inner.waiting.load(Ordering::Relaxed) > 0
            && nanos(self.since.elapsed()) >= inner.interval_ns.load(Ordering::Relaxed)
        {
            // Waiting starts where the slice ends: no gap on the timeline between the two.
            let released = self.release();
            inner.switches.fetch_add(1, Ordering::Relaxed);
            self.reacquire(released)?;
        }
        Ok(())
    }

    /// Runs `f` with the GIL released, then takes it back: other threads run meanwhile.
    ///
    /// This is numba's `nogil=True` and PyO3's `allow_threads`: `f` must not touch "Python"
    /// state, which in Rust means it gets nothing from the guard.
    ///
    /// # Errors
    /// [`GilError::Timeout`] if getting the GIL back takes longer than the time-out.
    ///
    /// # Examples
    /// ```
    /// let gil = parlab::gil::Gil::new();
    /// let hits = gil.with_gil(|py| py.allow_threads(|| parlab::pi::count_hits(1, 0, 1000)))??;
    /// assert!(hits > 700 && hits < 870);
    /// # Ok::<(), parlab::gil::GilError>(())
    /// ```
    pub fn allow_threads<R>(&mut self, f: impl FnOnce() -> R) -> Result<R, GilError> {
        let start = if self.held {
            self.release()
        } else {
            Instant::now()
        };
        let result = f();
        let end = Instant::now();
        self.gil.note(Kind::NoGil, "GIL released", start, end);
        self.reacquire(end)?;
        Ok(result)
    }

    /// Takes the GIL back, having asked for it at `asked` (recorded as waiting from then).
    fn reacquire(&mut self, asked: Instant) -> Result<(), GilError> {
        self.gil.lock_in_turn()?;
        self.held = true;
        self.since = Instant::now();
        self.gil
            .note(Kind::Waiting, "waiting for the GIL", asked, self.since);
        Ok(())
    }

    /// Hands the GIL back, recording the slice it was held.
    /// Releases the GIL; returns when (the end of the slice, recorded as holding the GIL).
    fn release(&mut self) -> Instant {
        self.held = false;
        let now = Instant::now();
        self.gil.unlock();
        self.gil
            .note(Kind::HoldingGil, "GIL slice", self.since, now);
        now
    }
}

impl Drop for GilGuard<'_> {
    fn drop(&mut self) {
        if self.held {
            let _ = self.release();
        }
    }
}

/// Estimates pi on `threads` threads that each hold the GIL, like Python threads; with
/// `release` they count their samples inside [`GilGuard::allow_threads`], like numba's nogil.
///
/// Without `release` a thread counts [`SLICE_SAMPLES`] samples per [`GilGuard::tick`], so the
/// threads take turns and the time is about that of one thread. The result is the same as
/// [`pi::calc_pi`]`(samples, seed)` either way.
///
/// # Errors
/// The [`PiError`]s of [`pi::calc_pi_threads`] (as [`GilError::Pi`]), [`GilError::Timeout`].
///
/// # Examples
/// ```
/// use parlab::{gil, pi};
/// let g = gil::Gil::new();
/// assert_eq!(gil::calc_pi_gil(&g, 100_000, 2, 3, false)?, pi::calc_pi(100_000, 3)?);
/// assert!(gil::calc_pi_gil(&g, 100_000, 0, 3, false).is_err());
/// # Ok::<(), gil::GilError>(())
/// ```
pub fn calc_pi_gil(
    gil: &Gil,
    samples: u64,
    threads: usize,
    seed: u64,
    release: bool,
) -> Result<PiEstimate, GilError> {
    // Named for what they do: their timeline lanes read "GIL thread 1", "free thread 2".
    let name = if release { "free thread" } else { "GIL thread" };
    pi::count_on_threads(samples, threads, name, |range| {
        gil.with_gil(|py| {
            if release {
                return py
                    .allow_threads(|| pi::count_hits(seed, range.start, range.end - range.start));
            }
            let mut hits = 0;
            let mut first = range.start;
            while first < range.end {
                let n = SLICE_SAMPLES.min(range.end - first);
                hits += pi::count_hits(seed, first, n);
                first += n;
                py.tick()?;
            }
            Ok(hits)
        })?
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn never_two_holders() {
        let gil = Gil::new();
        gil.set_switch_interval(Duration::from_micros(50)).unwrap();
        // Our own counter, kept outside the GIL's code.
        let inside = AtomicUsize::new(0);
        let max_inside = AtomicUsize::new(0);
        let overlap = AtomicBool::new(false);
        thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..200 {
                        gil.with_gil(|py| {
                            for _ in 0..20 {
                                let n = inside.fetch_add(1, Ordering::SeqCst) + 1;
                                max_inside.fetch_max(n, Ordering::SeqCst);
                                overlap.fetch_or(n > 1, Ordering::SeqCst);
                                std::hint::black_box(pi::count_hits(1, 0, 200));
                                inside.fetch_sub(1, Ordering::SeqCst);
                                py.tick().unwrap();
                            }
                        })
                        .unwrap();
                    }
                });
            }
        });
        assert!(!overlap.load(Ordering::SeqCst));
        assert_eq!(max_inside.load(Ordering::SeqCst), 1);
        let stats = gil.stats();
        assert_eq!(stats.max_holders, 1);
        assert!(stats.acquisitions >= 800, "{stats:?}");
    }

    #[test]
    fn holders_hand_over_when_others_wait() {
        let gil = Gil::new();
        gil.set_switch_interval(Duration::from_millis(1)).unwrap();
        let e = calc_pi_gil(&gil, 40_000_000, 2, 5, false).unwrap();
        assert_eq!(e, pi::calc_pi(40_000_000, 5).unwrap());
        let stats = gil.stats();
        assert_eq!(stats.max_holders, 1);
        assert!(stats.switches >= 2, "no hand-over: {stats:?}");
    }

    #[test]
    fn allow_threads_lets_others_in() {
        let gil = Gil::new();
        let e = calc_pi_gil(&gil, 1_000_003, 3, 2, true).unwrap();
        assert_eq!(e, pi::calc_pi(1_000_003, 2).unwrap());
        // Inside allow_threads another thread can take the GIL.
        gil.with_gil(|py| {
            py.allow_threads(|| thread::scope(|s| s.spawn(|| gil.with_gil(|_| 1)).join().unwrap()))
        })
        .unwrap()
        .unwrap()
        .unwrap();
        assert_eq!(gil.stats().max_holders, 1);
    }

    #[test]
    fn seeded_results_equal_across_thread_counts() {
        let gil = Gil::new();
        let samples = 3 * SLICE_SAMPLES + 17;
        let serial = pi::calc_pi(samples, 8).unwrap();
        for threads in [1, 2, 3, 7] {
            for release in [false, true] {
                assert_eq!(
                    calc_pi_gil(&gil, samples, threads, 8, release).unwrap(),
                    serial
                );
            }
        }
    }

    #[test]
    fn waiting_times_out() {
        let gil = Gil::new();
        gil.set_timeout(Duration::from_millis(50)).unwrap();
        let guard = gil.acquire().unwrap();
        let start = Instant::now();
        let other = thread::scope(|s| s.spawn(|| gil.with_gil(|_| ()).map(|_| ())).join().unwrap());
        assert_eq!(other, Err(GilError::Timeout(Duration::from_millis(50))));
        assert!(start.elapsed() < Duration::from_secs(5));
        drop(guard);
        // The abandoned place in the queue does not block the next thread.
        thread::scope(|s| s.spawn(|| gil.with_gil(|_| ()).unwrap()).join().unwrap());
    }

    #[test]
    fn errors() {
        let gil = Gil::new();
        assert_eq!(
            gil.set_switch_interval(Duration::ZERO),
            Err(GilError::ZeroDuration("switch interval"))
        );
        assert!(gil.set_timeout(Duration::ZERO).is_err());
        let nested = gil.with_gil(|_| gil.with_gil(|_| ()).map(|_| ())).unwrap();
        assert_eq!(nested, Err(GilError::AlreadyHeld));
        assert_eq!(
            calc_pi_gil(&gil, 0, 2, 1, false),
            Err(GilError::Pi(PiError::ZeroSamples))
        );
        assert_eq!(
            calc_pi_gil(&gil, 10, 0, 1, true),
            Err(GilError::Pi(PiError::ZeroThreads))
        );
        assert!(matches!(
            calc_pi_gil(&gil, 2, 3, 1, false),
            Err(GilError::Pi(PiError::MoreThreadsThanSamples { .. }))
        ));
        assert_eq!(
            GilError::AlreadyHeld.to_string(),
            "this thread already holds the GIL"
        );
        // The GIL is free again after the errors.
        gil.with_gil(|_| ()).unwrap();
    }
}
