//! `parlab check` on learners' notebooks, in the real kernel, against a small fixture lesson
//! (tests/fixtures/check/lessons/99-check-fixture.ipynb, exercises `double` and `halve`); and the
//! nbgrader and parlab metadata of every shipped lesson.
//!
//! The learners (tests/fixtures/check/learners/): solved, half solved, with extra and moved
//! cells, with a panic and an edited check (over a stale "solved" output), with code that hangs
//! and a compile error, with a deleted exercise cell, damaged JSON, and a notebook that is not a
//! lesson. The table layouts are unit-tested in src/bin/parlab/check.rs. Needs
//! `cargo run --release -- setup` first (`parlab test` does it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use serde_json::Value;

mod common;
use common::text;

/// One check at a time: they share the kernels' build folder, and 2 cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures() -> PathBuf {
    root().join("tests/fixtures/check")
}

fn check(args: &[&str]) -> Output {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    Command::new(env!("CARGO_BIN_EXE_parlab"))
        .arg("check")
        .arg("--lessons")
        .arg(fixtures().join("lessons"))
        .args(args)
        .output()
        .expect("could not run parlab")
}

#[test]
fn every_kind_of_learner_notebook_gets_its_verdicts() {
    let csv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gradebook.csv");
    let learners = fixtures().join("learners");
    let out = check(&[
        "--timeout",
        "15",
        "--json",
        "--csv",
        csv.to_str().unwrap(),
        learners.to_str().unwrap(),
    ]);
    let said = text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "not every exercise is solved:\n{said}"
    );
    let mut got: BTreeMap<(String, String), Value> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let row: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let file = Path::new(row["notebook"].as_str().unwrap())
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let exercise = row["exercise"].as_str().unwrap_or("-").to_owned();
        assert!(got.insert((file, exercise), row).is_none(), "{said}");
    }
    let row = |file: &str, exercise: &str| -> &Value {
        got.get(&(file.to_owned(), exercise.to_owned()))
            .unwrap_or_else(|| panic!("no result for {file} / {exercise}:\n{said}"))
    };
    let expect = |file: &str, exercise: &str, status: &str, says: &[&str]| {
        let r = row(file, exercise);
        assert_eq!(r["status"], status, "{file} / {exercise}: {r}\n{said}");
        let message = r["message"].as_str().unwrap();
        for s in says {
            assert!(
                message.contains(s),
                "{file} / {exercise}: {message:?} lacks {s:?}"
            );
        }
    };
    expect("solved", "double", "DONE", &["double(21) are right"]);
    expect("solved", "halve", "DONE", &["halve(42) are right"]);
    expect("half-solved", "double", "DONE", &[]);
    expect("half-solved", "halve", "PENDING", &["todo!()"]);
    // Cells added, deleted and moved: matched by their parlab id, not by position.
    expect("extra-cells", "double", "DONE", &[]);
    expect("extra-cells", "halve", "DONE", &[]);
    // An edited check (that says "trust me", over a stale "Solved" output) earns nothing.
    expect(
        "edited-check",
        "double",
        "ERROR",
        &["panicked", "index out of bounds"],
    );
    expect("edited-check", "halve", "PENDING", &["todo!()"]);
    assert_eq!(row("edited-check", "halve")["check_changed"], true);
    assert_eq!(row("edited-check", "double")["check_changed"], false);
    // A cell that never ends is interrupted, and the notebook goes on to the next exercise.
    expect(
        "compile-error-and-hang",
        "double",
        "ERROR",
        &["timeout", "15 s"],
    );
    expect(
        "compile-error-and-hang",
        "halve",
        "ERROR",
        &["does not compile", "cannot divide `u64` by `&str`"],
    );
    expect("missing-exercise", "double", "DONE", &[]);
    expect(
        "missing-exercise",
        "halve",
        "ERROR",
        &["exercise cell is missing"],
    );
    assert_eq!(row("missing-exercise", "halve")["exercise_missing"], true);
    expect("damaged", "-", "ERROR", &["not valid JSON (line"]);
    expect("not-a-lesson", "-", "ERROR", &["not a parlab lesson"]);
    assert_eq!(
        got.len(),
        6 * 2 + 2,
        "one object per exercise per notebook:\n{said}"
    );
    assert!(
        said.contains("missing-exercise.ipynb: running it as lesson 99-check-fixture"),
        "{said}"
    );

    let gradebook = std::fs::read_to_string(&csv).expect("no gradebook written");
    let lines: Vec<&str> = gradebook.lines().collect();
    assert_eq!(
        lines[0],
        "notebook,lesson,double,halve,solved,exercises,problem,notes"
    );
    assert_eq!(lines.len(), 1 + 8, "{gradebook}");
    let solved = lines
        .iter()
        .find(|l| l.contains("solved.ipynb") && !l.contains("half"))
        .unwrap();
    assert!(
        solved.ends_with(",99-check-fixture,DONE,DONE,2,2,,"),
        "{solved}"
    );
    let edited = lines
        .iter()
        .find(|l| l.contains("edited-check.ipynb"))
        .unwrap();
    assert!(
        edited.contains("ERROR,PENDING,0,2,,check cell changed for `halve`"),
        "{edited}"
    );
    let damaged = lines.iter().find(|l| l.contains("damaged.ipynb")).unwrap();
    assert!(damaged.contains(",,,0,0,"), "{damaged}");
}

#[test]
fn a_solved_notebook_prints_its_table_and_exits_0() {
    let out = check(&[fixtures().join("learners/solved.ipynb").to_str().unwrap()]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("solved.ipynb: lesson 99-check-fixture"),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.trim_start().starts_with("halve") && l.contains("DONE")),
        "{stdout}"
    );
    assert!(
        stdout.trim_end().ends_with("2/2 exercises solved"),
        "{stdout}"
    );
}

#[test]
fn a_missing_notebook_is_a_usage_error() {
    let out = check(&["nowhere/at-all.ipynb"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("no notebook or folder at nowhere/at-all.ipynb"),
        "{}",
        text(&out)
    );
}

/// The lessons, the fixture lesson included.
fn lessons() -> Vec<PathBuf> {
    let mut found = Vec::new();
    for dir in [root().join("notebooks"), fixtures().join("lessons")] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "ipynb") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Each exercise has one exercise cell and, after it with no code cell between, one check cell,
/// both with nbgrader metadata (schema 3: a solution cell; a locked, graded test cell worth one
/// point) and a parlab id; grade ids are the exercise's name, and names are unique across lessons.
#[test]
fn exercise_and_check_cells_carry_nbgrader_and_parlab_metadata() {
    let allowed = [
        "grade",
        "grade_id",
        "locked",
        "points",
        "schema_version",
        "solution",
    ];
    let mut names: BTreeMap<String, PathBuf> = BTreeMap::new();
    for path in lessons() {
        let nb: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let cells = nb["cells"].as_array().unwrap();
        let mut exercises = 0;
        let mut grade_ids = Vec::new();
        let mut open: Option<(String, usize)> = None;
        for (i, cell) in cells.iter().enumerate() {
            let where_ = format!("{} cell {}", path.display(), i + 1);
            let tags: Vec<&str> = cell["metadata"]["tags"]
                .as_array()
                .map(|t| t.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let role = if tags.contains(&"exercise") {
                "exercise"
            } else if tags.contains(&"check") {
                "check"
            } else {
                assert!(
                    cell["metadata"].get("nbgrader").is_none(),
                    "{where_}: nbgrader metadata on a plain cell"
                );
                assert!(
                    cell["metadata"]["parlab"].get("exercise").is_none(),
                    "{where_}: an exercise id on a plain cell"
                );
                if cell["cell_type"] == "code" {
                    assert!(
                        open.is_none(),
                        "{where_}: a code cell between an exercise and its check"
                    );
                }
                continue;
            };
            assert_eq!(cell["cell_type"], "code", "{where_}");
            let parlab = &cell["metadata"]["parlab"];
            let name = parlab["exercise"]
                .as_str()
                .unwrap_or_else(|| panic!("{where_}: no parlab exercise id"))
                .to_owned();
            assert_eq!(parlab["role"], role, "{where_}");
            let nbgrader = cell["metadata"]["nbgrader"]
                .as_object()
                .unwrap_or_else(|| panic!("{where_}: no nbgrader metadata"));
            for key in nbgrader.keys() {
                assert!(
                    allowed.contains(&key.as_str()),
                    "{where_}: nbgrader key {key} is not in schema 3"
                );
            }
            let grade_id = nbgrader["grade_id"].as_str().unwrap().to_owned();
            assert!(
                !grade_id.is_empty()
                    && grade_id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
                "{where_}: grade_id {grade_id:?}"
            );
            assert_eq!(nbgrader["schema_version"], 3, "{where_}");
            if role == "exercise" {
                assert!(
                    open.is_none(),
                    "{where_}: a second exercise before the check of the first"
                );
                assert_eq!(grade_id, name, "{where_}");
                assert_eq!(
                    (
                        &nbgrader["solution"],
                        &nbgrader["grade"],
                        &nbgrader["locked"]
                    ),
                    (&Value::Bool(true), &Value::Bool(false), &Value::Bool(false)),
                    "{where_}: an exercise is an nbgrader solution cell"
                );
                assert!(
                    nbgrader.get("points").is_none(),
                    "{where_}: points only on graded cells"
                );
                if let Some(other) = names.insert(name.clone(), path.clone()) {
                    panic!("{where_}: exercise {name} is also in {}", other.display());
                }
                open = Some((name, i));
            } else {
                let (open_name, _) = open
                    .take()
                    .unwrap_or_else(|| panic!("{where_}: a check with no exercise before it"));
                assert_eq!(name, open_name, "{where_}: the check of another exercise");
                assert_eq!(grade_id, format!("{name}_check"), "{where_}");
                assert_eq!(
                    (
                        &nbgrader["solution"],
                        &nbgrader["grade"],
                        &nbgrader["locked"],
                        &nbgrader["points"]
                    ),
                    (
                        &Value::Bool(false),
                        &Value::Bool(true),
                        &Value::Bool(true),
                        &Value::from(1)
                    ),
                    "{where_}: a check is a locked nbgrader test cell worth 1 point"
                );
                let source: String = cell["source"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                assert!(
                    source.contains(&format!("check(\"{name}\""))
                        || source.contains(&format!("check_within(\"{name}\""))
                        || source.contains(&format!("{name}_defined.check")),
                    "{where_}: the check does not name its exercise {name}"
                );
                exercises += 1;
            }
            grade_ids.push(grade_id);
        }
        assert!(
            open.is_none(),
            "{}: an exercise with no check",
            path.display()
        );
        assert!(exercises > 0, "{} has no exercise", path.display());
        let count = grade_ids.len();
        grade_ids.sort();
        grade_ids.dedup();
        assert_eq!(
            grade_ids.len(),
            count,
            "{}: duplicate grade ids",
            path.display()
        );
    }
}
