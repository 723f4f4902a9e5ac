//! The process pool where the system has no Unix (Windows): the type exists, so that code written
//! for lesson 04 compiles, and its constructors return [`PoolError::Start`] with a message that
//! says to use WSL. [`ThreadPool`](super::ThreadPool) works here as everywhere.

use std::convert::Infallible;
use std::time::Duration;

use super::api::sealed;
use super::jobs::JobQueue;
use super::{Pool, PoolError, PoolOptions};

/// A pool of worker processes (never made on this platform: its constructors return an error).
#[derive(Debug)]
pub struct ProcessPool {
    never: Infallible,
}

impl ProcessPool {
    /// A pool of `workers` worker processes: needs Unix, so here it returns [`PoolError::Start`]
    /// naming WSL (or use a [`ThreadPool`](super::ThreadPool), which has the same API).
    ///
    /// # Errors
    /// Always [`PoolError::Start`].
    pub fn new(workers: usize) -> Result<Self, PoolError> {
        Self::with_options(&PoolOptions::new(workers))
    }

    /// A pool built with [`PoolOptions`]: here it returns [`PoolError::Start`] naming WSL.
    ///
    /// # Errors
    /// Always [`PoolError::Start`].
    pub fn with_options(_opts: &PoolOptions) -> Result<Self, PoolError> {
        Err(crate::process::unsupported("a process pool").into())
    }

    /// The workers' process ids.
    pub fn pids(&self) -> Vec<u32> {
        match self.never {}
    }

    /// The lines the workers printed, captured.
    pub fn output(&self) -> Vec<String> {
        match self.never {}
    }

    /// The captured lines, forgotten once read.
    pub fn take_output(&self) -> Vec<String> {
        match self.never {}
    }
}

impl sealed::Submit for ProcessPool {
    #[allow(private_interfaces)]
    fn jobs(&self) -> &std::sync::Arc<JobQueue> {
        match self.never {}
    }
}

impl Pool for ProcessPool {
    fn workers(&self) -> usize {
        match self.never {}
    }

    fn timeout(&self) -> Duration {
        match self.never {}
    }

    fn terminate(&self) {
        match self.never {}
    }
}
