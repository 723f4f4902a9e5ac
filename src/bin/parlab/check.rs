//! `parlab check`: which exercises has a learner solved?
//!
//! Each learner's notebook runs headlessly in a fresh kernel with the shipped lesson's check cells
//! put back in place of the learner's (an edited check earns nothing), and each exercise gets a
//! verdict: DONE, PENDING (not solved yet) or ERROR (a compile error, a panic, a timeout).
//! Exercises are found by the `parlab` metadata of their cells (`{"exercise": NAME, "role":
//! "exercise" | "check"}`), never by position, so added, deleted and moved cells do no harm.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use parlab::exercise::{Outcome, Verdict};
use serde_json::{Value, json};

use crate::{project, render, setup};

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

/// The verdict on one exercise.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Status {
    Done,
    Pending,
    Error,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Done => "DONE",
            Status::Pending => "PENDING",
            Status::Error => "ERROR",
        }
    }
}

/// One exercise of a shipped lesson: its name and the check cell as shipped.
struct Exercise {
    name: String,
    check_cell: Value,
}

/// A shipped lesson: `notebooks/01-threads.ipynb` is lesson `01-threads`.
struct Lesson {
    name: String,
    path: PathBuf,
    kernel: String,
    exercises: Vec<Exercise>,
}

/// What `parlab check` found for one exercise of one notebook.
struct ExerciseResult {
    exercise: String,
    status: Status,
    message: String,
    check_changed: bool,
    exercise_missing: bool,
}

/// What `parlab check` found for one learner's notebook.
struct Report {
    notebook: PathBuf,
    lesson: Option<String>,
    /// Why the notebook could not be checked at all (damaged, not a lesson).
    problem: Option<String>,
    notes: Vec<String>,
    results: Vec<ExerciseResult>,
    seconds: f64,
}

impl Report {
    fn unchecked(notebook: &Path, problem: String) -> Self {
        Report {
            notebook: notebook.to_owned(),
            lesson: None,
            problem: Some(problem),
            notes: Vec::new(),
            results: Vec::new(),
            seconds: 0.0,
        }
    }

    fn solved(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.status == Status::Done)
            .count()
    }
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
    let runner = render::write_runner()?;
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

/// The shipped lessons in `dir`: every .ipynb with its exercises, in the order of their checks.
fn load_lessons(dir: &Path) -> Result<Vec<Lesson>, String> {
    let dir = if dir.is_absolute() || dir.exists() {
        dir.to_owned()
    } else {
        project::root().join(dir)
    };
    let entries = std::fs::read_dir(&dir).map_err(|e| {
        format!(
            "cannot read the shipped lessons in {}: {e} (--lessons names the folder)",
            dir.display()
        )
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ipynb"))
        .collect();
    paths.sort();
    let mut lessons = Vec::new();
    for path in paths {
        let nb = read_notebook(&path)
            .map_err(|e| format!("the shipped lesson {} is damaged: {e}", path.display()))?;
        let mut exercises: Vec<Exercise> = Vec::new();
        for cell in cells(&nb) {
            if let Some((name, "check")) = parlab_id(cell) {
                exercises.push(Exercise {
                    name: name.to_owned(),
                    check_cell: cell.clone(),
                });
            }
        }
        lessons.push(Lesson {
            name: stem(&path),
            kernel: nb["metadata"]["kernelspec"]["name"]
                .as_str()
                .unwrap_or("rust")
                .to_owned(),
            path,
            exercises,
        });
    }
    if lessons.iter().all(|l| l.exercises.is_empty()) {
        return Err(format!(
            "no lesson in {} has an exercise (cells with `parlab` exercise metadata)",
            dir.display()
        ));
    }
    Ok(lessons)
}

/// The notebooks named on the command line, folders expanded (sorted, checkpoints skipped).
fn learner_notebooks(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), String> {
        let entries =
            std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            if p.is_dir() {
                if p.file_name().is_none_or(|n| n != ".ipynb_checkpoints") {
                    walk(&p, found)?;
                }
            } else if p.extension().is_some_and(|x| x == "ipynb") {
                found.push(p);
            }
        }
        Ok(())
    }
    let mut found = Vec::new();
    for p in paths {
        if p.is_dir() {
            let before = found.len();
            walk(p, &mut found)?;
            if found.len() == before {
                return Err(format!("no .ipynb notebooks in {}", p.display()));
            }
        } else if p.exists() {
            found.push(p.clone());
        } else {
            return Err(format!("no notebook or folder at {}", p.display()));
        }
    }
    Ok(found)
}

/// Reads and parses a notebook; the error says what is wrong with the file.
fn read_notebook(path: &Path) -> Result<Value, String> {
    let mut text = String::new();
    File::open(path)
        .and_then(|mut f| f.read_to_string(&mut text))
        .map_err(|e| format!("cannot read it: {e}"))?;
    if text.trim().is_empty() {
        return Err("the file is empty".into());
    }
    let nb: Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "damaged: not valid JSON (line {}, column {}: {e})",
            e.line(),
            e.column()
        )
    })?;
    if !nb["cells"].is_array() {
        return Err("not a Jupyter notebook: it has no list of cells".into());
    }
    if nb["nbformat"].as_u64() != Some(4) {
        return Err(format!(
            "notebook format {} is not 4: open and save it in JupyterLab first",
            nb["nbformat"]
        ));
    }
    Ok(nb)
}

fn cells(nb: &Value) -> &[Value] {
    nb["cells"].as_array().map_or(&[], Vec::as_slice)
}

/// The `(exercise, role)` a code cell carries in its `parlab` metadata.
fn parlab_id(cell: &Value) -> Option<(&str, &str)> {
    if cell["cell_type"] != "code" {
        return None;
    }
    let meta = &cell["metadata"]["parlab"];
    Some((meta["exercise"].as_str()?, meta["role"].as_str()?))
}

/// A cell's source as one string (nbformat allows a string or a list of lines).
fn source(cell: &Value) -> String {
    match &cell["source"] {
        Value::String(s) => s.clone(),
        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Which shipped lesson a learner's notebook is, from the exercises its cells name.
fn identify<'a>(nb: &Value, lessons: &'a [Lesson]) -> Result<&'a Lesson, String> {
    let named: Vec<&str> = cells(nb)
        .iter()
        .filter_map(|c| parlab_id(c).map(|(name, _)| name))
        .collect();
    if named.is_empty() {
        return Err(
            "not a parlab lesson: no cell carries parlab exercise metadata \
             (is it a notebook from notebooks/, or one saved by a tool that drops cell metadata?)"
                .into(),
        );
    }
    let best = lessons
        .iter()
        .map(|l| {
            let hits = named
                .iter()
                .filter(|n| l.exercises.iter().any(|e| e.name == **n))
                .count();
            (hits, l)
        })
        .max_by_key(|(hits, _)| *hits);
    match best {
        Some((hits, lesson)) if hits > 0 => Ok(lesson),
        _ => {
            let mut names = named.clone();
            names.dedup();
            Err(format!(
                "not a parlab lesson: its exercises ({}) are in none of the shipped lessons",
                names.join(", ")
            ))
        }
    }
}

/// The learner's notebook made ready to run: outputs cleared, the shipped checks put back.
fn prepare(nb: &Value, lesson: &Lesson) -> (Value, Vec<String>, BTreeMap<String, (bool, bool)>) {
    let mut nb = nb.clone();
    let with_ids = cells(&nb).iter().any(|c| c.get("id").is_some());
    let cells = nb["cells"]
        .as_array_mut()
        .expect("checked by read_notebook");
    for cell in cells.iter_mut() {
        if cell["cell_type"] == "code" {
            cell["outputs"] = json!([]);
            cell["execution_count"] = Value::Null;
        }
    }
    let shown = lesson.path.display();
    let mut notes = Vec::new();
    let mut flags = BTreeMap::new();
    for ex in &lesson.exercises {
        let name = ex.name.as_str();
        let shipped = source(&ex.check_cell);
        let exercise_cells: Vec<usize> = (0..cells.len())
            .filter(|&i| parlab_id(&cells[i]) == Some((name, "exercise")))
            .collect();
        let missing = exercise_cells.is_empty();
        if missing {
            notes.push(format!(
                "the exercise cell of `{name}` is missing (deleted?): copy it back from {shown}"
            ));
        }
        let mut changed = false;
        let mut found_check = false;
        for cell in cells.iter_mut() {
            if parlab_id(cell) == Some((name, "check")) {
                found_check = true;
                if source(cell).trim_end() != shipped.trim_end() {
                    changed = true;
                    cell["source"] = json!(shipped);
                }
            }
        }
        if changed {
            notes.push(format!(
                "check cell changed for `{name}`: the shipped check ran instead"
            ));
        }
        if !found_check {
            let mut cell = ex.check_cell.clone();
            cell["outputs"] = json!([]);
            cell["execution_count"] = Value::Null;
            if with_ids {
                cell["id"] = json!(format!("parlab-check-{name}"));
            } else if let Some(obj) = cell.as_object_mut() {
                obj.remove("id");
            }
            let at = exercise_cells.last().map_or(cells.len(), |i| i + 1);
            cells.insert(at, cell);
            notes.push(format!(
                "the check cell of `{name}` is missing: the shipped check was put back"
            ));
        }
        flags.insert(name.to_owned(), (changed, missing));
    }
    (nb, notes, flags)
}

/// The output of the Python runner for one notebook.
struct Run {
    executed: Value,
    fatal: Option<String>,
    timed_out: Vec<usize>,
    seconds: f64,
}

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

/// Runs the prepared notebook through the Python runner, under an overall time limit.
#[allow(clippy::too_many_arguments)]
fn execute(
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

/// The verdict on one exercise, from the outputs of its exercise and check cells.
fn judge(run: &Run, name: &str, changed: bool, missing: bool, timeout: u64) -> ExerciseResult {
    let cells = cells(&run.executed);
    let find = |role: &str| -> Vec<usize> {
        (0..cells.len())
            .filter(|&i| parlab_id(&cells[i]) == Some((name, role)))
            .collect()
    };
    let exercise_cells = find("exercise");
    let check_cells = find("check");
    let (status, message) = verdict(run, &exercise_cells, &check_cells, missing, timeout);
    ExerciseResult {
        exercise: name.to_owned(),
        status,
        message,
        check_changed: changed,
        exercise_missing: missing,
    }
}

fn verdict(
    run: &Run,
    exercise_cells: &[usize],
    check_cells: &[usize],
    missing: bool,
    timeout: u64,
) -> (Status, String) {
    let cells = cells(&run.executed);
    let timed_out = |i: &usize| run.timed_out.contains(i);
    if exercise_cells.iter().any(timed_out) {
        return (
            Status::Error,
            format!("timeout: your exercise cell ran longer than {timeout} s and was interrupted"),
        );
    }
    let Some(&check) = check_cells.first() else {
        return (Status::Error, "the check cell was not run".into());
    };
    if check_cells.iter().any(timed_out) {
        return (
            Status::Error,
            format!(
                "timeout: the check ran longer than {timeout} s and was interrupted \
                 (is your code waiting forever, or far too slow?)"
            ),
        );
    }
    let check = &cells[check];
    if let Some(shown) = outputs(check)
        .iter()
        .find_map(|o| Verdict::from_output_data(&o["data"]))
    {
        let text = shown.message().to_owned();
        return match shown.outcome() {
            _ if shown.is_solved() => (Status::Done, text),
            Outcome::Panicked => (Status::Error, text),
            Outcome::TimedOut => (Status::Error, format!("timeout: {text}")),
            Outcome::NotRun => match exercise_cells.iter().find_map(|&i| error_text(&cells[i])) {
                Some(e) => (
                    Status::Error,
                    format!("your exercise cell does not compile: {e}"),
                ),
                None if missing => (
                    Status::Error,
                    "the exercise cell is missing, and the check needs it".into(),
                ),
                None => (Status::Error, format!("not run: {text}")),
            },
            Outcome::Solved | Outcome::Wrong | Outcome::Todo => (Status::Pending, text),
        };
    }
    if let Some(err) = error_text(check) {
        let own = exercise_cells
            .iter()
            .find_map(|&i| error_text(&cells[i]))
            .map(|e| format!("your exercise cell does not compile: {e}"));
        let message = match (own, missing) {
            (Some(own), _) => own,
            (None, true) => {
                format!(
                    "compile error: the exercise cell is missing, and the check needs it: {err}"
                )
            }
            (None, false) => format!("compile error in the check with your code: {err}"),
        };
        return (Status::Error, message);
    }
    let stderr = stream(check, "stderr");
    if stderr.contains("panicked at") {
        return (Status::Error, format!("panic: {}", first_lines(&stderr, 3)));
    }
    match &run.fatal {
        Some(fatal)
            if check
                .get("outputs")
                .is_none_or(|o| o.as_array().is_none_or(Vec::is_empty)) =>
        {
            (Status::Error, format!("not run: {fatal}"))
        }
        _ => (
            Status::Error,
            "the check showed no verdict (did the cell before it stop the kernel?)".into(),
        ),
    }
}

fn outputs(cell: &Value) -> &[Value] {
    cell["outputs"].as_array().map_or(&[], Vec::as_slice)
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

fn stream(cell: &Value, name: &str) -> String {
    outputs(cell)
        .iter()
        .filter(|o| o["output_type"] == "stream" && o["name"] == name)
        .map(|o| text_of(&o["text"]))
        .collect()
}

/// The first lines of a cell's error output, ANSI colours removed; None without one.
fn error_text(cell: &Value) -> Option<String> {
    let err = outputs(cell).iter().find(|o| o["output_type"] == "error")?;
    let mut text = err["evalue"].as_str().unwrap_or_default().to_owned();
    let detail: Vec<String> = err["traceback"]
        .as_array()
        .map(|t| t.iter().filter_map(Value::as_str).map(strip_ansi).collect())
        .unwrap_or_default();
    let detail = detail.join("\n");
    if text.trim().is_empty() {
        text = detail.clone();
    }
    let text = strip_ansi(&text);
    Some(first_lines(&text, 2))
}

fn first_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(n)
        .collect();
    let joined = lines.join(" | ");
    if joined.chars().count() > 300 {
        format!("{}...", joined.chars().take(300).collect::<String>())
    } else {
        joined
    }
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A folder of evcxr build products shared by the kernels of one `parlab check` at a time, so
/// that the lesson's `:dep`s are built once, not once per notebook (30 s each on 2 cores).
struct KernelDir {
    path: PathBuf,
    /// Held for the lifetime of the run: only one kernel may use the folder at once.
    _lock: Option<nix::fcntl::Flock<File>>,
    temporary: bool,
}

impl KernelDir {
    fn take() -> Result<Self, String> {
        let base = project::root().join("target").join("parlab-check");
        let shared = base.join("evcxr");
        std::fs::create_dir_all(&shared)
            .map_err(|e| format!("cannot create {}: {e}", shared.display()))?;
        let lock_path = base.join("evcxr.lock");
        let file = File::create(&lock_path)
            .map_err(|e| format!("cannot create {}: {e}", lock_path.display()))?;
        match nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock) {
            Ok(lock) => Ok(KernelDir {
                path: shared,
                _lock: Some(lock),
                temporary: false,
            }),
            Err(_) => {
                // Another `parlab check` is running: build in a folder of our own.
                let own = base.join(format!("evcxr-{}", std::process::id()));
                std::fs::create_dir_all(&own)
                    .map_err(|e| format!("cannot create {}: {e}", own.display()))?;
                Ok(KernelDir {
                    path: own,
                    _lock: None,
                    temporary: true,
                })
            }
        }
    }
}

impl Drop for KernelDir {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Every exercise name of the checked notebooks, in lesson order (the table's columns).
fn columns(reports: &[Report]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for r in reports {
        for e in &r.results {
            if !names.contains(&e.exercise) {
                names.push(e.exercise.clone());
            }
        }
    }
    names
}

fn totals(reports: &[Report]) -> String {
    let solved: usize = reports.iter().map(Report::solved).sum();
    let all: usize = reports.iter().map(|r| r.results.len()).sum();
    let unchecked = reports.iter().filter(|r| r.problem.is_some()).count();
    let mut line = format!("{solved}/{all} exercises solved");
    if reports.len() > 1 {
        line.push_str(&format!(" in {} notebooks", reports.len()));
    }
    if unchecked > 0 {
        line.push_str(&format!(
            " ({unchecked} notebook{} could not be checked)",
            if unchecked == 1 { "" } else { "s" }
        ));
    }
    line
}

fn pad(text: &str, width: usize) -> String {
    format!("{text:<width$}")
}

/// The report on one notebook: a row per exercise with its message.
fn single_table(r: &Report) -> String {
    let mut out = String::new();
    let name = r.notebook.display();
    match (&r.problem, &r.lesson) {
        (Some(problem), _) => out.push_str(&format!("{name}: cannot check: {problem}\n")),
        (None, lesson) => {
            out.push_str(&format!(
                "{name}: lesson {}, run in {:.1} s\n",
                lesson.as_deref().unwrap_or("?"),
                r.seconds
            ));
            let width = r
                .results
                .iter()
                .map(|e| e.exercise.len())
                .max()
                .unwrap_or(8)
                .max(8);
            out.push_str(&format!(
                "  {}  {:<7}  message\n",
                pad("exercise", width),
                "result"
            ));
            for e in &r.results {
                out.push_str(&format!(
                    "  {}  {:<7}  {}\n",
                    pad(&e.exercise, width),
                    e.status.as_str(),
                    e.message
                ));
            }
            for note in &r.notes {
                out.push_str(&format!("  note: {note}\n"));
            }
        }
    }
    out.push_str(&totals(std::slice::from_ref(r)));
    out.push('\n');
    out
}

/// The report on several notebooks: a row per notebook, a column per exercise, then the notes.
fn multi_table(reports: &[Report]) -> String {
    let cols = columns(reports);
    let names: Vec<String> = reports
        .iter()
        .map(|r| r.notebook.display().to_string())
        .collect();
    let name_w = names.iter().map(String::len).max().unwrap_or(8).max(8);
    let lesson_w = reports
        .iter()
        .filter_map(|r| r.lesson.as_ref().map(String::len))
        .max()
        .unwrap_or(6)
        .max(6);
    let widths: Vec<usize> = cols.iter().map(|c| c.len().max(7)).collect();
    let mut out = format!("{}  {}", pad("notebook", name_w), pad("lesson", lesson_w));
    for (c, w) in cols.iter().zip(&widths) {
        out.push_str(&format!("  {}", pad(c, *w)));
    }
    out.push_str("  solved\n");
    let mut details = Vec::new();
    for (r, name) in reports.iter().zip(&names) {
        out.push_str(&format!(
            "{}  {}",
            pad(name, name_w),
            pad(r.lesson.as_deref().unwrap_or("-"), lesson_w)
        ));
        if let Some(problem) = &r.problem {
            out.push_str(&format!("  cannot check: {problem}\n"));
            continue;
        }
        for (c, w) in cols.iter().zip(&widths) {
            let cell = r
                .results
                .iter()
                .find(|e| &e.exercise == c)
                .map_or("-", |e| e.status.as_str());
            out.push_str(&format!("  {}", pad(cell, *w)));
        }
        out.push_str(&format!("  {}/{}\n", r.solved(), r.results.len()));
        for note in &r.notes {
            details.push(format!("  {name}: {note}"));
        }
        for e in r.results.iter().filter(|e| e.status == Status::Error) {
            details.push(format!("  {name}: `{}` ERROR: {}", e.exercise, e.message));
        }
    }
    if !details.is_empty() {
        out.push_str("notes:\n");
        for d in details {
            out.push_str(&d);
            out.push('\n');
        }
    }
    out.push_str(&totals(reports));
    out.push('\n');
    out
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The gradebook: notebook, lesson, one column per exercise (DONE / PENDING / ERROR, empty where
/// the notebook's lesson has no such exercise), solved, exercises, problem, notes.
fn gradebook_csv(reports: &[Report]) -> String {
    let cols = columns(reports);
    let mut header = vec!["notebook".to_owned(), "lesson".to_owned()];
    header.extend(cols.iter().cloned());
    header.extend(["solved", "exercises", "problem", "notes"].map(String::from));
    let mut out = header
        .iter()
        .map(|h| csv_field(h))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for r in reports {
        let mut row = vec![
            r.notebook.display().to_string(),
            r.lesson.clone().unwrap_or_default(),
        ];
        for c in &cols {
            row.push(
                r.results
                    .iter()
                    .find(|e| &e.exercise == c)
                    .map_or(String::new(), |e| e.status.as_str().to_owned()),
            );
        }
        row.push(r.solved().to_string());
        row.push(r.results.len().to_string());
        row.push(r.problem.clone().unwrap_or_default());
        row.push(r.notes.join("; "));
        out.push_str(
            &row.iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}

/// One JSON object per exercise per notebook; a notebook that could not be checked gets one
/// object with `exercise: null` and its problem as the message.
fn json_lines(reports: &[Report]) -> Vec<String> {
    let mut lines = Vec::new();
    for r in reports {
        let notebook = r.notebook.display().to_string();
        if let Some(problem) = &r.problem {
            lines.push(
                json!({"notebook": notebook, "lesson": null, "exercise": null,
                       "status": "ERROR", "message": problem,
                       "check_changed": false, "exercise_missing": false})
                .to_string(),
            );
            continue;
        }
        for e in &r.results {
            lines.push(
                json!({"notebook": notebook, "lesson": r.lesson, "exercise": e.exercise,
                       "status": e.status.as_str(), "message": e.message,
                       "check_changed": e.check_changed, "exercise_missing": e.exercise_missing})
                .to_string(),
            );
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_is_read_from_its_json_not_its_html() {
        let v = Verdict::not_yet("f", "a < b & c");
        let data = json!({"text/html": v.to_html(), parlab::exercise::VERDICT_MIME: serde_json::from_str::<Value>(&v.to_json()).unwrap()});
        let shown = Verdict::from_output_data(&data).unwrap();
        assert_eq!(shown.message(), "a < b & c");
        assert_eq!(shown.outcome(), Outcome::Wrong);
        // HTML that only looks like a verdict (printed by hand) is not one.
        assert!(Verdict::from_output_data(&json!({"text/html": v.to_html()})).is_none());
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn ansi_colours_are_removed() {
        assert_eq!(strip_ansi("\u{1b}[31merror\u{1b}[0m: x"), "error: x");
    }

    fn result(exercise: &str, status: Status, message: &str) -> ExerciseResult {
        ExerciseResult {
            exercise: exercise.into(),
            status,
            message: message.into(),
            check_changed: false,
            exercise_missing: false,
        }
    }

    fn sample() -> Vec<Report> {
        vec![
            Report {
                notebook: "alice.ipynb".into(),
                lesson: Some("01-threads".into()),
                problem: None,
                notes: vec![
                    "check cell changed for `calc_pi_k`: the shipped check ran instead".into(),
                ],
                results: vec![
                    result(
                        "sort_in_two_threads",
                        Status::Done,
                        "sorted, on two threads",
                    ),
                    result("calc_pi_k", Status::Error, "your code panicked: boom"),
                ],
                seconds: 12.5,
            },
            Report::unchecked(Path::new("bob.ipynb"), "damaged: not valid JSON".into()),
        ]
    }

    #[test]
    fn one_notebook_gets_a_row_per_exercise_with_its_message() {
        let table = single_table(&sample()[0]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0], "alice.ipynb: lesson 01-threads, run in 12.5 s");
        assert!(
            lines[2].contains("sort_in_two_threads  DONE     sorted, on two threads"),
            "{table}"
        );
        assert!(
            lines[3].contains("calc_pi_k            ERROR    your code panicked: boom"),
            "{table}"
        );
        assert!(
            lines[4].starts_with("  note: check cell changed for `calc_pi_k`"),
            "{table}"
        );
        assert_eq!(lines[5], "1/2 exercises solved");
    }

    #[test]
    fn several_notebooks_get_a_row_each_and_a_column_per_exercise() {
        let table = multi_table(&sample());
        let lines: Vec<&str> = table.lines().collect();
        assert!(
            lines[0].starts_with("notebook     lesson      sort_in_two_threads  calc_pi_k  solved"),
            "{table}"
        );
        assert!(
            lines[1].starts_with("alice.ipynb  01-threads  DONE                 ERROR      1/2"),
            "{table}"
        );
        assert!(
            lines[2].starts_with("bob.ipynb    -           cannot check: damaged: not valid JSON"),
            "{table}"
        );
        assert!(
            table.contains("  alice.ipynb: `calc_pi_k` ERROR: your code panicked: boom"),
            "{table}"
        );
        assert_eq!(
            lines.last().unwrap(),
            &"1/2 exercises solved in 2 notebooks (1 notebook could not be checked)"
        );
        let csv = gradebook_csv(&sample());
        assert!(
            csv.starts_with(
                "notebook,lesson,sort_in_two_threads,calc_pi_k,solved,exercises,problem,notes\n"
            ),
            "{csv}"
        );
        assert!(
            csv.contains("\nbob.ipynb,,,,0,0,damaged: not valid JSON,\n"),
            "{csv}"
        );
        let json = json_lines(&sample());
        assert_eq!(json.len(), 3);
        assert!(json[2].contains("\"exercise\":null"), "{}", json[2]);
    }

    #[test]
    fn damaged_json_names_line_and_column() {
        let dir = std::env::temp_dir().join(format!("parlab-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.ipynb");
        std::fs::write(&path, "{\n \"cells\": [\n  {,\n").unwrap();
        let e = read_notebook(&path).unwrap_err();
        assert!(e.contains("not valid JSON (line 3"), "{e}");
        std::fs::write(&path, "{\"cells\": 3}").unwrap();
        assert!(
            read_notebook(&path)
                .unwrap_err()
                .contains("no list of cells")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
