//! `parlab doctor`: what is installed, what is missing, and the command that fixes it.

use std::process::Command;

use crate::project::{self, output};
use crate::{disk, evcxr_patch, kernel, setup, setup_python};

/// Prints one line per tool; fails when something the lessons need is missing.
pub fn run() -> Result<(), String> {
    let fix = "cargo run --release -- setup";
    let mut missing = 0;
    let mut line = |what: &str, found: Result<String, String>, how: &str| match found {
        Ok(v) => println!("  ok       {what:<28} {v}"),
        Err(e) => {
            missing += 1;
            println!("  MISSING  {what:<28} {e}\n           fix: {how}");
        }
    };
    println!("parlab doctor");
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("  info     {:<28} {cores}", "cores (available parallelism)");
    let (system, lessons) = lessons_here();
    println!(
        "  info     {:<28} {system}: {lessons}",
        "lessons on this platform"
    );
    line(
        "rustc",
        output(Command::new("rustc").arg("--version")),
        "install Rust with rustup",
    );
    line(
        "cargo",
        output(Command::new(project::cargo()).arg("--version")),
        "install Rust with rustup",
    );
    let rust_src = output(Command::new("rustup").args(["component", "list", "--installed"]))
        .and_then(|l| {
            if l.contains("rust-src") {
                Ok("installed".into())
            } else {
                Err("not installed".into())
            }
        });
    line("rust-src", rust_src, "rustup component add rust-src");
    let py = project::system_python().ok_or_else(|| "no python3 on PATH".to_owned());
    line(
        "python3",
        py.and_then(|p| output(Command::new(p).arg("--version"))),
        "install Python 3 with venv (apt-get install python3 python3-venv)",
    );
    let evcxr = match setup::evcxr_version() {
        Some(v) if v == evcxr_patch::VERSION => Ok(v),
        Some(v) => Err(format!(
            "{v} (the lessons are tested with {})",
            evcxr_patch::VERSION
        )),
        None => Err("not installed".into()),
    };
    line("evcxr_jupyter", evcxr, fix);
    let venv_py = project::venv_python();
    let jupyter = if venv_py.is_file() {
        output(Command::new(&venv_py).args(["-c", "import jupyterlab, nbclient; print('JupyterLab', jupyterlab.__version__, '/ nbclient', nbclient.__version__)"]))
    } else {
        Err(format!(
            "no virtual environment at {}",
            project::venv().display()
        ))
    };
    line("Jupyter (.venv)", jupyter, fix);
    python_side(&mut line);
    let kernel = if venv_py.is_file() {
        output(Command::new(project::venv().join("bin/jupyter")).args(["kernelspec", "list"]))
            .and_then(|l| {
                l.lines()
                    .find(|l| l.trim_start().starts_with("rust "))
                    .map(|l| l.trim().to_owned())
                    .ok_or("not registered".into())
            })
    } else {
        Err("needs Jupyter first".into())
    };
    line("`rust` kernel", kernel, fix);
    let parlab_kernel = if venv_py.is_file() {
        kernel::check_spec().and_then(|found| found.ok_or("not registered".into()))
    } else {
        Err("needs Jupyter first".into())
    };
    line("`parlab` kernel (the lessons')", parlab_kernel, fix);
    let worker = project::root().join("target/release/parlab-worker");
    line(
        "worker binary",
        if worker.is_file() {
            Ok(worker.display().to_string())
        } else {
            Err("not built".into())
        },
        fix,
    );
    let mpi = parlab::mpi::Mpi::find().map(|m| {
        format!(
            "{}: {}, launcher {}, program {}",
            m.implementation,
            m.version,
            m.launcher.display(),
            m.program.display()
        )
    });
    line("MPI (lesson 05)", mpi.map_err(|e| e.to_string()), fix);
    slots();
    cluster();
    // Only the browser test needs these: reported, but not counted as missing.
    let chromium = setup::chromium()
        .ok_or("not installed")
        .and_then(|p| output(Command::new(p).arg("--version")).map_err(|_| "does not run"));
    let playwright = output(Command::new(&venv_py).args([
        "-c",
        "import importlib.metadata as m; print('Playwright', m.version('playwright'))",
    ]));
    for (what, found) in [
        ("chromium (browser test)", chromium.map_err(str::to_owned)),
        ("playwright (browser test)", playwright),
    ] {
        match found {
            Ok(v) => println!("  ok       {what:<28} {v}"),
            Err(_) => println!(
                "  optional {what:<28} not installed; only the browser test needs it\n           fix: {fix} (as root)"
            ),
        }
    }
    if missing == 0 {
        println!(
            "Everything the lessons need is in place: `cargo run --release -- lab` opens them."
        );
        Ok(())
    } else {
        Err(format!("{missing} thing(s) missing: `{fix}` installs them"))
    }
}

/// The lessons' live Python side: the interpreter, numpy, numba, the Rust extension, and a
/// free-threaded CPython if there is one. A missing numba is reported, not counted as missing.
fn python_side(line: &mut impl FnMut(&str, Result<String, String>, &str)) {
    let fix = "cargo run --release -- setup";
    let python = parlab::python::Python::find();
    line(
        "Python for the lessons",
        python
            .as_ref()
            .map(|p| p.to_string())
            .map_err(|e| e.to_string()),
        fix,
    );
    if python.is_err() {
        return;
    }
    let (numpy, numba) = setup_python::numeric_versions().unwrap_or((None, None));
    line(
        "numpy (.venv)",
        numpy.ok_or_else(|| "not installed".to_owned()),
        fix,
    );
    match numba {
        Some(v) => println!("  ok       {:<28} {v}", "numba (.venv)"),
        None => println!(
            "  optional {:<28} not installed: lesson 01 leaves out its numba series\n           fix: \
             {fix}, or `.venv/bin/python -m pip install numba` (where it has a wheel)",
            "numba (.venv)"
        ),
    }
    line(
        "parlab_py (Rust in Python)",
        setup_python::extension_version().ok_or_else(|| "not built".to_owned()),
        fix,
    );
    match parlab::python::Python::free_threaded() {
        Some(p) => println!("  info     {:<28} {p}", "free-threaded CPython"),
        None => println!(
            "  info     {:<28} none found (python3.13t/3.14t on PATH or in pyenv): lesson 01 \
             explains what it would change",
            "free-threaded CPython"
        ),
    }
}

/// This system's name and which lessons run on it: all of them on Linux (WSL included) and macOS;
/// on Windows 00-02, with 03-04 (processes, pools) in WSL.
fn lessons_here() -> (String, &'static str) {
    let all = "all lessons, 00-04 (threads, locks, processes, pools)";
    if cfg!(target_os = "linux") {
        let wsl = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .is_ok_and(|r| r.to_ascii_lowercase().contains("microsoft"));
        let name = if wsl { "Linux (WSL)" } else { "Linux" };
        (name.to_owned(), all)
    } else if cfg!(target_os = "macos") {
        (
            "macOS".to_owned(),
            "all lessons, 00-04 (fork's check of the parent's other threads says \"unknown\": macOS does not list them)",
        )
    } else if cfg!(unix) {
        (
            std::env::consts::OS.to_owned(),
            "00-04 should run (a Unix the lessons are not tested on)",
        )
    } else {
        (
            std::env::consts::OS.to_owned(),
            "00-02 (threads, locks, timing, charts, the thread pool); 03-04 need Unix: run them in WSL",
        )
    }
}

/// Lists the parlab kernel's build slots and evcxr's compile cache, with their disk use.
fn slots() {
    let found = kernel::slots();
    let total: u64 = found.iter().map(|s| s.bytes).sum();
    println!(
        "  info     {:<28} {} of {} in {}, {} (`parlab clean` removes them)",
        "kernel build slots",
        found.len(),
        kernel::MAX_SLOTS,
        kernel::slots_dir().display(),
        disk::human_bytes(total)
    );
    for slot in &found {
        let when = slot
            .last_used
            .and_then(|t| t.elapsed().ok())
            .map_or(String::new(), |ago| {
                format!(", last leased {} ago", ago_text(ago))
            });
        let memory = slot.resident.map_or(String::new(), |rss| {
            format!(", its kernel holds {} resident", disk::human_bytes(rss))
        });
        println!(
            "           {:<8} {:>9}  {}{memory}{when}",
            slot.name,
            disk::human_bytes(slot.bytes),
            slot.state
        );
    }
    if let Some(cache) = kernel::evcxr_cache_dir() {
        println!(
            "  info     {:<28} {} in {} (limit {} MiB)",
            "evcxr compile cache",
            disk::human_bytes(disk::disk_use(&cache)),
            cache.display(),
            kernel::CACHE_MIB
        );
    }
}

fn ago_text(ago: std::time::Duration) -> String {
    let s = ago.as_secs();
    match s {
        0..120 => format!("{s} s"),
        120..7200 => format!("{} min", s / 60),
        7200..172800 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86400),
    }
}

/// Whether Slurm answers (`sinfo`) and whether two hosts can be built: lesson 05's cluster parts,
/// reported but not counted as missing (the lessons run without them).
fn cluster() {
    let fix = "as root, `cargo run --release -- setup --cluster` installs a one-node Slurm, then `cargo run --release -- slurm start`";
    match parlab::slurm::Slurm::find() {
        Err(e) => println!(
            "  optional {:<28} {}\n           fix: {fix}",
            "Slurm (lesson 05)",
            e.to_string().lines().next().unwrap_or_default()
        ),
        Ok(slurm) => match slurm.status(std::time::Duration::from_secs(8)) {
            Ok(status) => println!("  ok       {:<28} reachable: {status}", "Slurm (lesson 05)"),
            Err(e) => println!(
                "  optional {:<28} installed, not reachable: {}",
                "Slurm (lesson 05)",
                e.to_string().replace("\n  fix:", "\n           fix:")
            ),
        },
    }
    let missing = crate::two_hosts::missing();
    if missing.is_empty() {
        println!(
            "  ok       {:<28} can be built (`cargo run --release -- two-hosts`)",
            "two hosts (lesson 05)"
        );
    } else {
        println!(
            "  optional {:<28} cannot be built here: {}",
            "two hosts (lesson 05)",
            missing.join("; ")
        );
    }
}
