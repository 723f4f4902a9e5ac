//! Counting pi's hits with threads that share the count: four ways, and false sharing.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use crossbeam::utils::CachePadded;

use std::time::Instant;

use super::{DEFAULT_TIMEOUT, LockError, LockTimeout};
use crate::pi::{self, PiEstimate};
use crate::timeline::{Buffer, Kind, Timeline};

/// Whether sample `i` of `seed`'s stream lands in the circle (1) or not (0): one sample of
/// [`pi::count_hits`], the same work in every way of counting below.
#[inline]
fn hit(seed: u64, i: u64) -> u64 {
    pi::count_hits(seed, i, 1)
}

/// How the threads of [`count_shared`] share their count of hits.
///
/// # Examples
/// ```
/// use parlab::locks::Sharing;
/// assert_eq!(Sharing::ALL.len(), 4);
/// assert_eq!(Sharing::MutexPerSample.to_string(), "Mutex per sample");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sharing {
    /// One `Mutex<u64>`, locked for every sample: `*count.lock().unwrap() += hit`.
    MutexPerSample,
    /// One `AtomicU64`, added to for every sample: `count.fetch_add(hit, Relaxed)`.
    AtomicPerSample,
    /// Each thread counts in a local variable and adds it to a shared atomic once, at the end.
    LocalThenAdd,
    /// Each thread counts locally and sends its count down a channel; the caller adds them up.
    Channel,
}

impl Sharing {
    /// The four ways, slowest first.
    pub const ALL: [Sharing; 4] = [
        Sharing::MutexPerSample,
        Sharing::AtomicPerSample,
        Sharing::LocalThenAdd,
        Sharing::Channel,
    ];
}

impl std::fmt::Display for Sharing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Sharing::MutexPerSample => "Mutex per sample",
            Sharing::AtomicPerSample => "atomic per sample",
            Sharing::LocalThenAdd => "local, added once",
            Sharing::Channel => "local, via a channel",
        })
    }
}

/// Estimates pi on `threads` threads that share one count of hits, in the way `sharing` says.
///
/// Every way does the same work per sample and gives the same result as
/// [`pi::calc_pi`]`(samples, seed)`; only the sharing differs, so the times compare the cost of
/// sharing. The per-sample ways make the threads fight over one cache line (contention).
///
/// # Errors
/// [`LockError::Pi`] for 0 samples, 0 threads, more threads than samples or than
/// [`pi::MAX_THREADS`]; [`LockError::Spawn`], [`LockError::Panicked`]; [`LockError::Timeout`] if
/// a channel message does not come within [`DEFAULT_TIMEOUT`] after the threads finish.
///
/// # Examples
/// ```
/// use parlab::{locks::{self, Sharing}, pi};
/// for way in Sharing::ALL {
///     assert_eq!(locks::count_shared(way, 100_001, 2, 7)?, pi::calc_pi(100_001, 7)?);
/// }
/// assert!(locks::count_shared(Sharing::Channel, 10, 0, 7).is_err());
/// # Ok::<(), locks::LockError>(())
/// ```
pub fn count_shared(
    sharing: Sharing,
    samples: u64,
    threads: usize,
    seed: u64,
) -> Result<PiEstimate, LockError> {
    let mutex = Mutex::new(0u64);
    let atomic = AtomicU64::new(0);
    let (tx, rx) = mpsc::channel::<u64>();
    pi::on_split_threads(samples, threads, "count_shared", |_, range| {
        match sharing {
            Sharing::MutexPerSample => {
                for i in range {
                    // A poisoned count is still a count: nothing panics while holding it.
                    *mutex.lock().unwrap_or_else(|e| e.into_inner()) += hit(seed, i);
                }
            }
            Sharing::AtomicPerSample => {
                for i in range {
                    atomic.fetch_add(hit(seed, i), Ordering::Relaxed);
                }
            }
            Sharing::LocalThenAdd => {
                let local: u64 = range.map(|i| hit(seed, i)).sum();
                atomic.fetch_add(local, Ordering::Relaxed);
            }
            Sharing::Channel => {
                let local: u64 = range.map(|i| hit(seed, i)).sum();
                // The receiver outlives the threads, so the send cannot fail.
                let _ = tx.send(local);
            }
        }
        Ok::<(), LockError>(())
    })?;
    drop(tx);
    let hits = total_hits(sharing, mutex, atomic, &rx, threads)?;
    Ok(PiEstimate::from_hits(hits, samples)?)
}

/// The hits the threads counted, from wherever `sharing` put them (the channel: one count per
/// thread, each waited for at most [`DEFAULT_TIMEOUT`]).
fn total_hits(
    sharing: Sharing,
    mutex: Mutex<u64>,
    atomic: AtomicU64,
    rx: &mpsc::Receiver<u64>,
    threads: usize,
) -> Result<u64, LockTimeout> {
    Ok(match sharing {
        Sharing::MutexPerSample => mutex.into_inner().unwrap_or_else(|e| e.into_inner()),
        Sharing::AtomicPerSample | Sharing::LocalThenAdd => atomic.into_inner(),
        Sharing::Channel => {
            let mut hits = 0;
            for _ in 0..threads {
                hits += rx.recv_timeout(DEFAULT_TIMEOUT).map_err(|_| LockTimeout {
                    what: "a thread's count on the channel".into(),
                    waited: DEFAULT_TIMEOUT,
                })?;
            }
            hits
        }
    })
}

/// How many blocks [`count_shared_recorded`] cuts each thread's samples into.
const BLOCKS: u64 = 12;

impl Sharing {
    /// The start of its threads' lane names on a timeline.
    fn lane_name(self) -> &'static str {
        match self {
            Sharing::MutexPerSample => "Mutex/sample",
            Sharing::AtomicPerSample => "atomic/sample",
            Sharing::LocalThenAdd => "local count",
            Sharing::Channel => "channel",
        }
    }
}

/// [`count_shared`], recording each thread on `timeline` (lanes `Mutex/sample 1`, `local count
/// 1`, ...): for [`Sharing::MutexPerSample`], its time waiting for the lock, holding it and
/// outside it; for the others, counting, then the one add or send.
///
/// A thread takes the lock millions of times, far faster than a pixel, so its samples are cut
/// into 12 blocks (few enough that each one, and its grey waiting part, is wide enough to see)
/// and each block is drawn as its measured waiting, then holding, then the rest
/// (the three interleave within a block). Reading the clock three times per sample slows the
/// Mutex way down: compare its picture, not its time, with the unrecorded run.
///
/// # Errors
/// As [`count_shared`].
///
/// # Examples
/// ```
/// use parlab::{locks::{self, Sharing}, pi, timeline::{Kind, Timeline}};
/// let tl = Timeline::new();
/// let est = locks::count_shared_recorded(Sharing::MutexPerSample, 100_000, 2, 7, &tl)?;
/// assert_eq!(est, pi::calc_pi(100_000, 7)?);
/// assert!(tl.spans().iter().any(|s| s.kind == Kind::Waiting));
/// assert_eq!(tl.lanes(), ["Mutex/sample 1", "Mutex/sample 2"]);
/// # Ok::<(), locks::LockError>(())
/// ```
pub fn count_shared_recorded(
    sharing: Sharing,
    samples: u64,
    threads: usize,
    seed: u64,
    timeline: &Timeline,
) -> Result<PiEstimate, LockError> {
    let mutex = Mutex::new(0u64);
    let atomic = AtomicU64::new(0);
    let (tx, rx) = mpsc::channel::<u64>();
    pi::on_split_threads(samples, threads, sharing.lane_name(), |_, range| {
        let mut rec = timeline.buffer(timeline.this_thread());
        let start = Instant::now();
        match sharing {
            Sharing::MutexPerSample => mutex_blocks(&mutex, seed, range, &mut rec),
            Sharing::AtomicPerSample => {
                for i in range {
                    atomic.fetch_add(hit(seed, i), Ordering::Relaxed);
                }
                rec.record(
                    Kind::Running,
                    "atomic add per sample",
                    start,
                    Instant::now(),
                );
            }
            Sharing::LocalThenAdd | Sharing::Channel => {
                let local: u64 = range.map(|i| hit(seed, i)).sum();
                let counted = Instant::now();
                rec.record(Kind::Running, "counting locally", start, counted);
                if sharing == Sharing::Channel {
                    let _ = tx.send(local); // the receiver outlives the threads
                    rec.record(Kind::Sending, "send", counted, Instant::now());
                } else {
                    atomic.fetch_add(local, Ordering::Relaxed);
                    rec.record(Kind::Holding, "one add", counted, Instant::now());
                }
            }
        }
        Ok::<(), LockError>(())
    })?;
    drop(tx);
    let hits = total_hits(sharing, mutex, atomic, &rx, threads)?;
    Ok(PiEstimate::from_hits(hits, samples)?)
}

/// Counts `range` with the Mutex locked per sample, in [`BLOCKS`] blocks, each recorded as its
/// total waiting, holding and other time.
fn mutex_blocks(mutex: &Mutex<u64>, seed: u64, range: std::ops::Range<u64>, rec: &mut Buffer) {
    let per_block = (range.end - range.start).div_ceil(BLOCKS).max(1);
    let mut first = range.start;
    while first < range.end {
        let last = (first + per_block).min(range.end);
        let block_start = Instant::now();
        let (mut wait, mut hold) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
        for i in first..last {
            let h = hit(seed, i);
            let asked = Instant::now();
            let mut count = mutex.lock().unwrap_or_else(|e| e.into_inner());
            let got = Instant::now();
            *count += h;
            drop(count);
            let released = Instant::now();
            wait += got - asked;
            hold += released - got;
        }
        let block_end = Instant::now();
        let n = last - first;
        let waited = (block_start + wait).min(block_end);
        let held = (waited + hold).min(block_end);
        rec.record(
            Kind::Waiting,
            format!("{n} samples: waiting"),
            block_start,
            waited,
        );
        rec.record(Kind::Holding, format!("{n} samples: holding"), waited, held);
        rec.record(
            Kind::Running,
            format!("{n} samples: counting"),
            held,
            block_end,
        );
        first = last;
    }
}

/// Where [`count_in_slots`] puts each thread's own counter.
///
/// # Examples
/// ```
/// assert_eq!(parlab::locks::Layout::Padded.to_string(), "padded (CachePadded)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// `Vec<AtomicU64>`: the counters side by side, 8 bytes apart, in one 64-byte cache line.
    Packed,
    /// `Vec<CachePadded<AtomicU64>>`: each counter alone in its own cache line (128 bytes here).
    Padded,
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Layout::Packed => "side by side",
            Layout::Padded => "padded (CachePadded)",
        })
    }
}

/// Estimates pi on `threads` threads, each adding its hits to its *own* atomic counter, per
/// sample; the counters are laid out as `layout` says.
///
/// No thread touches another's counter, yet side by side they share a cache line, and the cores
/// pass that line back and forth on every write: false sharing. Padded, each core keeps its line.
/// The result equals [`pi::calc_pi`]`(samples, seed)` either way.
///
/// # Errors
/// As [`count_shared`] (no channel, so no time-out).
///
/// # Examples
/// ```
/// use parlab::{locks::{self, Layout}, pi};
/// let packed = locks::count_in_slots(Layout::Packed, 100_000, 2, 3)?;
/// assert_eq!(packed, locks::count_in_slots(Layout::Padded, 100_000, 2, 3)?);
/// assert_eq!(packed, pi::calc_pi(100_000, 3)?);
/// # Ok::<(), locks::LockError>(())
/// ```
pub fn count_in_slots(
    layout: Layout,
    samples: u64,
    threads: usize,
    seed: u64,
) -> Result<PiEstimate, LockError> {
    let hits = match layout {
        Layout::Packed => {
            let slots: Vec<AtomicU64> = (0..threads).map(|_| AtomicU64::new(0)).collect();
            run_slots(samples, threads, &slots, seed, |c| c)?;
            slots.iter().map(|c| c.load(Ordering::Relaxed)).sum()
        }
        Layout::Padded => {
            let slots: Vec<CachePadded<AtomicU64>> = (0..threads)
                .map(|_| CachePadded::new(AtomicU64::new(0)))
                .collect();
            run_slots(samples, threads, &slots, seed, |c| &**c)?;
            slots.iter().map(|c| c.load(Ordering::Relaxed)).sum()
        }
    };
    Ok(PiEstimate::from_hits(hits, samples)?)
}

fn run_slots<C: Sync>(
    samples: u64,
    threads: usize,
    slots: &[C],
    seed: u64,
    counter: fn(&C) -> &AtomicU64,
) -> Result<(), LockError> {
    pi::on_split_threads(samples, threads, "count_in_slots", |i, range| {
        let slot = counter(&slots[i]);
        for i in range {
            slot.fetch_add(hit(seed, i), Ordering::Relaxed);
        }
        Ok::<(), LockError>(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pi::PiError;

    #[test]
    fn every_way_counts_the_same() {
        for (samples, threads) in [(1, 1), (1000, 3), (100_003, 2), (50_000, 7)] {
            let want = pi::calc_pi(samples, 5).unwrap();
            for way in Sharing::ALL {
                assert_eq!(
                    count_shared(way, samples, threads, 5).unwrap(),
                    want,
                    "{way}"
                );
            }
            for layout in [Layout::Packed, Layout::Padded] {
                assert_eq!(count_in_slots(layout, samples, threads, 5).unwrap(), want);
            }
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        for way in Sharing::ALL {
            assert_eq!(
                count_shared(way, 0, 2, 1),
                Err(LockError::Pi(PiError::ZeroSamples))
            );
            assert_eq!(
                count_shared(way, 10, 0, 1),
                Err(LockError::Pi(PiError::ZeroThreads))
            );
        }
        assert!(count_in_slots(Layout::Packed, 3, 4, 1).is_err());
        assert!(count_in_slots(Layout::Padded, 10, pi::MAX_THREADS + 1, 1).is_err());
    }

    #[test]
    fn padding_is_a_cache_line_or_more() {
        assert!(std::mem::size_of::<CachePadded<AtomicU64>>() >= 64);
        assert_eq!(std::mem::size_of::<AtomicU64>(), 8);
    }
}
