//! Tracing a type's shape through its `Deserialize` with serde-reflection, and what to do about a
//! type that cannot be traced.

use serde::de::DeserializeOwned;
use serde_reflection::{
    ContainerFormat, Format, FormatHolder, Named, Registry, Samples, Tracer, TracerConfig,
    VariantFormat,
};

use super::{Body, Shape};

/// What to do about a type that cannot be traced, from the tracer's message.
pub(super) fn fix_for(why: &str) -> &'static str {
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

/// One pass of the tracer over a type, its format written into the given one: the one part of
/// tracing that knows the type, so that the rest is compiled once in parlab, not again in each
/// notebook cell that names a type.
pub(super) type TraceOnce =
    fn(&mut Tracer, &Samples, &mut Format) -> Result<(), serde_reflection::Error>;

/// One pass over `T` through its `Deserialize` (the value made up for it thrown away), as
/// serde-reflection's `Tracer::trace_type_once` does it, but for reducing the format, which
/// [`pass`] does outside the generic code.
pub(super) fn trace_once<T: DeserializeOwned>(
    tracer: &mut Tracer,
    samples: &Samples,
    format: &mut Format,
) -> Result<(), serde_reflection::Error> {
    T::deserialize(serde_reflection::Deserializer::new(tracer, samples, format)).map(drop)
}

/// One pass of `once`: the format it traced, reduced (as `Tracer::trace_type_once` gives it).
fn pass(
    once: TraceOnce,
    tracer: &mut Tracer,
    samples: &Samples,
) -> Result<Format, serde_reflection::Error> {
    let mut format = Format::unknown();
    once(tracer, samples, &mut format)?;
    format.reduce();
    Ok(format)
}

/// The serde format of the type `once` traces, through its `Deserialize`, as a [`Shape`].
pub(super) fn trace_format(once: TraceOnce) -> Result<Shape, String> {
    match crate::panics::catch_quietly(|| trace_format_unguarded(once)) {
        Ok(traced) => traced,
        Err(caught) => Err(format!("its Deserialize panicked while traced: {caught}")),
    }
}

/// [`trace_format`], a panic in a `Deserialize` not caught.
fn trace_format_unguarded(once: TraceOnce) -> Result<Shape, String> {
    let samples = Samples::new();
    let mut first_error = None;
    for ones in [false, true] {
        match trace_with(once, ones, &samples) {
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

/// One attempt: passes over the type until every enum's variants are seen, then the registry.
///
/// Each pass visits the next unseen variant of every enum whose mark was cleared after the last
/// pass; the tracer names the enums it still misses only when asked for its registry, so an
/// attempt that misses some starts again, clearing those too.
fn trace_with(
    once: TraceOnce,
    ones: bool,
    samples: &Samples,
) -> Result<Shape, serde_reflection::Error> {
    let mut enums: Vec<String> = Vec::new();
    for _ in 0..MAX_ATTEMPTS {
        let mut tracer = Tracer::new(config(ones));
        let mut root = None;
        for _ in 0..MAX_PASSES {
            let format = pass(once, &mut tracer, samples)?;
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
