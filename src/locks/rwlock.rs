//! Many readers, few writers: `Mutex` against `RwLock`.

use std::sync::{Mutex, RwLock};
use std::thread;

use super::{LockError, join, spawn};
use crate::pi::{self, PiError};
use crate::timing::Outcome;

/// Which lock [`read_mostly`] puts around the shared data.
///
/// # Examples
/// ```
/// assert_eq!(parlab::locks::LockKind::RwLock.to_string(), "RwLock");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LockKind {
    /// `Mutex`: one thread at a time, reader or writer.
    Mutex,
    /// `RwLock`: many readers at once, or one writer.
    RwLock,
}

impl std::fmt::Display for LockKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LockKind::Mutex => "Mutex",
            LockKind::RwLock => "RwLock",
        })
    }
}

/// What the threads of [`read_mostly`] did: reads, writes, and a checksum of what they read.
///
/// As a timing outcome ([`crate::timing::measure`]) its work is the number of reads.
///
/// # Examples
/// ```
/// let run = parlab::locks::read_mostly(parlab::locks::LockKind::Mutex, 2, 10, 100, 0)?;
/// assert_eq!((run.reads, run.writes), (20, 0));
/// # Ok::<(), parlab::locks::LockError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadRun {
    /// Reads done, by all threads.
    pub reads: u64,
    /// Writes done, by all threads.
    pub writes: u64,
    /// The hits counted inside the reads (so the work cannot be optimised away).
    pub checksum: u64,
}

impl Outcome for ReadRun {
    fn work(&self) -> Result<Option<u64>, String> {
        Ok(Some(self.reads))
    }
}

/// `threads` threads each read shared data `reads_per_thread` times under a `kind` lock.
///
/// A read holds the lock (shared, for an `RwLock`) while it counts `read_work` samples of pi
/// (about 1 ns each): the length of the critical section. With `write_every = n > 0` every n-th
/// access of a thread is a write instead (it takes the lock exclusively and changes the seed).
///
/// An `RwLock` lets long reads overlap, so it beats a `Mutex` when reads are long and writes are
/// rare. When reads are short, every read still writes the lock's reader count, one cache line
/// that all cores fight over, and an `RwLock` is no faster (often slower) than a `Mutex`; frequent
/// writes serialise it as well.
///
/// # Errors
/// [`LockError::Zero`] for 0 reads per thread; [`LockError::Pi`] for 0 threads or more than
/// [`pi::MAX_THREADS`]; [`LockError::Spawn`], [`LockError::Panicked`].
///
/// # Examples
/// ```
/// use parlab::locks::{read_mostly, LockKind};
/// let m = read_mostly(LockKind::Mutex, 2, 100, 1000, 10)?;
/// let r = read_mostly(LockKind::RwLock, 2, 100, 1000, 10)?;
/// assert_eq!((m.reads, m.writes), (180, 20));
/// assert_eq!(m, r); // the same reads and writes, whatever the lock
/// # Ok::<(), parlab::locks::LockError>(())
/// ```
pub fn read_mostly(
    kind: LockKind,
    threads: usize,
    reads_per_thread: u64,
    read_work: u64,
    write_every: u64,
) -> Result<ReadRun, LockError> {
    if threads == 0 {
        return Err(PiError::ZeroThreads.into());
    }
    if threads > pi::MAX_THREADS {
        return Err(PiError::TooManyThreads {
            threads,
            max: pi::MAX_THREADS,
        }
        .into());
    }
    if reads_per_thread == 0 {
        return Err(LockError::Zero("the number of reads per thread"));
    }
    let mutex = Mutex::new(0u64);
    let rwlock = RwLock::new(0u64);
    // Each thread's accesses: a write where `write_every` says, a read otherwise. The data is a
    // per-thread seed offset, so the result does not depend on how the threads interleave.
    let access = |t: u64| {
        let (mut run, mut seed) = (
            ReadRun {
                reads: 0,
                writes: 0,
                checksum: 0,
            },
            0u64,
        );
        for n in 1..=reads_per_thread {
            let write = write_every > 0 && n % write_every == 0;
            match (kind, write) {
                (LockKind::Mutex, false) => {
                    let _data = mutex.lock().unwrap_or_else(|e| e.into_inner());
                    run.checksum += pi::count_hits(t + seed, n * read_work, read_work);
                }
                (LockKind::RwLock, false) => {
                    let _data = rwlock.read().unwrap_or_else(|e| e.into_inner());
                    run.checksum += pi::count_hits(t + seed, n * read_work, read_work);
                }
                (LockKind::Mutex, true) => {
                    *mutex.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                    seed += 1;
                }
                (LockKind::RwLock, true) => {
                    *rwlock.write().unwrap_or_else(|e| e.into_inner()) += 1;
                    seed += 1;
                }
            }
            if write {
                run.writes += 1;
            } else {
                run.reads += 1;
            }
        }
        run
    };
    let access = &access;
    let runs = thread::scope(|s| {
        let mut handles = Vec::with_capacity(threads);
        for t in 0..threads as u64 {
            handles.push(spawn(s, "read_mostly", move || access(t * 1_000_003))?);
        }
        handles.into_iter().map(join).collect::<Result<Vec<_>, _>>()
    })?;
    Ok(runs.iter().fold(
        ReadRun {
            reads: 0,
            writes: 0,
            checksum: 0,
        },
        |a, r| ReadRun {
            reads: a.reads + r.reads,
            writes: a.writes + r.writes,
            checksum: a.checksum + r.checksum,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_locks_do_the_same_accesses() {
        for (threads, reads, work, every) in [(1, 10, 0, 0), (3, 1000, 10, 7), (2, 50, 5000, 1)] {
            let m = read_mostly(LockKind::Mutex, threads, reads, work, every).unwrap();
            let r = read_mostly(LockKind::RwLock, threads, reads, work, every).unwrap();
            assert_eq!(m, r);
            assert_eq!(m.reads + m.writes, threads as u64 * reads);
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(read_mostly(LockKind::Mutex, 0, 10, 1, 0).is_err());
        assert!(read_mostly(LockKind::RwLock, 2, 0, 1, 0).is_err());
        assert!(read_mostly(LockKind::RwLock, pi::MAX_THREADS + 1, 1, 1, 0).is_err());
    }
}
