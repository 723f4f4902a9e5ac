//! `parlab setup`: install what the lessons need, where it is missing. Safe to run again.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use crate::project::{self, output, run_inherit};

/// The evcxr_jupyter version the lessons are tested with.
pub const EVCXR_VERSION: &str = "0.22.0";

/// The Python packages installed into `.venv`, one requirement per line (pip's format).
const PYTHON_REQUIREMENTS: &str = include_str!("requirements.txt");

/// The Playwright release the browser test drives Chromium with (built for Chromium 156).
pub const PLAYWRIGHT_REQUIREMENT: &str = "playwright==1.64.1";

/// The Debian packages of the browser test: the browser, and a font for the charts' text.
const CHROMIUM_PACKAGES: [&str; 2] = ["chromium", "fonts-dejavu-core"];

/// The modules that prove the Python packages are importable.
const PYTHON_MODULES: &str = "import jupyterlab, nbclient, nbconvert, nbformat";

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
}

fn steps() -> Vec<Step> {
    vec![
        Step {
            name: "Python 3 with venv",
            check: check_python,
            install: || Err("parlab cannot install Python itself".into()),
            note: "",
            fix: "install Python 3 with its venv module (Debian/Ubuntu: `apt-get install python3 python3-venv`), then run setup again",
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
        },
        Step {
            name: "evcxr_jupyter (the Rust kernel)",
            check: check_evcxr,
            install: install_evcxr,
            note: "builds evcxr from source with cargo: about 15 minutes on 2 cores, once",
            fix: "run `cargo install --locked evcxr_jupyter --version 0.22.0` and read its error (a C compiler is needed)",
        },
        Step {
            name: "Jupyter in .venv (JupyterLab, nbclient, nbconvert)",
            check: check_venv,
            install: install_venv,
            note: "pip install into the project's .venv: a minute or two",
            fix: "remove .venv (`rm -rf .venv`), check that `python3 -m venv` and pip can reach PyPI, then run setup again",
        },
        Step {
            name: "Chromium, for the browser test",
            check: check_chromium,
            install: install_chromium,
            note: "apt-get install chromium: a minute or two",
            fix: "as root: `apt-get update && apt-get install -y --no-install-recommends chromium fonts-dejavu-core`",
        },
        Step {
            name: "Playwright in .venv, for the browser test",
            check: check_playwright,
            install: install_playwright,
            note: "pip install playwright (it drives the system Chromium: no browser download)",
            fix: "run `.venv/bin/python -m pip install playwright==1.64.1` and read pip's error",
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
        },
        Step {
            name: "`parlab` Jupyter kernel registered (\"Rust (parlab)\", the lessons' kernel)",
            check: crate::kernel::check_spec,
            install: crate::kernel::install_spec,
            note: "",
            fix: "check that .venv/share/jupyter/kernels can be written (or remove .venv), then run setup again",
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
        (step.install)().map_err(|e| failed(&label, &e, step.fix, &all[i + 1..]))?;
        if let Some(detail) =
            (step.check)().map_err(|e| failed(&label, &e, step.fix, &all[i + 1..]))?
        {
            println!(
                "{label}: installed, {detail} ({:.1} s)",
                t.elapsed().as_secs_f64()
            );
        } else if step.name.starts_with("parlab binaries") {
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

/// The `python3` to build the virtual environment with: `$PARLAB_PYTHON` or `python3` on PATH.
pub fn system_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PARLAB_PYTHON") {
        return Some(PathBuf::from(p));
    }
    project::find_tool("python3")
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

fn check_evcxr() -> Result<Option<String>, String> {
    Ok(match evcxr_version() {
        Some(v) if v == EVCXR_VERSION => Some(format!("version {v}")),
        Some(v) => {
            println!(
                "  evcxr_jupyter {v} is installed; the lessons are tested with {EVCXR_VERSION}"
            );
            None
        }
        None => None,
    })
}

fn install_evcxr() -> Result<(), String> {
    let mut cmd = Command::new(project::cargo());
    cmd.args([
        "install",
        "--locked",
        "evcxr_jupyter",
        "--version",
        EVCXR_VERSION,
    ]);
    run_inherit(&mut cmd, "cargo install evcxr_jupyter")
}

fn check_venv() -> Result<Option<String>, String> {
    let py = project::venv_python();
    if !py.is_file() {
        return Ok(None);
    }
    let probe = format!(
        "{PYTHON_MODULES}; print('JupyterLab', jupyterlab.__version__, '/ nbclient', nbclient.__version__)"
    );
    Ok(output(Command::new(&py).args(["-c", &probe])).ok())
}

fn install_venv() -> Result<(), String> {
    let venv = project::venv();
    let created_now = !project::venv_python().is_file();
    if created_now {
        let py = system_python().ok_or("no `python3` found on PATH")?;
        output(Command::new(py).arg("-m").arg("venv").arg(&venv))?;
    }
    let mut pip = Command::new(project::venv_python());
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ])
    .args(
        PYTHON_REQUIREMENTS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty()),
    );
    if let Err(e) = run_inherit(&mut pip, "pip install") {
        if created_now {
            let _ = std::fs::remove_dir_all(&venv);
            return Err(format!("{e}; the half-made {} was removed", venv.display()));
        }
        return Err(format!("{e}; {} is left as it was before", venv.display()));
    }
    Ok(())
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

fn is_root() -> bool {
    // Safety: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
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
    let apt = |args: &[&str], what: &str| {
        let mut cmd = Command::new("apt-get");
        cmd.args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(std::process::Stdio::null());
        run_inherit(&mut cmd, what)
    };
    apt(&["update", "-qq"], "apt-get update")?;
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
    let mut pip = Command::new(project::venv_python());
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        PLAYWRIGHT_REQUIREMENT,
    ]);
    run_inherit(&mut pip, "pip install playwright")
}
