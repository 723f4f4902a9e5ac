//! Setup's Python steps: Jupyter in `.venv`, numpy and numba for the lessons' live Python side,
//! and the Rust extension `parlab_py` built with maturin.

use std::path::PathBuf;
use std::process::Command;

use crate::project::{self, output, run_inherit, system_python, venv_pip_install};

/// The Python packages installed into `.venv`, one requirement per line (pip's format).
const PYTHON_REQUIREMENTS: &str = include_str!("requirements.txt");

/// The lessons' live Python side: numpy (the sort exercise) and numba (calc_pi with `nogil`).
const NUMERIC_REQUIREMENTS: [&str; 2] = ["numpy>=1.24,<3", "numba>=0.59,<1"];

/// The tool that builds the Rust extension `parlab_py` (python/parlab-py) into a wheel.
const MATURIN_REQUIREMENT: &str = "maturin>=1.9,<2";

/// The modules that prove the Python packages are importable.
const PYTHON_MODULES: &str = "import jupyterlab, nbclient, nbconvert, nbformat";

pub fn check_venv() -> Result<Option<String>, String> {
    let py = project::venv_python();
    if !py.is_file() {
        return Ok(None);
    }
    let probe = format!(
        "{PYTHON_MODULES}; print('JupyterLab', jupyterlab.__version__, '/ nbclient', nbclient.__version__)"
    );
    Ok(output(Command::new(&py).args(["-c", &probe])).ok())
}

pub fn install_venv() -> Result<(), String> {
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

pub fn check_numeric() -> Result<Option<String>, String> {
    Ok(match numeric_versions()? {
        (Some(numpy), Some(numba)) => Some(format!("numpy {numpy}, numba {numba}")),
        _ => None,
    })
}

pub fn install_numeric() -> Result<(), String> {
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

pub fn check_extension() -> Result<Option<String>, String> {
    if !project::venv_python().is_file() {
        return Err("Jupyter's .venv is not there yet".into());
    }
    let Some(version) = extension_version() else {
        return Ok(None);
    };
    let built_from = std::fs::read_to_string(extension_stamp_file()).unwrap_or_default();
    Ok((built_from.trim() == extension_sources_stamp()).then(|| format!("parlab_py {version}")))
}

pub fn install_extension() -> Result<(), String> {
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
