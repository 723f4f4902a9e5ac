//! Cell tasks (`parlab::cell_task!`): in a program they fail with a clear message; in the real
//! kernel (tests/fixtures/cell_task.ipynb) they run in spawned workers and pools, follow
//! redefinitions, and report a missing library, a missing symbol and an ABI mismatch.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use parlab::process::cell::{self, NOT_IN_A_CELL};
use parlab::process::{self, Options, Output, ProcessError, Signature, Task, TaskId, tasks};

mod common;

fn square(x: u64) -> u64 {
    x * x
}

fn add(a: u64, b: u64) -> u64 {
    a + b
}

/// Options pointing at the worker cargo built for this test run.
fn opts() -> Options {
    common::worker_options(Output::Capture, "t")
}

#[test]
fn in_a_program_the_task_names_the_executable() {
    let task = parlab::cell_task!(square);
    let TaskId::Library { path, symbol } = task.id() else {
        panic!("{task:?}")
    };
    assert_eq!(
        path,
        &std::env::current_exe().unwrap().canonicalize().unwrap()
    );
    assert!(symbol.starts_with("parlab_task_v2_square__"), "{symbol}");
    assert_eq!(task.to_string(), "square");
    assert_eq!(
        task.signature_text(),
        "u64 -> u64",
        "one parameter: the task takes the value"
    );
    assert_eq!(
        parlab::cell_task!(add).signature_text(),
        "(u64, u64) -> u64"
    );
    assert_eq!(square(3), 9, "the function itself is untouched");
}

#[test]
fn in_a_program_a_spawned_cell_task_fails_with_what_to_do_instead() {
    let mut w = process::spawn_with(parlab::cell_task!(square), &7, &opts()).unwrap();
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
    let e = tasks::run_here(&parlab::cell_task!(square), &7).unwrap_err();
    assert!(format!("{e:?}").contains(NOT_IN_A_CELL), "{e:?}");
}

#[test]
fn a_missing_library_or_symbol_is_an_error_not_a_crash() {
    let nolib: Task<(), ()> =
        Task::library("/nonexistent/libcode_1.so", "parlab_task_v2_square__1_1");
    let e = format!("{:?}", tasks::run_here(&nolib, &()).unwrap_err());
    assert!(e.contains("cannot read /nonexistent/libcode_1.so"), "{e}");
    // The C library loads fine but has no such entry point.
    fn abs(x: i32) -> i32 {
        x.abs()
    }
    let in_libc = cell::task_for(&abs, libc::abs as *const std::ffi::c_void, "x");
    let TaskId::Library { path, .. } = in_libc.id() else {
        panic!()
    };
    let nosym: Task<(), ()> = Task::library(path.clone(), "parlab_task_v2_square__1_1");
    let e = format!("{:?}", tasks::run_here(&nosym, &()).unwrap_err());
    assert!(
        e.contains("has no entry point `parlab_task_v2_square__1_1`"),
        "{e}"
    );
    // A symbol that is not an entry point is never called, nor one of another ABI version.
    let not_entry: Task<(), ()> = Task::library("/nonexistent", "abs");
    let e = format!("{:?}", tasks::run_here(&not_entry, &()).unwrap_err());
    assert!(e.contains("is not a cell task's entry point"), "{e}");
    let old_abi: Task<(), ()> = Task::library(path.clone(), "parlab_task_square__1_1");
    let e = format!("{:?}", tasks::run_here(&old_abi, &()).unwrap_err());
    assert!(
        e.contains("another version of parlab's cell-task ABI"),
        "{e}"
    );
}

/// Calls the entry point's body (`cell::__serve`) the way the loader does, collecting the reply.
fn serve(abi: u32, signature: Signature, args: &[u8], count: usize) -> (i32, Vec<u8>) {
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
            signature.args,
            signature.result,
            args.as_ptr(),
            args.len(),
            count,
            (&raw mut out).cast(),
            collect,
        )
    };
    (status, out)
}

/// One argument as the loader sends it: a length, then the encoded value.
fn one_arg<T: serde::Serialize>(value: &T) -> Vec<u8> {
    let bytes = postcard::to_stdvec(value).unwrap();
    let mut run = vec![bytes.len() as u8];
    run.extend_from_slice(&bytes);
    run
}

#[test]
fn the_entry_point_checks_the_abi_the_signature_and_the_arguments() {
    let right = Signature::of::<u64, u64>();
    let (status, out) = serve(cell::ABI_VERSION, right, &one_arg(&7u64), 1);
    assert_eq!(status, cell::OK);
    // One outcome: its length, Ok (0), then 49.
    assert_eq!(out, [2, 0, 49]);
    let (status, out) = serve(cell::ABI_VERSION + 1, right, &one_arg(&7u64), 1);
    assert_eq!(status, cell::ABI_MISMATCH);
    assert_eq!(out, cell::ABI_VERSION.to_string().as_bytes());
    // i32 arguments where the function takes u64: refused before anything is decoded.
    let (status, out) = serve(
        cell::ABI_VERSION,
        Signature::of::<i32, u64>(),
        &one_arg(&7i32),
        1,
    );
    assert_eq!(status, cell::WRONG_SIGNATURE);
    // The refusal carries the function's traced types, for the caller to name what differs.
    match postcard::from_bytes::<tasks::TaskFailure>(&out).unwrap() {
        tasks::TaskFailure::WrongSignature { worker, shapes, .. } => {
            assert_eq!(worker, "u64 -> u64");
            let here = parlab::process::Types::of::<i32, u64>();
            assert_eq!(
                here.differences(shapes.as_deref()),
                ["the argument: u64 in the worker, i32 here"]
            );
        }
        other => panic!("{other:?}"),
    }
    // Two values in one argument: bytes left over are that call's error, not a value.
    let (status, out) = serve(cell::ABI_VERSION, right, &one_arg(&(7u64, 7u64)), 1);
    assert_eq!(status, cell::OK);
    assert!(
        String::from_utf8_lossy(&out).contains("left over"),
        "{out:?}"
    );
    let (status, _) = serve(cell::ABI_VERSION, right, &one_arg(&7u64), 2);
    assert_eq!(
        status,
        cell::BAD_ARGS,
        "a count that does not match the arguments"
    );
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
