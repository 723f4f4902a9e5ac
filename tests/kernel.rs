//! The "Rust (parlab)" kernel (`parlab kernel`) as Jupyter runs it: real kernel processes started
//! through jupyter_client (tests/fixtures/kernels.py), each test with its own slot folder, each under
//! a time limit. Needs `cargo run --release -- setup` first (`parlab test` does it).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One scenario at a time: kernels compile, and two scenarios at once would share 2 cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh folder for one test under cargo's scratch space.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("kernel")
        .join(name);
    if dir.exists() {
        // A read-only leftover of an interrupted run must not stop this one.
        let _ = Command::new("chattr")
            .arg("-R")
            .arg("-i")
            .arg(&dir)
            .output();
        let _ = Command::new("chmod")
            .arg("-R")
            .arg("u+w")
            .arg(&dir)
            .output();
        std::fs::remove_dir_all(&dir).expect("could not clear the scratch folder");
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs a command, killing it when it outlives `limit`; the output says what happened.
fn run_limited(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("could not start the command");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout.read_to_end(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            // SIGTERM first: the scenario script shuts its kernels down on it.
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            std::thread::sleep(Duration::from_secs(5));
            let _ = child.kill();
            let status = child.wait().unwrap();
            let said = String::from_utf8_lossy(&out.join().unwrap()).into_owned()
                + &String::from_utf8_lossy(&err.join().unwrap());
            panic!("{cmd:?} took over {limit:?} and was stopped ({status}):\n{said}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Runs one scenario of tests/fixtures/kernels.py; it fails the test with the scenario's output.
fn scenario(name: &str, limit: Duration) {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let python = root().join(".venv/bin/python");
    assert!(
        python.is_file(),
        "no .venv: run `cargo run --release -- setup` first"
    );
    let work = scratch(name);
    let out = run_limited(
        Command::new(python)
            .arg(root().join("tests/fixtures/kernels.py"))
            .arg(name)
            .arg("--parlab")
            .arg(env!("CARGO_BIN_EXE_parlab"))
            .arg("--base")
            .arg(work.join("slots"))
            .arg("--work")
            .arg(&work),
        limit,
    );
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{said}");
    assert!(
        out.status.success() && said.contains("\nok"),
        "scenario {name} failed ({}):\n{said}",
        out.status
    );
}

#[test]
fn two_kernels_at_once_get_two_slots_and_clean_keeps_them_while_in_use() {
    scenario("two-at-once", Duration::from_secs(240));
}

#[test]
fn ten_kernels_ended_by_shutdown_sigkill_and_kill_leave_no_stale_lock() {
    scenario("cycles", Duration::from_secs(300));
}

#[test]
fn a_second_kernel_starts_with_a_copy_of_the_warm_slot() {
    scenario("seeded", Duration::from_secs(900));
}

/// JupyterLab's nudge on channels it closes before evcxr is ready must not end the kernel (it
/// did: "Codec Error: Broken pipe" on the control channel, without the parlab patch of evcxr).
#[test]
fn a_kernel_nudged_while_starting_lives_and_answers() {
    scenario("nudged", Duration::from_secs(600));
}

/// parlab's evcxr patch: a cell takes only the variables it names out of evcxr's store; the
/// others keep their values through cells that panic or fail to compile.
#[test]
fn variables_a_cell_does_not_name_stay_in_the_store_unchanged() {
    scenario("untouched", Duration::from_secs(600));
}

/// parlab's evcxr patch: rust-analyzer analyses the crates of a new Cargo.toml on a thread of its
/// own (`ra-warm-up`), and the cells after `:dep` still get their variables typed.
#[test]
fn cells_after_dep_keep_their_variables_while_the_analysis_runs_in_the_background() {
    scenario("typed", Duration::from_secs(900));
}

#[test]
fn a_slot_deleted_under_a_running_kernel_is_rebuilt() {
    scenario("deleted", Duration::from_secs(180));
}

#[test]
fn an_unusable_slot_folder_falls_back_to_a_temporary_one_with_one_note() {
    scenario("fallback", Duration::from_secs(240));
}

/// Without evcxr_jupyter the kernel says so in one line, naming the fix.
#[test]
fn missing_evcxr_is_one_clear_line() {
    let work = scratch("no-evcxr");
    let connection = work.join("kernel.json");
    std::fs::write(&connection, "{}").unwrap();
    let out = run_limited(
        Command::new(env!("CARGO_BIN_EXE_parlab"))
            .args(["kernel", "--connection-file"])
            .arg(&connection)
            .env("PATH", "/usr/bin:/bin")
            .env("CARGO_HOME", work.join("no-cargo-home"))
            .env("HOME", &work)
            .env("PARLAB_KERNEL_DIR", work.join("slots")),
        Duration::from_secs(20),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started without evcxr: {stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "want one line: {stderr}");
    assert!(
        stderr.contains("evcxr_jupyter is not installed") && stderr.contains("setup"),
        "{stderr}"
    );
    assert!(
        !work.join("slots").exists(),
        "a slot was leased for a kernel that cannot start"
    );
}

/// A missing connection file is one line too (Jupyter always passes one; a person may not).
#[test]
fn missing_connection_file_is_one_clear_line() {
    let work = scratch("no-connection-file");
    let out = run_limited(
        Command::new(env!("CARGO_BIN_EXE_parlab"))
            .args(["kernel", "--connection-file"])
            .arg(work.join("absent.json"))
            .env("PARLAB_KERNEL_DIR", work.join("slots")),
        Duration::from_secs(20),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("evcxr_jupyter is not installed") {
        panic!("evcxr_jupyter is missing: run `cargo run --release -- setup` first");
    }
    assert!(!out.status.success(), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "want one line: {stderr}");
    assert!(
        stderr.contains("no connection file at") && stderr.contains("absent.json"),
        "{stderr}"
    );
}

/// The lessons open in the parlab kernel (their metadata names it), in the Rust language.
#[test]
fn every_lesson_selects_the_parlab_kernel() {
    for entry in std::fs::read_dir(root().join("notebooks")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "ipynb") {
            continue;
        }
        let nb: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let spec = &nb["metadata"]["kernelspec"];
        assert_eq!(spec["name"], "parlab", "{}: {spec}", path.display());
        assert_eq!(spec["display_name"], "Rust (parlab)", "{}", path.display());
        assert_eq!(spec["language"], "rust", "{}", path.display());
    }
}

/// Setup's last step leaves a slot holding a build, in which a lesson's `:dep parlab` is quick;
/// a second setup sees it and does nothing.
#[test]
fn setup_warms_a_slot_once() {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let work = scratch("warm-up");
    let slots = work.join("slots");
    let setup = || {
        run_limited(
            Command::new(env!("CARGO_BIN_EXE_parlab"))
                .arg("setup")
                .env("PARLAB_KERNEL_DIR", &slots),
            Duration::from_secs(900),
        )
    };
    let out = setup();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let step = said
        .lines()
        .find(|l| l.contains("a warm kernel slot") && l.contains("installed"))
        .unwrap_or_else(|| panic!("setup did not warm a slot:\n{said}"));
    assert!(step.contains("holds a build"), "{step}");
    assert!(slots.join("slot-1").join("target").is_dir());
    let again = String::from_utf8_lossy(&setup().stdout).into_owned();
    assert!(
        again
            .lines()
            .any(|l| l.contains("a warm kernel slot") && l.contains(": ok,")),
        "{again}"
    );
}
