//! A shape written out: in full for its fingerprint, in words for a person.

use std::fmt::Write as _;

use super::{Body, Shape, UNTRACED};

/// FNV-1a over the shape written out in full: stable across builds and releases (std's hasher
/// may change; this must not). Never [`UNTRACED`].
pub(super) fn fingerprint_of(shape: &Shape) -> u64 {
    let mut text = String::new();
    write_full(shape, &mut text);
    match crate::process::type_names::fnv1a(&text) {
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
pub(super) fn describe(shape: &Shape, depth: usize) -> String {
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

pub(super) fn describe_body(body: &Body, depth: usize) -> String {
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
