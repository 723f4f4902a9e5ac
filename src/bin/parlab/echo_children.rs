//! The forked echo children that round trips are timed against, by `parlab bench process` and by
//! `benches/process.rs` (which includes this file): one over a bare socketpair, the limit, and one
//! over parlab's typed pipe.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use parlab::process::{self, Connection, Options, Process};

/// The word that ends the raw echo child.
const STOP: [u8; 8] = [0xff; 8];

/// A forked child that sends back every 8-byte word written to `near`, with blocking reads and
/// writes on a bare `UnixStream::pair`: the limit of a round trip between two processes.
pub struct RawEcho {
    /// This process's end.
    pub near: UnixStream,
    child: Process<()>,
}

impl RawEcho {
    /// Forks the child with `opts`.
    pub fn start(opts: &Options) -> Result<RawEcho, String> {
        let (near, mut far) = UnixStream::pair().map_err(|e| format!("a socketpair: {e}"))?;
        let child = process::fork_with(
            move || {
                let mut word = [0u8; 8];
                // Until told to stop: the child holds a copy of `near` too, so it never sees an end.
                while far.read_exact(&mut word).is_ok()
                    && word != STOP
                    && far.write_all(&word).is_ok()
                {}
            },
            opts,
        )
        .map_err(|e| format!("forking the raw echo child: {e}"))?;
        Ok(RawEcho { near, child })
    }

    /// Sends `word` and reads its echo back into it.
    pub fn round_trip(&mut self, word: &mut [u8; 8]) -> std::io::Result<()> {
        self.near.write_all(word)?;
        self.near.read_exact(word)
    }

    /// Tells the child to stop and joins it (within `limit`).
    pub fn stop(mut self, limit: Duration) -> Result<(), String> {
        self.near
            .write_all(&STOP)
            .map_err(|e| format!("stopping the raw echo child: {e}"))?;
        self.child
            .join(limit)
            .map_err(|e| format!("joining the raw echo child: {e}"))
    }
}

/// A forked child that sends back every `u64` sent on `parent`, over parlab's typed pipe.
pub struct PipeEcho {
    /// This process's end.
    pub parent: Connection<u64, u64>,
    child: Process<()>,
}

impl PipeEcho {
    /// Forks the child with `opts`; each of its receives and sends waits at most `limit`.
    pub fn start(opts: &Options, limit: Duration) -> Result<PipeEcho, String> {
        let (parent, mut child_end) =
            process::pipe::<u64, u64>().map_err(|e| format!("a pipe: {e}"))?;
        let child = process::fork_with(
            move || {
                while let Ok(x) = child_end.recv(limit) {
                    if x == u64::MAX || child_end.send(&x, limit).is_err() {
                        break;
                    }
                }
            },
            opts,
        )
        .map_err(|e| format!("forking the echo child: {e}"))?;
        Ok(PipeEcho { parent, child })
    }

    /// Tells the child to stop and joins it (within `limit`).
    pub fn stop(mut self, limit: Duration) -> Result<(), String> {
        self.parent
            .send(&u64::MAX, limit)
            .map_err(|e| format!("stopping the echo child: {e}"))?;
        self.child
            .join(limit)
            .map_err(|e| format!("joining the echo child: {e}"))
    }
}
