//! The far end of a round-trip timing: a forked process that sends back each message it gets.
//!
//! [`python::queue_round_trips`](crate::python::queue_round_trips) (two `Queue`s) and
//! [`mpi::pipe_ping_pong`](crate::mpi::pipe_ping_pong) (a pipe) time their round trips against it.

use crate::process::{self, Options, Output, Process, ProcessError};

/// Forks a process that calls `echo_one` (receive one message, send it back) until it returns
/// `false`. The echo prints nothing, and fork's warning about the parent's other threads is off:
/// a timing's own threads are no surprise to it.
pub(crate) fn fork_echo(mut echo_one: impl FnMut() -> bool) -> Result<Process<()>, ProcessError> {
    let quiet = Options {
        warn: false,
        output: Output::Discard,
        ..Options::default()
    };
    process::fork_with(move || while echo_one() {}, &quiet)
}
