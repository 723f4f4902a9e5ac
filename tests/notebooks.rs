//! Every notebook, executed by real Jupyter in the real evcxr kernel, as a learner would.
//!
//! Each notebook runs twice: as shipped (every exercise check must say "not solved yet" and the
//! cells after it still run) and with the solutions put in (every check passes). A run fails on any
//! error output, any `panicked at` in stderr, a chart cell without an SVG, or a notebook over its
//! 120 s budget. Needs `cargo run --release -- setup` first (`parlab test` does it).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// One notebook at a time: two kernels at once would share 2 cores and blow the time budgets.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn notebook(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("notebooks")
        .join(name)
}

fn execute(name: &str, mode: &str) {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("notebooks");
    let status = Command::new(env!("CARGO_BIN_EXE_parlab"))
        .args(["render", "--no-setup", "--summary", "--mode", mode, "--out"])
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
