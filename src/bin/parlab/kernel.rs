//! `parlab kernel`: the "Rust (parlab)" Jupyter kernel, evcxr_jupyter on a persistent build slot.
//!
//! evcxr builds every `:dep` in its own directory, by default a fresh temporary one per kernel, so
//! each kernel start compiles parlab and its dependencies from scratch (about 30 s on 2 cores).
//! This command leases a *slot*, a build directory that outlives the kernel
//! (`target/parlab-kernel/slot-N`, at most [`MAX_SLOTS`]), holds an exclusive `flock` on
//! `slot-N.lock` for the kernel's lifetime, turns on evcxr's compile cache for registry crates
//! (`:cache`, through an `init.evcxr` in its own evcxr config folder), and then *becomes*
//! `evcxr_jupyter` (exec): Jupyter's messages and signals go straight to evcxr, as with the plain
//! `rust` kernel. The lock's file descriptor is inherited across the exec, so the lock lasts as long
//! as evcxr or any process it started (its runtime, cargo, a pool worker) is alive, and the
//! operating system drops it when the last of them dies, however it dies. Before the exec it starts
//! a [keeper](crate::slot_keeper) that remakes the slot if it is deleted under the kernel.
//!
//! evcxr allows one kernel per build directory, so a second kernel takes the next free slot. When no
//! slot is usable (all in use, not writable, not a folder, the disk nearly full) the kernel still
//! starts, in a fresh temporary directory, after a one-line note on stderr (Jupyter's log).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, FdFlag, Flock, FlockArg, fcntl};

use crate::disk::{disk_use, free_bytes, human_bytes};
use crate::project;

/// The kernelspec name the notebooks' metadata selects.
pub const KERNEL_NAME: &str = "parlab";

/// The name Jupyter shows for the kernel.
pub const DISPLAY_NAME: &str = "Rust (parlab)";

/// At most this many slots, so at most this many kernels build in slots at once.
pub const MAX_SLOTS: usize = 4;

/// A slot that has grown beyond this (many `:opt` switches, many deps) is emptied before use.
pub const SLOT_CAP_BYTES: u64 = 4 << 30;

/// Below this much free disk space next to the slots, a kernel builds in a temporary folder.
pub const MIN_FREE_BYTES: u64 = 1 << 30;

/// The size of evcxr's compile cache for registry crates (`:cache`, MiB; shared by every kernel).
pub const CACHE_MIB: u64 = 2048;

/// The environment variable that moves the slots elsewhere (the tests use it).
pub const SLOTS_ENV: &str = "PARLAB_KERNEL_DIR";

/// How long a new kernel waits for a slot whose kernel has exited but whose last child has not.
const RESTART_GRACE: Duration = Duration::from_secs(3);

/// Options of `parlab kernel` (Jupyter passes them, from the kernelspec).
#[derive(clap::Args)]
pub struct KernelArgs {
    /// The connection file Jupyter writes for the kernel (`{connection_file}` in the kernelspec).
    #[arg(long)]
    connection_file: PathBuf,
}

/// Leases a slot and runs evcxr_jupyter in it; returns only when evcxr cannot be started.
pub fn run(args: KernelArgs) -> Result<(), String> {
    const SAY: &str = "parlab kernel";
    let evcxr = project::find_tool("evcxr_jupyter").ok_or(
        "evcxr_jupyter is not installed (not on PATH nor in cargo's bin folder): run `cargo run --release -- setup` in the parlab folder",
    )?;
    if !args.connection_file.is_file() {
        return Err(format!(
            "no connection file at {} (Jupyter writes it and passes it as {{connection_file}})",
            args.connection_file.display()
        ));
    }
    let base = slots_dir();
    let mut cmd = Command::new(&evcxr);
    cmd.arg("--control_file").arg(&args.connection_file);
    let cache = match write_evcxr_config(&base) {
        Ok(dir) => {
            cmd.env("EVCXR_CONFIG_DIR", dir);
            String::new()
        }
        Err(e) => format!(" (compile cache off: {e})"),
    };
    // Held across the exec below: the lock lasts as long as evcxr and its children.
    let _held = match lease(&base) {
        Ok(slot) => {
            let state = if slot.dir.join("target").is_dir() {
                format!("warm, {}", human_bytes(slot.bytes))
            } else {
                match seed_from_warm(&base, &slot.dir) {
                    Some(Ok(done)) => format!(
                        "new, with a copy of {}'s build: {} in {:.1} s",
                        done.from,
                        human_bytes(done.bytes),
                        done.took.as_secs_f64()
                    ),
                    Some(Err(why)) => format!("new, its build {why}"),
                    None => "new".into(),
                }
            };
            eprintln!(
                "{SAY}: building in {} ({state}{}){cache}",
                slot.dir.display(),
                slot.note
            );
            cmd.env("EVCXR_TMPDIR", &slot.dir);
            crate::slot_keeper::start(&slot.dir, slot.lock.as_raw_fd());
            Some(slot.lock)
        }
        Err(reason) => {
            eprintln!(
                "{SAY}: {reason}; this kernel builds in a fresh temporary folder instead (its first `:dep` cell compiles from scratch){cache}"
            );
            cmd.env_remove("EVCXR_TMPDIR");
            None
        }
    };
    let error = cmd.exec();
    Err(format!("could not start {}: {error}", evcxr.display()))
}

/// Seeds the new slot `dir` with a copy of the most recently leased warm slot's build (in use or
/// not); None when no slot holds a build.
fn seed_from_warm(base: &Path, dir: &Path) -> Option<Result<crate::slot_seed::Seeded, String>> {
    let mut warm: Vec<(SystemTime, PathBuf)> = (1..=MAX_SLOTS)
        .filter(|&n| slot_dir(base, n) != dir && slot_dir(base, n).join("target").is_dir())
        .map(|n| {
            let when = fs::metadata(lock_path(base, n))
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            (when, slot_dir(base, n))
        })
        .collect();
    warm.sort_by_key(|w| std::cmp::Reverse(w.0));
    let (_, from) = warm.into_iter().next()?;
    let free = free_bytes(base).unwrap_or(0);
    Some(crate::slot_seed::seed(&from, dir, free, MIN_FREE_BYTES))
}

/// Where the slots live: `$PARLAB_KERNEL_DIR`, or `target/parlab-kernel` in the project.
pub fn slots_dir() -> PathBuf {
    match std::env::var_os(SLOTS_ENV) {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                std::env::current_dir().unwrap_or_default().join(dir)
            }
        }
        _ => project::root().join("target").join("parlab-kernel"),
    }
}

/// A leased slot: its folder, and the lock that keeps other kernels out of it.
struct Lease {
    dir: PathBuf,
    lock: Flock<File>,
    bytes: u64,
    /// Said after the size, e.g. that the slot was emptied.
    note: String,
}

/// What trying one slot gave.
enum Attempt {
    Leased(Lease),
    /// Another kernel holds it; its holder's pid when known.
    Busy(Option<u32>),
    Unusable(String),
}

/// Leases the warm slot used most recently, else a new one; the error says why none was usable.
fn lease(base: &Path) -> Result<Lease, String> {
    fs::create_dir_all(base)
        .map_err(|e| format!("cannot create the slot folder {}: {e}", base.display()))?;
    let free = free_bytes(base)?;
    if free < MIN_FREE_BYTES {
        return Err(format!(
            "only {} free on the disk of {} (a build needs about {}; `parlab clean` removes old slots)",
            human_bytes(free),
            base.display(),
            human_bytes(MIN_FREE_BYTES)
        ));
    }
    let mut warm: Vec<(usize, SystemTime)> = Vec::new();
    let mut fresh: Vec<usize> = Vec::new();
    for n in 1..=MAX_SLOTS {
        let dir = slot_dir(base, n);
        let used = fs::read_dir(&dir).is_ok_and(|mut d| d.next().is_some());
        if used {
            let when = fs::metadata(lock_path(base, n))
                .or_else(|_| fs::metadata(&dir))
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            warm.push((n, when));
        } else {
            fresh.push(n);
        }
    }
    warm.sort_by_key(|w| std::cmp::Reverse(w.1));
    let mut problems: Vec<String> = Vec::new();
    let mut orphaned: Vec<usize> = Vec::new();
    for &(n, _) in &warm {
        match try_slot(base, n) {
            Attempt::Leased(lease) => return Ok(lease),
            Attempt::Busy(holder) => {
                // A kernel that has exited (a restart) may leave a child that holds its lock for a
                // moment longer: its slot is worth a short wait, a cold one costs half a minute.
                if holder.is_some_and(|pid| !process_alive(pid)) {
                    orphaned.push(n);
                }
                problems.push(format!("slot-{n} in use"));
            }
            Attempt::Unusable(why) => problems.push(why),
        }
    }
    let waited = Instant::now();
    while !orphaned.is_empty() && waited.elapsed() < RESTART_GRACE {
        std::thread::sleep(Duration::from_millis(50));
        for &n in &orphaned {
            if let Attempt::Leased(lease) = try_slot(base, n) {
                return Ok(lease);
            }
        }
    }
    for n in fresh {
        match try_slot(base, n) {
            Attempt::Leased(lease) => return Ok(lease),
            Attempt::Busy(_) => problems.push(format!("slot-{n} in use")),
            Attempt::Unusable(why) => problems.push(why),
        }
    }
    Err(format!(
        "no build slot is usable in {} ({})",
        base.display(),
        summarize(&problems)
    ))
}

/// One short clause for the slots' problems: said once when every slot has the same one.
fn summarize(problems: &[String]) -> String {
    let rests: Vec<&str> = problems
        .iter()
        .map(|p| {
            p.strip_prefix("slot-")
                .map(|r| r.trim_start_matches(|c: char| c.is_ascii_digit()))
                .unwrap_or(p)
        })
        .collect();
    match rests.as_slice() {
        [first, ..] if problems.len() == MAX_SLOTS && rests.iter().all(|r| r == first) => {
            if *first == " in use" {
                format!("all {MAX_SLOTS} are in use")
            } else {
                format!("every slot{first}")
            }
        }
        _ => problems.join("; "),
    }
}

fn slot_dir(base: &Path, n: usize) -> PathBuf {
    base.join(format!("slot-{n}"))
}

fn lock_path(base: &Path, n: usize) -> PathBuf {
    base.join(format!("slot-{n}.lock"))
}

/// Takes slot `n`'s lock without waiting, then checks that its folder can be built in.
fn try_slot(base: &Path, n: usize) -> Attempt {
    let lock = match lock_slot(base, n) {
        Ok(Ok(lock)) => lock,
        Ok(Err(holder)) => return Attempt::Busy(holder),
        Err(e) => return Attempt::Unusable(e),
    };
    let dir = slot_dir(base, n);
    if let Ok(meta) = fs::symlink_metadata(&dir)
        && !meta.is_dir()
    {
        return Attempt::Unusable(format!(
            "slot-{n} is not a folder (`parlab clean` removes it)"
        ));
    }
    let probe = dir.join(".parlab-probe");
    let usable = fs::create_dir_all(&dir)
        .and_then(|_| fs::write(&probe, b"a kernel can write here\n"))
        .and_then(|_| fs::remove_file(&probe));
    if let Err(e) = usable {
        return Attempt::Unusable(format!("slot-{n} is not writable: {e}"));
    }
    let mut bytes = disk_use(&dir);
    let mut note = String::new();
    if bytes > SLOT_CAP_BYTES {
        let target = dir.join("target");
        match fs::remove_dir_all(&target) {
            Ok(()) => {
                note = format!(
                    ", emptied: it had grown to {} (the cap is {})",
                    human_bytes(bytes),
                    human_bytes(SLOT_CAP_BYTES)
                );
                bytes = disk_use(&dir);
            }
            Err(e) => {
                return Attempt::Unusable(format!(
                    "slot-{n} has grown to {} and cannot be emptied: {e}",
                    human_bytes(bytes)
                ));
            }
        }
    }
    let mut lock = lock;
    // Who holds the slot, for `parlab doctor`; it also marks the slot as the most recently used.
    let _ = lock
        .set_len(0)
        .and_then(|_| writeln!(*lock, "pid {}", std::process::id()));
    // Safety net for the exec: the lock's descriptor must survive it (Rust opens files close-on-exec).
    if let Err(e) = fcntl(&*lock, FcntlArg::F_SETFD(FdFlag::empty())) {
        return Attempt::Unusable(format!("slot-{n}: cannot keep its lock open: {e}"));
    }
    Attempt::Leased(Lease {
        dir,
        lock,
        bytes,
        note,
    })
}

/// Slot `n`'s lock: Ok(Ok) taken, Ok(Err(holder pid)) held by another kernel, Err when it cannot be tried.
fn lock_slot(base: &Path, n: usize) -> Result<Result<Flock<File>, Option<u32>>, String> {
    let path = lock_path(base, n);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| format!("slot-{n}: cannot open its lock file: {e}"))?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => Ok(Ok(lock)),
        Err((_, Errno::EWOULDBLOCK)) => Ok(Err(holder(&path))),
        Err((_, e)) => Err(format!("slot-{n}: cannot lock {}: {e}", path.display())),
    }
}

/// The pid a lock file names (written by the kernel that holds it).
fn holder(lock: &Path) -> Option<u32> {
    let text = fs::read_to_string(lock).ok()?;
    text.trim().strip_prefix("pid ")?.parse().ok()
}

/// True when `pid` is a live process (one of another user's counts too; without `/proc` a zombie
/// counts as alive until its parent reaps it).
#[cfg(not(target_os = "linux"))]
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(e) => e == Errno::EPERM,
    }
}

/// True when `pid` is a live process (not gone, not a zombie).
#[cfg(target_os = "linux")]
fn process_alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses: "1234 (evcxr_jupyter) S ...".
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X')),
        Err(_) => false,
    }
}

/// The evcxr.toml of parlab kernels: evcxr's defaults. Without one, every kernel start logs "No
/// configuration file found, use the default configuration"; with it, evcxr logs where it is.
const EVCXR_TOML: &str = "\
# evcxr's settings for the \"Rust (parlab)\" kernel, written by `parlab kernel` at every start.
# Empty: evcxr's defaults. The build folder is the kernel's slot (EVCXR_TMPDIR), the compile cache is
# turned on by init.evcxr beside this file, and your own ~/.config/evcxr/init.evcxr and prelude.rs
# are copied here. Do not set `tmpdir` or `[dependencies]`: they would replace the slot and init.evcxr.
";

/// Writes evcxr's config folder for parlab kernels: an evcxr.toml of defaults, `:cache` on, then
/// the user's own init.evcxr and prelude.rs.
fn write_evcxr_config(base: &Path) -> Result<PathBuf, String> {
    let dir = base.join("evcxr-config");
    // Commands only: evcxr would compile a comment line as code, at every kernel start.
    let mut init = format!(":cache {CACHE_MIB}\n");
    let mut prelude = None;
    if let Some(user) = user_evcxr_config_dir().filter(|u| *u != dir) {
        if let Ok(own) = fs::read_to_string(user.join("init.evcxr")) {
            init.push_str(&own);
            init.push('\n');
        }
        prelude = fs::read_to_string(user.join("prelude.rs")).ok();
    }
    let write = |name: &str, text: &str| -> std::io::Result<()> {
        let path = dir.join(name);
        if fs::read_to_string(&path).is_ok_and(|old| old == text) {
            return Ok(());
        }
        // Write then rename: a kernel starting at the same moment reads the old or the new file.
        let tmp = dir.join(format!(".{name}.{}", std::process::id()));
        fs::write(&tmp, text).and_then(|_| fs::rename(&tmp, &path))
    };
    fs::create_dir_all(&dir)
        .and_then(|_| write("evcxr.toml", EVCXR_TOML))
        .and_then(|_| write("init.evcxr", &init))
        .and_then(|_| match &prelude {
            Some(text) => write("prelude.rs", text),
            None => match fs::remove_file(dir.join("prelude.rs")) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        })
        .map_err(|e| format!("cannot write {}: {e}", dir.display()))?;
    Ok(dir)
}

/// The evcxr config folder a plain `rust` kernel would read.
fn user_evcxr_config_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("EVCXR_CONFIG_DIR") {
        return Some(PathBuf::from(dir));
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(config.join("evcxr"))
}

/// evcxr's compile cache folder (`:cache`), shared by every evcxr kernel of this user.
pub fn evcxr_cache_dir() -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(cache.join("evcxr"))
}

/// One slot as `parlab doctor` and `parlab clean` see it.
pub struct SlotInfo {
    /// `slot-N`.
    pub name: String,
    /// Disk space it takes.
    pub bytes: u64,
    /// "free", "in use by pid N", or what is wrong with it.
    pub state: String,
    /// When a kernel last leased it.
    pub last_used: Option<SystemTime>,
    /// The resident memory of the kernel using it (evcxr with its runtime process), if one does.
    pub resident: Option<u64>,
}

/// The resident memory (`VmRSS`) of `pid` and of every process below it, in bytes: a kernel is
/// evcxr_jupyter (with its embedded rust-analyzer) and the runtime process that holds the
/// notebook's variables. None where `/proc` does not tell.
pub fn resident_memory(pid: u32) -> Option<u64> {
    let rss = |pid: u32| -> Option<u64> {
        let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    };
    let mut total = rss(pid)?;
    let mut todo = vec![pid];
    while let Some(parent) = todo.pop() {
        let Ok(tasks) = fs::read_dir(format!("/proc/{parent}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let children = fs::read_to_string(task.path().join("children")).unwrap_or_default();
            for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                total += rss(child).unwrap_or(0);
                todo.push(child);
            }
        }
    }
    Some(total)
}

/// The slots that hold a build (a `target` folder): the next kernel's `:dep parlab` is quick there.
pub fn warm_slots() -> Vec<PathBuf> {
    let base = slots_dir();
    (1..=MAX_SLOTS)
        .map(|n| slot_dir(&base, n))
        .filter(|dir| dir.join("target").is_dir())
        .collect()
}

/// Every slot that exists (a folder or a lock file), in slot order.
pub fn slots() -> Vec<SlotInfo> {
    let base = slots_dir();
    let mut found = Vec::new();
    for n in 1..=MAX_SLOTS {
        let dir = slot_dir(&base, n);
        let lock = lock_path(&base, n);
        if fs::symlink_metadata(&dir).is_err() && !lock.exists() {
            continue;
        }
        let mut resident = None;
        let state = match lock_slot(&base, n) {
            Ok(Ok(_probe)) if dir.is_dir() || !dir.exists() => "free".to_owned(),
            Ok(Ok(_probe)) => "not a folder: `parlab clean` removes it".to_owned(),
            Ok(Err(Some(pid))) => {
                resident = resident_memory(pid);
                format!("in use by pid {pid}")
            }
            Ok(Err(None)) => "in use".to_owned(),
            Err(e) => e,
        };
        found.push(SlotInfo {
            name: format!("slot-{n}"),
            bytes: disk_use(&dir),
            last_used: fs::metadata(&lock).and_then(|m| m.modified()).ok(),
            state,
            resident,
        });
    }
    found
}

/// Removes every slot no kernel is using; an error names the ones kept because a kernel holds them.
pub fn clean() -> Result<(), String> {
    let base = slots_dir();
    let mut kept = Vec::new();
    let mut freed = 0;
    let mut removed = 0;
    for n in 1..=MAX_SLOTS {
        let dir = slot_dir(&base, n);
        let Ok(meta) = fs::symlink_metadata(&dir) else {
            continue;
        };
        match lock_slot(&base, n) {
            Ok(Ok(_lock)) => {
                let bytes = disk_use(&dir);
                let gone = if meta.is_dir() {
                    fs::remove_dir_all(&dir)
                } else {
                    fs::remove_file(&dir)
                };
                match gone {
                    Ok(()) => {
                        println!("  removed slot-{n} ({})", human_bytes(bytes));
                        freed += bytes;
                        removed += 1;
                    }
                    Err(e) => kept.push(format!("slot-{n}: cannot remove {}: {e}", dir.display())),
                }
            }
            Ok(Err(holder)) => {
                let by = holder.map_or(String::new(), |pid| format!(" (pid {pid})"));
                println!("  kept slot-{n}: a running kernel{by} uses it");
                kept.push(format!("slot-{n} is in use by a running kernel{by}"));
            }
            Err(e) => kept.push(e),
        }
    }
    println!(
        "parlab clean: removed {removed} kernel build slot(s) in {}, {} freed",
        base.display(),
        human_bytes(freed)
    );
    if kept.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}; shut those kernels down (JupyterLab: Kernel > Shut Down) and run clean again",
            kept.join("; ")
        ))
    }
}

/// The argv of the parlab kernelspec: this project's release binary.
fn spec_json() -> serde_json::Value {
    let exe = project::root()
        .join("target")
        .join("release")
        .join("parlab");
    serde_json::json!({
        "argv": [exe.display().to_string(), "kernel", "--connection-file", "{connection_file}"],
        "display_name": DISPLAY_NAME,
        "language": "rust",
        "interrupt_mode": "message",
        "metadata": {"parlab": "evcxr_jupyter on a persistent build slot: `parlab doctor` lists them"}
    })
}

/// Where setup writes the kernelspec: inside the project's .venv, so each clone has its own.
fn spec_dir() -> PathBuf {
    project::venv()
        .join("share")
        .join("jupyter")
        .join("kernels")
        .join(KERNEL_NAME)
}

/// The kernelspecs the project's Jupyter sees (`jupyter kernelspec list --json`).
fn listed_specs() -> Result<serde_json::Value, String> {
    let jupyter = project::venv().join("bin").join("jupyter");
    if !jupyter.is_file() {
        return Err("Jupyter is not installed in .venv".into());
    }
    let listing = project::output(Command::new(jupyter).args(["kernelspec", "list", "--json"]))?;
    let specs: serde_json::Value = serde_json::from_str(&listing)
        .map_err(|e| format!("unexpected `jupyter kernelspec list` output: {e}"))?;
    Ok(specs["kernelspecs"].clone())
}

/// Setup's check: Ok(Some(where)) when Jupyter runs this project's `parlab kernel` for "parlab".
pub fn check_spec() -> Result<Option<String>, String> {
    let specs = listed_specs()?;
    let Some(found) = specs.get(KERNEL_NAME) else {
        return Ok(None);
    };
    if found["spec"]["argv"] != spec_json()["argv"] {
        return Ok(None);
    }
    Ok(Some(format!(
        "at {}",
        found["resource_dir"].as_str().unwrap_or("?")
    )))
}

/// Setup's install: writes the kernelspec into .venv (with the Rust logos of the `rust` kernel).
pub fn install_spec() -> Result<(), String> {
    let dir = spec_dir();
    let text = serde_json::to_string_pretty(&spec_json()).unwrap_or_default();
    fs::create_dir_all(&dir)
        .and_then(|_| fs::write(dir.join("kernel.json"), text + "\n"))
        .map_err(|e| format!("cannot write the kernelspec in {}: {e}", dir.display()))?;
    let specs = listed_specs()?;
    if let Some(rust) = specs["rust"]["resource_dir"].as_str() {
        for logo in ["logo-32x32.png", "logo-64x64.png", "logo-LICENSE.md"] {
            let _ = fs::copy(Path::new(rust).join(logo), dir.join(logo));
        }
    }
    match specs[KERNEL_NAME]["resource_dir"].as_str() {
        Some(seen) if Path::new(seen) != dir => Err(format!(
            "Jupyter finds another `{KERNEL_NAME}` kernel first, at {seen}: remove it (`.venv/bin/jupyter kernelspec remove {KERNEL_NAME}` removes the first one found) and run setup again"
        )),
        _ => Ok(()),
    }
}
