//! What differs between the worker's type and this side's, one sentence per place ([`differences`]).

use std::collections::BTreeMap;

use super::text::{describe, describe_body};
use super::{Body, Shape, TypeShape};

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
