//! Every chart function returns a chart or a `ChartError` for every finite input, quickly: extreme
//! but legal values (near `f64::MAX`, `f64::MIN_POSITIVE`, subnormals, huge spans, spans too
//! narrow for their magnitude) never spin inside plotters nor panic.

use parlab::chart::{self, Chart, ChartError, Series};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// Generous on a busy machine; a spinning chart never returns at all.
const LIMIT: Duration = Duration::from_secs(10);

/// Runs `draw` on its own thread and gives its outcome, or fails the test if it spins past LIMIT.
fn within_limit(
    what: &str,
    draw: impl FnOnce() -> Result<Chart, ChartError> + Send + 'static,
) -> Result<Chart, ChartError> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(draw)));
    });
    match rx.recv_timeout(LIMIT) {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_)) => panic!("{what}: the chart panicked"),
        Err(_) => panic!("{what}: the chart did not return within {LIMIT:?}"),
    }
}

/// The chart was drawn, or refused with an error whose text says why.
fn drawn_or_explained(what: &str, outcome: Result<Chart, ChartError>) {
    match outcome {
        Ok(c) => assert!(c.svg().starts_with("<svg"), "{what}: not an SVG"),
        Err(e) => {
            let text = e.to_string();
            assert!(text.len() > 20, "{what}: a terse error: {text}");
        }
    }
}

fn one(name: &str, points: Vec<(f64, f64)>) -> Vec<Series> {
    vec![Series::new(name, points)]
}

const MAX: f64 = f64::MAX;
const TINY: f64 = f64::MIN_POSITIVE;
const SUBNORMAL: f64 = 5e-324;

#[test]
fn line_charts_of_extreme_values_return() {
    let cases: Vec<(&str, Vec<(f64, f64)>)> = vec![
        ("-MAX to MAX", vec![(-MAX, -MAX), (MAX, MAX)]),
        ("0 to MAX", vec![(0.0, 0.0), (MAX, MAX)]),
        ("one point at MAX", vec![(MAX, MAX)]),
        ("one point at -MAX", vec![(-MAX, -MAX)]),
        (
            "half MAX both ways",
            vec![(-MAX / 2.0, -MAX / 2.0), (MAX / 2.0, MAX / 2.0)],
        ),
        (
            "tiny span at 1e300",
            vec![
                (1e300, 1e300),
                (1e300 * (1.0 + 1e-15), 1e300 * (1.0 + 1e-15)),
            ],
        ),
        (
            "one ulp apart",
            vec![(1.0, 1.0), (1.0 + f64::EPSILON, 1.0 + f64::EPSILON)],
        ),
        (
            "subnormals",
            vec![(0.0, SUBNORMAL), (SUBNORMAL, 2.0 * SUBNORMAL)],
        ),
        ("1e20 to 1e20 + 1", vec![(1e20, 1.0), (1e20 + 1e5, 2.0)]),
    ];
    for (what, points) in cases {
        let p = points.clone();
        drawn_or_explained(
            what,
            within_limit(what, move || chart::lines("t", "x", "y", &one("s", p))),
        );
    }
}

#[test]
fn loglog_charts_of_extreme_values_return() {
    let cases: Vec<(&str, Vec<(f64, f64)>)> = vec![
        ("MIN_POSITIVE to MAX", vec![(TINY, TINY), (MAX, MAX)]),
        ("subnormal to MAX", vec![(SUBNORMAL, SUBNORMAL), (MAX, MAX)]),
        ("one point at MAX", vec![(MAX, MAX)]),
        ("one point at a subnormal", vec![(SUBNORMAL, SUBNORMAL)]),
        ("a tiny ratio", vec![(1.0, 1.0), (1.0 + f64::EPSILON, 1.0)]),
    ];
    for (what, points) in cases {
        let p = points.clone();
        drawn_or_explained(
            what,
            within_limit(what, move || chart::loglog("t", "x", "y", &one("s", p))),
        );
    }
}

#[test]
fn speedup_charts_of_extreme_values_return() {
    let cases: Vec<(&str, Vec<(f64, f64)>)> = vec![
        ("a point at MAX", vec![(1.0, 1.0), (MAX, MAX)]),
        ("whole x values 0 and 1e20", vec![(0.0, 1.0), (1e20, 2.0)]),
        (
            "whole x values -1e20 and 1e20",
            vec![(-1e20, 1.0), (1e20, 2.0)],
        ),
        ("speed-up of MAX at 2 threads", vec![(1.0, 1.0), (2.0, MAX)]),
        ("-MAX threads", vec![(-MAX, 1.0), (2.0, 1.0)]),
    ];
    for (what, points) in cases {
        let p = points.clone();
        drawn_or_explained(
            what,
            within_limit(what, move || chart::speedup("t", &one("s", p))),
        );
    }
}

#[test]
fn bar_charts_of_extreme_values_return() {
    let cases: Vec<(&str, Vec<f64>)> = vec![
        ("one bar of MAX", vec![MAX]),
        ("one bar of -MAX", vec![-MAX]),
        ("bars of ±MAX", vec![MAX, -MAX]),
        ("bars of ±MAX/2", vec![MAX / 2.0, -MAX / 2.0]),
        ("a subnormal bar", vec![SUBNORMAL]),
        ("a bar of 1e300 and one of 1", vec![1e300, 1.0]),
    ];
    for (what, values) in cases {
        // Short and long names: upright and lying bars take different paths.
        for name in ["a", "a rather long name for a bar, so the bars lie down"] {
            let bars: Vec<(String, f64)> = values
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{name} {i}"), *v))
                .collect();
            drawn_or_explained(
                what,
                within_limit(what, move || chart::bars("t", "y", &bars)),
            );
        }
    }
}

#[test]
fn ordinary_values_still_draw() {
    let c = chart::lines("t", "x", "y", &one("s", vec![(1.0, 2.0), (3.0, 4.0)])).unwrap();
    assert!(c.svg().contains("<svg"));
    let c = chart::speedup("t", &one("s", vec![(1.0, 1.0), (2.0, 1.9)])).unwrap();
    assert!(c.svg().contains("ideal"));
    let c = chart::loglog("t", "x", "y", &one("s", vec![(1e3, 1e-5), (1e9, 4.0)])).unwrap();
    assert!(c.svg().contains("<svg"));
    let c = chart::bars("t", "y", &[("a", 1.0), ("b", -2.0)]).unwrap();
    assert!(c.svg().contains("<svg"));
}
