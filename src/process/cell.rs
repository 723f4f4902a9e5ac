//! Cell tasks: a function written in a notebook cell, run by spawned workers.
//!
//! Python cannot send a function defined in a notebook to a *spawn* worker: the child imports
//! `__main__`, which is not the notebook, and fails with
//! `AttributeError: Can't get attribute 'square' on <module '__main__' (built-in)>`.
//!
//! evcxr compiles each cell to a shared library (`.../libcode_N.so`) that stays on disk while the
//! kernel runs. [`cell_task!(f)`](crate::cell_task) exports, from the cell where it is written, an
//! entry point with a C signature ([`EntryPoint`]) that calls `f`, finds the library that holds it
//! (with `dladdr`) and returns a typed [`Task`] that names it. The worker loads that library (once
//! per path), looks the entry point up, and calls it: the entry point checks the caller's
//! [`Signature`] against the function's, decodes the arguments, runs the function (catching a
//! panic), and hands the encoded results back through a callback, so no allocation crosses the
//! library boundary. A later cell that redefines the function is compiled into a new library, so the
//! workers run the new version.
//!
//! In a normal program the function lives in the executable, which the worker cannot load: the
//! task then fails with a message that says to register a named task instead ([`NOT_IN_A_CELL`]).
//!
//! # Examples
//! ```no_run
//! // In a notebook (the worker must load the cell's library: evcxr only):
//! fn square(x: u64) -> u64 { x * x }
//! let mut w = parlab::process::spawn(parlab::cell_task!(square), &7)?;
//! assert_eq!(w.join(std::time::Duration::from_secs(5))?, 49);
//! # Ok::<(), parlab::process::ProcessError>(())
//! ```

use std::ffi::c_void;
#[cfg(unix)]
use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
#[cfg(unix)]
use std::sync::Mutex;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use super::task::SYMBOL_PREFIX;
use super::task::{Signature, Task, TaskId, Types, task_name};
use super::wire::{TaskFailure, check_signature, serve_items};

#[doc(hidden)]
/// The version of the calling convention between a worker and a cell task's entry point.
pub const ABI_VERSION: u32 = 2;

/// What every entry point's symbol has started with, in every ABI version.
const ANY_ABI_PREFIX: &str = "parlab_task_";

/// What a cell task says when it is run from a program rather than a notebook cell.
pub const NOT_IN_A_CELL: &str = "cell tasks run only from a notebook cell (evcxr), whose library a \
     worker can load; this one is compiled into an executable, which cannot be loaded: in a \
     program, register a named task in parlab::process::tasks::TASKS, or use process::fork";

/// What every misuse of [`cell_task!`](crate::cell_task) is told.
pub const WHAT_A_CELL_TASK_IS: &str = "a cell task is a named, non-generic fn written in a notebook \
     cell, taking owned, serializable arguments (no references) and returning a serializable value: \
     `fn square(x: u64) -> u64 { x * x }`, then `parlab::cell_task!(square)`";

/// The callback through which an entry point hands bytes back: `(ctx, ptr, len)`.
pub type WriteBack = extern "C" fn(ctx: *mut c_void, ptr: *const u8, len: usize);

/// The C signature of a cell task's entry point:
/// `(abi, signature_args, signature_result, args_ptr, args_len, count, ctx, write_back)`, returning
/// a status ([`OK`], [`BAD_ARGS`], [`WRONG_SIGNATURE`], [`ABI_MISMATCH`]).
///
/// The arguments are a run of `count` length-prefixed encoded values; on [`OK`] the entry point
/// writes back one encoded `Result<R, TaskFailure>` per argument, as a run of the same kind.
pub type EntryPoint = unsafe extern "C" fn(
    abi: u32,
    signature_args: u64,
    signature_result: u64,
    args_ptr: *const u8,
    args_len: usize,
    count: usize,
    ctx: *mut c_void,
    write_back: WriteBack,
) -> i32;

#[doc(hidden)]
/// Status: the outcomes were written back.
pub const OK: i32 = 0;
#[doc(hidden)]
/// Status: the request was corrupt; the message was written back.
pub const BAD_ARGS: i32 = 1;
#[doc(hidden)]
/// Status: the caller's signature is not the function's (or a type could not be traced); the
/// refusal, a postcard [`TaskFailure::WrongSignature`] with the function's traced types, was
/// written back.
pub const WRONG_SIGNATURE: i32 = 2;
#[doc(hidden)]
/// Status: the caller speaks another [`ABI_VERSION`]; the entry point's version was written back.
pub const ABI_MISMATCH: i32 = 4;

/// The [`Task`] that runs the function `f`, written in a notebook cell, in spawned workers and
/// process pools; its argument and result types are `f`'s.
///
/// Write the function as usual at the top of a cell; where a task is expected, write
/// `parlab::cell_task!(f)`. The task takes the tuple `(a, b, ...)` of the function's parameters
/// (one parameter: just the value; up to 6), each owned and `serde::Deserialize`, and gives its
/// result, `serde::Serialize`. So `pool.map(parlab::cell_task!(hits), args, None)` is checked by
/// the compiler like a call of `hits` itself.
///
/// What is refused, with [`WHAT_A_CELL_TASK_IS`] or a compile error naming the bound (for a
/// reference parameter: "`&[u64]: DeserializeOwned` is not satisfied"): a closure
/// (it captures values the worker does not have: use `process::fork` for closures), a path such as
/// `pi::calc_pi` (the library's own tasks are in [`tasks`](super::tasks)), a generic function, a
/// function taking a reference.
///
/// The macro defines, at its call site, an entry point exported from the cell's library as
/// `parlab_task_v2_f__LINE_COLUMN`, and returns a handle naming that library (found with `dladdr`)
/// and symbol. Each cell is a new library, so a task made after the function was redefined runs
/// the new version. In a program (not a notebook cell) the function lives in the executable, which
/// a worker cannot load: the task fails with [`NOT_IN_A_CELL`].
///
/// # Examples
/// ```no_run
/// // no_run: a worker loads a notebook cell's library, not this doctest's executable.
/// use std::time::Duration;
/// use parlab::process;
/// fn square(x: u64) -> u64 { x * x }
/// fn add(a: u64, b: u64) -> u64 { a + b }
/// let mut w = process::spawn(parlab::cell_task!(square), &7)?;
/// assert_eq!(w.join(Duration::from_secs(5))?, 49);
/// let mut w = process::spawn(parlab::cell_task!(add), &(2, 3))?;
/// assert_eq!(w.join(Duration::from_secs(5))?, 5);
/// # Ok::<(), process::ProcessError>(())
/// ```
///
/// Misuse does not compile:
/// ```compile_fail
/// let t = parlab::cell_task!(|x: u64| x * x); // a closure
/// ```
/// ```compile_fail
/// let t = parlab::cell_task!(parlab::pi::calc_pi); // a path: use parlab::process::tasks::CALC_PI
/// ```
/// ```compile_fail
/// fn total(v: &[u64]) -> u64 { v.iter().sum() } // takes a reference
/// let t = parlab::cell_task!(total);
/// ```
#[macro_export]
#[rustfmt::skip] // rustfmt re-indents the multi-line attribute below on every run
macro_rules! cell_task {
    (| $($rest:tt)*) => {
        ::std::compile_error!(concat!(
            "cell_task! takes a function's name, not a closure: a closure captures values a worker \
             process does not have (use process::fork for closures). ",
            "A cell task is a named, non-generic fn written in a notebook cell, taking owned, \
             serializable arguments: `fn square(x: u64) -> u64 { x * x }`, then `parlab::cell_task!(square)`"
        ))
    };
    (move $($rest:tt)*) => {
        $crate::cell_task!(| closure)
    };
    ($f:ident) => {{
        #[unsafe(export_name = concat!(
            "parlab_task_v2_", stringify!($f), "__", line!(), "_", column!()
        ))]
        unsafe extern "C" fn entry(
            abi: u32,
            signature_args: u64,
            signature_result: u64,
            args_ptr: *const u8,
            args_len: usize,
            count: usize,
            ctx: *mut ::std::ffi::c_void,
            write_back: $crate::process::cell::WriteBack,
        ) -> i32 {
            // Safety: the caller (parlab's loader) passes `args_len` readable bytes at
            // `args_ptr`, and a `write_back` that accepts `ctx`.
            unsafe {
                $crate::process::cell::__serve(
                    $f, abi, signature_args, signature_result, args_ptr, args_len, count, ctx,
                    write_back,
                )
            }
        }
        $crate::process::cell::task_for(
            &$f,
            entry as *const ::std::ffi::c_void,
            concat!(
                "parlab_task_v2_",
                stringify!($f),
                "__",
                line!(),
                "_",
                column!()
            ),
        )
    }};
    ($($path:tt)*) => {
        ::std::compile_error!(concat!(
            "cell_task!(", stringify!($($path)*), "): give the name of a function defined in this \
             notebook, like `cell_task!(square)`. For the library's own functions, use the typed \
             tasks in parlab::process::tasks (calc_pi is tasks::CALC_PI). ",
            "A cell task is a named, non-generic fn written in a notebook cell, taking owned, \
             serializable arguments."
        ))
    };
}

/// A function a cell task can be made of: `Fn(A, B, ...) -> R` with up to 6 owned, serializable
/// parameters. The task takes [`Args`](CellFn::Args): the parameter itself for one parameter, the
/// tuple `(a, b, ...)` of them for more, `()` for none.
///
/// `Params` is the tuple of the parameters, which tells the impls for each arity apart.
///
/// # Examples
/// ```
/// use parlab::process::cell::CellFn;
/// fn add(a: u64, b: u64) -> u64 { a + b }
/// fn square(x: u64) -> u64 { x * x }
/// assert_eq!(CellFn::call(&add, (2, 3)), 5);
/// assert_eq!(CellFn::call(&square, 7), 49);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a cell task",
    label = "not a named, non-generic fn of owned, serializable arguments",
    note = "a cell task is a named, non-generic fn written in a notebook cell, taking owned, serializable arguments (no references) and returning a serializable value"
)]
pub trait CellFn<Params> {
    /// What the task takes: the one parameter, or the tuple of them.
    type Args;
    /// What the function returns.
    type Output;
    /// Calls it with its arguments.
    fn call(&self, args: Self::Args) -> Self::Output;
}

impl<F: Fn() -> R, R> CellFn<()> for F {
    type Args = ();
    type Output = R;
    fn call(&self, (): ()) -> R {
        self()
    }
}

impl<F: Fn(A) -> R, R, A> CellFn<(A,)> for F {
    type Args = A;
    type Output = R;
    fn call(&self, a: A) -> R {
        self(a)
    }
}

macro_rules! cell_fn_impls {
    ($(($($a:ident),*)),*) => {$(
        impl<F, R, $($a),*> CellFn<($($a,)*)> for F
        where
            F: Fn($($a),*) -> R,
        {
            type Args = ($($a,)*);
            type Output = R;
            #[allow(non_snake_case)]
            fn call(&self, ($($a,)*): ($($a,)*)) -> R {
                self($($a),*)
            }
        }
    )*};
}

cell_fn_impls!(
    (A, B),
    (A, B, C),
    (A, B, C, D),
    (A, B, C, D, E),
    (A, B, C, D, E, G)
);

/// The typed handle on the entry point at `entry` for the function `f`: `dladdr` says which file
/// holds the entry point; the types are `f`'s.
///
/// [`cell_task!`](crate::cell_task) calls this; a path that cannot be found is left empty, and
/// running the task then says so.
///
/// # Examples
/// ```
/// use parlab::process::{TaskId, cell};
/// fn abs(x: i32) -> i32 { x.abs() }
/// // `libc::abs` lives in the C library, which dladdr names:
/// let task = cell::task_for(&abs, libc::abs as *const std::ffi::c_void, "abs");
/// assert!(matches!(task.id(), TaskId::Library { path, .. } if path.to_string_lossy().contains("libc")));
/// assert_eq!(task.signature_text(), "i32 -> i32");
/// ```
// dladdr compares the address with the loader's tables; it never reads through the pointer.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn task_for<F, P>(_f: &F, entry: *const c_void, symbol: &str) -> Task<F::Args, F::Output>
where
    F: CellFn<P>,
    F::Args: Serialize + DeserializeOwned,
    F::Output: Serialize + DeserializeOwned,
{
    Task::from_id(library_of(entry, symbol))
}

/// The [`TaskId::Library`] of the entry point at `entry`: no loader to ask where there is no Unix
/// (the path stays empty, and running the task says why).
#[cfg(not(unix))]
fn library_of(_entry: *const c_void, symbol: &str) -> TaskId {
    TaskId::Library {
        path: PathBuf::new(),
        symbol: symbol.to_string(),
    }
}

/// The [`TaskId::Library`] of the entry point at `entry`.
#[cfg(unix)]
fn library_of(entry: *const c_void, symbol: &str) -> TaskId {
    // Safety: dladdr only reads the loader's tables and writes into `info`, a zeroed struct owned
    // here; `dli_fname`, when set, points to a NUL-terminated string owned by the loader that
    // lives as long as the library, and we copy it at once.
    let path = unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        if libc::dladdr(entry, &mut info) != 0 && !info.dli_fname.is_null() {
            let name = CStr::from_ptr(info.dli_fname)
                .to_string_lossy()
                .into_owned();
            PathBuf::from(name)
        } else {
            PathBuf::new()
        }
    };
    let path = std::fs::canonicalize(&path).unwrap_or(path);
    TaskId::Library {
        path,
        symbol: symbol.to_string(),
    }
}

/// Called by [`cell_task!`]'s entry point: checks the ABI and the caller's signature against
/// `f`'s, then serves the chunk (each argument decoded strictly, each panic caught quietly) and
/// writes the outcomes (or the error text) back.
///
/// # Safety
/// `args_ptr` must point to `args_len` readable bytes (or `args_len` be 0), and `write_back` must
/// accept `ctx`.
#[doc(hidden)]
#[allow(clippy::too_many_arguments)]
pub unsafe fn __serve<F, P>(
    f: F,
    abi: u32,
    signature_args: u64,
    signature_result: u64,
    args_ptr: *const u8,
    args_len: usize,
    count: usize,
    ctx: *mut c_void,
    write_back: WriteBack,
) -> i32
where
    F: CellFn<P>,
    F::Args: DeserializeOwned + 'static,
    F::Output: Serialize + DeserializeOwned + 'static,
{
    let name = std::any::type_name::<F>();
    let name = name.rsplit("::").next().unwrap_or(name);
    let own = Types::of::<F::Args, F::Output>();
    let caller = Signature {
        args: signature_args,
        result: signature_result,
    };
    let serve = |args: &[u8]| serve_items(name, args, count, |a| f.call(a));
    // Safety: passed on as the caller gave them.
    unsafe {
        serve_checked(
            abi, caller, name, own, args_ptr, args_len, ctx, write_back, &serve,
        )
    }
}

/// Runs a cell task's function on each argument of a chunk: its outcomes, or why the chunk is
/// refused.
type Serve<'a> = dyn Fn(&[u8]) -> Result<Vec<u8>, TaskFailure> + 'a;

/// [`__serve`] but for running the function on the arguments (`serve`): the ABI and signature
/// checks, the arguments' bytes, the reply. Non-generic, so that each `cell_task!` compiles only
/// its function's part.
///
/// # Safety
/// As [`__serve`].
#[inline(never)]
#[allow(clippy::too_many_arguments)]
unsafe fn serve_checked(
    abi: u32,
    caller: Signature,
    name: &str,
    own: Types,
    args_ptr: *const u8,
    args_len: usize,
    ctx: *mut c_void,
    write_back: WriteBack,
    serve: &Serve<'_>,
) -> i32 {
    let reply = |bytes: &[u8]| write_back(ctx, bytes.as_ptr(), bytes.len());
    if abi != ABI_VERSION {
        reply(ABI_VERSION.to_string().as_bytes());
        return ABI_MISMATCH;
    }
    if let Err(refusal) = check_signature(name, caller, own) {
        // The refusal with the function's traced types, for the caller to name what differs
        // (an entry point of an older parlab wrote back the signature's text alone).
        match crate::process::encode(&refusal) {
            Ok(bytes) => reply(&bytes),
            Err(_) => reply(own.text().as_bytes()),
        }
        return WRONG_SIGNATURE;
    }
    let args = if args_len == 0 {
        &[][..]
    } else {
        // Safety: the caller guarantees `args_len` readable bytes at `args_ptr`.
        unsafe { std::slice::from_raw_parts(args_ptr, args_len) }
    };
    match serve(args) {
        Ok(out) => {
            reply(&out);
            OK
        }
        Err(failure) => {
            let message = match failure {
                TaskFailure::BadArgs { message, .. } => message,
                other => format!("{other:?}"),
            };
            reply(message.as_bytes());
            BAD_ARGS
        }
    }
}

/// A library loaded by [`run`]: its `dlopen` handle (an address, so that it can sit in a static).
#[cfg(unix)]
#[derive(Clone, Copy)]
struct Handle(usize);

/// Libraries loaded so far, by path. They are never closed: a task may still run from one, and
/// unloading Rust code with thread-local destructors is unsound.
#[cfg(unix)]
static LOADED: Mutex<Vec<(PathBuf, Handle)>> = Mutex::new(Vec::new());

/// Runs a chunk of a cell task: loads the library at `path` (once), finds `symbol`, calls it.
pub(crate) fn run(
    path: &Path,
    symbol: &str,
    signature: Signature,
    args: &[u8],
    count: usize,
) -> Result<Vec<u8>, TaskFailure> {
    let name = task_name(symbol);
    let entry = find(path, symbol).map_err(|why| unavailable(name, &why))?;
    let mut out: Vec<u8> = Vec::new();
    extern "C" fn collect(ctx: *mut c_void, ptr: *const u8, len: usize) {
        // Safety: `ctx` is the `&mut Vec<u8>` passed below, alive for the call; the entry point
        // passes `len` readable bytes at `ptr`.
        unsafe {
            let out = &mut *ctx.cast::<Vec<u8>>();
            if len > 0 {
                out.extend_from_slice(std::slice::from_raw_parts(ptr, len));
            }
        }
    }
    // Safety: `entry` is a `parlab_task_*` symbol, which `cell_task!` defines with the
    // `EntryPoint` signature; the pointers stay valid for the call, and the entry point catches
    // panics, so none unwinds across the C boundary.
    let status = unsafe {
        entry(
            ABI_VERSION,
            signature.args,
            signature.result,
            args.as_ptr(),
            args.len(),
            count,
            (&raw mut out).cast::<c_void>(),
            collect,
        )
    };
    let text = || String::from_utf8_lossy(&out).into_owned();
    match status {
        OK => Ok(out),
        BAD_ARGS => Err(TaskFailure::BadArgs {
            task: name.to_string(),
            message: text(),
        }),
        WRONG_SIGNATURE => Err(match crate::process::decode::<TaskFailure>(&out) {
            Ok(TaskFailure::WrongSignature { worker, shapes, .. }) => TaskFailure::WrongSignature {
                task: name.to_string(),
                worker,
                shapes,
            },
            _ => TaskFailure::WrongSignature {
                task: name.to_string(),
                worker: text(),
                shapes: None,
            },
        }),
        ABI_MISMATCH => Err(unavailable(
            name,
            &format!(
                "it was built with parlab's cell-task ABI {}, this worker speaks {ABI_VERSION}: rebuild \
                 the worker (`cargo build --release --bins`) and restart the kernel",
                text()
            ),
        )),
        other => Err(unavailable(
            name,
            &format!("its entry point returned an unknown status {other}"),
        )),
    }
}

/// A cell task that cannot run, with why.
fn unavailable(name: &str, why: &str) -> TaskFailure {
    TaskFailure::Unavailable {
        task: format!("{name} (cell task)"),
        message: why.to_owned(),
    }
}

/// The entry point `symbol` in the library at `path`: cell tasks load the cell's library with
/// `dlopen`, which needs Unix.
#[cfg(not(unix))]
fn find(_path: &Path, _symbol: &str) -> Result<EntryPoint, String> {
    Err(format!("a cell task {}", super::UNSUPPORTED))
}

/// The entry point `symbol` in the library at `path`, loading it if needed.
#[cfg(unix)]
fn find(path: &Path, symbol: &str) -> Result<EntryPoint, String> {
    if !symbol.starts_with(SYMBOL_PREFIX) && symbol.starts_with(ANY_ABI_PREFIX) {
        return Err(format!(
            "`{symbol}` was built with another version of parlab's cell-task ABI than this \
             worker's {ABI_VERSION}: rebuild the worker (`cargo build --release --bins`) and \
             restart the kernel"
        ));
    }
    if !symbol.starts_with(SYMBOL_PREFIX) {
        return Err(format!(
            "`{symbol}` is not a cell task's entry point (those start with `{SYMBOL_PREFIX}`)"
        ));
    }
    let handle = load(path)?;
    let c_symbol = CString::new(symbol).map_err(|_| format!("bad symbol name {symbol:?}"))?;
    // Safety: `handle` came from a successful dlopen and is never closed; dlsym only reads.
    let address = unsafe { libc::dlsym(handle.0 as *mut c_void, c_symbol.as_ptr()) };
    if address.is_null() {
        return Err(format!(
            "{} has no entry point `{symbol}` (make the task with `parlab::cell_task!(f)` in a notebook cell)",
            path.display()
        ));
    }
    // Safety: a `parlab_task_*` symbol is a function that `cell_task!` defined with the
    // `EntryPoint` signature (the ABI version it checks guards against other versions).
    Ok(unsafe { std::mem::transmute::<*mut c_void, EntryPoint>(address) })
}

/// Loads the library at `path` once (RTLD_NOW | RTLD_LOCAL), refusing executables.
#[cfg(unix)]
fn load(path: &Path) -> Result<Handle, String> {
    let mut loaded = LOADED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, handle)) = loaded.iter().find(|(p, _)| p == path) {
        return Ok(*handle);
    }
    if path.as_os_str().is_empty() {
        return Err("the library that holds it could not be found (dladdr failed)".into());
    }
    let kind = elf_kind(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if kind == ElfKind::Executable {
        return Err(format!(
            "{} is an executable: {NOT_IN_A_CELL}",
            path.display()
        ));
    }
    use std::os::unix::ffi::OsStrExt;
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| format!("bad library path {}", path.display()))?;
    // Safety: dlopen runs the library's initializers. A cell's library is Rust code evcxr built
    // for this kernel; its initializers are std's and do not rely on the process that loads it.
    let handle = unsafe { libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        // Safety: dlerror returns NULL or a NUL-terminated message valid until the next dl call
        // on this thread; we copy it at once.
        let why = unsafe {
            let e = libc::dlerror();
            if e.is_null() {
                "dlopen failed".to_string()
            } else {
                CStr::from_ptr(e).to_string_lossy().into_owned()
            }
        };
        let hint = if why.contains("executable") {
            format!(": {NOT_IN_A_CELL}")
        } else {
            String::new()
        };
        return Err(format!("cannot load {}: {why}{hint}", path.display()));
    }
    let handle = Handle(handle as usize);
    loaded.push((path.to_path_buf(), handle));
    Ok(handle)
}

/// What an ELF file is, as far as loading it goes.
#[cfg(unix)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ElfKind {
    /// A program (ET_EXEC, or a position-independent one: ET_DYN with an interpreter).
    Executable,
    /// Anything else, left for dlopen to judge.
    Other,
}

/// Reads the ELF headers of `path`: is it a program rather than a library?
///
/// A program is ET_EXEC, or ET_DYN marked `DF_1_PIE` (a position-independent executable; glibc's
/// own `libc.so.6` has an interpreter too, but is no PIE). Not ELF (macOS's Mach-O): `Other`.
#[cfg(unix)]
fn elf_kind(path: &Path) -> std::io::Result<ElfKind> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path)?;
    let read = |offset: u64, len: usize| -> std::io::Result<Vec<u8>> {
        let mut buf = vec![0; len];
        let n = file.read_at(&mut buf, offset)?;
        buf.truncate(n);
        Ok(buf)
    };
    const ET_EXEC: u16 = 2;
    const ET_DYN: u16 = 3;
    const PT_DYNAMIC: u32 = 2;
    const DT_NULL: u64 = 0;
    const DT_FLAGS_1: u64 = 0x6fff_fffb;
    const DF_1_PIE: u64 = 0x0800_0000;
    let h = read(0, 64)?;
    // Only little-endian ELF is examined; anything else is left for dlopen to judge.
    if h.len() < 64 || &h[..4] != b"\x7fELF" || h[5] != 1 {
        return Ok(ElfKind::Other);
    }
    let u16_at = |b: &[u8], o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    let u32_at = |b: &[u8], o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let u64_at = |b: &[u8], o: usize| {
        let mut x = [0; 8];
        x.copy_from_slice(&b[o..o + 8]);
        u64::from_le_bytes(x)
    };
    match u16_at(&h, 16) {
        ET_EXEC => return Ok(ElfKind::Executable),
        ET_DYN if h[4] == 2 => {} // 64-bit: look for DF_1_PIE below
        _ => return Ok(ElfKind::Other),
    }
    let (phoff, phentsize, phnum) = (
        u64_at(&h, 32),
        u16_at(&h, 54) as usize,
        u16_at(&h, 56) as usize,
    );
    if phentsize < 56 {
        return Ok(ElfKind::Other);
    }
    let ph = read(phoff, phentsize * phnum)?;
    for p in ph.chunks_exact(phentsize) {
        if u32_at(p, 0) != PT_DYNAMIC {
            continue;
        }
        let (offset, size) = (u64_at(p, 8), u64_at(p, 32).min(1 << 16) as usize);
        let dynamic = read(offset, size)?;
        for entry in dynamic.chunks_exact(16) {
            match u64_at(entry, 0) {
                DT_NULL => break,
                DT_FLAGS_1 if u64_at(entry, 8) & DF_1_PIE != 0 => return Ok(ElfKind::Executable),
                _ => {}
            }
        }
    }
    Ok(ElfKind::Other)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn elf_kinds() {
        let exe = std::env::current_exe().unwrap();
        assert_eq!(elf_kind(&exe).unwrap(), ElfKind::Executable);
        let text = std::env::temp_dir().join(format!("parlab-not-elf-{}", std::process::id()));
        std::fs::write(&text, "not an elf file at all").unwrap();
        assert_eq!(elf_kind(&text).unwrap(), ElfKind::Other);
        let _ = std::fs::remove_file(&text);
        let libc_path = match library_of(libc::abs as *const c_void, "x") {
            TaskId::Library { path, .. } => path,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            elf_kind(&libc_path).unwrap(),
            ElfKind::Other,
            "{libc_path:?}"
        );
    }
}
