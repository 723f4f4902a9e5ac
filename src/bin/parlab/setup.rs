//! `parlab setup`: install what the lessons need, where it is missing. Safe to run again.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use crate::project::{self, apt, is_root, output, run_inherit, system_python, venv_pip_install};
use crate::{setup_mpi, setup_python};

/// The Playwright release the browser test drives Chromium with (built for Chromium 156).
pub const PLAYWRIGHT_REQUIREMENT: &str = "playwright==1.64.1";

/// The Debian packages of the browser test: the browser, and a font for the charts' text.
const CHROMIUM_PACKAGES: [&str; 2] = ["chromium", "fonts-dejavu-core"];

/// What a finished setup hands to the commands that use it.
pub struct Ready {
    venv_bin: PathBuf,
}

impl Ready {
    /// The `jupyter` command of the project's virtual environment.
    pub fn jupyter(&self) -> PathBuf {
        self.venv_bin.join("jupyter")
    }
}

struct Step {
    name: &'static str,
    /// Ok(Some(detail)) when already done, Ok(None) when it needs doing, Err when it cannot be checked.
    check: fn() -> Result<Option<String>, String>,
    install: fn() -> Result<(), String>,
    /// Said before installing: how long it takes.
    note: &'static str,
    /// How to fix it by hand if installing fails.
    fix: &'static str,
    /// Setup goes on when it fails: it saves time later, and nothing needs it.
    optional: bool,
}

fn steps() -> Vec<Step> {
    vec![
        Step {
            name: "Python 3 with venv",
            check: check_python,
            install: || Err("parlab cannot install Python itself".into()),
            note: "",
            fix: "install Python 3 with its venv module (Debian/Ubuntu: `apt-get install python3 python3-venv`), then run setup again",
            optional: false,
        },
        Step {
            name: "rust-src component",
            check: check_rust_src,
            install: || {
                run_inherit(
                    Command::new("rustup").args(["component", "add", "rust-src"]),
                    "rustup component add rust-src",
                )
            },
            note: "",
            fix: "run `rustup component add rust-src` (evcxr needs it to infer the types of variables)",
            optional: false,
        },
        Step {
            name: "evcxr_jupyter (the Rust kernel, with parlab's fixes for kernels that die or hang at start, for rust-analyzer's wait after `:dep`, and for cells that compile every variable)",
            check: crate::evcxr_patch::check,
            install: crate::evcxr_patch::install,
            note: "builds evcxr from source with cargo: about 15 minutes on 2 cores, once",
            fix: "read cargo's error above (a C compiler is needed); `cargo install --locked evcxr_jupyter --version 0.22.0` gives the lessons an unpatched kernel that now and then dies as it starts",
            optional: false,
        },
        Step {
            name: "Jupyter in .venv (JupyterLab, nbclient, nbconvert)",
            check: setup_python::check_venv,
            install: setup_python::install_venv,
            note: "pip install into the project's .venv: a minute or two",
            fix: "remove .venv (`rm -rf .venv`), check that `python3 -m venv` and pip can reach PyPI, then run setup again",
            optional: false,
        },
        Step {
            name: "readable compile errors in JupyterLab (the .venv's custom.css)",
            check: crate::lab_css::check,
            install: crate::lab_css::install,
            note: "",
            fix: "check that .venv can be written (or remove .venv), then run setup again",
            optional: true,
        },
        Step {
            name: "Chromium, for the browser test",
            check: check_chromium,
            install: install_chromium,
            note: "apt-get install chromium: a minute or two",
            fix: "as root: `apt-get update && apt-get install -y --no-install-recommends chromium fonts-dejavu-core`",
            optional: false,
        },
        Step {
            name: "Playwright in .venv, for the browser test",
            check: check_playwright,
            install: install_playwright,
            note: "pip install playwright (it drives the system Chromium: no browser download)",
            fix: "run `.venv/bin/python -m pip install playwright==1.64.1` and read pip's error",
            optional: false,
        },
        Step {
            name: "`rust` Jupyter kernel registered",
            check: check_kernel,
            install: || {
                let evcxr =
                    project::find_tool("evcxr_jupyter").ok_or("evcxr_jupyter is not installed")?;
                run_inherit(
                    Command::new(evcxr).arg("--install"),
                    "evcxr_jupyter --install",
                )
            },
            note: "",
            fix: "run `evcxr_jupyter --install`",
            optional: false,
        },
        Step {
            name: "parlab binaries (release build)",
            check: || Ok(None),
            install: || {
                let mut cmd = Command::new(project::cargo());
                cmd.args(["build", "--release", "--bins", "--quiet"])
                    .current_dir(project::root());
                run_inherit(&mut cmd, "cargo build --release --bins")
            },
            note: "",
            fix: "run `cargo build --release --bins` and read the compiler's error",
            optional: false,
        },
        Step {
            name: "numpy and numba in .venv (the lessons' live Python side)",
            check: setup_python::check_numeric,
            install: setup_python::install_numeric,
            note: "pip install numpy and numba into .venv: about a minute",
            fix: "run `.venv/bin/python -m pip install numpy numba` and read pip's error; without numba (no wheel for this platform) the lessons still run and say which series is missing",
            optional: true,
        },
        Step {
            name: "parlab_py, the Rust extension for Python (maturin, into .venv)",
            check: setup_python::check_extension,
            install: setup_python::install_extension,
            note: "builds python/parlab-py with maturin in its own target/pyext: about 2 minutes on 2 cores, once",
            fix: "run `.venv/bin/python -m pip install maturin`, then `.venv/bin/maturin build --release --manifest-path python/parlab-py/Cargo.toml --interpreter .venv/bin/python --out target/pyext/wheels` (with CARGO_TARGET_DIR=target/pyext) and read the error",
            optional: false,
        },
        Step {
            name: "MPI and libclang, for lesson 05",
            check: setup_mpi::check_mpi,
            install: setup_mpi::install_mpi,
            note: "as root: apt-get install Open MPI and libclang (about 55 MB); without root: pip install MPICH and libclang into .venv",
            fix: "as root: `apt-get update && apt-get install -y libopenmpi-dev openmpi-bin libclang-dev openssh-client`; without root: `.venv/bin/python -m pip install mpich libclang`",
            optional: false,
        },
        Step {
            name: "parlab-mpi, lesson 05's MPI program (its own target/mpi)",
            check: || Ok(None),
            install: setup_mpi::build_mpi_program,
            note: "",
            fix: "run `cargo build --release --no-default-features --features mpi --bin parlab-mpi --target-dir target/mpi` and read the error (bindgen needs libclang, the mpi crate needs `mpicc`)",
            optional: false,
        },
        Step {
            name: "Slurm, munge and sshd, for the cluster tests (root; in CI or with --cluster)",
            check: setup_mpi::check_cluster,
            install: setup_mpi::install_cluster,
            note: "apt-get install slurm-wlm munge openssh-server (about 10 MB), and a one-node Slurm configuration",
            fix: "as root: `apt-get install -y --no-install-recommends slurm-wlm munge openssh-server`, then run `cargo run --release -- setup --cluster` again (it writes /etc/slurm/slurm.conf)",
            optional: false,
        },
        Step {
            name: "`parlab` Jupyter kernel registered (\"Rust (parlab)\", the lessons' kernel)",
            check: crate::kernel::check_spec,
            install: crate::kernel::install_spec,
            note: "",
            fix: "check that .venv/share/jupyter/kernels can be written (or remove .venv), then run setup again",
            optional: false,
        },
        Step {
            name: "a warm kernel slot (parlab built once, so a lesson's `:dep parlab` takes seconds)",
            check: crate::warm_up::check,
            install: crate::warm_up::install,
            note: "runs one \"Rust (parlab)\" kernel headlessly to build parlab, optimised and as lesson 00's debug build: about a minute on 2 cores, once",
            fix: "nothing is lost: the first lesson's `:dep parlab` cell then builds parlab itself (about a minute); `parlab doctor` shows the slots",
            optional: true,
        },
    ]
}

/// Runs every step that is not done yet, printing each with its elapsed time.
pub fn run() -> Result<Ready, String> {
    let all = steps();
    let total = all.len();
    let started = Instant::now();
    println!("parlab setup: checking {total} steps (each is skipped when already done)");
    for (i, step) in all.iter().enumerate() {
        let t = Instant::now();
        let label = format!("[{}/{total}] {}", i + 1, step.name);
        let done = (step.check)().map_err(|e| failed(&label, &e, step.fix, &all[i + 1..]))?;
        if let Some(detail) = done {
            println!("{label}: ok, {detail} ({:.1} s)", t.elapsed().as_secs_f64());
            continue;
        }
        if !step.note.is_empty() {
            println!("{label}: installing: {}", step.note);
        } else {
            println!("{label}: installing");
        }
        if let Err(e) = (step.install)() {
            if step.optional {
                println!("{label}: not done ({e}); {}", step.fix);
                continue;
            }
            return Err(failed(&label, &e, step.fix, &all[i + 1..]));
        }
        if let Some(detail) =
            (step.check)().map_err(|e| failed(&label, &e, step.fix, &all[i + 1..]))?
        {
            println!(
                "{label}: installed, {detail} ({:.1} s)",
                t.elapsed().as_secs_f64()
            );
        } else if step.name.starts_with("parlab binaries") || step.name.starts_with("parlab-mpi") {
            println!("{label}: built ({:.1} s)", t.elapsed().as_secs_f64());
        } else {
            let e = "the install finished but the check still fails";
            return Err(failed(&label, e, step.fix, &all[i + 1..]));
        }
    }
    println!(
        "parlab setup: everything is in place ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    Ok(Ready {
        venv_bin: project::venv().join("bin"),
    })
}

fn failed(label: &str, error: &str, fix: &str, not_done: &[Step]) -> String {
    let mut msg = format!(
        "setup failed at {label}:\n  {}\n  fix: {fix}",
        error.replace('\n', "\n  ")
    );
    if !not_done.is_empty() {
        let names: Vec<&str> = not_done.iter().map(|s| s.name).collect();
        msg.push_str(&format!("\n  not checked yet: {}", names.join("; ")));
    }
    msg
}

fn check_python() -> Result<Option<String>, String> {
    let py = system_python().ok_or("no `python3` found on PATH")?;
    let version = output(Command::new(&py).args([
        "-c",
        "import sys, venv; print('%d.%d.%d' % sys.version_info[:3])",
    ]))
    .map_err(|e| format!("{} cannot create virtual environments: {e}", py.display()))?;
    let minor: u32 = version
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if !version.starts_with("3.") || minor < 9 {
        return Err(format!(
            "{} is Python {version}; Jupyter needs Python 3.9 or newer",
            py.display()
        ));
    }
    Ok(Some(format!("Python {version}")))
}

fn check_rust_src() -> Result<Option<String>, String> {
    let installed = output(Command::new("rustup").args(["component", "list", "--installed"]))
        .map_err(|e| format!("rustup is needed to manage the rust-src component: {e}"))?;
    Ok(installed
        .lines()
        .any(|l| l.starts_with("rust-src"))
        .then(|| "installed".to_owned()))
}

/// The installed evcxr_jupyter version, if any (from `cargo install --list`: it has no `--version`).
pub fn evcxr_version() -> Option<String> {
    project::find_tool("evcxr_jupyter")?;
    let list = output(Command::new(project::cargo()).args(["install", "--list"])).ok()?;
    let line = list.lines().find(|l| l.starts_with("evcxr_jupyter v"))?;
    let version = line
        .trim_start_matches("evcxr_jupyter v")
        .split([':', ' '])
        .next()?;
    Some(version.to_owned())
}

fn check_kernel() -> Result<Option<String>, String> {
    let jupyter = project::venv().join("bin").join("jupyter");
    if !jupyter.is_file() {
        return Err("Jupyter is not installed in .venv".into());
    }
    let listing = output(Command::new(jupyter).args(["kernelspec", "list", "--json"]))?;
    let specs: serde_json::Value = serde_json::from_str(&listing)
        .map_err(|e| format!("unexpected `jupyter kernelspec list` output: {e}"))?;
    let Some(rust) = specs["kernelspecs"].get("rust") else {
        return Ok(None);
    };
    let argv0 = rust["spec"]["argv"][0].as_str().unwrap_or_default();
    if !std::path::Path::new(argv0).is_file() {
        println!(
            "  the `rust` kernel points at {argv0}, which does not exist: registering it again"
        );
        return Ok(None);
    }
    Ok(Some(format!(
        "at {}",
        rust["resource_dir"].as_str().unwrap_or("?")
    )))
}

/// The system Chromium the browser test drives: `$PARLAB_CHROMIUM`, or `chromium` on PATH.
pub fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PARLAB_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    project::find_tool("chromium")
}

fn check_chromium() -> Result<Option<String>, String> {
    if let Some(path) = chromium() {
        let version = output(Command::new(&path).arg("--version"))
            .map_err(|e| format!("{} does not run: {e}", path.display()))?;
        return Ok(Some(version));
    }
    if !is_root() {
        // Only the browser test needs it; the lessons do not, so setup goes on without it.
        return Ok(Some(format!(
            "not installed, and only root can install it; the browser test needs it: \
             `sudo apt-get install -y --no-install-recommends {}`",
            CHROMIUM_PACKAGES.join(" ")
        )));
    }
    Ok(None)
}

fn install_chromium() -> Result<(), String> {
    let mut install = vec!["install", "-y", "-q", "--no-install-recommends"];
    install.extend(CHROMIUM_PACKAGES);
    apt(&install, "apt-get install chromium")
}

fn check_playwright() -> Result<Option<String>, String> {
    let py = project::venv_python();
    if !py.is_file() {
        return Err("Jupyter's .venv is not there yet".into());
    }
    let probe = "import playwright, importlib.metadata as m; print(m.version('playwright'))";
    let wanted = PLAYWRIGHT_REQUIREMENT.trim_start_matches("playwright==");
    Ok(match output(Command::new(&py).args(["-c", probe])) {
        Ok(v) if v == wanted => Some(format!("Playwright {v}")),
        _ => None,
    })
}

fn install_playwright() -> Result<(), String> {
    let mut pip = venv_pip_install();
    pip.arg(PLAYWRIGHT_REQUIREMENT);
    run_inherit(&mut pip, "pip install playwright")
}
