//! A bounded, first-in-first-out, typed queue shared by processes.

use std::io;
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::channel::{decode, encode};
use super::{ProcessError, sys};

/// The largest message a queue carries, in bytes (a Unix packet socket's default buffer is ~200 KiB).
pub(crate) const MAX_MESSAGE: usize = 128 * 1024;

/// The largest capacity (free slots are bytes in a pipe, which holds 64 KiB).
const MAX_CAPACITY: usize = 65_536;

/// A queue of `T` shared by the process that made it and every process forked after: bounded,
/// first in first out, any number of producers and consumers.
///
/// Clone it (or move it into [`fork`](super::fork)) to share it. Each message is serialized with
/// postcard and sent as one packet over a Unix `SOCK_SEQPACKET` socket pair (`SOCK_DGRAM` on macOS); a pipe holding one
/// byte per free slot bounds it, like the semaphore behind Python's `multiprocessing.Queue(maxsize)`.
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

#[derive(Debug)]
struct Inner {
    /// Producers send packets here...
    tx: OwnedFd,
    /// ...and consumers receive them here.
    rx: OwnedFd,
    /// One byte per free slot.
    slots_r: OwnedFd,
    slots_w: OwnedFd,
    capacity: usize,
    /// A receive buffer, reused.
    buf: Mutex<Vec<u8>>,
}

impl<T: Serialize + DeserializeOwned> Queue<T> {
    /// A queue holding at most `capacity` messages (1 to 65,536).
    ///
    /// # Errors
    /// [`ProcessError::Invalid`] for a capacity out of range, [`ProcessError::Start`] if the system
    /// has no sockets or pipes left.
    ///
    /// # Examples
    /// ```
    /// assert!(parlab::process::Queue::<u8>::new(0).is_err());
    /// assert_eq!(parlab::process::Queue::<u8>::new(8)?.capacity(), 8);
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn new(capacity: usize) -> Result<Self, ProcessError> {
        if capacity == 0 || capacity > MAX_CAPACITY {
            return Err(ProcessError::Invalid(format!(
                "a queue holds 1 to {MAX_CAPACITY} messages, not {capacity}"
            )));
        }
        let start = |e| ProcessError::Start {
            what: "a queue".into(),
            source: e,
        };
        // Room for one largest message, and its framing, in the socket's buffers.
        let (tx, rx) = sys::packet_pair(4 * 1024 * 1024).map_err(start)?;
        let (slots_r, slots_w) = sys::pipe().map_err(start)?;
        sys::set_nonblocking(slots_r.as_fd()).map_err(start)?;
        sys::set_nonblocking(slots_w.as_fd()).map_err(start)?;
        let inner = Inner {
            tx,
            rx,
            slots_r,
            slots_w,
            capacity,
            buf: Mutex::new(Vec::new()),
        };
        let tokens = vec![0u8; capacity];
        let mut written = 0;
        while written < capacity {
            written += write_fd(&inner.slots_w, &tokens[written..]).map_err(start)?;
        }
        Ok(Queue {
            inner: Arc::new(inner),
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
        let bytes = encode(msg)?;
        if bytes.len() > MAX_MESSAGE {
            return Err(ProcessError::TooLarge {
                size: bytes.len(),
                max: MAX_MESSAGE,
            });
        }
        let deadline = sys::deadline(timeout);
        let full = || ProcessError::Timeout {
            what: "queue put (the queue stayed full)".into(),
            after: timeout,
        };
        // Take a free slot.
        let mut token = [0u8; 1];
        loop {
            match read_fd(&self.inner.slots_r, &mut token) {
                Ok(1) => break,
                Ok(_) => return Err(ProcessError::Closed),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if !wait(&self.inner.slots_r, false, deadline)? {
                        return Err(full());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ProcessError::io("queue put", e)),
            }
        }
        let sent = self.send_packet(&bytes, deadline, timeout);
        if sent.is_err() {
            let _ = write_fd(&self.inner.slots_w, &token);
        }
        sent
    }

    fn send_packet(
        &self,
        bytes: &[u8],
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(), ProcessError> {
        loop {
            // Safety: send reads `bytes.len()` bytes from a live slice.
            let n = unsafe {
                libc::send(
                    self.inner.tx.as_raw_fd(),
                    bytes.as_ptr().cast(),
                    bytes.len(),
                    libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                )
            };
            if n >= 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                _ if sys::no_room(&e) => {
                    if !wait_for_room(&self.inner.tx, deadline)? {
                        return Err(ProcessError::Timeout {
                            what: "queue put (no room in the socket)".into(),
                            after: timeout,
                        });
                    }
                }
                io::ErrorKind::Interrupted => {}
                _ => return Err(ProcessError::io("queue put", e)),
            }
        }
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
        let deadline = sys::deadline(timeout);
        let mut buf =
            std::mem::take(&mut *self.inner.buf.lock().unwrap_or_else(|p| p.into_inner()));
        buf.resize(MAX_MESSAGE + 1, 0);
        let result = loop {
            // Safety: recv writes at most `buf.len()` bytes into a live, owned buffer.
            let n = unsafe {
                libc::recv(
                    self.inner.rx.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n >= 0 {
                let _ = write_fd(&self.inner.slots_w, &[0]);
                break decode(&buf[..n as usize]);
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::WouldBlock => match wait(&self.inner.rx, false, deadline) {
                    Ok(true) => {}
                    Ok(false) => {
                        break Err(ProcessError::Timeout {
                            what: "queue get (the queue stayed empty)".into(),
                            after: timeout,
                        });
                    }
                    Err(e) => break Err(e),
                },
                io::ErrorKind::Interrupted => {}
                _ => break Err(ProcessError::io("queue get", e)),
            }
        };
        *self.inner.buf.lock().unwrap_or_else(|p| p.into_inner()) = buf;
        result
    }
}

/// Waits for room to send on `fd`. A full macOS datagram socket says `ENOBUFS` and poll reports it
/// writable all the same, so there it retries every millisecond until `deadline`.
fn wait_for_room(fd: &OwnedFd, deadline: Instant) -> Result<bool, ProcessError> {
    if cfg!(target_vendor = "apple") {
        std::thread::sleep(Duration::from_millis(1));
        return Ok(Instant::now() < deadline);
    }
    wait(fd, true, deadline)
}

fn wait(fd: &OwnedFd, write: bool, deadline: Instant) -> Result<bool, ProcessError> {
    sys::wait_ready(fd.as_fd(), write, deadline)
        .map_err(|e| ProcessError::io("waiting on a queue", e))
}

fn read_fd(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<usize> {
    // Safety: read writes at most `buf.len()` bytes into a live buffer.
    let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

fn write_fd(fd: &OwnedFd, buf: &[u8]) -> io::Result<usize> {
    // Safety: write reads `buf.len()` bytes from a live buffer.
    let n = unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::{Options, Output, fork_with};

    const SEC: Duration = Duration::from_secs(5);

    #[test]
    fn fifo_bounded_and_get_times_out() {
        let q = Queue::<u32>::new(3).unwrap();
        for i in 0..3 {
            q.put(&i, SEC).unwrap();
        }
        let start = Instant::now();
        let e = q.put(&9, Duration::from_millis(50)).unwrap_err();
        assert!(matches!(e, ProcessError::Timeout { .. }), "{e}");
        assert!(start.elapsed() >= Duration::from_millis(45));
        assert_eq!(
            (0..3).map(|_| q.get(SEC).unwrap()).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        let e = q.get(Duration::from_millis(20)).unwrap_err();
        assert!(e.to_string().contains("queue get"), "{e}");
        assert!(Queue::<u8>::new(0).is_err());
        let big = Queue::<Vec<u8>>::new(1).unwrap();
        assert!(matches!(
            big.put(&vec![0; MAX_MESSAGE + 10], SEC),
            Err(ProcessError::TooLarge { .. })
        ));
    }

    #[test]
    fn several_producer_processes() {
        let q = Queue::<(u32, u32)>::new(4).unwrap();
        let quiet = Options {
            output: Output::Discard,
            warn: false,
            ..Options::default()
        };
        let mut children = Vec::new();
        for p in 0..3u32 {
            let q = q.clone();
            let child = fork_with(
                move || {
                    for i in 0..50 {
                        q.put(&(p, i), SEC).expect("put");
                    }
                },
                &quiet,
            )
            .unwrap();
            children.push(child);
        }
        // Capacity 4 < 150 messages: the producers must wait for this consumer.
        let mut next = [0u32; 3];
        for _ in 0..150 {
            let (p, i) = q.get(SEC).unwrap();
            assert_eq!(
                i, next[p as usize],
                "messages of one producer arrive in order"
            );
            next[p as usize] += 1;
        }
        for mut c in children {
            c.join(SEC).unwrap();
        }
        assert!(q.get(Duration::from_millis(20)).is_err());
    }
}
