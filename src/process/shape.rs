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
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{LazyLock, PoisonError, RwLock};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_reflection::{
    ContainerFormat, Format, Named, Registry, Samples, Tracer, TracerConfig, VariantFormat,
};

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
        let id = TypeId::of::<T>();
        if let Some(found) = TRACED
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
        {
            return found;
        }
        // Traced outside the lock: a Deserialize may itself run a task's types (rare), and two
        // threads tracing one type at once agree on the result.
        let traced = TypeShape::trace::<T>();
        let mut all = TRACED.write().unwrap_or_else(PoisonError::into_inner);
        all.entry(id).or_insert_with(|| Box::leak(Box::new(traced)))
    }

    /// Traces `T` (not cached).
    fn trace<T: DeserializeOwned>() -> TypeShape {
        let name = super::type_names::short_type_name(std::any::type_name::<T>());
        let shape = trace_format::<T>();
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

/// What to do about a type that cannot be traced, from the tracer's message.
fn fix_for(why: &str) -> &'static str {
    if why.contains("panicked") {
        "its Deserialize panicked on a made-up value; make it return an error instead, or send \
         plain values (u64, String, ...) and build the type inside the task"
    } else if why.contains("deserialize_any") || why.contains("Not supported") {
        "it asks the format what comes next (#[serde(untagged)], #[serde(flatten)], \
         #[serde(tag = ..)], serde_json::Value, ...), which the wire's binary format cannot \
         decode either; use plain structs and enums with derived Serialize and Deserialize"
    } else {
        "its Deserialize refused every made-up value it was traced with (a type that checks its \
         values, such as NonZeroU64 or #[serde(try_from = ..)]); send the plain value (u64, \
         String, ...) and check it inside the task"
    }
}

/// The tracer's made-up values: zeros and empty strings, or (`ones`) ones and a letter, for a
/// type that refuses 0, such as `NonZeroU64`.
fn config(ones: bool) -> TracerConfig {
    if !ones {
        return TracerConfig::default();
    }
    TracerConfig::default()
        .default_bool_value(true)
        .default_u8_value(1)
        .default_u16_value(1)
        .default_u32_value(1)
        .default_u64_value(1)
        .default_u128_value(1)
        .default_i8_value(1)
        .default_i16_value(1)
        .default_i32_value(1)
        .default_i64_value(1)
        .default_i128_value(1)
        .default_f32_value(1.0)
        .default_f64_value(1.0)
        .default_borrowed_str_value("a")
        .default_string_value("a".into())
        .default_borrowed_bytes_value(b"a")
        .default_byte_buf_value(b"a".to_vec())
}

/// The most passes over a type (each visits at least one enum variant not seen before).
const MAX_PASSES: usize = 10_000;

/// `T`'s serde format, traced through its `Deserialize`, as a [`Shape`].
fn trace_format<T: DeserializeOwned>() -> Result<Shape, String> {
    match crate::panics::catch_quietly(trace_format_unguarded::<T>) {
        Ok(traced) => traced,
        Err(caught) => Err(format!("its Deserialize panicked while traced: {caught}")),
    }
}

/// [`trace_format`], a panic in a `Deserialize` not caught.
fn trace_format_unguarded<T: DeserializeOwned>() -> Result<Shape, String> {
    let samples = Samples::new();
    let mut first_error = None;
    for ones in [false, true] {
        match trace_with::<T>(ones, &samples) {
            Ok(shape) => return Ok(shape),
            Err(e) => {
                // A format the wire cannot decode at all: other values do not help.
                let unsupported = matches!(e, serde_reflection::Error::NotSupported(_));
                first_error.get_or_insert(e.to_string());
                if unsupported {
                    break;
                }
            }
        }
    }
    Err(first_error.unwrap_or_default())
}

/// One attempt: passes over `T` until every enum's variants are seen, then the registry.
///
/// Each pass visits the next unseen variant of every enum whose mark was cleared after the last
/// pass; the tracer names the enums it still misses only when asked for its registry, so an
/// attempt that misses some starts again, clearing those too.
fn trace_with<T: DeserializeOwned>(
    ones: bool,
    samples: &Samples,
) -> Result<Shape, serde_reflection::Error> {
    let mut enums: Vec<String> = Vec::new();
    for _ in 0..MAX_ATTEMPTS {
        let mut tracer = Tracer::new(config(ones));
        let mut root = None;
        for _ in 0..MAX_PASSES {
            let (format, _value) = tracer.trace_type_once::<T>(samples)?;
            if let Format::TypeName(name) = &format {
                if !enums.contains(name) {
                    enums.push(name.clone());
                }
            }
            root.get_or_insert(format);
            let mut again = false;
            for name in &enums {
                again |= tracer.check_incomplete_enum(name).is_some();
            }
            if !again {
                break;
            }
        }
        let root = root.ok_or(serde_reflection::Error::UnknownFormat)?;
        match tracer.registry() {
            Ok(registry) => return Ok(to_shape(&root, &registry, &mut Vec::new())),
            Err(serde_reflection::Error::MissingVariants(missing))
                if missing.iter().any(|m| !enums.contains(m)) =>
            {
                enums.extend(
                    missing
                        .into_iter()
                        .filter(|m| !enums.contains(m))
                        .collect::<Vec<_>>(),
                );
            }
            Err(e) => return Err(e),
        }
    }
    Err(serde_reflection::Error::MissingVariants(enums))
}

/// The most attempts (each learns the names of enums nested deeper).
const MAX_ATTEMPTS: usize = 64;

/// A serde-reflection format as a [`Shape`], named types inlined (`stack`: the named types
/// being inlined, for recursion).
fn to_shape(format: &Format, registry: &Registry, stack: &mut Vec<String>) -> Shape {
    let prim = |s: &str| Shape::Prim(s.to_string());
    match format {
        Format::Variable(_) => prim("?"),
        Format::TypeName(name) => {
            if stack.contains(name) {
                return Shape::Again(name.clone());
            }
            let Some(container) = registry.get(name) else {
                return Shape::Again(name.clone());
            };
            stack.push(name.clone());
            let body = match container {
                ContainerFormat::UnitStruct => Body::Unit,
                ContainerFormat::NewTypeStruct(f) => {
                    Body::NewType(Box::new(to_shape(f, registry, stack)))
                }
                ContainerFormat::TupleStruct(fs) => Body::Tuple(shapes(fs, registry, stack)),
                ContainerFormat::Struct(fields) => Body::Struct(named(fields, registry, stack)),
                ContainerFormat::Enum(variants) => Body::Enum(
                    variants
                        .values()
                        .map(|v| (v.name.clone(), variant(&v.value, registry, stack)))
                        .collect(),
                ),
            };
            stack.pop();
            Shape::Named {
                name: name.clone(),
                body,
            }
        }
        Format::Unit => prim("()"),
        Format::Bool => prim("bool"),
        Format::I8 => prim("i8"),
        Format::I16 => prim("i16"),
        Format::I32 => prim("i32"),
        Format::I64 => prim("i64"),
        Format::I128 => prim("i128"),
        Format::U8 => prim("u8"),
        Format::U16 => prim("u16"),
        Format::U32 => prim("u32"),
        Format::U64 => prim("u64"),
        Format::U128 => prim("u128"),
        Format::F32 => prim("f32"),
        Format::F64 => prim("f64"),
        Format::Char => prim("char"),
        Format::Str => prim("String"),
        Format::Bytes => prim("bytes"),
        Format::Option(f) => Shape::Option(Box::new(to_shape(f, registry, stack))),
        Format::Seq(f) => Shape::Seq(Box::new(to_shape(f, registry, stack))),
        Format::Map { key, value } => Shape::Map(
            Box::new(to_shape(key, registry, stack)),
            Box::new(to_shape(value, registry, stack)),
        ),
        Format::Tuple(fs) => Shape::Tuple(shapes(fs, registry, stack)),
        Format::TupleArray { content, size } => {
            Shape::Array(Box::new(to_shape(content, registry, stack)), *size)
        }
    }
}

fn shapes(formats: &[Format], registry: &Registry, stack: &mut Vec<String>) -> Vec<Shape> {
    formats
        .iter()
        .map(|f| to_shape(f, registry, stack))
        .collect()
}

fn named(
    fields: &[Named<Format>],
    registry: &Registry,
    stack: &mut Vec<String>,
) -> Vec<(String, Shape)> {
    fields
        .iter()
        .map(|f| (f.name.clone(), to_shape(&f.value, registry, stack)))
        .collect()
}

fn variant(v: &VariantFormat, registry: &Registry, stack: &mut Vec<String>) -> Body {
    match v {
        VariantFormat::Variable(_) | VariantFormat::Unit => Body::Unit,
        VariantFormat::NewType(f) => Body::NewType(Box::new(to_shape(f, registry, stack))),
        VariantFormat::Tuple(fs) => Body::Tuple(shapes(fs, registry, stack)),
        VariantFormat::Struct(fields) => Body::Struct(named(fields, registry, stack)),
    }
}

/// FNV-1a over the shape written out in full: stable across builds and releases (std's hasher
/// may change; this must not). Never [`UNTRACED`].
fn fingerprint_of(shape: &Shape) -> u64 {
    let mut text = String::new();
    write_full(shape, &mut text);
    match super::type_names::fnv1a(&text) {
        UNTRACED => 1,
        h => h,
    }
}

/// The shape in full, for the fingerprint: `Job{n:u64,seed:u64}`.
fn write_full(shape: &Shape, out: &mut String) {
    match shape {
        Shape::Prim(p) => out.push_str(p),
        Shape::Option(s) => {
            out.push_str("Option<");
            write_full(s, out);
            out.push('>');
        }
        Shape::Seq(s) => {
            out.push_str("Seq<");
            write_full(s, out);
            out.push('>');
        }
        Shape::Map(k, v) => {
            out.push_str("Map<");
            write_full(k, out);
            out.push(',');
            write_full(v, out);
            out.push('>');
        }
        Shape::Tuple(items) => {
            out.push('(');
            for s in items {
                write_full(s, out);
                out.push(',');
            }
            out.push(')');
        }
        Shape::Array(s, n) => {
            out.push('[');
            write_full(s, out);
            let _ = write!(out, ";{n}]");
        }
        Shape::Named { name, body } => {
            out.push_str(name);
            write_body(body, out);
        }
        Shape::Again(name) => {
            out.push('^');
            out.push_str(name);
        }
    }
}

fn write_body(body: &Body, out: &mut String) {
    match body {
        Body::Unit => out.push(';'),
        Body::NewType(s) => {
            out.push('(');
            write_full(s, out);
            out.push(')');
        }
        Body::Tuple(items) => write_full(&Shape::Tuple(items.clone()), out),
        Body::Struct(fields) => {
            out.push('{');
            for (name, s) in fields {
                out.push_str(name);
                out.push(':');
                write_full(s, out);
                out.push(',');
            }
            out.push('}');
        }
        Body::Enum(variants) => {
            out.push_str("enum{");
            for (name, b) in variants {
                out.push_str(name);
                write_body(b, out);
                out.push(',');
            }
            out.push('}');
        }
    }
}

/// The shape in words, named types spelled out `depth` levels deep: `Job { n: u64, seed: u64 }`.
fn describe(shape: &Shape, depth: usize) -> String {
    match shape {
        Shape::Prim(p) => p.clone(),
        Shape::Option(s) => format!("Option<{}>", describe(s, depth)),
        Shape::Seq(s) => format!("Vec<{}>", describe(s, depth)),
        Shape::Map(k, v) => format!("Map<{}, {}>", describe(k, depth), describe(v, depth)),
        Shape::Tuple(items) => {
            let inner: Vec<String> = items.iter().map(|s| describe(s, depth)).collect();
            if items.len() == 1 {
                format!("({},)", inner[0])
            } else {
                format!("({})", inner.join(", "))
            }
        }
        Shape::Array(s, n) => format!("[{}; {n}]", describe(s, depth)),
        Shape::Again(name) => name.clone(),
        Shape::Named { name, body } if depth == 0 => {
            let _ = body;
            name.clone()
        }
        Shape::Named { name, body } => format!("{name}{}", describe_body(body, depth - 1)),
    }
}

fn describe_body(body: &Body, depth: usize) -> String {
    match body {
        Body::Unit => String::new(),
        Body::NewType(s) => format!("({})", describe(s, depth)),
        Body::Tuple(items) => {
            let inner: Vec<String> = items.iter().map(|s| describe(s, depth)).collect();
            format!("({})", inner.join(", "))
        }
        Body::Struct(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|(n, s)| format!("{n}: {}", describe(s, depth)))
                .collect();
            format!(" {{ {} }}", inner.join(", "))
        }
        Body::Enum(variants) => {
            let inner: Vec<String> = variants
                .iter()
                .map(|(n, b)| format!("{n}{}", describe_body(b, depth)))
                .collect();
            format!(" {{ {} }}", inner.join(", "))
        }
    }
}

/// What kind of thing a shape is, in a few words, for a difference: `a u64`, `struct Job`.
fn kind(shape: &Shape) -> String {
    match shape {
        Shape::Named { name, body } => match body {
            Body::Enum(_) => format!("enum {name}"),
            _ => format!("struct {name}"),
        },
        other => describe(other, 0),
    }
}

/// The differences between the worker's type and this side's, one sentence each, appended to
/// `out`; `what` prefixes each place (`""` for a task's argument, `"result "` for its result).
///
/// A place is a path of fields (`field job.n`), tuple positions (`field 0`), a sequence's items
/// (`field v[]`), an option's value (`field o?`), a variant (`variant Run`).
pub fn differences(worker: &TypeShape, here: &TypeShape, what: &str, out: &mut Vec<String>) {
    let whole = if what.is_empty() {
        "the argument".to_string()
    } else {
        format!("the {}", what.trim_end())
    };
    match (&worker.shape, &here.shape) {
        (Err(_), _) | (_, Err(_)) => {
            if let Some(why) = worker.why_untraced() {
                out.push(format!("in the worker, {why}"));
            }
            if let Some(why) = here.why_untraced() {
                out.push(format!("here, {why}"));
            }
        }
        (Ok(w), Ok(h)) => diff(w, h, &mut Place::new(what, &whole), out),
    }
}

/// Where in a type a difference is.
struct Place {
    what: String,
    whole: String,
    path: String,
}

impl Place {
    fn new(what: &str, whole: &str) -> Self {
        Place {
            what: what.to_string(),
            whole: whole.to_string(),
            path: String::new(),
        }
    }

    /// `field a.b` (with `what` before it), or the whole value.
    fn say(&self) -> String {
        if self.path.is_empty() {
            self.whole.clone()
        } else {
            format!("{}field {}", self.what, self.path)
        }
    }

    /// Runs `f` one step further in: `.name`, `[]`, `?`.
    fn into(&mut self, step: &str, f: impl FnOnce(&mut Place)) {
        let len = self.path.len();
        if !self.path.is_empty() && !step.starts_with(['[', '?']) {
            self.path.push('.');
        }
        self.path.push_str(step);
        f(self);
        self.path.truncate(len);
    }
}

/// At most this many differences are named in full.
const MAX_SAID: usize = 4;

fn diff(w: &Shape, h: &Shape, at: &mut Place, out: &mut Vec<String>) {
    if w == h || out.len() > MAX_SAID {
        return;
    }
    match (w, h) {
        (Shape::Option(a), Shape::Option(b)) | (Shape::Seq(a), Shape::Seq(b)) => {
            let step = if matches!(w, Shape::Option(_)) {
                "?"
            } else {
                "[]"
            };
            at.into(step, |at| diff(a, b, at, out));
        }
        (Shape::Map(k1, v1), Shape::Map(k2, v2)) => {
            at.into("[key]", |at| diff(k1, k2, at, out));
            at.into("[value]", |at| diff(v1, v2, at, out));
        }
        (Shape::Array(a, n), Shape::Array(b, m)) if n == m => {
            at.into("[]", |at| diff(a, b, at, out))
        }
        (Shape::Tuple(a), Shape::Tuple(b)) if a.len() == b.len() => tuple(a, b, at, out),
        (Shape::Named { name: n1, body: b1 }, Shape::Named { name: n2, body: b2 }) => {
            if n1 != n2 {
                out.push(format!(
                    "{}: {} in the worker, {} here",
                    at.say(),
                    kind(w),
                    kind(h)
                ));
            }
            body(n1, b1, b2, at, out);
        }
        _ => out.push(format!(
            "{}: {} in the worker, {} here",
            at.say(),
            describe(w, 1),
            describe(h, 1)
        )),
    }
}

fn tuple(a: &[Shape], b: &[Shape], at: &mut Place, out: &mut Vec<String>) {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        at.into(&i.to_string(), |at| diff(x, y, at, out));
    }
}

fn body(name: &str, w: &Body, h: &Body, at: &mut Place, out: &mut Vec<String>) {
    match (w, h) {
        (Body::NewType(a), Body::NewType(b)) => at.into("0", |at| diff(a, b, at, out)),
        (Body::Tuple(a), Body::Tuple(b)) if a.len() == b.len() => tuple(a, b, at, out),
        (Body::Struct(a), Body::Struct(b)) => {
            members(name, "field", a, b, at, out, |x, y, at, out| {
                diff(x, y, at, out)
            })
        }
        (Body::Enum(a), Body::Enum(b)) => {
            members(name, "variant", a, b, at, out, |x, y, at, out| {
                body(name, x, y, at, out)
            })
        }
        (Body::Unit, Body::Unit) => {}
        _ => out.push(format!(
            "{}: {name}{} in the worker, {name}{} here",
            at.say(),
            describe_body(w, 0),
            describe_body(h, 0)
        )),
    }
}

/// Fields or variants by name: those on one side only, those in another order, then each
/// common one's own differences.
#[allow(clippy::too_many_arguments)]
fn members<T: PartialEq>(
    name: &str,
    noun: &str,
    w: &[(String, T)],
    h: &[(String, T)],
    at: &mut Place,
    out: &mut Vec<String>,
    inner: impl Fn(&T, &T, &mut Place, &mut Vec<String>),
) {
    let here: BTreeMap<&str, &T> = h.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let there: BTreeMap<&str, &T> = w.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let full = |n: &str| {
        let mut p = at.path.clone();
        if !p.is_empty() {
            p.push('.');
        }
        p.push_str(n);
        p
    };
    for (n, _) in w.iter().filter(|(n, _)| !here.contains_key(n.as_str())) {
        out.push(format!(
            "{}{noun} {}: only in the worker's {name}",
            at.what,
            full(n)
        ));
    }
    for (n, _) in h.iter().filter(|(n, _)| !there.contains_key(n.as_str())) {
        out.push(format!(
            "{}{noun} {}: only in {name} here",
            at.what,
            full(n)
        ));
    }
    let order_w: Vec<&str> = w
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| here.contains_key(n))
        .collect();
    let order_h: Vec<&str> = h
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| there.contains_key(n))
        .collect();
    if order_w != order_h {
        out.push(format!(
            "{}{name}'s {noun}s in another order: {} in the worker, {} here",
            at.what,
            order_w.join(", "),
            order_h.join(", ")
        ));
    }
    for (n, a) in w {
        if let Some(b) = here.get(n.as_str()) {
            if noun == "variant" {
                // A variant's own fields are named from it: `variant Run, field 0.n`.
                let mut v = Place {
                    what: format!("{}variant {n}, ", at.what),
                    whole: format!("{}variant {n}", at.what),
                    path: String::new(),
                };
                inner(a, b, &mut v, out);
            } else {
                at.into(n, |at| inner(a, b, at, out));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(w: &TypeShape, h: &TypeShape) -> Vec<String> {
        let mut out = Vec::new();
        differences(w, h, "", &mut out);
        out
    }

    #[allow(dead_code)]
    mod a {
        #[derive(serde::Deserialize)]
        pub(super) struct Job {
            pub(super) n: u64,
            pub(super) seed: u64,
        }
        #[derive(serde::Deserialize)]
        pub(super) enum Cmd {
            Run(Job),
            Stop,
        }
        #[derive(serde::Deserialize)]
        pub(super) struct List {
            pub(super) next: Option<Box<List>>,
            pub(super) v: Vec<Job>,
        }
    }
    #[allow(dead_code)]
    mod b {
        #[derive(serde::Deserialize)]
        pub(super) struct Job {
            pub(super) n: i64,
            pub(super) seed: u64,
        }
        #[derive(serde::Deserialize)]
        pub(super) enum Cmd {
            Run(Job),
            Stop,
            Pause { secs: u32 },
        }
        #[derive(serde::Deserialize)]
        pub(super) struct List {
            pub(super) next: Option<Box<List>>,
            pub(super) v: Vec<Job>,
        }
    }
    #[allow(dead_code)]
    mod c {
        #[derive(serde::Deserialize)]
        pub(super) struct Job {
            pub(super) seed: u64,
            pub(super) n: u64,
            pub(super) extra: bool,
        }
    }

    #[test]
    fn an_edited_field_is_named() {
        let (w, h) = (TypeShape::of::<a::Job>(), TypeShape::of::<b::Job>());
        assert_ne!(w.fingerprint(), h.fingerprint());
        assert_eq!(said(w, h), ["field n: u64 in the worker, i64 here"]);
        let (w, h) = (TypeShape::of::<a::Job>(), TypeShape::of::<c::Job>());
        assert_eq!(
            said(w, h),
            [
                "field extra: only in Job here",
                "Job's fields in another order: n, seed in the worker, seed, n here"
            ]
        );
    }

    #[test]
    fn nested_enums_and_recursive_types_are_traced_whole() {
        let (w, h) = (TypeShape::of::<a::Cmd>(), TypeShape::of::<b::Cmd>());
        assert_eq!(w.describe(), "Cmd { Run(Job { n: u64, seed: u64 }), Stop }");
        let s = said(w, h);
        assert!(
            s.contains(&"variant Pause: only in Cmd here".to_string()),
            "{s:?}"
        );
        assert!(
            s.contains(&"variant Run, field 0.n: u64 in the worker, i64 here".to_string()),
            "{s:?}"
        );
        let (w, h) = (TypeShape::of::<a::List>(), TypeShape::of::<b::List>());
        assert!(w.shape.is_ok(), "{w:?}");
        assert_ne!(w.fingerprint(), h.fingerprint());
        assert_eq!(said(w, h), ["field v[].n: u64 in the worker, i64 here"]);
        // A nested enum gets all its variants too.
        let (w, h) = (
            TypeShape::of::<Vec<a::Cmd>>(),
            TypeShape::of::<Vec<b::Cmd>>(),
        );
        assert_ne!(w.fingerprint(), h.fingerprint());
    }

    #[test]
    fn untraceable_types_say_why_and_have_no_fingerprint() {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        #[allow(dead_code)]
        enum Either {
            A(u64),
            B(String),
        }
        let t = TypeShape::of::<Either>();
        assert_eq!(t.fingerprint(), UNTRACED);
        assert!(t.why_untraced().unwrap().contains("untagged"), "{t:?}");
        // A type that refuses 0 is traced with 1.
        let nz = TypeShape::of::<std::num::NonZeroU64>();
        assert!(nz.shape.is_ok(), "{nz:?}");
        assert_eq!(nz.fingerprint(), TypeShape::of::<u64>().fingerprint());
    }

    #[test]
    fn every_kind_of_type_is_traced_or_refused_with_a_reason() {
        use std::collections::{BTreeMap, HashMap, HashSet};
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Tree {
            children: Vec<Tree>,
            named: HashMap<String, Tree>,
        }
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        enum Expr {
            Lit(f64),
            Add(Box<Expr>, Box<Expr>),
            Neg { inner: Box<Expr> },
            Nothing,
        }
        #[derive(serde::Deserialize)]
        struct Unit;
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Pair(u8, i8);
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Skips {
            #[serde(skip)]
            cache: Vec<u8>,
            #[serde(default)]
            n: u32,
        }
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Flat {
            #[serde(flatten)]
            inner: HashMap<String, u8>,
        }
        #[derive(serde::Deserialize)]
        #[serde(tag = "kind")]
        #[allow(dead_code)]
        enum Tagged {
            A { x: u8 },
        }
        #[derive(Debug)]
        struct Panics;
        impl<'de> serde::Deserialize<'de> for Panics {
            fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
                panic!("a Deserialize that panics")
            }
        }
        struct Picky;
        impl<'de> serde::Deserialize<'de> for Picky {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                if s == "picky" {
                    Ok(Picky)
                } else {
                    Err(serde::de::Error::custom("not picky"))
                }
            }
        }
        let traced = [
            TypeShape::of::<Tree>(),
            TypeShape::of::<Expr>(),
            TypeShape::of::<Unit>(),
            TypeShape::of::<Pair>(),
            TypeShape::of::<Skips>(),
            TypeShape::of::<std::time::Duration>(),
            TypeShape::of::<std::time::SystemTime>(),
            TypeShape::of::<std::path::PathBuf>(),
            TypeShape::of::<[u8; 32]>(),
            TypeShape::of::<(u128, i128, char, bool, f32)>(),
            TypeShape::of::<Box<str>>(),
            TypeShape::of::<std::marker::PhantomData<u8>>(),
            TypeShape::of::<BTreeMap<u8, HashSet<String>>>(),
            TypeShape::of::<Option<Option<()>>>(),
            TypeShape::of::<Result<Vec<Expr>, String>>(),
            TypeShape::of::<std::num::NonZeroI32>(),
        ];
        for t in traced {
            assert!(t.shape.is_ok(), "{t:?}");
            assert_ne!(t.fingerprint(), UNTRACED);
        }
        assert_eq!(TypeShape::of::<Skips>().describe(), "Skips { n: u32 }");
        assert_eq!(
            TypeShape::of::<Expr>().describe(),
            "Expr { Lit(f64), Add(Expr, Expr), Neg { inner: Expr }, Nothing }"
        );
        for (t, says) in [
            (TypeShape::of::<Flat>(), "flatten"),
            (TypeShape::of::<Tagged>(), "tag ="),
            (TypeShape::of::<Panics>(), "panicked"),
            (TypeShape::of::<Picky>(), "refused every made-up value"),
        ] {
            assert_eq!(t.fingerprint(), UNTRACED, "{t:?}");
            let why = t.why_untraced().unwrap();
            assert!(why.contains(says), "{why}");
            assert!(why.contains(&t.name), "{why}");
        }
    }

    #[test]
    fn traced_once_per_type() {
        let a = TypeShape::of::<(u64, String)>() as *const TypeShape;
        let b = TypeShape::of::<(u64, String)>() as *const TypeShape;
        assert_eq!(a, b);
    }
}
