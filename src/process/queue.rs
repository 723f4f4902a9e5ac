//! A bounded, first-in-first-out, typed queue shared by processes.
//!
//! The messages live in a ring of shared memory (mapped before `fork`, so every forked copy sees
//! the same pages). Producers take a put lock, consumers a get lock; each lock is a word holding
//! the pid of its holder, so a lock whose holder died is taken over. A put writes the message into
//! free ring space and then commits it with one atomic store of the tail (its count and byte
//! position together); a get reads the message and commits with one store of the head. A process
//! killed at any point of `put` or `get` therefore either committed or left nothing behind: no
//! slot is lost and no message is half-written. Waiting sides sleep on a pipe that the other side
//! writes a byte to when it commits (and look again every 2 ms, so that no wake-up is missed).

use std::io;
use std::marker::PhantomData;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::channel::{decode, encode};
use super::{ProcessError, sys};

/// The largest message a queue carries, in bytes.
pub(crate) const MAX_MESSAGE: usize = 128 * 1024;

/// The largest capacity, in messages.
const MAX_CAPACITY: usize = 65_536;

/// The smallest and largest ring, in bytes. Between them the ring has room for `capacity`
/// messages of the largest size (a power of two); the shared memory is only used as it is written.
const MIN_RING: usize = 1 << 20;
const MAX_RING: usize = 32 << 20;

/// Bytes before the ring: the [`Header`], padded.
const HEADER_BYTES: usize = 256;
const _: () = assert!(std::mem::size_of::<Header>() <= HEADER_BYTES);

/// How many puts the queue remembers (who put them, and a fingerprint): what a check sees.
const PUT_LOG: usize = 16;

/// How long a waiting side sleeps at most before it looks at the queue again.
const LOOK_AGAIN: Duration = Duration::from_millis(2);

/// A queue of `T` shared by the process that made it and every process forked after: bounded,
/// first in first out, any number of producers and consumers.
///
/// Clone it (or move it into [`fork`](super::fork)) to share it. Each message is serialized with
/// postcard into a ring of shared memory. It holds at most [`capacity`](Queue::capacity) messages
/// (like Python's `multiprocessing.Queue(maxsize)`) and at most [`capacity_bytes`](Queue::capacity_bytes)
/// bytes of them (room for `capacity` messages of the largest size, 128 KiB, but 1 to 32 MiB);
/// `put` waits while either is reached, and a put that times out says which. A producer or consumer killed in the middle of `put` or `get` loses no slot and leaves
/// no broken message (a lock it held is taken over once it is gone: reaped, if it is a child of
/// the process that waits).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let q = parlab::process::Queue::<(f64, u64)>::new(4)?;
/// q.put(&(3.14, 1000), Duration::from_secs(1))?;
/// assert_eq!(q.get(Duration::from_secs(1))?, (3.14, 1000));
/// assert!(q.get(Duration::from_millis(10)).is_err()); // empty: a timeout, not a hang
/// # Ok::<(), parlab::process::ProcessError>(())
/// ```
#[derive(Debug)]
pub struct Queue<T> {
    inner: Arc<Inner>,
    _type: PhantomData<fn(T) -> T>,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue {
            inner: Arc::clone(&self.inner),
            _type: PhantomData,
        }
    }
}

/// The shared words at the start of the mapping.
#[repr(C)]
struct Header {
    /// Messages put so far (high 32 bits) and the ring position after the last one (low 32 bits).
    tail: AtomicU64,
    /// Messages taken so far and the ring position of the next one, likewise.
    head: AtomicU64,
    /// The pid holding the put lock, or 0.
    put_lock: AtomicU32,
    /// The pid holding the get lock, or 0.
    get_lock: AtomicU32,
    /// Consumers waiting for a message (a producer then writes to the data pipe).
    waiting_getters: AtomicU32,
    /// Producers waiting for room (a consumer then writes to the space pipe).
    waiting_putters: AtomicU32,
    /// 1: the first put waits until another put has committed (a check's way to make the
    /// arrival order differ from the order in which the producers finished).
    hold_first_put: AtomicU32,
    /// Puts begun so far (counted only while `hold_first_put` is set).
    puts_begun: AtomicU32,
    /// The first [`PUT_LOG`] puts, in the order they committed: the putter's pid (high 32 bits)
    /// and a fingerprint of the message's bytes (low 32 bits).
    put_log: [AtomicU64; PUT_LOG],
}

struct Inner {
    /// The shared mapping: the header, then the ring.
    map: *mut u8,
    map_len: usize,
    /// Ring bytes, a power of two (so that positions wrap with `u32`).
    ring: usize,
    capacity: usize,
    /// Threads of one process take these before the shared locks.
    put_local: Mutex<()>,
    get_local: Mutex<()>,
    /// A byte is written here after a put when a consumer waits...
    data_r: OwnedFd,
    data_w: OwnedFd,
    /// ...and here after a get when a producer waits.
    space_r: OwnedFd,
    space_w: OwnedFd,
}

// Safety: the mapping is only touched through the header's atomics and through byte copies of ring
// regions that the locks and the head/tail protocol give to one thread of one process at a time.
unsafe impl Send for Inner {}
// Safety: as for Send: shared access goes through atomics, locks and that protocol.
unsafe impl Sync for Inner {}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (puts, gets) = (
            split(self.header().tail.load(Ordering::Relaxed)).0,
            split(self.header().head.load(Ordering::Relaxed)).0,
        );
        f.debug_struct("Queue")
            .field("capacity", &self.capacity)
            .field("len", &puts.wrapping_sub(gets))
            .finish()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Safety: `map` is this process's mapping of `map_len` bytes, made in `Queue::new` and
        // unmapped only here, once the last handle in this process is gone (other processes keep
        // their own mappings).
        unsafe { libc::munmap(self.map.cast(), self.map_len) };
    }
}

fn split(word: u64) -> (u32, u32) {
    ((word >> 32) as u32, word as u32)
}

fn join(count: u32, pos: u32) -> u64 {
    (u64::from(count) << 32) | u64::from(pos)
}

/// A held put or get lock: the shared word (this pid) and the in-process mutex.
struct Held<'a> {
    word: &'a AtomicU32,
    _local: MutexGuard<'a, ()>,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let _ =
            self.word
                .compare_exchange(std::process::id(), 0, Ordering::Release, Ordering::Relaxed);
    }
}

/// The ring bytes a message of `bytes` takes: its length, then the bytes.
fn need_bytes(bytes: &[u8]) -> usize {
    4 + bytes.len()
}

impl Inner {
    /// Why a put of `need` ring bytes found no room: which limit, messages or bytes, was reached.
    fn why_full(&self, need: usize) -> String {
        let h = self.header();
        let (puts, tail) = split(h.tail.load(Ordering::SeqCst));
        let (gets, head) = split(h.head.load(Ordering::SeqCst));
        let held = puts.wrapping_sub(gets) as usize;
        let used = tail.wrapping_sub(head) as usize;
        let limit = if held >= self.capacity {
            format!("all {} messages of its capacity are taken", self.capacity)
        } else {
            format!(
                "it holds {held} of {} messages, but {used} of its {} bytes (capacity_bytes()) \
                 are taken and this message needs {need}: the byte limit",
                self.capacity, self.ring
            )
        };
        format!("queue put (the queue stayed full: {limit}; a get() frees room)")
    }

    fn header(&self) -> &Header {
        // Safety: the mapping starts with a Header (zeroed by mmap: all atomics at 0), is aligned
        // to a page and lives as long as `self`.
        unsafe { &*self.map.cast::<Header>() }
    }

    /// Takes `word` (and `local`), waiting until `deadline`; `None` on timeout. A word held by a
    /// process that is gone is taken over.
    fn lock<'a>(
        &'a self,
        local: &'a Mutex<()>,
        word: &'a AtomicU32,
        deadline: Instant,
    ) -> Option<Held<'a>> {
        let mut pause = Duration::from_micros(5);
        let guard = loop {
            match local.try_lock() {
                Ok(g) => break g,
                Err(TryLockError::Poisoned(p)) => break p.into_inner(),
                Err(TryLockError::WouldBlock) => {}
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(1));
        };
        let me = std::process::id();
        let mut pause = Duration::from_micros(5);
        let mut tries = 0u32;
        loop {
            match word.compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => break,
                Err(holder) => {
                    tries += 1;
                    if tries % 8 == 0
                        && sys::process_gone(holder)
                        && word
                            .compare_exchange(holder, me, Ordering::Acquire, Ordering::Relaxed)
                            .is_ok()
                    {
                        break; // its holder died inside put or get, before or after committing
                    }
                }
            }
            if Instant::now() >= deadline {
                return None;
            }
            if tries < 64 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(1));
            }
        }
        Some(Held {
            word,
            _local: guard,
        })
    }

    fn copy_in(&self, pos: u32, data: &[u8]) {
        let start = pos as usize & (self.ring - 1);
        let first = data.len().min(self.ring - start);
        // Safety: both copies stay inside the ring (`start + first <= ring`, the rest from 0 is
        // shorter than the ring), which is free space owned by the put lock's holder.
        unsafe {
            let ring = self.map.add(HEADER_BYTES);
            std::ptr::copy_nonoverlapping(data.as_ptr(), ring.add(start), first);
            std::ptr::copy_nonoverlapping(data[first..].as_ptr(), ring, data.len() - first);
        }
    }

    fn copy_out(&self, pos: u32, out: &mut [u8]) {
        let start = pos as usize & (self.ring - 1);
        let first = out.len().min(self.ring - start);
        // Safety: as in `copy_in`; the region holds committed messages owned by the get lock's
        // holder.
        unsafe {
            let ring = self.map.add(HEADER_BYTES);
            std::ptr::copy_nonoverlapping(ring.add(start), out.as_mut_ptr(), first);
            let rest = out.len() - first;
            std::ptr::copy_nonoverlapping(ring, out[first..].as_mut_ptr(), rest);
        }
    }

    /// Sleeps until `fd` has a byte (drained), `deadline`, or [`LOOK_AGAIN`], whichever is first.
    fn nap(&self, fd: &OwnedFd, deadline: Instant) -> Result<(), ProcessError> {
        let until = deadline.min(Instant::now() + LOOK_AGAIN);
        if sys::wait_ready(fd.as_fd(), false, until)
            .map_err(|e| ProcessError::io("waiting on a queue", e))?
        {
            let mut sink = [0u8; 256];
            let _ = sys::read_fd(fd.as_fd(), &mut sink);
        }
        Ok(())
    }
}

impl Inner {
    /// [`Queue::new`]: the mapping and the pipes, whatever the messages' type.
    #[inline(never)]
    fn new(capacity: usize) -> Result<Inner, ProcessError> {
        if capacity == 0 || capacity > MAX_CAPACITY {
            return Err(ProcessError::Invalid(format!(
                "a queue holds 1 to {MAX_CAPACITY} messages, not {capacity}"
            )));
        }
        let start = |e| ProcessError::Start {
            what: "a queue".into(),
            source: e,
        };
        let ring = (capacity * (MAX_MESSAGE + 4))
            .clamp(MIN_RING, MAX_RING)
            .next_power_of_two();
        let map_len = HEADER_BYTES + ring;
        // Safety: a new anonymous shared mapping; no existing memory is touched.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANON,
                -1,
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(start(io::Error::last_os_error()));
        }
        let pipes = || -> io::Result<(OwnedFd, OwnedFd, OwnedFd, OwnedFd)> {
            let (data_r, data_w) = sys::pipe()?;
            let (space_r, space_w) = sys::pipe()?;
            for fd in [&data_r, &data_w, &space_r, &space_w] {
                sys::set_nonblocking(fd.as_fd())?;
            }
            Ok((data_r, data_w, space_r, space_w))
        };
        let (data_r, data_w, space_r, space_w) = match pipes() {
            Ok(p) => p,
            Err(e) => {
                // Safety: the mapping was just made and nothing else refers to it.
                unsafe { libc::munmap(map, map_len) };
                return Err(start(e));
            }
        };
        Ok(Inner {
            map: map.cast(),
            map_len,
            ring,
            capacity,
            put_local: Mutex::new(()),
            get_local: Mutex::new(()),
            data_r,
            data_w,
            space_r,
            space_w,
        })
    }

    /// [`Queue::put`] of a message encoded as `bytes`. Non-generic (as [`Inner::get`]), so that a
    /// notebook cell compiles only the encoding of its `T`.
    #[inline(never)]
    fn put(&self, bytes: &[u8], timeout: Duration) -> Result<(), ProcessError> {
        if bytes.len() > MAX_MESSAGE {
            return Err(ProcessError::TooLarge {
                size: bytes.len(),
                max: MAX_MESSAGE,
            });
        }
        let deadline = sys::deadline(timeout);
        let inner = self;
        let h = inner.header();
        let full = || ProcessError::Timeout {
            what: inner.why_full(need_bytes(bytes)),
            after: timeout,
        };
        if h.hold_first_put.load(Ordering::SeqCst) == 1
            && h.puts_begun.fetch_add(1, Ordering::SeqCst) == 0
        {
            // Held back until another put commits (at most 5 s, and never past the deadline).
            let until = deadline.min(Instant::now() + Duration::from_secs(5));
            while split(h.tail.load(Ordering::SeqCst)).0 == 0 && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        let need = need_bytes(bytes) as u32;
        let has_room = || {
            let (puts, tail) = split(h.tail.load(Ordering::SeqCst));
            let (gets, head) = split(h.head.load(Ordering::SeqCst));
            (puts.wrapping_sub(gets) as usize) < inner.capacity
                && tail.wrapping_sub(head) as usize + need as usize <= inner.ring
        };
        loop {
            if has_room() {
                let Some(held) = inner.lock(&inner.put_local, &h.put_lock, deadline) else {
                    return Err(full());
                };
                if has_room() {
                    let (puts, tail) = split(h.tail.load(Ordering::SeqCst));
                    inner.copy_in(tail, &(bytes.len() as u32).to_le_bytes());
                    inner.copy_in(tail.wrapping_add(4), bytes);
                    if let Some(entry) = h.put_log.get(puts as usize) {
                        let me = u64::from(std::process::id()) << 32;
                        entry.store(me | u64::from(fingerprint(bytes)), Ordering::SeqCst);
                    }
                    // The commit: one store makes the message visible, with its count.
                    h.tail.store(
                        join(puts.wrapping_add(1), tail.wrapping_add(need)),
                        Ordering::SeqCst,
                    );
                    drop(held);
                    if h.waiting_getters.load(Ordering::SeqCst) > 0 {
                        let _ = sys::write_fd(inner.data_w.as_fd(), &[1]);
                    }
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                return Err(full());
            }
            h.waiting_putters.fetch_add(1, Ordering::SeqCst);
            let napped = if has_room() {
                Ok(())
            } else {
                inner.nap(&inner.space_r, deadline)
            };
            h.waiting_putters.fetch_sub(1, Ordering::SeqCst);
            napped?;
        }
    }

    /// [`Queue::get`], the message's bytes.
    #[inline(never)]
    fn get(&self, timeout: Duration) -> Result<Vec<u8>, ProcessError> {
        let deadline = sys::deadline(timeout);
        let empty = || ProcessError::Timeout {
            what: "queue get (the queue stayed empty)".into(),
            after: timeout,
        };
        let inner = self;
        let h = inner.header();
        let has_one =
            || split(h.tail.load(Ordering::SeqCst)).0 != split(h.head.load(Ordering::SeqCst)).0;
        loop {
            if has_one() {
                let Some(held) = inner.lock(&inner.get_local, &h.get_lock, deadline) else {
                    return Err(empty());
                };
                if has_one() {
                    let (_, tail) = split(h.tail.load(Ordering::SeqCst));
                    let (gets, head) = split(h.head.load(Ordering::SeqCst));
                    let mut len = [0u8; 4];
                    inner.copy_out(head, &mut len);
                    let len = u32::from_le_bytes(len);
                    let stored = tail.wrapping_sub(head);
                    if len as usize > MAX_MESSAGE || len.saturating_add(4) > stored {
                        return Err(ProcessError::corrupt(
                            "deserialize",
                            format!(
                                "the queue is corrupt: a message of {len} bytes where {stored} are stored"
                            ),
                        ));
                    }
                    let mut bytes = vec![0u8; len as usize];
                    inner.copy_out(head.wrapping_add(4), &mut bytes);
                    // The commit: one store frees the slot and the bytes.
                    h.head.store(
                        join(gets.wrapping_add(1), head.wrapping_add(4 + len)),
                        Ordering::SeqCst,
                    );
                    drop(held);
                    if h.waiting_putters.load(Ordering::SeqCst) > 0 {
                        let _ = sys::write_fd(inner.space_w.as_fd(), &[1]);
                    }
                    return Ok(bytes);
                }
            }
            if Instant::now() >= deadline {
                return Err(empty());
            }
            h.waiting_getters.fetch_add(1, Ordering::SeqCst);
            let napped = if has_one() {
                Ok(())
            } else {
                inner.nap(&inner.data_r, deadline)
            };
            h.waiting_getters.fetch_sub(1, Ordering::SeqCst);
            napped?;
        }
    }
}

/// A fingerprint of a message's bytes (FNV-1a, 32 bits).
fn fingerprint(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

impl<T: Serialize> Queue<T> {
    /// Makes the first put wait until another put has committed (at most 5 s): for a check that
    /// needs the arrival order to differ from the order in which the producers finished.
    pub(crate) fn hold_first_put(&self) {
        self.inner
            .header()
            .hold_first_put
            .store(1, Ordering::SeqCst);
    }

    /// The first puts, in the order they committed: the putter's pid and the fingerprint of the
    /// message (compare with [`Queue::fingerprint_of`]).
    pub(crate) fn put_log(&self) -> Vec<(u32, u32)> {
        let h = self.inner.header();
        let puts = split(h.tail.load(Ordering::SeqCst)).0 as usize;
        h.put_log[..puts.min(PUT_LOG)]
            .iter()
            .map(|e| {
                let e = e.load(Ordering::SeqCst);
                ((e >> 32) as u32, e as u32)
            })
            .collect()
    }

    /// The fingerprint that [`Queue::put_log`] shows for `msg`.
    pub(crate) fn fingerprint_of(msg: &T) -> Option<u32> {
        encode(msg).ok().map(|b| fingerprint(&b))
    }
}

impl<T: Serialize + DeserializeOwned> Queue<T> {
    /// A queue holding at most `capacity` messages (1 to 65,536).
    ///
    /// # Errors
    /// [`ProcessError::Invalid`] for a capacity out of range, [`ProcessError::Start`] if the system
    /// has no memory or pipes left.
    ///
    /// # Examples
    /// ```
    /// assert!(parlab::process::Queue::<u8>::new(0).is_err());
    /// assert_eq!(parlab::process::Queue::<u8>::new(8)?.capacity(), 8);
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn new(capacity: usize) -> Result<Self, ProcessError> {
        Ok(Queue {
            inner: Arc::new(Inner::new(capacity)?),
            _type: PhantomData,
        })
    }

    /// How many messages the queue holds at most.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::process::Queue::<u8>::new(3)?.capacity(), 3);
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn capacity(&self) -> usize {
        self.inner.capacity
    }

    /// How many bytes of messages the queue holds at most (each message takes 4 more).
    ///
    /// # Examples
    /// ```
    /// assert!(parlab::process::Queue::<u8>::new(3)?.capacity_bytes() >= 1 << 20);
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn capacity_bytes(&self) -> usize {
        self.inner.ring
    }

    /// How many messages it holds now (others may put or get meanwhile).
    ///
    /// # Examples
    /// ```
    /// let q = parlab::process::Queue::new(3)?;
    /// q.put(&1u8, std::time::Duration::from_secs(1))?;
    /// assert_eq!(q.len(), 1);
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn len(&self) -> usize {
        let h = self.inner.header();
        let puts = split(h.tail.load(Ordering::SeqCst)).0;
        let gets = split(h.head.load(Ordering::SeqCst)).0;
        puts.wrapping_sub(gets) as usize
    }

    /// Whether it holds no message now.
    ///
    /// # Examples
    /// ```
    /// assert!(parlab::process::Queue::<u8>::new(3)?.is_empty());
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Puts a message at the back, waiting at most `timeout` for a free slot.
    ///
    /// # Errors
    /// [`ProcessError::Timeout`] when the queue stays full, [`ProcessError::TooLarge`] for a message
    /// over the queue's message limit (128 KiB), [`ProcessError::Serde`] if it does not serialize.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let q = parlab::process::Queue::new(1)?;
    /// q.put(&1u8, Duration::from_secs(1))?;
    /// assert!(q.put(&2u8, Duration::from_millis(10)).is_err()); // full
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn put(&self, msg: &T, timeout: Duration) -> Result<(), ProcessError> {
        self.inner.put(&encode(msg)?, timeout)
    }

    /// Takes the message at the front, waiting at most `timeout` for one.
    ///
    /// # Errors
    /// [`ProcessError::Timeout`] when nothing arrives in time, [`ProcessError::Serde`] if the bytes
    /// are not a `T`.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let q = parlab::process::Queue::new(2)?;
    /// q.put(&"first".to_string(), Duration::from_secs(1))?;
    /// q.put(&"second".to_string(), Duration::from_secs(1))?;
    /// assert_eq!(q.get(Duration::from_secs(1))?, "first");
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn get(&self, timeout: Duration) -> Result<T, ProcessError> {
        decode(&self.inner.get(timeout)?)
    }
}

#[cfg(test)]
mod tests;
