//! Cell tasks: a function written in a notebook cell, run by spawned workers.
//!
//! Python cannot send a function defined in a notebook to a *spawn* worker: the child imports
//! `__main__`, which is not the notebook, and fails with
//! `AttributeError: Can't get attribute 'square' on <module '__main__' (built-in)>`.
//!
//! evcxr compiles each cell to a shared library (`.../libcode_N.so`) that stays on disk while the
//! kernel runs. [`cell_task!(f)`](crate::cell_task) exports, from the cell where it is written, an
//! entry point with a C signature ([`EntryPoint`]) that calls `f`, finds the library that holds it
//! (with `dladdr`) and returns a [`Task::Library`]. The worker loads that library (once per path), looks the entry
//! point up, and calls it: it decodes the arguments, runs the function (catching a panic), and
//! hands the encoded result back through a callback, so no allocation crosses the library
//! boundary. A later cell that redefines the function is compiled into a new library, so the
//! workers run the new version.
//!
//! In a normal program the function lives in the executable, which the worker cannot load: the
//! task then fails with a message that says to register a named task instead ([`NOT_IN_A_CELL`]).
//!
//! # Examples
//! ```no_run
//! // In a notebook (the worker must load the cell's library: evcxr only):
//! fn square(x: u64) -> u64 { x * x }
//! let mut w = parlab::process::spawn::<_, u64>(parlab::cell_task!(square), &7u64)?;
//! assert_eq!(w.join(std::time::Duration::from_secs(5))?, 49);
//! # Ok::<(), parlab::process::ProcessError>(())
//! ```

use std::ffi::{CStr, CString, c_void};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::tasks::{Task, TaskFailure};

/// The version of the calling convention between a worker and a cell task's entry point.
///
/// # Examples
/// ```
/// assert!(parlab::process::cell::ABI_VERSION >= 1);
/// ```
pub const ABI_VERSION: u32 = 1;

/// The prefix of every entry point's symbol: `parlab_task_` + the function's name.
///
/// # Examples
/// ```
/// assert_eq!(concat!("parlab_task_", "square"), format!("{}square", parlab::process::cell::SYMBOL_PREFIX));
/// ```
pub const SYMBOL_PREFIX: &str = "parlab_task_";

/// What a cell task says when it is run from a program rather than a notebook cell.
///
/// # Examples
/// ```
/// assert!(parlab::process::cell::NOT_IN_A_CELL.contains("register a named task"));
/// ```
pub const NOT_IN_A_CELL: &str = "cell tasks run only from a notebook cell (evcxr), whose library a \
     worker can load; this one is compiled into an executable, which cannot be loaded: in a \
     program, register a named task in parlab::process::tasks::TASKS, or use process::fork";

/// The callback through which an entry point hands bytes back: `(ctx, ptr, len)`.
pub type WriteBack = extern "C" fn(ctx: *mut c_void, ptr: *const u8, len: usize);

/// The C signature of a cell task's entry point: `(abi, args_ptr, args_len, ctx, write_back)`,
/// returning a status ([`OK`], [`BAD_ARGS`], [`PANICKED`], [`BAD_RESULT`], [`ABI_MISMATCH`]).
pub type EntryPoint = unsafe extern "C" fn(
    abi: u32,
    args_ptr: *const u8,
    args_len: usize,
    ctx: *mut c_void,
    write_back: WriteBack,
) -> i32;

/// Status: the result was written back.
pub const OK: i32 = 0;
/// Status: the arguments did not decode; the message was written back.
pub const BAD_ARGS: i32 = 1;
/// Status: the function panicked; the panic message was written back.
pub const PANICKED: i32 = 2;
/// Status: the result did not encode; the message was written back.
pub const BAD_RESULT: i32 = 3;
/// Status: the caller speaks another [`ABI_VERSION`]; the entry point's version was written back.
pub const ABI_MISMATCH: i32 = 4;

/// The [`Task`](crate::process::Task) that runs the function `f`, written in a notebook cell, in
/// spawned workers and process pools.
///
/// Write the function as usual at the top of a cell; where a task is expected, write
/// `parlab::cell_task!(f)`. The arguments travel as the tuple `(a, b, ...)` of the function's
/// parameters (one parameter: just the value; up to 6), each `serde::Deserialize`, and the result
/// must be `serde::Serialize`. A closure is refused at compile time (it captures values the worker
/// does not have): use `process::fork` for closures.
///
/// The macro defines, at its call site, an entry point exported from the cell's library as
/// `parlab_task_f__LINE_COLUMN`, and returns a [`Task::Library`] naming that library (found with
/// `dladdr`) and symbol. Each cell is a new library, so a task made after the function was
/// redefined runs the new version.
///
/// In a program (not a notebook cell) the function lives in the executable, which a worker cannot
/// load: the task fails with [`NOT_IN_A_CELL`].
///
/// # Examples
/// ```no_run
/// // no_run: a worker loads a notebook cell's library, not this doctest's executable.
/// use std::time::Duration;
/// use parlab::process;
/// fn square(x: u64) -> u64 { x * x }
/// fn add(a: u64, b: u64) -> u64 { a + b }
/// let mut w = process::spawn::<_, u64>(parlab::cell_task!(square), &7u64)?;
/// assert_eq!(w.join(Duration::from_secs(5))?, 49);
/// let mut w = process::spawn::<_, u64>(parlab::cell_task!(add), &(2u64, 3u64))?;
/// assert_eq!(w.join(Duration::from_secs(5))?, 5);
/// # Ok::<(), process::ProcessError>(())
/// ```
#[macro_export]
#[rustfmt::skip] // rustfmt re-indents the multi-line attribute below on every run
macro_rules! cell_task {
    ($f:ident) => {{
        #[unsafe(export_name = concat!(
            "parlab_task_", stringify!($f), "__", line!(), "_", column!()
        ))]
        unsafe extern "C" fn entry(
            abi: u32,
            args_ptr: *const u8,
            args_len: usize,
            ctx: *mut ::std::ffi::c_void,
            write_back: $crate::process::cell::WriteBack,
        ) -> i32 {
            // Safety: the caller (parlab's loader) passes `args_len` readable bytes at
            // `args_ptr`, and a `write_back` that accepts `ctx`.
            unsafe { $crate::process::cell::__serve($f, abi, args_ptr, args_len, ctx, write_back) }
        }
        $crate::process::cell::task_for(
            entry as *const ::std::ffi::c_void,
            concat!(
                "parlab_task_",
                stringify!($f),
                "__",
                line!(),
                "_",
                column!()
            ),
        )
    }};
}

/// A function a cell task can be made of: `Fn(A, B, ...) -> R` with up to 6 parameters, called
/// with the tuple of its arguments.
///
/// # Examples
/// ```
/// use parlab::process::cell::CellFn;
/// fn add(a: u64, b: u64) -> u64 { a + b }
/// assert_eq!(CellFn::call(&add, (2, 3)), 5);
/// ```
pub trait CellFn<Args> {
    /// What the function returns.
    type Output;
    /// Calls it with the tuple of its arguments.
    fn call(&self, args: Args) -> Self::Output;
}

macro_rules! cell_fn_impls {
    ($(($($a:ident),*)),*) => {$(
        impl<F, R, $($a),*> CellFn<($($a,)*)> for F
        where
            F: Fn($($a),*) -> R,
        {
            type Output = R;
            #[allow(non_snake_case)]
            fn call(&self, ($($a,)*): ($($a,)*)) -> R {
                self($($a),*)
            }
        }
    )*};
}

cell_fn_impls!(
    (),
    (A),
    (A, B),
    (A, B, C),
    (A, B, C, D),
    (A, B, C, D, E),
    (A, B, C, D, E, G)
);

/// The [`Task::Library`] whose entry point is at `entry`: `dladdr` says which file holds it.
///
/// [`cell_task!`](crate::cell_task) calls this; a path that cannot be found is left empty, and
/// running the task then says so.
///
/// # Examples
/// ```
/// use parlab::process::{Task, cell};
/// // `libc::abs` lives in the C library, which dladdr names:
/// let task = cell::task_for(libc::abs as *const std::ffi::c_void, "abs");
/// assert!(matches!(task, Task::Library { ref path, .. } if path.to_string_lossy().contains("libc")));
/// ```
// dladdr compares the address with the loader's tables; it never reads through the pointer.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn task_for(entry: *const c_void, symbol: &str) -> Task {
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
    Task::Library {
        path,
        symbol: symbol.to_string(),
    }
}

/// The function's name in a symbol: `parlab_task_square__3_5` -> `square`.
pub(crate) fn task_name(symbol: &str) -> &str {
    let name = symbol.strip_prefix(SYMBOL_PREFIX).unwrap_or(symbol);
    name.rsplit_once("__").map_or(name, |(name, _)| name)
}

/// Called by [`cell_task!`]'s entry point: checks the ABI, decodes the arguments, runs `f` without
/// letting a panic escape, and writes the encoded result (or the error text) back.
///
/// # Safety
/// `args_ptr` must point to `args_len` readable bytes (or `args_len` be 0), and `write_back` must
/// accept `ctx`.
#[doc(hidden)]
pub unsafe fn __serve<F, A>(
    f: F,
    abi: u32,
    args_ptr: *const u8,
    args_len: usize,
    ctx: *mut c_void,
    write_back: WriteBack,
) -> i32
where
    F: CellFn<A>,
    A: DeserializeOwned,
    F::Output: Serialize,
{
    let reply = |bytes: &[u8]| write_back(ctx, bytes.as_ptr(), bytes.len());
    if abi != ABI_VERSION {
        reply(ABI_VERSION.to_string().as_bytes());
        return ABI_MISMATCH;
    }
    let args = if args_len == 0 {
        &[][..]
    } else {
        // Safety: the caller guarantees `args_len` readable bytes at `args_ptr`.
        unsafe { std::slice::from_raw_parts(args_ptr, args_len) }
    };
    let outcome = crate::panics::catch_quietly(|| {
        let (args, rest) = match postcard::take_from_bytes::<A>(args) {
            Ok(decoded) => decoded,
            Err(e) => return (BAD_ARGS, e.to_string().into_bytes()),
        };
        if !rest.is_empty() {
            let message = format!("{} bytes left over after the arguments", rest.len());
            return (BAD_ARGS, message.into_bytes());
        }
        let result = f.call(args);
        match postcard::to_stdvec(&result) {
            Ok(bytes) => (OK, bytes),
            Err(e) => (BAD_RESULT, e.to_string().into_bytes()),
        }
    });
    let (status, bytes) = match outcome {
        Ok(done) => done,
        Err(caught) => (PANICKED, caught.to_string().into_bytes()),
    };
    reply(&bytes);
    status
}

/// A library loaded by [`run`]: its `dlopen` handle (an address, so that it can sit in a static).
#[derive(Clone, Copy)]
struct Handle(usize);

/// Libraries loaded so far, by path. They are never closed: a task may still run from one, and
/// unloading Rust code with thread-local destructors is unsound.
static LOADED: Mutex<Vec<(PathBuf, Handle)>> = Mutex::new(Vec::new());

/// Runs a cell task: loads the library at `path` (once), finds `symbol`, calls it on `args`.
pub(crate) fn run(path: &Path, symbol: &str, args: &[u8]) -> Result<Vec<u8>, TaskFailure> {
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
            args.as_ptr(),
            args.len(),
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
        PANICKED => Err(TaskFailure::Panicked(text())),
        BAD_RESULT => Err(TaskFailure::BadResult(text())),
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

/// The entry point `symbol` in the library at `path`, loading it if needed.
fn find(path: &Path, symbol: &str) -> Result<EntryPoint, String> {
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
/// own `libc.so.6` has an interpreter too, but is no PIE).
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

#[cfg(test)]
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
        let libc_path = match task_for(libc::abs as *const c_void, "x") {
            Task::Library { path, .. } => path,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            elf_kind(&libc_path).unwrap(),
            ElfKind::Other,
            "{libc_path:?}"
        );
    }
}
