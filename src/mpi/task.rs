//! [`MpiTask`]: a typed handle on a task that `parlab-mpi` runs on every rank.

use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use crate::process::{Signature, Types};

/// A task that `parlab-mpi` runs on every rank, taking an `A` and giving rank 0's `R`.
///
/// The types are checked twice: by the compiler where you call
/// [`Mpi::run`](crate::mpi::Mpi::run), and by the program, which refuses a request whose
/// [`Signature`] differs from its own task's.
///
/// # Examples
/// ```
/// let t = parlab::mpi::tasks::CALC_PI;
/// assert_eq!(t.name(), "calc_pi");
/// assert_eq!(t.signature_text(), "(u64, u64) -> MpiPi");
/// ```
pub struct MpiTask<A, R> {
    name: &'static str,
    types: PhantomData<fn(A) -> R>,
}

impl<A, R> MpiTask<A, R> {
    /// A handle for the task `name` from `A` to `R`; prefer the constants in
    /// [`tasks`](crate::mpi::tasks).
    ///
    /// # Examples
    /// ```
    /// let t = parlab::mpi::MpiTask::<u64, ()>::named("sleep");
    /// assert_eq!(t.name(), "sleep");
    /// ```
    pub const fn named(name: &'static str) -> Self {
        MpiTask {
            name,
            types: PhantomData,
        }
    }

    /// The task's name, as `parlab-mpi` knows it.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::mpi::tasks::PING_PONG.name(), "ping_pong");
    /// ```
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The fingerprint of the task's types, sent with every request.
    ///
    /// # Examples
    /// ```
    /// use parlab::mpi::tasks;
    /// assert_ne!(tasks::CALC_PI.signature(), tasks::RANKS.signature());
    /// ```
    pub fn signature(&self) -> Signature
    where
        A: DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    {
        Signature::of::<A, R>()
    }

    /// The traced argument and result types (see [`Types`]).
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::mpi::tasks::SLEEP.types().text(), "u64 -> ()");
    /// ```
    pub fn types(&self) -> Types
    where
        A: DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    {
        Types::of::<A, R>()
    }

    /// `A -> R` in words.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::mpi::tasks::SLEEP.signature_text(), "u64 -> ()");
    /// ```
    pub fn signature_text(&self) -> String {
        Signature::text::<A, R>()
    }
}

impl<A, R> Clone for MpiTask<A, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A, R> Copy for MpiTask<A, R> {}

impl<A, R> fmt::Debug for MpiTask<A, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MpiTask({}: {})", self.name, self.signature_text())
    }
}
