//! ssh, through which `mpirun` starts ranks on other hosts (a hostfile run): why it failed, told
//! from its own words in the launcher's stderr, and what to do about it.

/// Why `mpirun` could not start its daemon on another host over ssh.
///
/// # Examples
/// ```
/// use parlab::mpi::{MpiError, SshFailure};
/// let e = MpiError::Ssh { host: "node02".into(), failure: SshFailure::UnknownHostKey, said: String::new() };
/// assert!(e.to_string().contains("known_hosts"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SshFailure {
    /// The host's key is not in `known_hosts` (or differs from it), and ssh refuses to guess.
    UnknownHostKey,
    /// Nothing answers on the host's ssh port: the host is down, unreachable, or sshd is not running.
    NoAnswer,
    /// The host name does not resolve.
    UnknownHost,
    /// sshd answered but refused the login (no key it accepts).
    LoginRefused,
}

/// What [`MpiError::Ssh`](crate::mpi::MpiError::Ssh) says: the host, the cause, the fix, and ssh's
/// own words.
pub(crate) fn message(host: &str, failure: &SshFailure, said: &str) -> String {
    let (cause, fix) = match failure {
        SshFailure::UnknownHostKey => (
            format!(
                "the ssh host key of {host} is not known here (or has changed), and ssh does not ask in a batch run"
            ),
            format!(
                "check the key's fingerprint with the host's admin, then add it: `ssh-keyscan {host} >> ~/.ssh/known_hosts` (or the known_hosts file your ssh agent uses)"
            ),
        ),
        SshFailure::NoAnswer => (
            format!("{host} does not answer on its ssh port"),
            format!(
                "check that {host} is up and runs sshd (`ssh {host} true` must work without a prompt), or remove it from the hostfile"
            ),
        ),
        SshFailure::UnknownHost => (
            format!("the host name {host} does not resolve"),
            "fix its spelling in the hostfile, or give its address".to_owned(),
        ),
        SshFailure::LoginRefused => (
            format!("{host} refused the ssh login"),
            format!(
                "install your public key there (`ssh-copy-id {host}`): mpirun needs ssh without a password"
            ),
        ),
    };
    format!("mpirun could not start ranks on {host}: {cause}.\n  fix: {fix}\n  ssh said: {said}")
}

/// Recognizes ssh's own failure in a launcher's stderr: the host (when ssh named it), what went
/// wrong, and ssh's own lines, joined.
pub(crate) fn recognize(stderr: &str) -> Option<(Option<String>, SshFailure, String)> {
    let between = |line: &str, before: &str, after: &str| {
        let rest = &line[line.find(before)? + before.len()..];
        Some(
            rest[..rest.find(after).unwrap_or(rest.len())]
                .trim()
                .to_owned(),
        )
    };
    let mut host_key = None;
    for line in stderr.lines().map(str::trim) {
        let found = if line.contains("host key is known for") {
            host_key = between(line, "host key is known for ", " and");
            None
        } else if line.contains("Host key verification failed")
            || line.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
        {
            Some((host_key.clone(), SshFailure::UnknownHostKey))
        } else if line.starts_with("ssh: connect to host ") {
            Some((
                between(line, "connect to host ", " port"),
                SshFailure::NoAnswer,
            ))
        } else if line.starts_with("ssh: Could not resolve hostname ") {
            Some((
                between(line, "resolve hostname ", ":"),
                SshFailure::UnknownHost,
            ))
        } else if line.contains("Permission denied (publickey") {
            Some((between(line, "@", ": Permission"), SshFailure::LoginRefused))
        } else {
            None
        };
        if let Some((host, failure)) = found {
            let said = stderr
                .lines()
                .map(str::trim)
                .filter(|l| {
                    l.starts_with("ssh:")
                        || l.contains("host key")
                        || l.contains("Host key")
                        || l.contains("Permission denied")
                })
                .collect::<Vec<_>>()
                .join(" / ");
            return Some((host, failure, said));
        }
    }
    None
}
