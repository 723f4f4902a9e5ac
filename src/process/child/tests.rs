use std::io::Write;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;

use super::*;
use crate::process::{Options, Output, ProcessError, StartMethod, pipe};

const SEC: Duration = Duration::from_secs(5);

fn quiet() -> Options {
    Options {
        output: Output::Capture,
        warn: false,
        ..Options::named("t")
    }
}

#[test]
fn fork_returns_the_closure_result_and_output() {
    let words = ["a".to_string(), "b".to_string()];
    let mut child = fork_with(
        move || {
            // (The test harness captures `println!` per thread; write to the descriptors.)
            writeln!(std::io::stdout(), "child says hi").unwrap();
            writeln!(std::io::stderr(), "child complains").unwrap();
            words.join("+")
        },
        &quiet(),
    )
    .unwrap();
    assert_eq!(child.method(), StartMethod::Fork);
    assert_eq!(child.join(SEC).unwrap(), "a+b");
    let mut out = child.output();
    out.sort();
    assert_eq!(out, ["[t] child complains", "[t] child says hi"]);
    assert!(matches!(
        child.join(SEC),
        Err(ProcessError::AlreadyJoined { .. })
    ));
    assert!(!child.is_alive());
}

#[test]
fn fork_panic_and_kill_and_timeout() {
    let mut child = fork_with(
        || -> u8 { panic!("child broke") },
        &Options {
            output: Output::Discard,
            ..quiet()
        },
    )
    .unwrap();
    match child.join(SEC).unwrap_err() {
        ProcessError::Panicked { pid, message } => {
            assert_eq!(pid, child.pid());
            assert!(message.starts_with("child broke (at "), "{message}");
        }
        other => panic!("{other}"),
    }
    let mut sleeper = fork_with(|| std::thread::sleep(Duration::from_secs(30)), &quiet()).unwrap();
    signal::kill(Pid::from_raw(sleeper.pid() as i32), Signal::SIGKILL).unwrap();
    let start = Instant::now();
    let e = sleeper.join(SEC).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(1));
    assert!(e.to_string().contains("SIGKILL"), "{e}");
    let mut slow = fork_with(|| std::thread::sleep(Duration::from_secs(30)), &quiet()).unwrap();
    let pid = slow.pid();
    let e = slow.join(Duration::from_millis(100)).unwrap_err();
    assert!(matches!(e, ProcessError::Timeout { .. }), "{e}");
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "killed and reaped"
    );
}

#[test]
fn fork_with_a_held_lock_deadlocks_and_is_detected() {
    let lock = Arc::new(Mutex::new(0u32));
    let (held_tx, held_rx) = mpsc::channel();
    let holder = {
        let lock = Arc::clone(&lock);
        std::thread::spawn(move || {
            let _guard = lock.lock().unwrap();
            held_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(600));
        })
    };
    held_rx.recv().unwrap();
    let mut child = fork_with(move || *lock.lock().unwrap(), &quiet()).unwrap();
    assert!(
        child.parent_threads().unwrap() >= 2,
        "the parent had the holder thread"
    );
    let e = child.join(Duration::from_millis(300)).unwrap_err();
    assert!(matches!(e, ProcessError::Timeout { .. }), "{e}");
    holder.join().unwrap();
}

#[test]
fn pipe_both_ways_with_a_forked_child() {
    let (mut parent, mut child_end) = pipe::<String, usize>().unwrap();
    let mut child = fork_with(
        move || {
            // The child has a copy of `parent` too, so it never sees the pipe close:
            // an explicit "stop" message ends the loop.
            let mut total = 0;
            loop {
                let word = child_end.recv(SEC).unwrap();
                if word == "stop" {
                    return total;
                }
                total += word.len();
                child_end.send(&word.len(), SEC).unwrap();
            }
        },
        &quiet(),
    )
    .unwrap();
    for word in ["one", "three", ""] {
        parent.send(&word.to_string(), SEC).unwrap();
        assert_eq!(parent.recv(SEC).unwrap(), word.len());
    }
    parent.send(&"stop".to_string(), SEC).unwrap();
    assert_eq!(child.join(SEC).unwrap(), 8);
}

#[test]
fn threads_that_only_wait_do_not_count_as_a_fork_hazard() {
    // In a forked child (one thread, whatever the test harness runs alongside).
    let mut child = fork_with(
        || {
            let before = crate::process::other_busy_threads();
            // Each thread says when it is in place, so a slow start under load is not
            // mistaken for a busy thread.
            let (in_place_tx, in_place) = mpsc::channel::<()>();
            let (tx, rx) = mpsc::channel::<()>();
            let waiter_in_place = in_place_tx.clone();
            let waiter = std::thread::spawn(move || {
                crate::process::idle_wait(|| {
                    let _ = waiter_in_place.send(());
                    rx.recv_timeout(Duration::from_secs(20))
                })
            });
            let _ = in_place.recv_timeout(Duration::from_secs(20));
            let with_waiter = crate::process::other_busy_threads();
            let (busy_tx, busy_rx) = mpsc::channel::<()>();
            let busy = std::thread::spawn(move || {
                let _ = in_place_tx.send(());
                busy_rx.recv_timeout(Duration::from_secs(20))
            });
            let _ = in_place.recv_timeout(Duration::from_secs(20));
            let with_busy = crate::process::other_busy_threads();
            let _ = (tx.send(()), busy_tx.send(()));
            let _ = (waiter.join(), busy.join());
            (before, with_waiter, with_busy)
        },
        &quiet(),
    )
    .unwrap();
    assert_eq!(
        child.join(Duration::from_secs(30)).unwrap(),
        (Some(0), Some(0), Some(1))
    );
}

#[test]
fn dropping_a_handle_kills_and_reaps() {
    let child = fork_with(|| std::thread::sleep(Duration::from_secs(30)), &quiet()).unwrap();
    let pid = child.pid();
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    drop(child);
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "no zombie left"
    );
}

#[test]
fn missing_worker_names_the_build_command() {
    let opts = Options {
        worker: Some("/nonexistent/parlab-worker".into()),
        ..quiet()
    };
    let e = spawn_with(crate::process::tasks::SLEEP, &1, &opts).unwrap_err();
    assert!(
        e.to_string().contains("cargo build --release --bins"),
        "{e}"
    );
}

#[test]
fn a_worker_that_cannot_run_is_a_start_error() {
    // posix_spawn reports the exec's error itself: it must still be a Start naming the worker.
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::temp_dir().join(format!("parlab-noexec-worker-{}", std::process::id()));
    std::fs::write(&path, "not a program").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let opts = Options {
        worker: Some(path.clone()),
        ..quiet()
    };
    let e = spawn_with(crate::process::tasks::SLEEP, &1, &opts).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    match &e {
        ProcessError::Start { what, source } => {
            assert_eq!(*what, format!("the worker {}", path.display()));
            assert_eq!(source.raw_os_error(), Some(libc::EACCES), "{e}");
        }
        other => panic!("{other:?}"),
    }
}
