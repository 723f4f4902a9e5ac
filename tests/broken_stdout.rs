//! A pool whose output is forwarded to a stdout nobody reads (its pipe closed) keeps working: the
//! forwarding threads drop what cannot be printed instead of panicking, so the workers never
//! block on, or die of, their own output.
//!
//! Its own binary without the test harness (`harness = false`): the harness captures what test
//! threads print, which would hide the broken stdout from the forwarding threads.

use std::os::fd::AsRawFd;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use parlab::pool::{Pool, PoolOptions, ProcessPool};
use parlab::process::{Output, tasks};

fn main() -> ExitCode {
    let panics = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&panics);
    std::panic::set_hook(Box::new(move |info| {
        seen.fetch_add(1, Ordering::SeqCst);
        eprintln!("panic: {info}");
    }));
    // This process's stdout becomes a pipe whose reading end is closed: every write fails (EPIPE).
    let (read_end, write_end) = nix::unistd::pipe().expect("a pipe");
    drop(read_end);
    // Safety: dup2 of a descriptor this program owns onto its own stdout.
    assert!(unsafe { libc::dup2(write_end.as_raw_fd(), 1) } >= 0);
    let pool = ProcessPool::with_options(
        &PoolOptions::new(1)
            .worker_binary(env!("CARGO_BIN_EXE_parlab-worker"))
            .output(Output::Forward)
            .timeout(Duration::from_secs(10)),
    )
    .expect("a pool");
    let pid = pool.pids()[0];
    // Far more than a pipe holds (64 KiB), in many calls, with pauses for the forwarders to run.
    let lines: Vec<String> = (0..1000).map(|i| format!("{i:>200}")).collect();
    for round in 0..10 {
        if let Err(e) = pool.apply(tasks::PRINT, &lines) {
            eprintln!("FAILED: round {round}: {e}");
            return ExitCode::FAILURE;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let (pids, panicked) = (pool.pids(), panics.load(Ordering::SeqCst));
    if pids != [pid] || panicked > 0 {
        eprintln!("FAILED: workers {pids:?} (first {pid}), {panicked} panics");
        return ExitCode::FAILURE;
    }
    eprintln!(
        "test forwarded_output_to_a_closed_stdout_neither_panics_nor_kills_the_worker ... ok"
    );
    ExitCode::SUCCESS
}
