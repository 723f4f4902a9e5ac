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
