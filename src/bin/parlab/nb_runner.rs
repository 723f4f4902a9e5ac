//! The notebook runner (Python, nbclient) that `render`, `check` and setup's warm-up drive: shipped
//! inside this binary, written out where the project's Python runs it.

use std::path::PathBuf;

use crate::project;

/// The runner's source.
const RUNNER: &str = include_str!("nbrun.py");

/// Writes the notebook runner to target/ (where Python runs it from) and returns its path.
pub fn write_runner() -> Result<PathBuf, String> {
    let runner = project::root().join("target").join("parlab-nbrun.py");
    std::fs::create_dir_all(runner.parent().unwrap_or(project::root()))
        .and_then(|_| {
            let runner_text =
                RUNNER.replace("@PARLAB_VERDICT_MIME@", parlab::exercise::VERDICT_MIME);
            std::fs::write(&runner, runner_text)
        })
        .map_err(|e| {
            format!(
                "could not write the notebook runner to {}: {e}",
                runner.display()
            )
        })?;
    Ok(runner)
}
