//! `parlab setup`: install what the lessons need, where it is missing. Safe to run again.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::project::{self, output, run_inherit};

/// The Python packages installed into `.venv`, one requirement per line (pip's format).
const PYTHON_REQUIREMENTS: &str = include_str!("requirements.txt");

/// The Playwright release the browser test drives Chromium with (built for Chromium 156).
pub const PLAYWRIGHT_REQUIREMENT: &str = "playwright==1.64.1";

/// The Debian packages of the browser test: the browser, and a font for the charts' text.
const CHROMIUM_PACKAGES: [&str; 2] = ["chromium", "fonts-dejavu-core"];

/// The lessons' live Python side: numpy (the sort exercise) and numba (calc_pi with `nogil`).
const NUMERIC_REQUIREMENTS: [&str; 2] = ["numpy>=1.24,<3", "numba>=0.59,<1"];

/// The tool that builds the Rust extension `parlab_py` (python/parlab-py) into a wheel.
const MATURIN_REQUIREMENT: &str = "maturin>=1.9,<2";

/// The modules that prove the Python packages are importable.
const PYTHON_MODULES: &str = "import jupyterlab, nbclient, nbconvert, nbformat";

/// `setup --cluster` was given: install the cluster tests' Slurm, munge and sshd (as in CI).
static CLUSTER: AtomicBool = AtomicBool::new(false);

/// Asks setup to install the cluster tests' Slurm, munge and sshd (`setup --cluster`).
pub fn want_cluster(yes: bool) {
    CLUSTER.store(yes, Ordering::Relaxed);
}

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
            name: "evcxr_jupyter (the Rust kernel, with parlab's fix for kernels that die at start)",
            check: crate::evcxr_patch::check,
            install: crate::evcxr_patch::install,
            note: "builds evcxr from source with cargo: about 15 minutes on 2 cores, once",
            fix: "read cargo's error above (a C compiler is needed); `cargo install --locked evcxr_jupyter --version 0.22.0` gives the lessons an unpatched kernel that now and then dies as it starts",
            optional: false,
        },
        Step {
            name: "Jupyter in .venv (JupyterLab, nbclient, nbconvert)",
            check: check_venv,
            install: install_venv,
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
            check: check_numeric,
            install: install_numeric,
            note: "pip install numpy and numba into .venv: about a minute",
            fix: "run `.venv/bin/python -m pip install numpy numba` and read pip's error; without numba (no wheel for this platform) the lessons still run and say which series is missing",
            optional: true,
        },
        Step {
            name: "parlab_py, the Rust extension for Python (maturin, into .venv)",
            check: check_extension,
            install: install_extension,
            note: "builds python/parlab-py with maturin in its own target/pyext: about 2 minutes on 2 cores, once",
            fix: "run `.venv/bin/python -m pip install maturin`, then `.venv/bin/maturin build --release --manifest-path python/parlab-py/Cargo.toml --interpreter .venv/bin/python --out target/pyext/wheels` (with CARGO_TARGET_DIR=target/pyext) and read the error",
            optional: false,
        },
        Step {
            name: "MPI and libclang, for lesson 05",
            check: check_mpi,
            install: install_mpi,
            note: "as root: apt-get install Open MPI and libclang (about 55 MB); without root: pip install MPICH and libclang into .venv",
            fix: "as root: `apt-get update && apt-get install -y libopenmpi-dev openmpi-bin libclang-dev openssh-client`; without root: `.venv/bin/python -m pip install mpich libclang`",
            optional: false,
        },
        Step {
            name: "parlab-mpi, lesson 05's MPI program (its own target/mpi)",
            check: || Ok(None),
            install: build_mpi_program,
            note: "",
            fix: "run `cargo build --release --no-default-features --features mpi --bin parlab-mpi --target-dir target/mpi` and read the error (bindgen needs libclang, the mpi crate needs `mpicc`)",
            optional: false,
        },
        Step {
            name: "Slurm, munge and sshd, for the cluster tests (root; in CI or with --cluster)",
            check: check_cluster,
            install: install_cluster,
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
            note: "runs one \"Rust (parlab)\" kernel headlessly to build parlab: about 40 s on 2 cores, once",
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

/// `pip install` run by the project's .venv Python, quiet; the caller adds what to install.
fn venv_pip_install() -> Command {
    let mut pip = Command::new(project::venv_python());
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ]);
    pip
}

fn install_venv() -> Result<(), String> {
    let venv = project::venv();
    let created_now = !project::venv_python().is_file();
    if created_now {
        let py = system_python().ok_or("no `python3` found on PATH")?;
        output(Command::new(py).arg("-m").arg("venv").arg(&venv))?;
    }
    let mut pip = venv_pip_install();
    pip.args(
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

/// Runs `apt-get update`, then apt-get with `args`, non-interactively.
fn apt(args: &[&str], what: &str) -> Result<(), String> {
    let run = |args: &[&str], what: &str| {
        let mut cmd = Command::new("apt-get");
        cmd.args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(std::process::Stdio::null());
        run_inherit(&mut cmd, what)
    };
    run(&["update", "-qq"], "apt-get update")?;
    run(args, what)
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

/// Where the MPI that `parlab-mpi` is built against comes from.
enum MpiSource {
    /// The system's (Debian's Open MPI): `mpicc` and `mpirun` on PATH, libclang in the system.
    System {
        /// `mpirun --version`, first line.
        version: String,
        /// The libclang bindgen loads.
        libclang: PathBuf,
    },
    /// PyPI's MPICH and libclang wheels in `.venv` (the route without root).
    Venv {
        /// `mpirun --version`'s version line.
        version: String,
        /// The folder holding the wheel's `libclang.so` (bindgen's `LIBCLANG_PATH`).
        libclang_dir: PathBuf,
    },
}

/// The first line of `mpirun --version` that names a version, or why it does not run.
fn mpirun_version(mpirun: &std::path::Path) -> Result<String, String> {
    let text = output(Command::new(mpirun).arg("--version"))?;
    let line = text
        .lines()
        .find(|l| l.contains("Open MPI") || l.contains("Version:"))
        .or(text.lines().next())
        .unwrap_or_default();
    Ok(line.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The system's libclang, where clang-sys (bindgen's loader) looks for it on Debian.
fn system_libclang() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("LIBCLANG_PATH") {
        return Some(PathBuf::from(dir));
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib")
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().contains("llvm-"))
                .map(|p| p.join("lib"))
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs.reverse();
    dirs.extend(
        [
            "/usr/lib/x86_64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu",
            "/usr/lib64",
            "/usr/local/lib",
        ]
        .map(PathBuf::from),
    );
    dirs.into_iter().find_map(|dir| {
        std::fs::read_dir(&dir)
            .ok()?
            .filter_map(|e| e.ok())
            .find_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                (name.starts_with("libclang")
                    && name.contains(".so")
                    && !name.starts_with("libclang-cpp"))
                .then(|| e.path())
            })
    })
}

/// The folder of the PyPI libclang wheel's `libclang.so` in `.venv`, if it is installed.
fn venv_libclang_dir() -> Option<PathBuf> {
    let lib = project::venv().join("lib");
    std::fs::read_dir(lib)
        .ok()?
        .filter_map(|e| e.ok())
        .find_map(|e| {
            let dir = e.path().join("site-packages/clang/native");
            dir.join("libclang.so").is_file().then_some(dir)
        })
}

/// The MPI to build against: `.venv`'s when setup put one there, else the system's.
fn mpi_source() -> Option<MpiSource> {
    let venv_bin = project::venv().join("bin");
    if venv_bin.join("mpicc").is_file() && venv_bin.join("mpirun").is_file() {
        if let (Some(libclang_dir), Ok(version)) = (
            venv_libclang_dir(),
            mpirun_version(&venv_bin.join("mpirun")),
        ) {
            return Some(MpiSource::Venv {
                version,
                libclang_dir,
            });
        }
    }
    project::find_tool("mpicc")?;
    let version = mpirun_version(&project::find_tool("mpirun")?).ok()?;
    Some(MpiSource::System {
        version,
        libclang: system_libclang()?,
    })
}

fn check_mpi() -> Result<Option<String>, String> {
    Ok(mpi_source().map(|source| match source {
        MpiSource::System { version, libclang } => {
            format!("{version}, libclang {}", libclang.display())
        }
        MpiSource::Venv { version, .. } => format!("MPICH from PyPI in .venv ({version})"),
    }))
}

fn install_mpi() -> Result<(), String> {
    if is_root() && project::find_tool("apt-get").is_some() {
        let mut install = vec!["install", "-y", "-q"];
        install.extend(parlab::mpi::DEBIAN_PACKAGES);
        return apt(&install, "apt-get install Open MPI and libclang");
    }
    println!(
        "  not root: installing MPICH and libclang from PyPI into .venv (as root setup would run \
         `apt-get install -y {}`)",
        parlab::mpi::DEBIAN_PACKAGES.join(" ")
    );
    let mut pip = venv_pip_install();
    pip.args(parlab::mpi::PYPI_PACKAGES);
    run_inherit(&mut pip, "pip install mpich libclang")
}

/// Whether the cluster tests' tools are wanted: in CI, or with `setup --cluster`.
fn cluster_wanted() -> bool {
    CLUSTER.load(Ordering::Relaxed) || std::env::var_os("CI").is_some()
}

fn check_cluster() -> Result<Option<String>, String> {
    if !cluster_wanted() {
        return Ok(Some(
            "not asked for (as root, `cargo run --release -- setup --cluster` installs it; CI does)"
                .into(),
        ));
    }
    if !is_root() {
        return Ok(Some(
            "skipped: only root can install it (the cluster tests need root anyway)".into(),
        ));
    }
    if !cluster_tools_installed() {
        return Ok(None);
    }
    let Some(config) = crate::slurm_daemons::configured()? else {
        return Ok(None);
    };
    let version = output(Command::new("sbatch").arg("--version")).unwrap_or_default();
    Ok(Some(format!("{version}, {config}")))
}

/// Whether Slurm's commands and daemons, munged and sshd are installed.
fn cluster_tools_installed() -> bool {
    ["sbatch", "slurmctld", "slurmd", "munged", "sshd"]
        .iter()
        .all(|t| {
            project::find_tool(t).is_some() || std::path::Path::new("/usr/sbin").join(t).is_file()
        })
}

fn install_cluster() -> Result<(), String> {
    if !cluster_tools_installed() {
        let mut install = vec!["install", "-y", "-q", "--no-install-recommends"];
        install.extend(crate::slurm_daemons::DEBIAN_PACKAGES);
        apt(&install, "apt-get install slurm-wlm munge openssh-server")?;
    }
    crate::slurm_daemons::configure()
}

fn build_mpi_program() -> Result<(), String> {
    let source = mpi_source()
        .ok_or("no MPI with `mpicc` and libclang: the step before did not install it")?;
    let mut cmd = Command::new(project::cargo());
    cmd.args([
        "build",
        "--release",
        "--quiet",
        "--no-default-features",
        "--features",
        "mpi",
        "--bin",
        "parlab-mpi",
        "--target-dir",
    ])
    .arg(project::root().join("target/mpi"))
    .current_dir(project::root());
    if let MpiSource::Venv { libclang_dir, .. } = &source {
        // The mpi crate finds MPICH through `mpicc -show`, bindgen finds the wheel's libclang.
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![project::venv().join("bin")];
        dirs.extend(std::env::split_paths(&path));
        let path = std::env::join_paths(dirs).map_err(|e| e.to_string())?;
        cmd.env("PATH", path).env("LIBCLANG_PATH", libclang_dir);
    }
    run_inherit(&mut cmd, parlab::mpi::BUILD_PROGRAM)?;
    let program = std::path::Path::new(parlab::mpi::DEFAULT_PROGRAM);
    if !program.is_file() {
        return Err(format!(
            "the build finished but {} is not there",
            program.display()
        ));
    }
    Ok(())
}

/// The versions of numpy and numba in `.venv` (a missing one is `None`), or why there are none.
pub fn numeric_versions() -> Result<(Option<String>, Option<String>), String> {
    let py = project::venv_python();
    if !py.is_file() {
        return Err(format!(
            "no virtual environment at {}",
            project::venv().display()
        ));
    }
    let probe = "import importlib.metadata as m\n\
                 for name in ('numpy', 'numba'):\n    \
                     try:\n        __import__(name); print(m.version(name))\n    \
                     except Exception:\n        print('-')";
    let text = output(Command::new(&py).args(["-c", probe]))?;
    let mut lines = text.lines().map(|l| (l != "-").then(|| l.to_owned()));
    Ok((lines.next().flatten(), lines.next().flatten()))
}

fn check_numeric() -> Result<Option<String>, String> {
    Ok(match numeric_versions()? {
        (Some(numpy), Some(numba)) => Some(format!("numpy {numpy}, numba {numba}")),
        _ => None,
    })
}

fn install_numeric() -> Result<(), String> {
    let mut pip = venv_pip_install();
    pip.arg(NUMERIC_REQUIREMENTS[0]);
    run_inherit(&mut pip, "pip install numpy")?;
    let mut pip = venv_pip_install();
    pip.arg(NUMERIC_REQUIREMENTS[1]);
    run_inherit(&mut pip, "pip install numba").map_err(|e| {
        format!(
            "{e}: numba is not installed; lesson 01 draws its other series and says how to add it"
        )
    })
}

/// The extension's crate.
fn extension_dir() -> PathBuf {
    project::root().join("python/parlab-py")
}

/// Where the extension is built: its own target folder, so the kernel's build is untouched.
fn extension_target() -> PathBuf {
    project::root().join("target/pyext")
}

/// What the installed extension was built from: the newest modification time (in seconds) of
/// its crate's files and of `src/pi.rs`, whose counting kernel it calls.
fn extension_sources_stamp() -> String {
    fn newest(path: &std::path::Path) -> u64 {
        let Ok(meta) = std::fs::metadata(path) else {
            return 0;
        };
        let own = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        if !meta.is_dir() {
            return own;
        }
        std::fs::read_dir(path)
            .map(|rd| rd.flatten().map(|e| newest(&e.path())).max().unwrap_or(0))
            .unwrap_or(0)
            .max(own)
    }
    let dir = extension_dir();
    let newest = [
        dir.join("Cargo.toml"),
        dir.join("Cargo.lock"),
        dir.join("src"),
        project::root().join("src/pi.rs"),
    ]
    .iter()
    .map(|p| newest(p))
    .max()
    .unwrap_or(0);
    newest.to_string()
}

/// The file that records which sources the installed extension was built from.
fn extension_stamp_file() -> PathBuf {
    extension_target().join("installed-from")
}

/// The installed `parlab_py`'s version, if `.venv`'s Python imports it.
pub fn extension_version() -> Option<String> {
    let probe = "import parlab_py, importlib.metadata as m; print(m.version('parlab_py'))";
    output(Command::new(project::venv_python()).args(["-c", probe])).ok()
}

fn check_extension() -> Result<Option<String>, String> {
    if !project::venv_python().is_file() {
        return Err("Jupyter's .venv is not there yet".into());
    }
    let Some(version) = extension_version() else {
        return Ok(None);
    };
    let built_from = std::fs::read_to_string(extension_stamp_file()).unwrap_or_default();
    Ok((built_from.trim() == extension_sources_stamp()).then(|| format!("parlab_py {version}")))
}

fn install_extension() -> Result<(), String> {
    let maturin = project::venv().join("bin/maturin");
    if !maturin.is_file() {
        let mut pip = venv_pip_install();
        pip.arg(MATURIN_REQUIREMENT);
        run_inherit(&mut pip, "pip install maturin")?;
    }
    let wheels = extension_target().join("wheels");
    let _ = std::fs::remove_dir_all(&wheels);
    let mut build = Command::new(&maturin);
    build
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(extension_dir().join("Cargo.toml"))
        .arg("--interpreter")
        .arg(project::venv_python())
        .arg("--out")
        .arg(&wheels)
        .env("CARGO_TARGET_DIR", extension_target())
        .env_remove("CARGO_MANIFEST_DIR")
        .stdin(std::process::Stdio::null());
    run_inherit(&mut build, "maturin build (python/parlab-py)")?;
    let wheel = std::fs::read_dir(&wheels)
        .map_err(|e| format!("maturin made no {}: {e}", wheels.display()))?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| format!("maturin left no wheel in {}", wheels.display()))?;
    let mut pip = venv_pip_install();
    pip.args(["--force-reinstall", "--no-deps"]).arg(&wheel);
    run_inherit(&mut pip, "pip install the parlab_py wheel")?;
    // Stamped after the build: cargo may rewrite the extension's Cargo.lock while building it
    // (a dependency added to parlab), which would otherwise never match the stamp again.
    std::fs::write(extension_stamp_file(), extension_sources_stamp())
        .map_err(|e| format!("could not write {}: {e}", extension_stamp_file().display()))
}
