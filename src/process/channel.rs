//! Length-prefixed frames over a Unix socket, and typed [`Connection`]s built on them.

#[cfg(unix)]
use std::io::{self, IoSlice, Read, Write};
#[cfg(unix)]
use std::marker::PhantomData;
#[cfg(unix)]
use std::os::fd::AsFd;
#[cfg(unix)]
use std::os::unix::net::UnixStream;
#[cfg(unix)]
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ProcessError;
#[cfg(unix)]
use super::sys;

/// Bytes of the length prefix of a frame.
#[cfg(unix)]
const HEADER: usize = 4;

/// The largest frame either side sends or accepts: a length above it is a corrupt header, and is
/// refused before anything is allocated for it.
#[cfg(unix)]
pub(crate) const MAX_FRAME: u32 = 1 << 30;

/// The most bytes one read takes from the socket.
#[cfg(unix)]
const READ_SIZE: usize = 64 * 1024;

/// The first size a large frame's buffer takes; it doubles as the bytes fill it.
const GROW_FIRST: usize = 1 << 20;

/// Frames (`u32` little-endian length, then the payload) over a non-blocking Unix stream socket.
#[cfg(unix)]
#[derive(Debug)]
pub(crate) struct Channel {
    stream: UnixStream,
    /// Bytes read but not yet returned, from `pos`.
    buf: Vec<u8>,
    pos: usize,
    /// Where reads land before they join `buf`: [`READ_SIZE`] bytes, allocated (and zeroed) once
    /// on the first read, not on every one.
    scratch: Vec<u8>,
}

#[cfg(unix)]
impl Channel {
    /// A channel over `stream` (made non-blocking).
    pub(crate) fn new(stream: UnixStream) -> io::Result<Self> {
        stream.set_nonblocking(true)?;
        Ok(Channel {
            stream,
            buf: Vec::new(),
            pos: 0,
            scratch: Vec::new(),
        })
    }

    /// Makes reads and writes block, for a side whose every wait is forever (a pool worker): a
    /// message then takes one read, not a read that finds nothing, a poll, and a read again.
    /// Deadlines are not kept after this.
    pub(crate) fn block(&self) -> io::Result<()> {
        self.stream.set_nonblocking(false)
    }

    /// The socket.
    pub(crate) fn stream(&self) -> &UnixStream {
        &self.stream
    }

    /// Sends one frame, waiting for room until `deadline`.
    pub(crate) fn send(
        &mut self,
        payload: &[u8],
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(), ProcessError> {
        self.send_parts(&[payload], deadline, timeout)
    }

    /// Sends one frame made of `parts` one after another (a header and a body, without copying
    /// the body), waiting for room until `deadline`.
    pub(crate) fn send_parts(
        &mut self,
        parts: &[&[u8]],
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(), ProcessError> {
        self.send_frame(parts, false, deadline, timeout)
    }

    /// [`send_parts`](Channel::send_parts) that, while it waits for room, reads what the other
    /// end sends (kept for [`recv`](Channel::recv)): two ends that each send before they read (a
    /// pool's next chunk, and its worker's answer to the chunk before) never wait on each other.
    pub(crate) fn send_parts_reading(
        &mut self,
        parts: &[&[u8]],
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(), ProcessError> {
        self.send_frame(parts, true, deadline, timeout)
    }

    /// Sends one frame made of `parts`; `reading`: reads meanwhile, as
    /// [`send_parts_reading`](Channel::send_parts_reading).
    fn send_frame(
        &mut self,
        parts: &[&[u8]],
        reading: bool,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(), ProcessError> {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        let len = u32::try_from(total)
            .ok()
            .filter(|&n| n <= MAX_FRAME)
            .ok_or_else(|| {
                ProcessError::Invalid(format!(
                    "a message of {total} bytes is over the limit of {MAX_FRAME} bytes"
                ))
            })?;
        // One `writev`: the length and the parts go out together, without being copied into
        // one buffer first.
        let len = len.to_le_bytes();
        let mut slices: Vec<IoSlice<'_>> = std::iter::once(&len[..])
            .chain(parts.iter().copied())
            .map(IoSlice::new)
            .collect();
        self.write_all(&mut slices, reading, deadline, timeout)
    }

    /// Writes all of `data`, waiting for room until `deadline`; `reading`: reads what arrives
    /// meanwhile (until the other end stops sending).
    fn write_all(
        &mut self,
        mut data: &mut [IoSlice<'_>],
        mut reading: bool,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(), ProcessError> {
        IoSlice::advance_slices(&mut data, 0); // skips empty parts
        while !data.is_empty() {
            match self.stream.write_vectored(data) {
                Ok(0) => return Err(ProcessError::Closed),
                Ok(n) => IoSlice::advance_slices(&mut data, n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let events = if reading {
                        libc::POLLOUT | libc::POLLIN
                    } else {
                        libc::POLLOUT
                    };
                    let ready = sys::wait_events(self.stream.as_fd(), events, deadline)
                        .map_err(|e| ProcessError::io("waiting to send", e))?;
                    if ready == 0 {
                        return Err(ProcessError::Timeout {
                            what: "send (the other end is not reading)".into(),
                            after: timeout,
                        });
                    }
                    if reading && ready & libc::POLLIN != 0 {
                        // At the end of the stream, or on an error, reading stops: the write
                        // that follows says what became of the other end.
                        reading = match self.read_available() {
                            Ok(n) => n > 0,
                            Err(e) => matches!(
                                e.kind(),
                                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                            ),
                        };
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                    return Err(ProcessError::Closed);
                }
                Err(e) => return Err(ProcessError::io("sending", e)),
            }
        }
        Ok(())
    }

    /// Waits until something can be received (bytes kept or arriving, the end of the stream, an
    /// error) or `deadline` passes; `Ok(false)` on timeout. It reads nothing: a timeout leaves
    /// the stream as it was.
    pub(crate) fn wait_readable(&self, deadline: Instant) -> io::Result<bool> {
        if self.buf.len() > self.pos {
            return Ok(true);
        }
        sys::wait_ready(self.stream.as_fd(), false, deadline)
    }

    /// Receives one frame, waiting until `deadline`; `what` names the wait in a timeout error.
    pub(crate) fn recv(
        &mut self,
        deadline: Instant,
        timeout: Duration,
        what: &str,
    ) -> Result<Vec<u8>, ProcessError> {
        loop {
            let have = self.buf.len() - self.pos;
            if have >= HEADER {
                let mut len = [0u8; HEADER];
                len.copy_from_slice(&self.buf[self.pos..self.pos + HEADER]);
                let len = u32::from_le_bytes(len);
                if len > MAX_FRAME {
                    return Err(ProcessError::corrupt(
                        "deserialize",
                        format!(
                            "a frame header says {len} bytes, over the limit of {MAX_FRAME}: the \
                             stream is corrupt"
                        ),
                    ));
                }
                let len = len as usize;
                if have >= HEADER + len {
                    let start = self.pos + HEADER;
                    let payload = self.buf[start..start + len].to_vec();
                    self.pos = start + len;
                    if self.pos == self.buf.len() {
                        self.buf.clear();
                        self.pos = 0;
                    }
                    return Ok(payload);
                }
                if len > 256 * 1024 {
                    return self.recv_large(len, deadline, timeout, what);
                }
            }
            let mut chunk = std::mem::take(&mut self.scratch);
            chunk.resize(READ_SIZE, 0); // zeroes only the first time: the length stays
            let read = self.read_some(&mut chunk, deadline, timeout, what);
            let n = match read {
                Ok(n) => n,
                Err(e) => {
                    self.scratch = chunk;
                    return Err(e);
                }
            };
            self.keep(&chunk[..n]);
            self.scratch = chunk;
        }
    }

    /// Reads what has arrived, without waiting, onto the bytes kept for [`recv`](Channel::recv);
    /// `Ok(0)` at the end of the stream.
    fn read_available(&mut self) -> io::Result<usize> {
        let mut chunk = std::mem::take(&mut self.scratch);
        chunk.resize(READ_SIZE, 0); // zeroes only the first time: the length stays
        let read = self.stream.read(&mut chunk);
        if let Ok(n) = read {
            self.keep(&chunk[..n]);
        }
        self.scratch = chunk;
        read
    }

    /// Appends bytes read to those kept for [`recv`](Channel::recv).
    fn keep(&mut self, read: &[u8]) {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(read);
    }

    /// Receives a large frame straight into its own buffer, grown as its bytes arrive (at most
    /// twice what arrived, or [`GROW_FIRST`]): a header that claims a gigabyte allocates nothing
    /// much until the bytes come.
    fn recv_large(
        &mut self,
        len: usize,
        deadline: Instant,
        timeout: Duration,
        what: &str,
    ) -> Result<Vec<u8>, ProcessError> {
        let start = self.pos + HEADER;
        let mut payload = self.buf[start..].to_vec();
        self.buf.clear();
        self.pos = 0;
        let mut filled = payload.len();
        while filled < len {
            if filled == payload.len() {
                let grown = (2 * payload.len()).max(GROW_FIRST).min(len);
                payload.resize(grown, 0);
            }
            filled += self.read_some(&mut payload[filled..], deadline, timeout, what)?;
        }
        Ok(payload)
    }

    /// Reads at least one byte, waiting until `deadline`.
    fn read_some(
        &mut self,
        into: &mut [u8],
        deadline: Instant,
        timeout: Duration,
        what: &str,
    ) -> Result<usize, ProcessError> {
        loop {
            match self.stream.read(into) {
                Ok(0) => return Err(ProcessError::Closed),
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let ready = sys::wait_ready(self.stream.as_fd(), false, deadline)
                        .map_err(|e| ProcessError::io("waiting to receive", e))?;
                    if !ready {
                        return Err(ProcessError::Timeout {
                            what: what.to_string(),
                            after: timeout,
                        });
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    return Err(ProcessError::Closed);
                }
                Err(e) => return Err(ProcessError::io("receiving", e)),
            }
        }
    }
}

/// A message made of a postcard-encoded header followed by a raw body: a chunk's arguments or
/// results travel as the body, unencoded, so that they are neither copied element by element
/// nor decoded twice.
pub(crate) fn frame_header<H: Serialize>(header: &H) -> Result<Vec<u8>, ProcessError> {
    encode(header)
}

/// Splits a message made by [`frame_header`] + body into the decoded header and the body.
pub(crate) fn unframe<H: DeserializeOwned>(bytes: &[u8]) -> Result<(H, &[u8]), ProcessError> {
    postcard::take_from_bytes::<H>(bytes).map_err(not_deserialized)
}

/// Serializes a message with postcard.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, ProcessError> {
    postcard::to_stdvec(value).map_err(not_serialized)
}

/// Deserializes a message with postcard.
/// Strict: bytes left over mean the message was of another type.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ProcessError> {
    match postcard::take_from_bytes(bytes) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(left_over(rest.len())),
        Err(e) => Err(not_deserialized(e)),
    }
}

/// The error of a message that does not serialize. Non-generic (as [`not_deserialized`] and
/// [`left_over`]), so that a notebook cell does not compile it with each type it sends.
#[inline(never)]
fn not_serialized(e: postcard::Error) -> ProcessError {
    ProcessError::serde("serialize", e)
}

/// The error of a message that does not deserialize.
#[inline(never)]
fn not_deserialized(e: postcard::Error) -> ProcessError {
    ProcessError::serde("deserialize", e)
}

/// The error of a message with `left` bytes after its value.
#[inline(never)]
fn left_over(left: usize) -> ProcessError {
    ProcessError::corrupt(
        "deserialize",
        format!("{left} bytes left over: the message is of another type"),
    )
}

/// One end of a [`pipe`]: sends `S` messages and receives `R` messages.
///
/// Move one end into a forked child (or keep both in one process, e.g. on two threads); a message
/// sent on one end arrives at the other, in order. Each message is serialized with postcard.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let (mut a, mut b) = parlab::process::pipe::<String, usize>()?;
/// a.send(&"hello".to_string(), Duration::from_secs(1))?;
/// let got = b.recv(Duration::from_secs(1))?;
/// b.send(&got.len(), Duration::from_secs(1))?;
/// assert_eq!(a.recv(Duration::from_secs(1))?, 5);
/// # Ok::<(), parlab::process::ProcessError>(())
/// ```
#[cfg(unix)]
#[derive(Debug)]
pub struct Connection<S, R> {
    chan: Channel,
    _types: PhantomData<fn(S) -> R>,
}

/// A pipe between two processes: two connected ends, the first sends `A` and receives `B`.
///
/// Built on a Unix socket pair (both directions, closed on exec).
///
/// # Errors
/// [`ProcessError::Start`] if the system has no sockets left.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let (mut parent, mut child) = parlab::process::pipe::<u32, u32>()?;
/// parent.send(&20, Duration::from_secs(1))?;
/// let x = child.recv(Duration::from_secs(1))?;
/// child.send(&(x + 1), Duration::from_secs(1))?;
/// assert_eq!(parent.recv(Duration::from_secs(1))?, 21);
/// # Ok::<(), parlab::process::ProcessError>(())
/// ```
#[cfg(unix)]
#[allow(clippy::type_complexity)]
pub fn pipe<A, B>() -> Result<(Connection<A, B>, Connection<B, A>), ProcessError> {
    let start = |e| ProcessError::Start {
        what: "a pipe".into(),
        source: e,
    };
    let (a, b) = UnixStream::pair().map_err(start)?;
    Ok((
        Connection {
            chan: Channel::new(a).map_err(start)?,
            _types: PhantomData,
        },
        Connection {
            chan: Channel::new(b).map_err(start)?,
            _types: PhantomData,
        },
    ))
}

#[cfg(unix)]
impl<S: Serialize, R: DeserializeOwned> Connection<S, R> {
    /// Sends a message, waiting at most `timeout` for room (a large message waits for the reader).
    ///
    /// # Errors
    /// [`ProcessError::Closed`] if the other end is gone, [`ProcessError::Timeout`] if it does not
    /// read in time, [`ProcessError::Serde`] if the message does not serialize.
    ///
    /// # Examples
    /// ```
    /// let (mut a, b) = parlab::process::pipe::<u8, u8>()?;
    /// drop(b);
    /// assert!(a.send(&1, std::time::Duration::from_secs(1)).is_err());
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn send(&mut self, msg: &S, timeout: Duration) -> Result<(), ProcessError> {
        let bytes = encode(msg)?;
        self.chan.send(&bytes, sys::deadline(timeout), timeout)
    }

    /// Receives the next message, waiting at most `timeout`.
    ///
    /// # Errors
    /// [`ProcessError::Timeout`] if nothing arrives in time, [`ProcessError::Closed`] if the other
    /// end is gone, [`ProcessError::Serde`] if the bytes are not an `R`.
    ///
    /// # Examples
    /// ```
    /// let (_a, mut b) = parlab::process::pipe::<u8, u8>()?;
    /// let e = b.recv(std::time::Duration::from_millis(10)).unwrap_err();
    /// assert!(e.to_string().contains("nothing within"));
    /// # Ok::<(), parlab::process::ProcessError>(())
    /// ```
    pub fn recv(&mut self, timeout: Duration) -> Result<R, ProcessError> {
        let bytes = self
            .chan
            .recv(sys::deadline(timeout), timeout, "pipe recv")?;
        decode(&bytes)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(5);

    #[test]
    fn frames_small_and_large_in_order() {
        let (mut a, mut b) = pipe::<Vec<u64>, Vec<u64>>().unwrap();
        let big: Vec<u64> = (0..200_000).collect();
        let t = std::thread::spawn(move || {
            for _ in 0..3 {
                let v = b.recv(SEC).unwrap();
                b.send(&v, SEC).unwrap();
            }
        });
        for msg in [vec![1, 2, 3], big.clone(), vec![]] {
            a.send(&msg, SEC).unwrap();
            assert_eq!(a.recv(SEC).unwrap(), msg);
        }
        t.join().unwrap();
        assert!(matches!(a.recv(SEC), Err(ProcessError::Closed)));
    }

    /// The most virtual memory this process has ever held, in bytes (Linux's VmPeak).
    #[cfg(target_os = "linux")]
    fn peak_virtual_bytes() -> u64 {
        sys::status_bytes("self", "VmPeak").expect("VmPeak in /proc/self/status")
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_header_that_claims_a_gigabyte_allocates_only_what_arrives() {
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        let mut chan = Channel::new(ours).unwrap();
        let before = peak_virtual_bytes();
        // More than a socket buffer holds: written while the frame is received.
        let writer = std::thread::spawn(move || {
            theirs.write_all(&MAX_FRAME.to_le_bytes()).unwrap();
            theirs.write_all(&[7u8; 300 * 1024]).unwrap();
        });
        let got = chan.recv(sys::deadline(SEC), SEC, "a frame");
        assert!(matches!(got, Err(ProcessError::Closed)), "{got:?}");
        writer.join().unwrap();
        let grown = peak_virtual_bytes() - before;
        assert!(grown < 512 << 20, "the peak grew by {} MiB", grown >> 20);
    }

    #[test]
    fn two_ends_that_send_large_frames_before_reading_do_not_wait_on_each_other() {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let (mut ours, mut theirs) = (Channel::new(ours).unwrap(), Channel::new(theirs).unwrap());
        // Each far more than a socket buffer holds.
        let (big, other) = (vec![7u8; 4 << 20], vec![9u8; 3 << 20]);
        let expected = other.clone();
        let peer = std::thread::spawn(move || {
            theirs.send(&other, sys::deadline(SEC), SEC).unwrap();
            theirs
                .recv(sys::deadline(SEC), SEC, "the big frame")
                .unwrap()
        });
        ours.send_parts_reading(&[&big[..1], &big[1..]], sys::deadline(SEC), SEC)
            .unwrap();
        assert_eq!(
            ours.recv(sys::deadline(SEC), SEC, "the other frame")
                .unwrap(),
            expected
        );
        assert_eq!(peer.join().unwrap(), big);
    }

    #[test]
    fn wrong_bytes_are_a_serde_error() {
        let e = decode::<String>(&[5, b'a']).unwrap_err();
        assert!(
            matches!(
                e,
                ProcessError::Serde {
                    direction: "deserialize",
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().starts_with("a message does not deserialize"));
        // The serializer's own error is kept as the source.
        let cause = std::error::Error::source(&e).and_then(|c| c.downcast_ref::<postcard::Error>());
        assert!(cause.is_some(), "{e:?}");
    }
}
