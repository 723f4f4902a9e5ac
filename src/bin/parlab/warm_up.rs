//! Setup's last step: one "Rust (parlab)" kernel run headlessly, so that a kernel slot holds a
//! build of parlab and the first lesson a learner opens loads it in seconds, not in a minute.

use std::process::{Command, Stdio};

use crate::{kernel, nb_runner, project};

/// The lessons' `:dep` line, with the project's path (evcxr writes the path it resolves, so the
/// slot's build is the one the lessons' `path = ".."` finds fresh).
fn dep_line() -> String {
    format!(
        ":dep parlab = {{ path = {:?}, default-features = false }}",
        project::root().display().to_string()
    )
}

/// A notebook that loads parlab and uses it (as lesson 00 does), then again as a debug build
/// (`:opt 0`, as lesson 00's "Why the build must be optimised" does: without this, that cell
/// builds parlab's dependencies unoptimised the first time, some 20 s on 2 cores), and switches
/// back to `:opt 2`.
fn notebook() -> String {
    let cell = |id: &str, source: &str| {
        serde_json::json!({"cell_type": "code", "execution_count": null, "id": id,
            "metadata": {}, "outputs": [], "source": [source]})
    };
    serde_json::json!({
        "cells": [
            cell("dep", &dep_line()),
            cell("use", USE),
            cell("debug", ":opt 0"),
            cell("use-debug", USE),
            cell("release", ":opt 2"),
        ],
        "metadata": {"kernelspec": {"display_name": "Rust (parlab)", "language": "rust",
            "name": kernel::KERNEL_NAME}},
        "nbformat": 4, "nbformat_minor": 5,
    })
    .to_string()
}

/// A cell that uses parlab, printing `true`.
const USE: &str = "parlab::pi::calc_pi(1000, 1).is_ok()";

/// Done when some slot already holds a build.
pub fn check() -> Result<Option<String>, String> {
    Ok(kernel::warm_slots()
        .first()
        .map(|dir| format!("{} holds a build", dir.display())))
}

/// Runs the warm-up notebook in a "Rust (parlab)" kernel (at most 10 minutes a cell), then checks
/// that it loaded parlab and that a slot now holds the build.
pub fn install() -> Result<(), String> {
    let work = project::root().join("target").join("parlab-warm-up");
    std::fs::create_dir_all(&work)
        .map_err(|e| format!("could not make {}: {e}", work.display()))?;
    let nb = work.join("warm-up.ipynb");
    std::fs::write(&nb, notebook())
        .map_err(|e| format!("could not write {}: {e}", nb.display()))?;
    let runner = nb_runner::write_runner()?;
    let output = Command::new(project::venv_python())
        .arg(&runner)
        .arg(&nb)
        .args([
            "--run-only",
            "--kernel",
            kernel::KERNEL_NAME,
            "--cell-timeout",
            "600",
        ])
        .arg("--out")
        .arg(work.join("out"))
        .arg("--cwd")
        .arg(project::root().join("notebooks"))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not start the notebook runner: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let run = stdout
        .lines()
        .find_map(|l| l.strip_prefix("PARLAB-RUN "))
        .and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok())
        .ok_or_else(|| {
            format!(
                "the warm-up kernel gave no report: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )
        })?;
    if let Some(fatal) = run.get("fatal").and_then(|f| f.as_str()) {
        return Err(format!("the warm-up kernel failed: {fatal}"));
    }
    let executed = std::fs::read_to_string(work.join("out").join("warm-up.ipynb"))
        .map_err(|e| format!("the warm-up kernel wrote no notebook: {e}"))?;
    if executed.matches("\"true\"").count() < 2 {
        return Err(format!(
            "the warm-up kernel did not load parlab, optimised and as a debug build (its notebook is {})",
            work.join("out").join("warm-up.ipynb").display()
        ));
    }
    match check()? {
        Some(_) => Ok(()),
        None => Err(
            "the warm-up kernel ran, but no kernel slot holds a build (read `parlab doctor`)"
                .into(),
        ),
    }
}
