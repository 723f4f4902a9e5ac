//! Spawned workers end to end: the real `parlab-worker` binary, built by cargo for these tests.

use std::path::Path;
use std::time::{Duration, Instant};

use parlab::pi::PiEstimate;
use parlab::process::{self, Options, Output, ProcessError, StartMethod, Task, tasks};

use common::SEC;

mod common;

/// Options pointing at the worker cargo built for this test run, capturing output.
fn opts() -> Options {
    common::worker_options(Output::Capture, "w")
}

fn spawn<
    A: serde::Serialize + serde::de::DeserializeOwned + 'static,
    R: serde::de::DeserializeOwned + 'static,
>(
    task: Task<A, R>,
    args: &A,
) -> process::Process<R> {
    process::spawn_with(task, args, &opts()).expect("spawn")
}

#[test]
fn round_trip_typed_result() {
    let mut w = spawn(tasks::CALC_PI, &(1_000_000, 7));
    assert_eq!(w.method(), StartMethod::Spawn);
    assert_eq!(w.parent_threads(), None);
    let got = w.join(SEC).unwrap();
    assert_eq!(got, parlab::pi::calc_pi(1_000_000, 7).unwrap());
    let mut echo = spawn(tasks::echo(), &("hi".to_string(), vec![1u8, 2]));
    assert_eq!(echo.join(SEC).unwrap(), ("hi".to_string(), vec![1, 2]));
}

#[test]
fn unknown_task_lists_the_known_ones() {
    let e = spawn(Task::<(), ()>::named("no_such_task"), &())
        .join(SEC)
        .unwrap_err();
    assert!(matches!(e, ProcessError::UnknownTask { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("no_such_task") && msg.contains("calc_pi") && msg.contains("sleep"),
        "{msg}"
    );
}

#[test]
fn bad_args_and_wrong_result_type() {
    // What the compiler cannot see (a handle named by hand, a stale worker) the worker refuses:
    // i32 literals where calc_pi takes u64 would decode as a doubled sample count.
    let as_i32: Task<(i32, i32), PiEstimate> = Task::named("calc_pi");
    let e = spawn(as_i32, &(1_000_000, 1)).join(SEC).unwrap_err();
    assert!(matches!(e, ProcessError::WrongSignature { .. }), "{e}");
    assert!(
        e.to_string().contains(
            "takes (u64, u64) -> PiEstimate in the worker, but the handle used here says (i32, i32) -> PiEstimate"
        ),
        "{e}"
    );
    let text: Task<String, PiEstimate> = Task::named("calc_pi");
    let e = spawn(text, &"not numbers".into()).join(SEC).unwrap_err();
    assert!(matches!(e, ProcessError::WrongSignature { .. }), "{e}");
    let pid_as_i64: Task<(), i64> = Task::named("pid");
    let e = spawn(pid_as_i64, &()).join(SEC).unwrap_err();
    assert!(matches!(e, ProcessError::WrongSignature { .. }), "{e}");
}

#[test]
fn panic_gives_message_and_pid() {
    let mut w = spawn(tasks::PANIC, &"something broke".into());
    let pid = w.pid();
    match w.join(SEC).unwrap_err() {
        ProcessError::Panicked { pid: p, message } => {
            assert_eq!(p, pid);
            assert!(message.starts_with("something broke"), "{message}");
        }
        other => panic!("{other}"),
    }
}

#[test]
fn sigkill_is_reported_within_a_second() {
    let mut w = spawn(tasks::SLEEP, &60_000);
    std::thread::sleep(Duration::from_millis(50));
    let pid = nix::unistd::Pid::from_raw(w.pid() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).unwrap();
    let start = Instant::now();
    let e = w.join(SEC).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert!(e.to_string().contains("SIGKILL"), "{e}");
    let e = spawn(tasks::ABORT, &()).join(SEC).unwrap_err();
    assert!(e.to_string().contains("SIGABRT"), "{e}");
    let e = spawn(tasks::EXIT, &3).join(SEC).unwrap_err();
    assert!(matches!(e, ProcessError::Exited { code: 3, .. }), "{e}");
}

#[test]
fn timeout_kills_the_worker() {
    let mut w = spawn(tasks::SLEEP, &60_000);
    let pid = w.pid();
    let start = Instant::now();
    let e = w.join(Duration::from_millis(200)).unwrap_err();
    assert!(matches!(e, ProcessError::Timeout { .. }), "{e}");
    assert!(start.elapsed() < Duration::from_secs(2));
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "killed and reaped"
    );
}

#[test]
fn stdin_is_not_inherited() {
    // The test's own stdin may be a terminal or a pipe; the worker's must be /dev/null (empty):
    // the socket to the parent arrives there and the worker moves it off before any task runs.
    let n: u64 = spawn(tasks::STDIN, &()).join(SEC).unwrap();
    assert_eq!(n, 0);
}

#[test]
fn environment_is_not_passed_on() {
    // SAFETY-free check: cargo sets CARGO_PKG_NAME etc. for this test process; none may reach the worker.
    assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some() || std::env::var_os("PATH").is_some());
    let vars: Vec<(String, String)> = spawn(tasks::ENV, &()).join(SEC).unwrap();
    for (k, _) in &vars {
        assert!(
            process::ENV_ALLOW_LIST.contains(&k.as_str()),
            "{k} was passed on"
        );
    }
}

#[test]
fn output_is_prefixed_with_the_worker_name() {
    let mut w = spawn(tasks::PRINT, &vec!["one".to_string(), "two".to_string()]);
    w.join(SEC).unwrap();
    let mut out = w.output();
    out.sort();
    assert_eq!(out, ["[w] done", "[w] one", "[w] two"]);
}

#[test]
fn no_zombie_after_drop() {
    let w = spawn(tasks::SLEEP, &60_000);
    let pid = w.pid();
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    drop(w);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "worker {pid} left behind"
    );
}

#[test]
fn worker_started_by_hand_explains_itself() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_parlab-worker"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not meant to be started by hand"));
}

fn alive(pid: u32) -> bool {
    // A zombie still has a /proc entry; its state is Z.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

fn sigkill(pid: u32) {
    let pid = nix::unistd::Pid::from_raw(pid as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).unwrap();
}

/// How long `pid` takes to die, at most `limit`.
fn time_to_death(pid: u32, limit: Duration) -> Duration {
    let start = Instant::now();
    while alive(pid) && start.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(2));
    }
    start.elapsed()
}

#[test]
fn a_worker_spawned_by_a_short_lived_thread_lives_on() {
    // PR_SET_PDEATHSIG would kill the worker as soon as the thread that started it ends.
    let mut w = std::thread::spawn(|| spawn(tasks::SLEEP, &500))
        .join()
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        w.is_alive(),
        "the worker died with the thread that spawned it"
    );
    w.join(SEC).unwrap();
    let quiet = Options {
        output: Output::Discard,
        warn: false,
        ..Options::default()
    };
    let mut child = std::thread::spawn(move || {
        process::fork_with(
            || {
                std::thread::sleep(Duration::from_millis(500));
                7
            },
            &quiet,
        )
        .unwrap()
    })
    .join()
    .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        child.is_alive(),
        "the forked child died with the thread that forked it"
    );
    assert_eq!(child.join(SEC).unwrap(), 7);
}

#[test]
fn a_task_that_starts_a_program_does_not_hide_its_worker_s_death() {
    // `sleep` inherits the worker's stdout and stderr, but not its protocol socket.
    let mut w = spawn(tasks::RUN_CHILD, &3_000);
    std::thread::sleep(Duration::from_millis(300));
    sigkill(w.pid());
    let killed_at = Instant::now();
    let e = w.join(SEC).unwrap_err();
    let took = killed_at.elapsed();
    assert!(e.to_string().contains("SIGKILL"), "{e}");
    assert!(
        took < Duration::from_secs(1),
        "noticed {took:?} after the kill"
    );
    eprintln!("spawned worker with a child process: SIGKILL to error in {took:?}");
}

#[test]
fn no_orphans_after_the_parent_is_killed() {
    // A forked child plays the kernel: it spawns a worker and forks a child, then is killed.
    let quiet = Options {
        output: Output::Discard,
        warn: false,
        ..Options::default()
    };
    let (mut here, mut there) = process::pipe::<(), (u32, u32)>().unwrap();
    let mut kernel = process::fork_with(
        move || {
            let w = process::spawn_with(tasks::SLEEP, &60_000, &opts()).unwrap();
            let c = process::fork_with(
                || std::thread::sleep(Duration::from_secs(60)),
                &Options {
                    output: Output::Discard,
                    warn: false,
                    ..Options::default()
                },
            )
            .unwrap();
            there.send(&(w.pid(), c.pid()), SEC).unwrap();
            std::thread::sleep(Duration::from_secs(60));
        },
        &quiet,
    )
    .unwrap();
    let (worker, forked) = here.recv(SEC).unwrap();
    assert!(alive(worker) && alive(forked));
    sigkill(kernel.pid());
    assert!(kernel.join(SEC).is_err());
    for pid in [worker, forked] {
        let took = time_to_death(pid, Duration::from_secs(3));
        assert!(!alive(pid), "{pid} outlived its parent");
        assert!(
            took < Duration::from_secs(1),
            "{pid} took {took:?} to notice"
        );
        eprintln!("orphan {pid} ended {took:?} after its parent's SIGKILL");
    }
}

#[test]
fn a_forked_child_that_drops_its_copy_of_a_pipe_or_queue_leaves_the_parent_s_alone() {
    let (mut a, mut b) = process::pipe::<u32, u32>().unwrap();
    let q = process::Queue::<u32>::new(4).unwrap();
    let quiet = Options {
        output: Output::Discard,
        warn: false,
        ..Options::default()
    };
    let mut child = process::fork_with(
        || {
            // Safety: each copy is dropped once, here in the child, which never uses it again.
            unsafe {
                drop(std::ptr::read(&a));
                drop(std::ptr::read(&b));
                drop(std::ptr::read(&q));
            }
        },
        &quiet,
    )
    .unwrap();
    child.join(SEC).unwrap();
    a.send(&5, SEC).unwrap();
    assert_eq!(b.recv(SEC).unwrap(), 5);
    q.put(&6, SEC).unwrap();
    assert_eq!(q.get(SEC).unwrap(), 6);
}
