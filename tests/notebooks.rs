//! Every notebook, executed by real Jupyter in the real evcxr kernel, as a learner would.
//!
//! Each notebook runs twice: as shipped (every exercise check must say "not solved yet" and the
//! cells after it still run) and with the solutions put in (every check passes). A run fails on any
//! error output, any `panicked at` in stderr, a chart cell without an SVG, or a cell that runs
//! longer than [`HANG_GUARD_S`] (a hang, not slowness: speed is a benchmark, `render --summary`,
//! and never fails a test). The runner also checks that every reading a cell prints agrees with its
//! own figures; every shipped run has both cores kept busy by other processes ([`BusyCores`]). Needs
//! `cargo run --release -- setup` first (`parlab test` does it).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// One notebook at a time: two kernels at once would share 2 cores and slow each other down.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Seconds any one cell may run before the run counts as hung: no lesson cell needs a tenth of it,
/// even on a machine whose cores are all busy with other programs (a `:dep` cell gets 600).
const HANG_GUARD_S: &str = "300";

fn notebook(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("notebooks")
        .join(name)
}

/// Two processes that each keep a core busy (`yes > /dev/null`), killed when this is dropped.
///
/// Every lesson's shipped run has both cores kept busy this way: the run must still pass, and every
/// reading it prints must still agree with its own figures (the runner checks each one), as on a
/// learner's laptop that is compiling something meanwhile. The solved runs have the machine to
/// themselves.
struct BusyCores(Vec<std::process::Child>);

impl BusyCores {
    fn start() -> BusyCores {
        let spin = || {
            Command::new("yes")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("could not start `yes` to keep a core busy")
        };
        BusyCores(vec![spin(), spin()])
    }
}

impl Drop for BusyCores {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn execute(name: &str, mode: &str) {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let _busy = (mode == "shipped").then(BusyCores::start);
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("notebooks");
    let status = Command::new(env!("CARGO_BIN_EXE_parlab"))
        .args(["render", "--no-setup", "--summary", "--mode", mode])
        .args(["--cell-timeout", HANG_GUARD_S, "--out"])
        .arg(&out)
        .arg(notebook(name))
        .status()
        .expect("could not start the parlab binary");
    assert!(
        status.success(),
        "{name} ({mode} mode) failed: the cells and reasons are printed above"
    );
}

macro_rules! notebook_tests {
    ($($test:ident => $file:literal),* $(,)?) => {
        mod shipped { $( #[test] fn $test() { super::execute($file, "shipped"); } )* }
        mod solved { $( #[test] fn $test() { super::execute($file, "solved"); } )* }
        /// Every notebook in notebooks/ has its pair of tests here.
        #[test]
        fn every_notebook_is_tested() {
            let listed = [$($file),*];
            for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("notebooks")).unwrap() {
                let name = entry.unwrap().file_name().into_string().unwrap();
                if name.ends_with(".ipynb") {
                    assert!(listed.contains(&name.as_str()), "{name} has no test: add it to notebook_tests!");
                }
            }
        }
    };
}

notebook_tests! {
    n00_setup_and_timing => "00-setup-and-timing.ipynb",
    n01_threads => "01-threads.ipynb",
    n02_shared_state_and_locks => "02-shared-state-and-locks.ipynb",
    n03_processes => "03-processes.ipynb",
    n04_pools => "04-pools.ipynb",
    n05_beyond_one_machine => "05-beyond-one-machine.ipynb",
}

/// Notebooks in git carry no outputs: the executed versions are build products.
#[test]
fn notebooks_in_git_have_no_outputs() {
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("notebooks")).unwrap()
    {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "ipynb") {
            continue;
        }
        let nb: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for (i, cell) in nb["cells"].as_array().unwrap().iter().enumerate() {
            if cell["cell_type"] == "code" {
                let outputs = cell["outputs"].as_array().map_or(0, |o| o.len());
                assert_eq!(
                    outputs,
                    0,
                    "{} cell {} carries outputs: strip them",
                    path.display(),
                    i + 1
                );
                assert!(
                    cell["execution_count"].is_null(),
                    "{} cell {} has an execution count",
                    path.display(),
                    i + 1
                );
            }
        }
    }
}

/// The house rule: every check in every lesson runs under a time limit (`check_within`), so a
/// wrong answer that blocks forever is reported instead of hanging the cell, and through the
/// exercise cell's `NAME_defined`, so that it never says "Solved" about a definition that is not
/// the cell's current text.
#[test]
fn every_check_has_a_time_limit() {
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("notebooks")).unwrap()
    {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "ipynb") {
            continue;
        }
        let nb: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for (i, cell) in nb["cells"].as_array().unwrap().iter().enumerate() {
            if cell["cell_type"] != "code" {
                continue;
            }
            let source: String = cell["source"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|l| l.as_str())
                .collect();
            let tags = cell["metadata"]["tags"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert!(
                !source.contains("exercise::check("),
                "{} cell {}: a bare exercise::check has no time limit: use check_within",
                path.display(),
                i + 1
            );
            let exercise = cell["metadata"]["parlab"]["exercise"].as_str();
            if tags.iter().any(|t| t == "check") {
                let name = exercise.expect("a check cell names its exercise in metadata.parlab");
                assert!(
                    source.contains(&format!("{name}_defined.check_within(")),
                    "{} cell {}: a check must be `{name}_defined.check_within(..)`, so that it has \
                     a time limit and never tests a definition older than the exercise cell",
                    path.display(),
                    i + 1
                );
            }
            if tags.iter().any(|t| t == "exercise") {
                let name =
                    exercise.expect("an exercise cell names its exercise in metadata.parlab");
                assert!(
                    source.contains(&format!("let {name}_defined = ")),
                    "{} cell {}: an exercise cell ends with `let {name}_defined = exercise::defined(..)`",
                    path.display(),
                    i + 1
                );
            }
        }
    }
}

/// Plausible wrong answers (tests/fixtures/wrong_answers.ipynb) in the real kernel: each check says
/// what happened (the runner compares each verdict with the cell's `parlab.expect`), a check that
/// hangs gives up, a check after a compile error does not judge the old code, and the HTML page
/// has the lesson's title and the chart's description as its image's alt text.
#[test]
fn wrong_answers_are_told_what_happened() {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wrong_answers");
    let status = Command::new(env!("CARGO_BIN_EXE_parlab"))
        // Only the hang guard: this notebook tests messages, not speed (its kernel builds parlab).
        .args([
            "render",
            "--no-setup",
            "--summary",
            "--cell-timeout",
            HANG_GUARD_S,
        ])
        .arg("--out")
        .arg(&out)
        .arg(root.join("tests/fixtures/wrong_answers.ipynb"))
        .status()
        .expect("could not start the parlab binary");
    assert!(status.success(), "the cells and reasons are printed above");
    let html = std::fs::read_to_string(out.join("wrong_answers.html")).unwrap();
    assert!(
        html.contains("<title>Wrong answers, checked in the real kernel</title>"),
        "the page is not titled with the notebook's heading"
    );
    // nbconvert writes the attribute in single or double quotes, depending on its version.
    let described = [
        "alt='Bar chart \"release vs debug build, one thread\": million samples per second per variant",
        "alt=\"Bar chart &quot;release vs debug build, one thread&quot;: million samples per second per variant",
    ];
    assert!(
        described.iter().any(|alt| html.contains(alt)),
        "the chart's image does not carry its description as alt text"
    );
    assert!(!html.contains("No description has been provided for this image"));
}
