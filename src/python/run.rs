//! A Python child process with its own pipes, its own process group and a time limit.

use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::error::PythonError;

/// The most stdout kept from one script (its report is one line, far smaller).
const STDOUT_LIMIT: usize = 4 << 20;

/// The most stderr kept (the last part of it: where a traceback ends).
const STDERR_LIMIT: usize = 64 << 10;

/// How long the version probe may take.
const PROBE_LIMIT: Duration = Duration::from_secs(20);

/// What a finished script left.
pub(super) struct Finished {
    /// How it ended.
    pub(super) status: ExitStatus,
    /// Its stdout (at most [`STDOUT_LIMIT`] bytes, the first ones).
    pub(super) stdout: String,
    /// The end of its stderr (at most [`STDERR_LIMIT`] bytes).
    pub(super) stderr: String,
}

/// A running child and its process group: dropping it kills the whole group.
struct Group {
    child: Child,
}

impl Drop for Group {
    fn drop(&mut self) {
        let pgid = self.child.id() as libc::pid_t;
        // Safety: killpg only sends a signal, to the group this child leads (made by
        // `process_group(0)`); if the group is already empty it fails harmlessly.
        unsafe { libc::killpg(pgid, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// Asks `python` its version (in code that Python 2 parses too, so a Python 2 can say so) and
/// whether its GIL is on.
pub(super) fn probe(python: &Path) -> Result<(String, bool), PythonError> {
    const CODE: &str = "import sys; sys.stdout.write('%d.%d.%d %d' % (tuple(sys.version_info[:3]) \
        + (int(getattr(sys, '_is_gil_enabled', lambda: True)()),)))";
    let out = run_command(
        python,
        &[OsStr::new("-c"), OsStr::new(CODE)],
        PROBE_LIMIT,
        "-c",
    )?;
    let said = out.stdout.trim().to_owned();
    let not3 = |said: String| PythonError::NotPython3 {
        path: python.to_path_buf(),
        said,
    };
    if !out.status.success() {
        let what = format!("{}; {}", out.status, last_lines(&out.stderr, 3));
        return Err(not3(what));
    }
    let (version, gil) = said.split_once(' ').ok_or_else(|| not3(said.clone()))?;
    let minor: Option<u32> = version.split('.').nth(1).and_then(|m| m.parse().ok());
    if !version.starts_with("3.") || minor.is_none_or(|m| m < 9) {
        return Err(not3(format!("Python {version}")));
    }
    Ok((version.to_owned(), gil != "0"))
}

/// Runs `python script args` within `limit` (see [`run_command`]).
pub(super) fn run<S: AsRef<OsStr>>(
    python: &Path,
    script: &Path,
    args: &[S],
    limit: Duration,
) -> Result<Finished, PythonError> {
    let mut all: Vec<&OsStr> = vec![script.as_os_str()];
    all.extend(args.iter().map(AsRef::as_ref));
    let name = script.file_name().map_or_else(
        || script.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    run_command(python, &all, limit, &name)
}

/// Runs `python args` in its own process group, with stdin a pipe that only this process writes
/// to (the script's parent-death watch: see python/parlab_report.py), stdout and stderr piped and
/// bounded; after `limit` the whole group is killed.
fn run_command(
    python: &Path,
    args: &[&OsStr],
    limit: Duration,
    name: &str,
) -> Result<Finished, PythonError> {
    let mut cmd = Command::new(python);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("PARLAB_PYTHON_WATCH", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .process_group(0);
    if let Some(dir) = args.first().and_then(|s| Path::new(s).parent()) {
        if dir.is_dir() {
            cmd.current_dir(dir);
        }
    }
    let child = cmd.spawn().map_err(|source| PythonError::Start {
        what: format!("{} {name}", python.display()),
        source,
    })?;
    let mut group = Group { child };
    // Held until the script ends: its closing (here, or by this process dying) is the signal.
    let stdin = group.child.stdin.take();
    let stdout = read_bounded(group.child.stdout.take(), STDOUT_LIMIT, false);
    let stderr = read_bounded(group.child.stderr.take(), STDERR_LIMIT, true);
    let started = Instant::now();
    let status = loop {
        match group.child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= limit => {
                drop(group); // kills the group
                drop(stdin);
                return Err(PythonError::Timeout {
                    script: name.to_owned(),
                    limit,
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(source) => {
                return Err(PythonError::Start {
                    what: format!("waiting for {name}"),
                    source,
                });
            }
        }
    };
    // Processes the script started and left behind would hold the pipes open: end the group.
    drop(group);
    drop(stdin);
    let grace = Duration::from_secs(2);
    Ok(Finished {
        status,
        stdout: stdout.recv_timeout(grace).unwrap_or_default(),
        stderr: stderr.recv_timeout(grace).unwrap_or_default(),
    })
}

/// Reads a pipe to its end on a thread, keeping at most `limit` bytes: the first ones, or the
/// last ones when `keep_end`.
fn read_bounded(
    pipe: Option<impl Read + Send + 'static>,
    limit: usize,
    keep_end: bool,
) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        if let Some(mut pipe) = pipe {
            let mut buf = [0u8; 8192];
            loop {
                match pipe.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if keep_end {
                            kept.extend_from_slice(&buf[..n]);
                            if kept.len() > 2 * limit {
                                kept.drain(..kept.len() - limit);
                            }
                        } else if kept.len() < limit {
                            let room = limit - kept.len();
                            kept.extend_from_slice(&buf[..n.min(room)]);
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        }
        if keep_end && kept.len() > limit {
            kept.drain(..kept.len() - limit);
        }
        let _ = tx.send(String::from_utf8_lossy(&kept).into_owned());
    });
    rx
}

/// The last `n` non-empty lines of `text`.
pub(super) fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
