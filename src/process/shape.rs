//! The shape of a task's types, as serde sees them: what a [`Signature`](super::Signature)
//! fingerprints, and what a refusal names when two sides differ.
//!
//! A type's name says little: in a notebook, a `struct Job` edited between two cells keeps its
//! name (`ctx::Job`) while its fields change, and std documents that type names are not unique.
//! What decides how bytes decode is the type's serde structure: field names, their order and
//! types, enum variants, recursively. [`TypeShape::of`] traces it once per type through the
//! type's own `Deserialize` (with the serde-reflection crate) and keeps it for the life of the
//! process, so a call pays only a lookup.
//!
//! Some types cannot be traced: a `Deserialize` that asks the format what comes next
//! (`#[serde(untagged)]`, `#[serde(flatten)]`, `#[serde(tag = ..)]`, `serde_json::Value`: the
//! binary format of the wire cannot decode those either), or one that refuses every made-up value
//! the tracer offers (a type that checks its values). Such a type has no fingerprint: a task that
//! takes or gives one is refused on both sides with the reason and the fix, never run on a guess.
//!
//! # Examples
//! ```
//! use parlab::process::shape::TypeShape;
//! #[derive(serde::Deserialize)]
//! struct Job { n: u64, seed: u64 }
//! let job = TypeShape::of::<Job>();
//! assert_eq!(job.name, "Job");
//! assert_eq!(job.describe(), "Job { n: u64, seed: u64 }");
//! mod edited {
//!     #[derive(serde::Deserialize)]
//!     pub struct Job { pub n: i64, pub seed: u64 }
//! }
//! let edited = TypeShape::of::<edited::Job>();
//! assert_ne!(job.fingerprint(), edited.fingerprint());
//! let mut said = Vec::new();
//! parlab::process::shape::differences(job, edited, "", &mut said);
//! assert_eq!(said, ["field n: u64 in the worker, i64 here"]);
//! ```

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{LazyLock, PoisonError, RwLock};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

mod diff;
mod text;
mod trace;

pub use diff::differences;
use text::{describe, fingerprint_of};
use trace::{TraceOnce, fix_for, trace_format, trace_once};

/// The fingerprint of a type that could not be traced: it equals no traced type's, and a worker
/// refuses a request that carries it.
pub const UNTRACED: u64 = 0;

/// How a type is laid out for serde: the tree that decides how its bytes decode.
///
/// # Examples
/// ```
/// use parlab::process::shape::{Shape, TypeShape};
/// let pair = TypeShape::of::<(u64, Option<String>)>();
/// assert_eq!(pair.shape, Ok(Shape::Tuple(vec![
///     Shape::Prim("u64".into()),
///     Shape::Option(Box::new(Shape::Prim("String".into()))),
/// ])));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Shape {
    /// A primitive: `u64`, `f64`, `bool`, `char`, `String`, `bytes`, `()`, ...
    Prim(String),
    /// `Option<T>`.
    Option(Box<Shape>),
    /// A sequence: `Vec<T>`, `HashSet<T>`, ...
    Seq(Box<Shape>),
    /// A map: `HashMap<K, V>`, `BTreeMap<K, V>`.
    Map(Box<Shape>, Box<Shape>),
    /// A tuple `(A, B, ...)`.
    Tuple(Vec<Shape>),
    /// An array `[T; N]`.
    Array(Box<Shape>, usize),
    /// A struct or an enum, by its serde name.
    Named {
        /// Its serde name (the type's name without its module path, unless renamed).
        name: String,
        /// Its fields or variants.
        body: Body,
    },
    /// A named type inside itself (a recursive type): its shape is the enclosing one's.
    Again(String),
}

/// The inside of a struct, or of an enum's variant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Body {
    /// `struct A;`, or a variant without data.
    Unit,
    /// `struct A(T);`
    NewType(Box<Shape>),
    /// `struct A(T, U);`
    Tuple(Vec<Shape>),
    /// `struct A { x: T }`: the fields in order.
    Struct(Vec<(String, Shape)>),
    /// An enum: its variants in order.
    Enum(Vec<(String, Body)>),
}

/// A type's name and traced shape, or why it could not be traced.
///
/// # Examples
/// ```
/// use parlab::process::shape::TypeShape;
/// let v = TypeShape::of::<serde_json::Value>();
/// assert!(v.shape.is_err());
/// assert!(v.why_untraced().unwrap().contains("untagged"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeShape {
    /// The type's name without module paths, e.g. `Vec<Job>`.
    pub name: String,
    /// Its shape, or what the tracer said when it failed.
    pub shape: Result<Shape, String>,
    /// The fingerprint of `shape` ([`UNTRACED`] without one).
    fingerprint: u64,
}

/// A task's argument and result shapes, as a worker sends them back when it refuses a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskShapes {
    /// The argument type.
    pub args: TypeShape,
    /// The result type.
    pub result: TypeShape,
}

/// Traced types, by type: each traced once per process (a leaked entry per type).
static TRACED: LazyLock<RwLock<HashMap<TypeId, &'static TypeShape>>> =
    LazyLock::new(|| RwLock::new(HashMap::new()));

impl TypeShape {
    /// The shape of `T`, traced on the first call for `T` and looked up after.
    pub fn of<T: DeserializeOwned + 'static>() -> &'static TypeShape {
        // Only what needs `T` is generic; the rest is compiled once, in parlab (see `of_erased`).
        TypeShape::of_erased(
            TypeId::of::<T>(),
            std::any::type_name::<T>(),
            trace_once::<T>,
        )
    }

    /// [`TypeShape::of`] without its type: non-generic so that a notebook cell, which compiles
    /// every generic function it calls again, does not compile the lookup and the tracing.
    #[inline(never)]
    fn of_erased(id: TypeId, type_name: &'static str, once: TraceOnce) -> &'static TypeShape {
        if let Some(found) = TRACED
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
        {
            return found;
        }
        // Traced outside the lock: a Deserialize may itself run a task's types (rare), and two
        // threads tracing one type at once agree on the result.
        let traced = TypeShape::trace(type_name, once);
        let mut all = TRACED.write().unwrap_or_else(PoisonError::into_inner);
        all.entry(id).or_insert_with(|| Box::leak(Box::new(traced)))
    }

    /// Traces the type named `type_name` that `once` traces (not cached).
    fn trace(type_name: &str, once: TraceOnce) -> TypeShape {
        let name = super::type_names::short_type_name(type_name);
        let shape = trace_format(once);
        let fingerprint = match &shape {
            Ok(shape) => fingerprint_of(shape),
            Err(_) => UNTRACED,
        };
        TypeShape {
            name,
            shape,
            fingerprint,
        }
    }

    /// What is sent on the wire: a hash of the shape, [`UNTRACED`] when there is none.
    ///
    /// # Examples
    /// ```
    /// use parlab::process::shape::TypeShape;
    /// assert_eq!(TypeShape::of::<u64>().fingerprint(), TypeShape::of::<usize>().fingerprint()); // one encoding
    /// assert_ne!(TypeShape::of::<u64>().fingerprint(), TypeShape::of::<i64>().fingerprint());
    /// ```
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Why the type could not be traced, with what to do; `None` when it was.
    pub fn why_untraced(&self) -> Option<String> {
        let why = self.shape.as_ref().err()?;
        Some(format!(
            "parlab cannot see the shape of {} (serde-reflection: {why}), so a worker could not \
             check that its bytes decode as the same type: {}",
            self.name,
            fix_for(why)
        ))
    }

    /// The type spelled out: `Job { n: u64, seed: u64 }` (named types inside it by name only).
    pub fn describe(&self) -> String {
        match &self.shape {
            Ok(shape) => describe(shape, 2),
            Err(_) => format!("{} (not traceable)", self.name),
        }
    }
}

#[cfg(test)]
mod tests;
