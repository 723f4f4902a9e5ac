//! What several integration tests share (each test file is a crate of its own: it takes this
//! module with `mod common;`).

// Each test file uses some of it.
#![allow(dead_code)]

use parlab::mpi::Mpi;

/// Lesson 05's MPI when nothing is `missing` for `test` (a name such as "the Slurm test"); else
/// `None`, after saying what is missing, and a failure where `CI` is set (CI must run it).
pub fn mpi_or_skip(test: &str, mut missing: Vec<String>) -> Option<Mpi> {
    let mpi = Mpi::find()
        .map_err(|e| missing.push(format!("lesson 05's MPI: {e}")))
        .ok();
    if missing.is_empty() {
        return mpi;
    }
    let what = missing.join("\n  ");
    if std::env::var_os("CI").is_some() {
        panic!("{test} cannot run; missing:\n  {what}");
    }
    eprintln!("SKIPPED {test} (it runs in CI); missing:\n  {what}");
    None
}
