//! `parlab check`: which exercises has a learner solved?
//!
//! Each learner's notebook runs headlessly in a fresh kernel with the shipped lesson's check cells
//! put back in place of the learner's (an edited check earns nothing), and each exercise gets a
//! verdict: DONE, PENDING (not solved yet) or ERROR (a compile error, a panic, a timeout).
//! Exercises are found by the `parlab` metadata of their cells (`{"exercise": NAME, "role":
//! "exercise" | "check"}`), never by position, so added, deleted and moved cells do no harm.

mod export;
mod kernel_dir;
mod lessons;
mod notebook;
mod report;
mod runner;
mod table;
mod verdict;

use std::path::{Path, PathBuf};

use crate::{nb_runner, project, setup};

use self::export::{gradebook_csv, json_lines};
use self::kernel_dir::KernelDir;
use self::lessons::{Lesson, identify, load_lessons, prepare};
use self::notebook::{cells, learner_notebooks, read_notebook};
use self::report::Report;
use self::runner::execute;
use self::table::{multi_table, single_table};
use self::verdict::judge;

/// Options of `parlab check`.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// Learners' notebooks, or folders of them (every .ipynb inside, subfolders included).
    #[arg(required = true, value_name = "NOTEBOOK|FOLDER")]
    paths: Vec<PathBuf>,
    /// Also write a gradebook: one row per notebook, one column per exercise.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Print one JSON object per exercise per notebook (one per line) instead of the table.
    #[arg(long)]
    json: bool,
    /// Seconds a cell may run before it is interrupted (its exercise is then an ERROR).
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    timeout: u64,
    /// The shipped lessons to check against.
    #[arg(long, value_name = "FOLDER", default_value = "notebooks")]
    lessons: PathBuf,
}

/// Checks every notebook; Ok(true) when every exercise of every notebook is solved.
pub fn run(args: CheckArgs) -> Result<bool, String> {
    if !project::venv_python().is_file() {
        return Err("Jupyter is not set up: run `cargo run --release -- setup` first".into());
    }
    if setup::evcxr_version().is_none() {
        return Err(
            "the evcxr kernel is not installed: run `cargo run --release -- setup` first".into(),
        );
    }
    let lessons = load_lessons(&args.lessons)?;
    let notebooks = learner_notebooks(&args.paths)?;
    let work = project::root()
        .join("target")
        .join("parlab-check")
        .join(format!("run-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let runner = nb_runner::write_runner()?;
    let kernel_dir = KernelDir::take()?;
    let mut reports = Vec::new();
    for (i, notebook) in notebooks.iter().enumerate() {
        let report = check_one(
            notebook,
            i,
            &lessons,
            &work,
            &runner,
            &kernel_dir,
            args.timeout,
        );
        reports.push(report?);
    }
    let _ = std::fs::remove_dir_all(&work);
    if let Some(csv) = &args.csv {
        std::fs::write(csv, gradebook_csv(&reports))
            .map_err(|e| format!("cannot write the gradebook {}: {e}", csv.display()))?;
        eprintln!("gradebook written to {}", csv.display());
    }
    if args.json {
        for line in json_lines(&reports) {
            println!("{line}");
        }
    } else if reports.len() == 1 && notebooks.len() == 1 && args.paths[0].is_file() {
        print!("{}", single_table(&reports[0]));
    } else {
        print!("{}", multi_table(&reports));
    }
    Ok(reports
        .iter()
        .all(|r| r.problem.is_none() && r.solved() == r.results.len()))
}

/// Checks one notebook: reads it, finds its lesson, runs it with the shipped checks, judges each
/// exercise.
fn check_one(
    notebook: &Path,
    index: usize,
    lessons: &[Lesson],
    work: &Path,
    runner: &Path,
    kernel_dir: &KernelDir,
    timeout: u64,
) -> Result<Report, String> {
    let nb = match read_notebook(notebook) {
        Ok(nb) => nb,
        Err(e) => {
            eprintln!("{}: cannot check: {e}", notebook.display());
            return Ok(Report::unchecked(notebook, e));
        }
    };
    let lesson = match identify(&nb, lessons) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{}: cannot check: {e}", notebook.display());
            return Ok(Report::unchecked(notebook, e));
        }
    };
    let (prepared, notes, flags) = prepare(&nb, lesson);
    let input = work.join(format!("{index:03}-{}.ipynb", lesson.name));
    std::fs::write(&input, prepared.to_string())
        .map_err(|e| format!("cannot write {}: {e}", input.display()))?;
    eprintln!(
        "{}: running it as lesson {} ({} exercises)...",
        notebook.display(),
        lesson.name,
        lesson.exercises.len()
    );
    let cwd = lesson
        .path
        .parent()
        .map(Path::to_owned)
        .unwrap_or_else(|| project::root().to_owned());
    let code_cells = cells(&prepared)
        .iter()
        .filter(|c| c["cell_type"] == "code")
        .count() as u64;
    let run = execute(
        runner,
        &input,
        &work.join("executed"),
        &lesson.kernel,
        &cwd,
        timeout,
        kernel_dir,
        code_cells,
    )?;
    eprintln!("{}: ran in {:.1} s", notebook.display(), run.seconds);
    let results = lesson
        .exercises
        .iter()
        .map(|ex| {
            let (changed, missing) = flags.get(&ex.name).copied().unwrap_or((false, false));
            judge(&run, &ex.name, changed, missing, timeout)
        })
        .collect();
    Ok(Report {
        notebook: notebook.to_owned(),
        lesson: Some(lesson.name.clone()),
        problem: None,
        notes,
        results,
        seconds: run.seconds,
    })
}
