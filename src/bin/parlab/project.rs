//! Where things are: the project folder, its virtual environment, the tools it calls; and
//! running those tools, each wait within a limit.
//!
//! tests/slurm.rs and tests/two_hosts.rs include this file (for `slurm_daemons.rs` and
//! `two_hosts.rs`, which they include too).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The repository root (where Cargo.toml is).
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The project-local Python virtual environment.
pub fn venv() -> PathBuf {
    root().join(".venv")
}

/// The Python interpreter inside the virtual environment.
pub fn venv_python() -> PathBuf {
    venv().join("bin").join("python")
}

/// The cargo that runs us (or the one on PATH).
pub fn cargo() -> PathBuf {
    std::env::var_os("CARGO")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("cargo"))
}

/// Finds an executable on PATH or in cargo's bin folder.
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push(cargo_bin_dir());
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// Finds a system tool on PATH or in the system's folders (`/usr/sbin`, `/sbin`, `/usr/bin`):
/// root's daemons and `ip`, which a user's PATH may not name.
pub fn find_system_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// `$CARGO_HOME/bin`, where `cargo install` puts binaries.
pub fn cargo_bin_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        return PathBuf::from(home).join("bin");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cargo").join("bin")
}

/// Runs a command and returns its trimmed stdout, or a message with its stderr.
pub fn output(cmd: &mut Command) -> Result<String, String> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run {shown}: {e}"))?;
    stdout_or_stderr(&shown, out)
}

/// A command's trimmed stdout when it succeeded, else a message with the end of its stderr.
fn stdout_or_stderr(shown: &str, out: Output) -> Result<String, String> {
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "{shown} failed ({}): {}",
            out.status,
            last_lines(&err, 15)
        ))
    }
}

/// Runs a command with no input to its end (killed after `limit`); its trimmed stdout, or a
/// message with the end of its stderr.
pub fn stdout_within(cmd: &mut Command, limit: Duration) -> Result<String, String> {
    let shown = format!("{cmd:?}");
    let out = output_within(
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
        limit,
    )?;
    stdout_or_stderr(&shown, out)
}

/// Runs a command with no input and its output discarded to its end (killed after `limit`);
/// whether it succeeded. A daemon it leaves behind holds none of our pipes.
pub fn status_within(cmd: &mut Command, limit: Duration) -> Result<bool, String> {
    let out = output_within(
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        limit,
    )?;
    Ok(out.status.success())
}

/// Whether process `pid` is running; a zombie (ended, not yet reaped) counts as ended.
pub fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

/// Runs a command with the terminal's stdout and stderr; an error names what failed.
pub fn run_inherit(cmd: &mut Command, what: &str) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("could not start {what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

/// The last `n` lines of a text.
pub fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Runs a command to the end, collecting its stdout and stderr, and kills it after `limit`.
pub fn output_within(cmd: &mut Command, limit: Duration) -> Result<Output, String> {
    use std::io::Read;
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("could not run {shown}: {e}"))?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < limit => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{shown} was still running after {} s and was stopped",
                    limit.as_secs()
                ));
            }
            Err(e) => return Err(format!("could not wait for {shown}: {e}")),
        }
    };
    Ok(Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// The `python3` to build the virtual environment with: `$PARLAB_PYTHON` or `python3` on PATH.
pub fn system_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PARLAB_PYTHON") {
        return Some(PathBuf::from(p));
    }
    find_tool("python3")
}

/// `pip install` run by the project's .venv Python, quiet; the caller adds what to install.
pub fn venv_pip_install() -> Command {
    let mut pip = Command::new(venv_python());
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ]);
    pip
}

/// Whether this process runs as root (it may install Debian packages).
pub fn is_root() -> bool {
    // Safety: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Runs `apt-get update`, then apt-get with `args`, non-interactively.
pub fn apt(args: &[&str], what: &str) -> Result<(), String> {
    let run = |args: &[&str], what: &str| {
        let mut cmd = Command::new("apt-get");
        cmd.args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(std::process::Stdio::null());
        run_inherit(&mut cmd, what)
    };
    run(&["update", "-qq"], "apt-get update")?;
    run(args, what)
}
