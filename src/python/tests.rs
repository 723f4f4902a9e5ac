//! The report's shape checks (the real interpreter's cases are in tests/python.rs).

use super::PythonError;
use super::report::from_line;

fn report(series: &str) -> String {
    format!(
        r#"{{"format": "parlab-python-report", "version": 1, "python": {{"version": "3.11.7", "implementation": "CPython", "gil_enabled": true, "executable": "python"}}, "modules": {{}}, "skipped": [], "series": [{series}]}}"#
    )
}

#[test]
fn a_good_report_becomes_a_sweep() {
    let line = report(
        r#"{"name": "Python threads", "param": "threads", "points": [{"value": 1, "label": "1 thread", "times_s": [0.5, 0.4], "work": 1000}, {"value": 2, "label": "2 threads", "times_s": [0.5], "work": 1000}]}"#,
    );
    let r = from_line("t.py", &line).unwrap();
    let s = r.sweep("Python threads").unwrap();
    assert_eq!(s.param, "threads");
    assert_eq!(s.points.len(), 2);
    assert_eq!(s.points[0].1.times.len(), 2);
    assert_eq!(s.points[1].1.work, Some(1000));
    assert!(s.equal_work());
    assert!((s.speedup()[1].1 - 0.9).abs() < 1e-9); // median 0.45 s against 0.5 s
    assert!(matches!(
        r.sweep("numba nogil threads"),
        Err(PythonError::NoSeries { .. })
    ));
}

#[test]
fn wrong_shapes_are_garbage_that_says_what_is_wrong() {
    let cases = [
        ("", "printed nothing"),
        ("Traceback? no, just text", "not JSON"),
        ("[1, 2, 3]", "format"),
        (r#"{"format": "something-else", "version": 1}"#, "format"),
        (r#"{"format": "parlab-python-report"}"#, "no version"),
        (
            r#"{"format": "parlab-python-report", "version": 2}"#,
            "version 2",
        ),
        (
            r#"{"format": "parlab-python-report", "version": 1}"#,
            "shape",
        ),
    ];
    for (line, says) in cases {
        let e = from_line("g.py", line).unwrap_err();
        assert!(matches!(e, PythonError::Garbage { .. }), "{line}: {e}");
        assert!(e.to_string().contains(says), "{line}: {e}");
    }
    let bad_points = [
        (r#"{"name": "s", "param": "p", "points": []}"#, "no points"),
        (
            r#"{"name": "s", "param": "p", "points": [{"value": 1, "label": "x", "times_s": [], "work": null}]}"#,
            "no times",
        ),
        (
            r#"{"name": "s", "param": "p", "points": [{"value": 1, "label": "x", "times_s": [-1.0], "work": null}]}"#,
            "the time -1",
        ),
        (
            r#"{"name": "s", "param": "p", "points": [{"value": 1, "label": "x", "times_s": ["fast"], "work": null}]}"#,
            "shape",
        ),
    ];
    for (series, says) in bad_points {
        let e = from_line("g.py", &report(series)).unwrap_err();
        assert!(e.to_string().contains(says), "{series}: {e}");
    }
}

#[test]
fn a_skipped_series_says_how_to_add_its_module() {
    let line = r#"{"format": "parlab-python-report", "version": 1, "python": {"version": "3.11.7", "implementation": "CPython", "gil_enabled": true, "executable": "python"}, "modules": {"parlab_py": null}, "skipped": [{"series": "Rust extension, GIL held", "module": "parlab_py", "reason": "ModuleNotFoundError: No module named 'parlab_py'"}], "series": []}"#;
    let r = from_line("t.py", line).unwrap();
    let e = r.sweep("Rust extension, GIL held").unwrap_err();
    assert!(matches!(e, PythonError::Missing { .. }));
    assert!(e.to_string().contains("maturin"), "{e}");
    assert_eq!(r.notes().len(), 1);
}

#[test]
fn a_long_garbage_line_is_cut_in_the_message() {
    let line = "x".repeat(10_000);
    let e = from_line("g.py", &line).unwrap_err().to_string();
    assert!(e.len() < 1_000, "{}", e.len());
}
