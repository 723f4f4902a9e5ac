//! The `parlab` command line: bad input gets a clear message and a non-zero exit, and the
//! notebook runner catches every kind of failure it promises to catch.

use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::text;

fn parlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_parlab"))
        .args(args)
        .output()
        .expect("could not run parlab")
}

#[test]
fn unknown_subcommand_is_refused_with_the_list_of_commands() {
    let out = parlab(&["frobnicate"]);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains("unrecognized subcommand 'frobnicate'"),
        "{said}"
    );
    assert!(said.contains("--help"), "{said}");
}

#[test]
fn help_lists_every_command() {
    let said = text(&parlab(&["--help"]));
    for command in ["setup", "lab", "render", "check", "test", "doctor", "bench"] {
        assert!(
            said.contains(command),
            "`{command}` missing from --help:\n{said}"
        );
    }
}

#[test]
fn unknown_bench_group_lists_the_known_ones() {
    let out = parlab(&["bench", "teleport"]);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains("unknown bench group `teleport`") && said.contains("pi"),
        "{said}"
    );
}

#[test]
fn bench_pi_json_has_the_documented_fields() {
    let out = parlab(&[
        "bench",
        "pi",
        "--threads",
        "1,2",
        "--samples",
        "2000000",
        "--repeats",
        "1",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        rows.iter()
            .any(|r| r["case"] == "threads" && r["threads"] == 2),
        "{stdout}"
    );
    for row in &rows {
        for field in ["bench", "case", "threads", "samples", "median_s", "per_s"] {
            assert!(!row[field].is_null(), "{field} missing in {row}");
        }
        assert_eq!(row["bench"], "pi");
        assert!(row["median_s"].as_f64().unwrap() > 0.0 && row["per_s"].as_f64().unwrap() > 0.0);
    }
}

#[test]
fn bench_python_pairs_every_python_case_with_its_rust_one() {
    // Tiny sizes: this checks the pairs and their fields, not any speed.
    let out = parlab(&[
        "bench",
        "python",
        "--samples",
        "1000000",
        "--repeats",
        "1",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let pairs: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["bench"] == "python-pair")
        .collect();
    for case in [
        "calc_pi speed-up at 2 threads: Python threads / simulated GIL",
        "calc_pi speed-up at 2 threads: numba nogil threads / Rust threads",
        "calc_pi speed-up at 2 threads: Rust extension, GIL held / simulated GIL",
        "calc_pi speed-up at 2 threads: Rust extension, GIL released / Rust threads",
        "sort two arrays, speed-up of two threads: numpy.sort / Rust",
        "Python Process start + join (spawn) / parlab spawn",
        "Python Process start + join (fork) / parlab fork",
        "Python Queue round trip (spawn) / parlab Queue round trip (fork)",
        "pool exercise, new pool each time, 1000 samples per task: Python / parlab",
    ] {
        let pair = pairs
            .iter()
            .find(|p| p["case"] == case)
            .unwrap_or_else(|| panic!("no pair {case:?} in\n{stdout}"));
        let (python, rust, ratio) = (
            pair["python"].as_f64().unwrap(),
            pair["rust"].as_f64().unwrap(),
            pair["ratio"].as_f64().unwrap(),
        );
        assert!(python > 0.0 && rust > 0.0, "{pair}");
        assert!(
            (ratio - python / rust).abs() <= 1e-9 * ratio.abs().max(1.0),
            "{pair}"
        );
    }
    assert!(
        lines.iter().any(|l| l["bench"] == "python"
            && l["case"] == "calc_pi_python_threads"
            && l["threads"] == 2),
        "{stdout}"
    );
    assert!(
        text(&out).contains("load average"),
        "the targets say the load"
    );
}

#[test]
fn bench_zero_samples_is_a_clear_error() {
    let out = parlab(&["bench", "pi", "--samples", "0"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("sample"), "{}", text(&out));
}

#[test]
fn render_names_a_missing_notebook() {
    let out = parlab(&["render", "--no-setup", "notebooks/99-nothing.ipynb"]);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(said.contains("99-nothing.ipynb"), "{said}");
}

/// Runs tests/fixtures/broken.ipynb in the real kernel: every broken cell must be named.
#[test]
fn runner_catches_panics_stderr_errors_missing_charts_and_passing_stubs() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/broken.ipynb");
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("broken");
    let out = Command::new(env!("CARGO_BIN_EXE_parlab"))
        .args(["render", "--no-setup", "--out"])
        .arg(&out_dir)
        .arg(&fixture)
        .output()
        .expect("could not run parlab");
    let said = text(&out);
    assert!(!out.status.success(), "the broken notebook passed:\n{said}");
    for expected in [
        "cell 3 ('panic!(\"deliberate panic\")'): panicked",
        "cell 4 ('let n: Result<u32, std::num::ParseIntError> = \"seven\".parse('): wrote to stderr",
        "cell 5 ('println!(\"no chart here\");'): tagged `chart` but shows no SVG chart",
        "cell 6 ('let fine = 2;'): expected a compile error, but the cell ran",
        "the check should say not solved yet",
        "cell 8 ('let y: u32 = \"not a number\";'): error: Error: mismatched types",
    ] {
        assert!(
            said.contains(expected),
            "runner output lacks {expected:?}:\n{said}"
        );
    }
    assert!(
        !said.contains("broken.ipynb: cell 2 ("),
        "a good cell was reported:\n{said}"
    );
    assert!(
        !said.contains("broken.ipynb: cell 9 ("),
        "the last cell should have run fine:\n{said}"
    );
}

#[test]
fn doctor_says_which_lessons_this_platform_runs() {
    // doctor may fail here (something optional missing); its platform line prints regardless.
    let out = parlab(&["doctor"]);
    let said = text(&out);
    let line = said
        .lines()
        .find(|l| l.contains("lessons on this platform"))
        .unwrap_or_else(|| panic!("no platform line in doctor's output:\n{said}"));
    if cfg!(target_os = "linux") {
        assert!(
            line.contains("Linux") && line.contains("all lessons, 00-04"),
            "{line}"
        );
    }
}
