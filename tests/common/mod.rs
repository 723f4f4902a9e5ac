//! What several integration tests share (each test file is a crate of its own: it takes this
//! module with `mod common;`).

// Each test file uses some of it.
#![allow(dead_code)]

use std::time::Duration;

use parlab::mpi::Mpi;
use parlab::pool::PoolOptions;
use parlab::process::{Options, Output};

/// How long a test waits for a pool call or a worker: far longer than any of them needs.
pub const SEC: Duration = Duration::from_secs(10);

/// Pool options for `workers` workers of the worker binary cargo built for this test run, their
/// output thrown away, each call waited for at most [`SEC`].
pub fn pool_options(workers: usize) -> PoolOptions {
    PoolOptions::new(workers)
        .worker_binary(env!("CARGO_BIN_EXE_parlab-worker"))
        .output(Output::Discard)
        .timeout(SEC)
}

/// Options for a process named `name` running the worker binary cargo built for this test run,
/// its output handled as `output`.
pub fn worker_options(output: Output, name: &'static str) -> Options {
    Options {
        worker: Some(env!("CARGO_BIN_EXE_parlab-worker").into()),
        output,
        ..Options::named(name)
    }
}

/// Whether a test can run: true when nothing is `missing`; else false after saying what is
/// missing for `test` (a name such as "the browser test"), and a failure where `CI` is set (CI
/// must run every test).
pub fn can_run(test: &str, missing: &[String]) -> bool {
    if missing.is_empty() {
        return true;
    }
    let what = missing.join("\n  ");
    if std::env::var_os("CI").is_some() {
        panic!("{test} cannot run; missing:\n  {what}");
    }
    eprintln!("SKIPPED {test} (it runs in CI); missing:\n  {what}");
    false
}

/// Lesson 05's MPI when nothing is `missing` for `test` (see [`can_run`]); else `None`.
pub fn mpi_or_skip(test: &str, mut missing: Vec<String>) -> Option<Mpi> {
    let mpi = Mpi::find()
        .map_err(|e| missing.push(format!("lesson 05's MPI: {e}")))
        .ok();
    if can_run(test, &missing) { mpi } else { None }
}

/// A command's stdout and stderr, as text.
pub fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
