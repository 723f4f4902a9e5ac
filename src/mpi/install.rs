//! What lesson 05 needs installed, and where parlab looks for it: the packages setup installs, the
//! command that builds `parlab-mpi`, its default path, and the environment variables that override
//! the launcher and the program.

/// The environment variable that overrides the launcher (`mpirun` on `PATH` otherwise).
pub const LAUNCHER_ENV: &str = "PARLAB_MPIRUN";

/// The environment variable that overrides where the `parlab-mpi` program is.
pub const PROGRAM_ENV: &str = "PARLAB_MPI_PROGRAM";

/// Where setup builds the MPI program: `target/mpi/release/parlab-mpi` in this crate.
///
/// It has its own target directory because the `mpi` feature changes the library's fingerprint:
/// built in `target/release`, it would make cargo rebuild the release library the kernel uses.
pub const DEFAULT_PROGRAM: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/target/mpi/release/parlab-mpi");

/// The command that builds the MPI program (after the MPI packages are installed).
pub const BUILD_PROGRAM: &str = "cargo build --release --no-default-features --features mpi --bin parlab-mpi --target-dir target/mpi";

// Setup's list, public for parlab's own binary (`parlab setup`): hidden from the docs.
#[doc(hidden)]
/// The Debian packages of lesson 05: Open MPI, libclang for the `mpi` crate's bindgen, and ssh,
/// the agent Open MPI's launcher starts ranks on other hosts with (it looks for it even for one).
pub const DEBIAN_PACKAGES: [&str; 4] = [
    "libopenmpi-dev",
    "openmpi-bin",
    "libclang-dev",
    "openssh-client",
];

/// The route without root: PyPI wheels of MPICH and libclang, installed into the project's `.venv`
/// (its `bin/` then holds `mpirun` and `mpicc`).
pub const PYPI_PACKAGES: [&str; 2] = ["mpich", "libclang"];
