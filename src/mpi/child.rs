//! The launcher as a child process: run in its own process group with a timeout that kills
//! every rank, and the end of what it printed.

use std::io::{self, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The last `n` non-empty lines of `text`, without the frames of a crashed rank's backtrace
/// (Open MPI prints them as `[host:pid] [3] program(+0x1f)`), so what is left names the rank.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let frame = |l: &str| {
        l.starts_with('[')
            && l.split_once("] [").is_some_and(|(_, rest)| {
                rest.trim_start().starts_with(|c: char| c.is_ascii_digit())
            })
    };
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !frame(l))
        .collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Why [`run_with_timeout`] gave no output.
pub(crate) enum Waited {
    /// The timeout passed: the whole group was killed.
    TimedOut,
    /// The program could not be started or waited for.
    Io(RunFailed),
}

/// A program that could not be started or waited for: which one, and the operating system's error.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", program.display())]
pub(crate) struct RunFailed {
    /// The program.
    pub(crate) program: PathBuf,
    /// The operating system's error.
    #[source]
    pub(crate) source: io::Error,
}

/// Runs `cmd` in its own process group with stdin from /dev/null, collecting stdout and stderr;
/// after `timeout` the whole group (the launcher and its ranks) is killed.
pub(crate) fn run_with_timeout(
    cmd: &mut Command,
    timeout: Duration,
) -> Result<(String, String, std::process::ExitStatus), Waited> {
    use std::os::unix::process::CommandExt;
    let failed = |cmd: &Command, source| {
        Waited::Io(RunFailed {
            program: PathBuf::from(cmd.get_program()),
            source,
        })
    };
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| failed(cmd, e))?;
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut p) = pipe {
                let mut bytes = Vec::new();
                let _ = p.read_to_end(&mut bytes);
                text = String::from_utf8_lossy(&bytes).into_owned();
            }
            text
        })
    };
    let out = reader(child.stdout.take().map(|p| Box::new(p) as _));
    let err = reader(child.stderr.take().map(|p| Box::new(p) as _));
    let pgid = child.id() as libc::pid_t;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                // Open MPI puts ranks in their own groups: SIGTERM lets the launcher kill them,
                // then SIGKILL ends whatever is left in its group.
                // Safety: kill and killpg only send signals, to the launcher and its own group.
                unsafe { libc::kill(pgid, libc::SIGTERM) };
                let term = Instant::now();
                while term.elapsed() < Duration::from_secs(3) {
                    if matches!(child.try_wait(), Ok(Some(_))) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                // Safety: as above.
                unsafe { libc::killpg(pgid, libc::SIGKILL) };
                let _ = child.wait();
                let _ = (out.join(), err.join());
                return Err(Waited::TimedOut);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(failed(cmd, e)),
        }
    };
    // Ranks that outlive the launcher would keep the pipes open: end the group before reading.
    // Safety: as above; the group may already be empty, then killpg fails harmlessly.
    unsafe { libc::killpg(pgid, libc::SIGKILL) };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    Ok((stdout, stderr, status))
}
