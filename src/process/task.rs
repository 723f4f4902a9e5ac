//! Typed task handles: what a worker process runs, with its argument and result types known to
//! the compiler, and fingerprinted on the wire.
//!
//! A [`Task<A, R>`] takes an `A` and gives an `R`. The library's own tasks are typed constants in
//! [`tasks`](super::tasks) (`tasks::CALC_PI` is a `Task<(u64, u64), PiEstimate>`);
//! [`cell_task!(f)`](crate::cell_task) makes one from a function in a notebook cell, its types
//! taken from `f`'s signature. Every call that runs a task (`process::spawn`, each pool method)
//! takes the handle, so arguments of the wrong type do not compile, and integer literals take the
//! task's types (`&(1_000_000, 1)` is a `(u64, u64)` for `CALC_PI`).
//!
//! What crosses the process boundary is checked again at run time: a request carries the
//! [`Signature`] of the handle (a fingerprint of `A` and of `R`), and a worker whose task has other
//! types (a stale worker binary, a handle made with [`Task::named`] and the wrong types) refuses
//! it with an error naming both signatures. Bytes never decode as a value of another type.
//!
//! # Examples
//! ```
//! use parlab::process::{Task, tasks};
//! let t: Task<(u64, u64), parlab::pi::PiEstimate> = tasks::CALC_PI;
//! assert_eq!(t.name(), "calc_pi");
//! assert_eq!(t.signature_text(), "(u64, u64) -> PiEstimate");
//! ```

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::shape::{TaskShapes, TypeShape};
use super::type_names::short_type_name;

/// What a worker runs, without its types: a task known by name, or a notebook cell's function.
///
/// # Examples
/// ```
/// use parlab::process::TaskId;
/// assert_eq!(TaskId::Named("sleep".into()).to_string(), "sleep");
/// let cell = TaskId::Library { path: "/tmp/libcode_3.so".into(), symbol: "parlab_task_v2_square__1_9".into() };
/// assert_eq!(cell.to_string(), "square");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TaskId {
    /// A task in [`TASKS`](super::tasks::TASKS), by name.
    Named(Cow<'static, str>),
    /// A notebook cell's function, made by [`cell_task!`](crate::cell_task): the entry point
    /// `symbol` (`parlab_task_NAME__LINE_COLUMN`) in the shared library at `path` (the one evcxr
    /// compiled for a cell).
    Library {
        /// The shared library that holds the entry point.
        path: PathBuf,
        /// The entry point's symbol.
        symbol: String,
    },
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskId::Named(name) => f.write_str(name),
            TaskId::Library { symbol, .. } => f.write_str(task_name(symbol)),
        }
    }
}

/// The prefix of every entry point's symbol: `parlab_task_v2_` + the function's name. The ABI
/// version ([`ABI_VERSION`](super::cell::ABI_VERSION)) is part of it, so a worker never calls an
/// entry point built for another calling convention (it reports the mismatch instead).
///
/// # Examples
/// ```
/// use parlab::process::cell::{ABI_VERSION, SYMBOL_PREFIX};
/// assert_eq!(SYMBOL_PREFIX, format!("parlab_task_v{ABI_VERSION}_"));
/// ```
pub const SYMBOL_PREFIX: &str = "parlab_task_v2_";

/// The function's name in a symbol: `parlab_task_v2_square__3_5` -> `square`.
pub(crate) fn task_name(symbol: &str) -> &str {
    let name = symbol.strip_prefix(SYMBOL_PREFIX).unwrap_or(symbol);
    name.rsplit_once("__").map_or(name, |(name, _)| name)
}

/// The fingerprints of a task's argument type and result type, sent with every request.
///
/// Each is a hash of the type's *shape* as serde sees it (field names, their order and types,
/// enum variants, recursively: see [`shape`](super::shape)), traced once per type, so that a
/// struct edited between two notebook cells, or two types of one name, never pass for each
/// other. A worker refuses a request whose signature differs from its task's, and one whose
/// types could not be traced ([`UNTRACED`](super::shape::UNTRACED)).
///
/// # Examples
/// ```
/// use parlab::process::Signature;
/// assert_eq!(Signature::of::<u64, u64>(), Signature::of::<u64, u64>());
/// assert_ne!(Signature::of::<i32, u64>(), Signature::of::<u64, u64>());
/// assert_eq!(Signature::text::<Vec<String>, Option<f64>>(), "Vec<String> -> Option<f64>");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Signature {
    /// Fingerprint of the argument type.
    pub args: u64,
    /// Fingerprint of the result type.
    pub result: u64,
}

impl Signature {
    /// The signature of a task from `A` to `R` (a lookup after the first call for each type).
    pub fn of<A: DeserializeOwned + 'static, R: DeserializeOwned + 'static>() -> Self {
        Types::of::<A, R>().signature()
    }

    /// `A -> R` in words, module paths left out: `(u64, u64) -> PiEstimate`.
    pub fn text<A: ?Sized, R: ?Sized>() -> String {
        format!(
            "{} -> {}",
            short_type_name(std::any::type_name::<A>()),
            short_type_name(std::any::type_name::<R>())
        )
    }
}

/// A task's traced argument and result types: what its [`Signature`] is made of, and what a
/// refusal compares (see [`shape`](super::shape)).
///
/// # Examples
/// ```
/// use parlab::process::Types;
/// let t = Types::of::<(u64, u64), parlab::pi::PiEstimate>();
/// assert_eq!(t.text(), "(u64, u64) -> PiEstimate");
/// assert!(t.untraced().is_empty());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Types {
    /// The argument type.
    pub args: &'static TypeShape,
    /// The result type.
    pub result: &'static TypeShape,
}

impl Types {
    /// The types of a task from `A` to `R`, each traced on its first use in this process.
    pub fn of<A: DeserializeOwned + 'static, R: DeserializeOwned + 'static>() -> Self {
        Types {
            args: TypeShape::of::<A>(),
            result: TypeShape::of::<R>(),
        }
    }

    /// The fingerprints sent on the wire.
    pub fn signature(&self) -> Signature {
        Signature {
            args: self.args.fingerprint(),
            result: self.result.fingerprint(),
        }
    }

    /// `A -> R` in words: `(u64, u64) -> PiEstimate`.
    pub fn text(&self) -> String {
        format!("{} -> {}", self.args.name, self.result.name)
    }

    /// Why either type could not be traced (empty when both were).
    pub fn untraced(&self) -> Vec<String> {
        [self.args, self.result]
            .iter()
            .filter_map(|t| t.why_untraced())
            .collect()
    }

    /// The shapes, owned, as a worker sends them back with a refusal.
    pub fn shapes(&self) -> TaskShapes {
        TaskShapes {
            args: self.args.clone(),
            result: self.result.clone(),
        }
    }

    /// What differs between the worker's types (as it sent them back) and these, each named
    /// (`field n: u64 in the worker, i64 here`), or why a side's types cannot be checked.
    ///
    /// # Examples
    /// ```
    /// use parlab::process::Types;
    /// let worker = Types::of::<u64, u64>().shapes();
    /// assert_eq!(Types::of::<i64, u64>().differences(Some(&worker)), ["the argument: u64 in the worker, i64 here"]);
    /// ```
    pub fn differences(&self, worker: Option<&TaskShapes>) -> Vec<String> {
        let mut out = Vec::new();
        match worker {
            Some(w) => {
                super::shape::differences(&w.args, self.args, "", &mut out);
                super::shape::differences(&w.result, self.result, "result ", &mut out);
            }
            None => out.extend(
                self.untraced()
                    .into_iter()
                    .map(|why| format!("here, {why}")),
            ),
        }
        out
    }

    /// The differences as one clause for an error message: ` (field n: u64 in the worker, i64
    /// here)`, or nothing when none is known.
    pub(crate) fn differences_clause(&self, worker: Option<&TaskShapes>) -> String {
        let said = self.differences(worker);
        if said.is_empty() {
            return String::new();
        }
        let shown = said.len().min(MAX_DIFFERENCES);
        let mut text = said[..shown].join("; ");
        if said.len() > shown {
            text.push_str(&format!("; and {} more", said.len() - shown));
        }
        format!(" ({text})")
    }
}

/// At most this many differences in one message.
const MAX_DIFFERENCES: usize = 4;

/// A task that takes an `A` and gives an `R`, run by spawned workers and pools.
///
/// Get one from [`tasks`](super::tasks) (`tasks::CALC_PI`, `tasks::echo::<T>()`, ...) or from
/// [`cell_task!(f)`](crate::cell_task) for a function in a notebook cell. Handles are cheap to
/// clone, and calls take them by value or by reference.
///
/// # Examples
/// ```
/// use parlab::process::{Task, tasks};
/// let sum: Task<Vec<f64>, f64> = tasks::SUM;
/// assert_eq!(sum.to_string(), "sum");
/// // A handle you name yourself is checked by the worker, not the compiler:
/// let wrong: Task<String, u8> = Task::named("calc_pi");
/// assert_eq!(wrong.signature_text(), "String -> u8");
/// ```
pub struct Task<A, R> {
    id: TaskId,
    _types: PhantomData<fn(A) -> R>,
}

impl<A, R> Task<A, R> {
    /// The task `name` in the worker's registry, with the types you say it has.
    ///
    /// Prefer the typed constants in [`tasks`](super::tasks): with this, the compiler cannot
    /// check the types, and a worker whose task `name` has others refuses to run it (an error
    /// naming both signatures).
    pub const fn named(name: &'static str) -> Self {
        Task {
            id: TaskId::Named(Cow::Borrowed(name)),
            _types: PhantomData,
        }
    }

    /// The entry point `symbol` in the shared library at `path`, with the types you say it has:
    /// what [`cell_task!`](crate::cell_task) makes, by hand (the worker checks the types).
    ///
    /// # Examples
    /// ```
    /// let t: parlab::process::Task<u64, u64> = parlab::process::Task::library("/tmp/libcode_1.so", "parlab_task_v2_square__1_1");
    /// assert_eq!(t.name(), "square");
    /// ```
    pub fn library(path: impl Into<PathBuf>, symbol: impl Into<String>) -> Self {
        Task::from_id(TaskId::Library {
            path: path.into(),
            symbol: symbol.into(),
        })
    }

    /// A handle on an untyped id, with the types the caller vouches for (checked by the worker).
    pub(crate) fn from_id(id: TaskId) -> Self {
        Task {
            id,
            _types: PhantomData,
        }
    }

    /// What the worker runs.
    pub fn id(&self) -> &TaskId {
        &self.id
    }

    /// The task's name (for a cell task, its function's name).
    pub fn name(&self) -> String {
        self.id.to_string()
    }

    /// The fingerprints sent with each request.
    pub fn signature(&self) -> Signature
    where
        A: DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    {
        Signature::of::<A, R>()
    }

    /// The traced argument and result types (a lookup after the first use of each type).
    pub fn types(&self) -> Types
    where
        A: DeserializeOwned + 'static,
        R: DeserializeOwned + 'static,
    {
        Types::of::<A, R>()
    }

    /// `A -> R` in words.
    pub fn signature_text(&self) -> String {
        Signature::text::<A, R>()
    }
}

impl<A, R> Clone for Task<A, R> {
    fn clone(&self) -> Self {
        Task::from_id(self.id.clone())
    }
}

impl<A, R> PartialEq for Task<A, R> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl<A, R> fmt::Debug for Task<A, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Task({}: {})", self.id, self.signature_text())
    }
}

impl<A, R> fmt::Display for Task<A, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.id, f)
    }
}

/// A [`Task`] or a reference to one: what the calls that run tasks accept, so that both
/// `pool.apply(tasks::CALC_PI, ..)` and `pool.apply(&my_task, ..)` work.
///
/// # Examples
/// ```
/// use parlab::process::{AsTask, tasks};
/// let t = tasks::PID;
/// assert_eq!(AsTask::as_task(&t).name(), (&t).as_task().name());
/// ```
pub trait AsTask<A, R> {
    /// The handle.
    fn as_task(&self) -> &Task<A, R>;
}

impl<A, R> AsTask<A, R> for Task<A, R> {
    fn as_task(&self) -> &Task<A, R> {
        self
    }
}

impl<A, R> AsTask<A, R> for &Task<A, R> {
    fn as_task(&self) -> &Task<A, R> {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::super::type_names::fnv1a;
    use super::*;

    #[test]
    fn fingerprints_are_stable() {
        assert_eq!(Signature::of::<u64, u64>().args, fnv1a("u64"));
        assert_ne!(Signature::of::<u64, u32>(), Signature::of::<u32, u64>());
    }
}
