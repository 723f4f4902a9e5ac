//! Cell tasks (`parlab::cell_task!`): in a program they fail with a clear message; in the real
//! kernel (tests/fixtures/cell_task.ipynb) they run in spawned workers and pools, follow
//! redefinitions, and report a missing library, a missing symbol and an ABI mismatch.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use parlab::process::cell::{self, NOT_IN_A_CELL};
use parlab::process::{self, Options, Output, ProcessError, Task, tasks};

fn square(x: u64) -> u64 {
    x * x
}

/// Options pointing at the worker cargo built for this test run.
fn opts() -> Options {
    Options {
        worker: Some(env!("CARGO_BIN_EXE_parlab-worker").into()),
        output: Output::Capture,
        ..Options::named("t")
    }
}

#[test]
fn in_a_program_the_task_names_the_executable() {
    let task = parlab::cell_task!(square);
    let Task::Library { path, symbol } = &task else {
        panic!("{task:?}")
    };
    assert_eq!(
        path,
        &std::env::current_exe().unwrap().canonicalize().unwrap()
    );
    assert!(symbol.starts_with("parlab_task_square__"), "{symbol}");
    assert_eq!(task.to_string(), "square");
    assert_eq!(square(3), 9, "the function itself is untouched");
}

#[test]
fn in_a_program_a_spawned_cell_task_fails_with_what_to_do_instead() {
    let mut w = process::spawn_with::<_, u64>(parlab::cell_task!(square), &7u64, &opts()).unwrap();
    let e = w.join(Duration::from_secs(10)).unwrap_err();
    assert!(matches!(e, ProcessError::TaskUnavailable { .. }), "{e}");
    let said = e.to_string();
    assert!(said.contains("is an executable"), "{said}");
    assert!(said.contains(NOT_IN_A_CELL), "{said}");
    assert!(said.contains("register a named task"), "{said}");
}

#[test]
fn in_a_program_running_it_here_fails_the_same_way() {
    // What a thread pool does: run the task in this process.
    let e = tasks::run(&parlab::cell_task!(square), &[7]).unwrap_err();
    assert!(format!("{e:?}").contains(NOT_IN_A_CELL), "{e:?}");
}

#[test]
fn a_missing_library_or_symbol_is_an_error_not_a_crash() {
    let nolib = Task::Library {
        path: "/nonexistent/libcode_1.so".into(),
        symbol: "parlab_task_square__1_1".into(),
    };
    let e = format!("{:?}", tasks::run(&nolib, &[]).unwrap_err());
    assert!(e.contains("cannot read /nonexistent/libcode_1.so"), "{e}");
    // The C library loads fine but has no such entry point.
    let Task::Library {
        path: libc_path, ..
    } = cell::task_for(libc::abs as *const std::ffi::c_void, "x")
    else {
        panic!()
    };
    let nosym = Task::Library {
        path: libc_path,
        symbol: "parlab_task_square__1_1".into(),
    };
    let e = format!("{:?}", tasks::run(&nosym, &[]).unwrap_err());
    assert!(
        e.contains("has no entry point `parlab_task_square__1_1`"),
        "{e}"
    );
    // A symbol that is not an entry point is never called.
    let not_entry = Task::Library {
        path: "/nonexistent".into(),
        symbol: "abs".into(),
    };
    let e = format!("{:?}", tasks::run(&not_entry, &[]).unwrap_err());
    assert!(e.contains("is not a cell task's entry point"), "{e}");
}

/// Calls the entry point's body (`cell::__serve`) the way the loader does, collecting the reply.
fn serve(abi: u32, args: &[u8]) -> (i32, Vec<u8>) {
    extern "C" fn collect(ctx: *mut std::ffi::c_void, ptr: *const u8, len: usize) {
        // Safety: `ctx` is the `&mut Vec<u8>` below, alive for the call; `ptr` has `len` bytes.
        unsafe { (*ctx.cast::<Vec<u8>>()).extend_from_slice(std::slice::from_raw_parts(ptr, len)) }
    }
    let mut out = Vec::new();
    // Safety: `args` is readable for its length and `collect` accepts `&mut out`.
    let status = unsafe {
        cell::__serve(
            square,
            abi,
            args.as_ptr(),
            args.len(),
            (&raw mut out).cast(),
            collect,
        )
    };
    (status, out)
}

#[test]
fn the_entry_point_checks_the_abi_and_the_arguments() {
    let (status, out) = serve(cell::ABI_VERSION, &postcard::to_stdvec(&7u64).unwrap());
    assert_eq!(status, cell::OK);
    assert_eq!(postcard::from_bytes::<u64>(&out).unwrap(), 49);
    let (status, out) = serve(cell::ABI_VERSION + 1, &[7]);
    assert_eq!(status, cell::ABI_MISMATCH);
    assert_eq!(out, cell::ABI_VERSION.to_string().as_bytes());
    let (status, out) = serve(cell::ABI_VERSION, &[7, 7]);
    assert_eq!(status, cell::BAD_ARGS);
    assert!(String::from_utf8_lossy(&out).contains("left over"));
}

/// Runs tests/fixtures/cell_task.ipynb in the real kernel (every cell asserts what it expects).
#[test]
fn cell_tasks_run_in_the_real_kernel() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_parlab"))
        .current_dir(root)
        .env("PARLAB_WORKER", env!("CARGO_BIN_EXE_parlab-worker"))
        .args(["render", "--no-setup", "--summary", "--out"])
        .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("cell_task"))
        .arg(root.join("tests/fixtures/cell_task.ipynb"))
        .output()
        .expect("could not run parlab");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "the cell-task notebook failed:\n{said}"
    );
}
