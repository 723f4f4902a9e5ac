//! Setup's MPI steps: the MPI that lesson 05's `parlab-mpi` is built against (Debian's Open MPI as
//! root, else MPICH from PyPI into `.venv`), the program itself, and the cluster tests' Slurm,
//! munge and sshd (`setup --cluster`, and always in CI).

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::project::{self, apt, is_root, output, run_inherit, venv_pip_install};

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

pub fn check_mpi() -> Result<Option<String>, String> {
    Ok(mpi_source().map(|source| match source {
        MpiSource::System { version, libclang } => {
            format!("{version}, libclang {}", libclang.display())
        }
        MpiSource::Venv { version, .. } => format!("MPICH from PyPI in .venv ({version})"),
    }))
}

pub fn install_mpi() -> Result<(), String> {
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

/// `setup --cluster` was given: install the cluster tests' Slurm, munge and sshd (as in CI).
static CLUSTER: AtomicBool = AtomicBool::new(false);

/// Asks setup to install the cluster tests' Slurm, munge and sshd (`setup --cluster`).
pub fn want_cluster(yes: bool) {
    CLUSTER.store(yes, Ordering::Relaxed);
}

/// Whether the cluster tests' tools are wanted: in CI, or with `setup --cluster`.
fn cluster_wanted() -> bool {
    CLUSTER.load(Ordering::Relaxed) || std::env::var_os("CI").is_some()
}

pub fn check_cluster() -> Result<Option<String>, String> {
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

pub fn install_cluster() -> Result<(), String> {
    if !cluster_tools_installed() {
        let mut install = vec!["install", "-y", "-q", "--no-install-recommends"];
        install.extend(crate::slurm_daemons::DEBIAN_PACKAGES);
        apt(&install, "apt-get install slurm-wlm munge openssh-server")?;
    }
    crate::slurm_daemons::configure()
}

pub fn build_mpi_program() -> Result<(), String> {
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
