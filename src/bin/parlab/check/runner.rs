//! The Python notebook runner: runs a prepared notebook headlessly in a fresh kernel.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::kernel_dir::KernelDir;
use super::notebook::read_notebook;
use crate::project;

/// The output of the Python runner for one notebook.
pub(super) struct Run {
    pub(super) executed: Value,
    pub(super) fatal: Option<String>,
    pub(super) timed_out: Vec<usize>,
    pub(super) seconds: f64,
}

/// Runs the prepared notebook through the Python runner, under an overall time limit.
#[allow(clippy::too_many_arguments)]
pub(super) fn execute(
    runner: &Path,
    input: &Path,
    out_dir: &Path,
    kernel: &str,
    cwd: &Path,
    timeout: u64,
    kernel_dir: &KernelDir,
    code_cells: u64,
) -> Result<Run, String> {
    let mut cmd = Command::new(project::venv_python());
    cmd.arg(runner)
        .arg("--run-only")
        .arg("--kernel")
        .arg(kernel)
        .arg("--cwd")
        .arg(cwd)
        .arg("--cell-timeout")
        .arg(timeout.to_string())
        .arg("--out")
        .arg(out_dir)
        .arg(input)
        .env("EVCXR_TMPDIR", &kernel_dir.path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Every cell is bounded by the runner (`:dep` cells by 600 s); this bounds the runner itself.
    let limit = Duration::from_secs(120 + 600 + code_cells * (timeout + 15));
    let out = project::output_within(&mut cmd, limit)
        .map_err(|e| format!("running {}: {e}", input.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stdout.lines().find_map(|l| l.strip_prefix("PARLAB-RUN "));
    let Some(line) = line else {
        return Err(format!(
            "the notebook runner failed ({}): {}",
            out.status,
            project::last_lines(&format!("{stdout}\n{stderr}"), 15)
        ));
    };
    let info: Value = serde_json::from_str(line)
        .map_err(|e| format!("unexpected output from the notebook runner: {e}: {line}"))?;
    let executed_path = PathBuf::from(info["executed"].as_str().unwrap_or_default());
    let executed = read_notebook(&executed_path).map_err(|e| {
        format!(
            "the executed notebook {} is unreadable: {e}",
            executed_path.display()
        )
    })?;
    Ok(Run {
        executed,
        fatal: info["fatal"].as_str().map(str::to_owned),
        timed_out: info["timed_out"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_u64())
                    .map(|v| v as usize)
                    .collect()
            })
            .unwrap_or_default(),
        seconds: info["seconds"].as_f64().unwrap_or(0.0),
    })
}
