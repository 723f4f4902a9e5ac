//! Processes where the system has no Unix (Windows): the same names and types as on Unix, so
//! that code written for lessons 03 and 04 compiles, and every way to start a process, a pipe or
//! a queue returns [`ProcessError::Unsupported`], which says to use WSL.
//!
//! The handles cannot exist here (they hold an uninhabited value), so their methods are never
//! reached; they are declared so that a cell calling them compiles and reports the error above.

use std::convert::Infallible;
use std::marker::PhantomData;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{AsTask, Options, ProcessError, StartMethod};

/// A worker process (never made on this platform: [`spawn`] and [`fork`] return
/// [`ProcessError::Unsupported`]).
#[derive(Debug)]
#[must_use = "dropping a Process kills the worker; join it to get its result"]
pub struct Process<R> {
    never: Infallible,
    _result: PhantomData<fn() -> R>,
}

/// Starts a worker process running `task` on `args`: needs Unix, so here it returns
/// [`ProcessError::Unsupported`] (run lessons 03 and 04 in WSL).
///
/// # Errors
/// Always [`ProcessError::Unsupported`].
pub fn spawn<A, R>(task: impl AsTask<A, R>, args: &A) -> Result<Process<R>, ProcessError>
where
    A: Serialize,
    R: DeserializeOwned,
{
    spawn_with(task, args, &Options::default())
}

/// [`spawn`] with [`Options`]: needs Unix, so here it returns [`ProcessError::Unsupported`].
///
/// # Errors
/// Always [`ProcessError::Unsupported`].
pub fn spawn_with<A, R>(
    _task: impl AsTask<A, R>,
    _args: &A,
    _opts: &Options,
) -> Result<Process<R>, ProcessError>
where
    A: Serialize,
    R: DeserializeOwned,
{
    Err(super::unsupported("spawn (the parlab-worker protocol)"))
}

/// Forks a child that runs `f`: Windows has no fork, so here it returns
/// [`ProcessError::Unsupported`].
///
/// # Errors
/// Always [`ProcessError::Unsupported`].
pub fn fork<R, F>(f: F) -> Result<Process<R>, ProcessError>
where
    R: Serialize + DeserializeOwned,
    F: FnOnce() -> R,
{
    fork_with(f, &Options::default())
}

/// [`fork`] with [`Options`]: here it returns [`ProcessError::Unsupported`].
///
/// # Errors
/// Always [`ProcessError::Unsupported`].
pub fn fork_with<R, F>(_f: F, _opts: &Options) -> Result<Process<R>, ProcessError>
where
    R: Serialize + DeserializeOwned,
    F: FnOnce() -> R,
{
    Err(super::unsupported("fork"))
}

impl<R> Process<R> {
    /// The worker's process id.
    pub fn pid(&self) -> u32 {
        match self.never {}
    }

    /// The name in the worker's output prefix.
    pub fn name(&self) -> &str {
        match self.never {}
    }

    /// How the worker was started.
    pub fn method(&self) -> StartMethod {
        match self.never {}
    }

    /// How many threads the parent had when it forked.
    pub fn parent_threads(&self) -> Option<usize> {
        match self.never {}
    }

    /// The worker's captured output lines.
    pub fn output(&self) -> Vec<String> {
        match self.never {}
    }

    /// Whether the worker still runs.
    pub fn is_alive(&mut self) -> bool {
        match self.never {}
    }

    /// Kills the worker.
    pub fn kill(&mut self) {
        match self.never {}
    }
}

impl<R: DeserializeOwned> Process<R> {
    /// Waits at most `timeout` for the worker's result.
    ///
    /// # Errors
    /// None here: there is no worker to wait for.
    pub fn join(&mut self, _timeout: Duration) -> Result<R, ProcessError> {
        match self.never {}
    }
}

/// One end of a [`pipe`] (never made on this platform).
#[derive(Debug)]
pub struct Connection<S, R> {
    never: Infallible,
    _types: PhantomData<fn(S) -> R>,
}

/// A pipe between two processes: built on a Unix socket pair, so here it returns
/// [`ProcessError::Unsupported`].
///
/// # Errors
/// Always [`ProcessError::Unsupported`].
#[allow(clippy::type_complexity)]
pub fn pipe<A, B>() -> Result<(Connection<A, B>, Connection<B, A>), ProcessError> {
    Err(super::unsupported("a pipe between processes"))
}

impl<S: Serialize, R: DeserializeOwned> Connection<S, R> {
    /// Sends a message.
    ///
    /// # Errors
    /// None here: there is no connection.
    pub fn send(&mut self, _msg: &S, _timeout: Duration) -> Result<(), ProcessError> {
        match self.never {}
    }

    /// Receives the next message.
    ///
    /// # Errors
    /// None here: there is no connection.
    pub fn recv(&mut self, _timeout: Duration) -> Result<R, ProcessError> {
        match self.never {}
    }
}

/// A queue shared by processes (never made on this platform).
#[derive(Debug)]
pub struct Queue<T> {
    never: Infallible,
    _type: PhantomData<fn(T) -> T>,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        match self.never {}
    }
}

impl<T: Serialize + DeserializeOwned> Queue<T> {
    /// A queue between processes: built on Unix sockets, so here it returns
    /// [`ProcessError::Unsupported`] (between threads, use a channel: lesson 02).
    ///
    /// # Errors
    /// Always [`ProcessError::Unsupported`].
    pub fn new(_capacity: usize) -> Result<Self, ProcessError> {
        Err(super::unsupported("a queue between processes"))
    }

    /// How many messages the queue holds at most.
    pub fn capacity(&self) -> usize {
        match self.never {}
    }

    /// Puts a message at the back.
    ///
    /// # Errors
    /// None here: there is no queue.
    pub fn put(&self, _msg: &T, _timeout: Duration) -> Result<(), ProcessError> {
        match self.never {}
    }

    /// Takes the message at the front.
    ///
    /// # Errors
    /// None here: there is no queue.
    pub fn get(&self, _timeout: Duration) -> Result<T, ProcessError> {
        match self.never {}
    }
}
