//! Two hosts on one machine, for lesson 05's hostfile: two network namespaces joined by a veth
//! pair, each with a hostname of its own, and `sshd` in the second, reached with a key made for
//! them and a `known_hosts` of their own (no prompt: ssh checks the host key strictly).
//!
//! `mpirun` runs on the first host (a wrapper script enters its namespace) and starts the ranks
//! of the second through that ssh, over TCP across the veth (`--mca btl tcp,self`). Everything is
//! torn down when the [`TwoHosts`] value is dropped (also while a panic unwinds), and
//! [`TwoHosts::up`] first removes what a crashed run left. Needs root (namespaces), `ip`,
//! `unshare`, `sshd`, `ssh` and `ssh-keygen`: `parlab setup --cluster` installs openssh-server.
//!
//! Used by `parlab two-hosts`, `parlab bench mpi --two-hosts` and tests/two_hosts.rs (which
//! includes this file, and project.rs for its helpers).

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use parlab::mpi::Mpi;

use crate::project::{alive, find_system_tool, stdout_within};

/// The first host: its network namespace and hostname (it runs `mpirun`).
pub const HOST_A: &str = "parlab-a";
/// The second host: its network namespace and hostname (it runs `sshd`).
pub const HOST_B: &str = "parlab-b";
/// The first host's address on the veth.
pub const ADDR_A: &str = "10.77.0.1";
/// The second host's address on the veth.
pub const ADDR_B: &str = "10.77.0.2";
/// An address on the veth's network where no host answers.
pub const ADDR_NOBODY: &str = "10.77.0.3";
/// The veth's network: Open MPI's TCP traffic stays on it.
pub const SUBNET: &str = "10.77.0.0/24";
/// The veth pair's ends (in A and in B).
const VETH: [&str; 2] = ["parlab-va", "parlab-vb"];
/// Held while two hosts are up: one set at a time on this machine.
const LOCK: &str = "/run/parlab-two-hosts.lock";
/// The longest a command of the set-up may take.
const STEP_LIMIT: Duration = Duration::from_secs(20);

/// What is missing on this machine to build two hosts, each with the fix (empty: nothing).
pub fn missing() -> Vec<String> {
    let mut missing = Vec::new();
    // Safety: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        missing.push("root: network namespaces need it (run as root, e.g. in CI)".to_owned());
    }
    for (tool, package) in [
        ("ip", "iproute2"),
        ("unshare", "util-linux"),
        ("sshd", "openssh-server"),
        ("ssh", "openssh-client"),
        ("ssh-keygen", "openssh-client"),
    ] {
        if find_system_tool(tool).is_none() {
            missing.push(format!(
                "`{tool}`: as root, `cargo run --release -- setup --cluster` installs it (or `apt-get install -y {package}`)"
            ));
        }
    }
    missing
}

fn ip(args: &[&str]) -> Result<String, String> {
    stdout_within(Command::new("ip").args(args), STEP_LIMIT)
}

/// Two hosts, up: dropping the value tears them down (processes, namespaces, files).
pub struct TwoHosts {
    /// Keys, `known_hosts`, ssh's and sshd's configuration, hostfiles, the `mpirun` wrapper.
    pub dir: PathBuf,
    /// The ssh configuration `mpirun` uses (`plm_rsh_agent` is `ssh -F` this).
    pub ssh_config: PathBuf,
    /// The `known_hosts` it trusts: the second host's key, and nothing else.
    pub known_hosts: PathBuf,
    known_line: String,
    sshd_pid: Option<i32>,
    _lock: File,
}

impl std::fmt::Debug for TwoHosts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TwoHosts({HOST_A} {ADDR_A} <-veth-> {HOST_B} {ADDR_B}, sshd {:?}, in {})",
            self.sshd_pid,
            self.dir.display()
        )
    }
}

impl TwoHosts {
    /// Builds the two hosts, with their files in `dir` (made afresh), waiting at most `limit`
    /// for the lock (another set of two hosts) and for sshd to answer.
    ///
    /// # Errors
    /// What is missing (see [`missing`]), or the step that failed; whatever was built is torn
    /// down first.
    pub fn up(dir: &Path, limit: Duration) -> Result<TwoHosts, String> {
        let missing = missing();
        if !missing.is_empty() {
            return Err(format!(
                "two hosts cannot be built here; missing:\n  {}",
                missing.join("\n  ")
            ));
        }
        let lock = lock(limit)?;
        let left = cleanup();
        if !left.is_empty() {
            eprintln!(
                "two hosts: removed what an earlier run left: {}",
                left.join(", ")
            );
        }
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut hosts = TwoHosts {
            dir: dir.to_path_buf(),
            ssh_config: dir.join("ssh_config"),
            known_hosts: dir.join("known_hosts"),
            known_line: String::new(),
            sshd_pid: None,
            _lock: lock,
        };
        // On an error, dropping `hosts` removes what was built so far.
        hosts.network()?;
        hosts.files()?;
        hosts.start_sshd(limit)?;
        Ok(hosts)
    }

    fn network(&self) -> Result<(), String> {
        ip(&["netns", "add", HOST_A])?;
        ip(&["netns", "add", HOST_B])?;
        ip(&[
            "link", "add", VETH[0], "type", "veth", "peer", "name", VETH[1],
        ])?;
        for (host, veth, addr) in [(HOST_A, VETH[0], ADDR_A), (HOST_B, VETH[1], ADDR_B)] {
            ip(&["link", "set", veth, "netns", host])?;
            ip(&[
                "-n",
                host,
                "addr",
                "add",
                &format!("{addr}/24"),
                "dev",
                veth,
            ])?;
            ip(&["-n", host, "link", "set", veth, "up"])?;
            ip(&["-n", host, "link", "set", "lo", "up"])?;
        }
        Ok(())
    }

    fn write(&self, name: &str, text: &str, mode: u32) -> Result<PathBuf, String> {
        let path = self.dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path)
    }

    fn files(&mut self) -> Result<(), String> {
        let d = &self.dir;
        for key in ["id_ed25519", "host_ed25519"] {
            stdout_within(
                Command::new("ssh-keygen")
                    .args([
                        "-q",
                        "-t",
                        "ed25519",
                        "-N",
                        "",
                        "-C",
                        "parlab two hosts",
                        "-f",
                    ])
                    .arg(d.join(key)),
                STEP_LIMIT,
            )?;
        }
        let read =
            |name: &str| std::fs::read_to_string(d.join(name)).map_err(|e| format!("{name}: {e}"));
        let host_key = read("host_ed25519.pub")?;
        let host_key: Vec<&str> = host_key.split_whitespace().take(2).collect();
        self.known_line = format!("{ADDR_B} {}\n", host_key.join(" "));
        self.write("authorized_keys", &read("id_ed25519.pub")?, 0o600)?;
        self.remember_host_key()?;
        self.write(
            "sshd_config",
            &format!(
                "# sshd of {HOST_B}, made by parlab for two hosts\n\
                 ListenAddress {ADDR_B}\n\
                 HostKey {d}/host_ed25519\n\
                 PidFile {d}/sshd.pid\n\
                 AuthorizedKeysFile {d}/authorized_keys\n\
                 PermitRootLogin prohibit-password\n\
                 PasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\n\
                 UsePAM no\n\
                 StrictModes no\n",
                d = d.display()
            ),
            0o600,
        )?;
        self.write(
            "ssh_config",
            &format!(
                "# ssh from {HOST_A} to {HOST_B}, made by parlab: its own key and known_hosts, no prompts\n\
                 Host *\n\
                 \x20 IdentityFile {d}/id_ed25519\n\
                 \x20 IdentitiesOnly yes\n\
                 \x20 UserKnownHostsFile {known}\n\
                 \x20 GlobalKnownHostsFile /dev/null\n\
                 \x20 StrictHostKeyChecking yes\n\
                 \x20 BatchMode yes\n\
                 \x20 ConnectTimeout 5\n\
                 \x20 LogLevel ERROR\n",
                d = d.display(),
                known = self.known_hosts.display()
            ),
            0o600,
        )?;
        Ok(())
    }

    /// Puts the second host's key in [`known_hosts`](TwoHosts::known_hosts) (as [`up`](TwoHosts::up) does).
    pub fn remember_host_key(&self) -> Result<(), String> {
        self.write("known_hosts", &self.known_line, 0o600).map(drop)
    }

    /// Empties [`known_hosts`](TwoHosts::known_hosts): ssh then refuses the second host, as for
    /// a host never connected to.
    pub fn forget_host_key(&self) -> Result<(), String> {
        self.write("known_hosts", "", 0o600).map(drop)
    }

    fn start_sshd(&mut self, limit: Duration) -> Result<(), String> {
        let sshd = find_system_tool("sshd").ok_or("no sshd")?;
        std::fs::create_dir_all("/run/sshd").map_err(|e| format!("/run/sshd: {e}"))?;
        let config = self.dir.join("sshd_config");
        let log = self.dir.join("sshd.log");
        // sshd forks into the background and writes its pid file; `unshare --uts` gives it (and
        // the sessions it starts) the hostname of the second host.
        // Its output goes nowhere: a daemon holding our pipe would keep a reader waiting.
        let status = Command::new("ip")
            .args(["netns", "exec", HOST_B, "unshare", "--uts", "sh", "-c"])
            .arg(format!(
                "hostname {HOST_B} && exec \"$0\" -f \"$1\" -E \"$2\""
            ))
            .arg(&sshd)
            .arg(&config)
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("could not start sshd on {HOST_B}: {e}"))?;
        if !status.success() {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(format!(
                "sshd on {HOST_B} did not start ({status}): {}",
                log.trim()
            ));
        }
        let started = Instant::now();
        let pid_file = self.dir.join("sshd.pid");
        loop {
            self.sshd_pid = std::fs::read_to_string(&pid_file)
                .ok()
                .and_then(|p| p.trim().parse().ok());
            let answer =
                self.sshd_pid.is_some() && self.ssh(&["hostname"]).is_ok_and(|h| h == HOST_B);
            if answer {
                return Ok(());
            }
            if started.elapsed() > limit {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(format!(
                    "sshd on {HOST_B} did not answer within {limit:?}: {}; its log: {}",
                    self.ssh(&["hostname"]).err().unwrap_or_default(),
                    log.trim()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs a command on the second host through the ssh `mpirun` uses, from the first.
    pub fn ssh(&self, command: &[&str]) -> Result<String, String> {
        stdout_within(
            Command::new("ip")
                .args(["netns", "exec", HOST_A, "ssh", "-F"])
                .arg(&self.ssh_config)
                .arg(ADDR_B)
                .args(command),
            STEP_LIMIT,
        )
    }

    /// Stops the second host's sshd (the host stays, but nothing answers on its ssh port).
    pub fn stop_sshd(&mut self) -> Result<(), String> {
        if let Some(pid) = self.sshd_pid.take() {
            kill_and_wait(&[pid]);
        }
        Ok(())
    }

    /// A hostfile of `hosts`, each with its slots (the ranks it takes), written into the folder.
    pub fn hostfile(&self, name: &str, hosts: &[(&str, usize)]) -> Result<PathBuf, String> {
        let text: String = hosts
            .iter()
            .map(|(host, slots)| format!("{host} slots={slots}\n"))
            .collect();
        self.write(name, &text, 0o644)
    }

    /// `mpi` run from the first host with `hostfile` (see [`TwoHosts::hostfile`]): the launcher
    /// is a wrapper that enters the first host, the ranks talk TCP on the veth only, and ranks
    /// on the second host are started through this set's ssh.
    pub fn mpi(&self, mpi: &Mpi, hostfile: &Path) -> Result<Mpi, String> {
        let wrapper = self.write(
            "mpirun",
            &format!(
                "#!/bin/sh\n\
                 # {launcher} on {HOST_A}: its network namespace and a hostname of its own\n\
                 exec ip netns exec {HOST_A} unshare --uts sh -c 'hostname {HOST_A} && exec \"$0\" \"$@\"' '{launcher}' \"$@\"\n",
                launcher = mpi.launcher.display()
            ),
            0o755,
        )?;
        let mut on_two = mpi.clone();
        on_two.launcher = wrapper;
        on_two.launcher_args.extend(
            [
                "--mca",
                "btl",
                "tcp,self",
                "--mca",
                "btl_tcp_if_include",
                SUBNET,
                "--mca",
                "oob_tcp_if_include",
                SUBNET,
                // The veth's packets are carried by the same cores the ranks run on: a rank
                // that spins without yielding while it waits holds them up by milliseconds.
                "--mca",
                "mpi_yield_when_idle",
                "1",
                "--mca",
                "plm_rsh_agent",
            ]
            .map(str::to_owned),
        );
        on_two
            .launcher_args
            .push(format!("ssh -F {}", self.ssh_config.display()));
        Ok(on_two.with_hostfile(hostfile))
    }
}

impl Drop for TwoHosts {
    fn drop(&mut self) {
        if let Some(pid) = self.sshd_pid.take() {
            kill_and_wait(&[pid]);
        }
        cleanup();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Takes the machine-wide lock of two hosts, waiting at most `limit` for another holder.
fn lock(limit: Duration) -> Result<File, String> {
    use std::os::fd::AsRawFd;
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(LOCK)
        .map_err(|e| format!("{LOCK}: {e}"))?;
    let started = Instant::now();
    loop {
        // Safety: flock only reads the descriptor, which `file` keeps open.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(file);
        }
        if started.elapsed() > limit {
            return Err(format!(
                "another run holds the two hosts ({LOCK}) for more than {limit:?}: wait for it to end"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The processes in a network namespace.
pub fn pids_in(host: &str) -> Vec<i32> {
    ip(&["netns", "pids", host])
        .map(|out| out.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default()
}

/// SIGKILLs `pids` and waits (at most 5 s) until they are gone.
fn kill_and_wait(pids: &[i32]) {
    for &pid in pids {
        // Safety: kill only sends a signal; these are processes of the two hosts.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    let by = Instant::now() + Duration::from_secs(5);
    // A killed child of ours stays a zombie until reaped: `alive` counts it as gone.
    while pids.iter().any(|&p| alive(p)) && Instant::now() < by {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Ends every process in the two hosts' namespaces and removes the namespaces (and a veth end
/// left outside them); returns what it removed. Safe to call when nothing is there.
pub fn cleanup() -> Vec<String> {
    let mut removed = Vec::new();
    let existing = ip(&["netns", "list"]).unwrap_or_default();
    for host in [HOST_A, HOST_B] {
        let here = existing
            .lines()
            .any(|l| l.split_whitespace().next() == Some(host));
        if !here {
            continue;
        }
        let pids = pids_in(host);
        if !pids.is_empty() {
            removed.push(format!("{} process(es) on {host}", pids.len()));
            kill_and_wait(&pids);
        }
        if ip(&["netns", "del", host]).is_ok() {
            removed.push(format!("the namespace {host}"));
        }
    }
    for veth in VETH {
        if ip(&["link", "del", veth]).is_ok() {
            removed.push(format!("the link {veth}"));
        }
    }
    removed
}

/// Whether anything of two hosts is still there: namespaces, links, or processes in them.
pub fn leftovers() -> Vec<String> {
    let mut found = Vec::new();
    let existing = ip(&["netns", "list"]).unwrap_or_default();
    for host in [HOST_A, HOST_B] {
        if existing
            .lines()
            .any(|l| l.split_whitespace().next() == Some(host))
        {
            found.push(format!(
                "the namespace {host} ({} processes)",
                pids_in(host).len()
            ));
        }
    }
    let links = ip(&["link", "show"]).unwrap_or_default();
    for veth in VETH {
        if links.contains(&format!(" {veth}@")) || links.contains(&format!(" {veth}:")) {
            found.push(format!("the link {veth}"));
        }
    }
    found
}

/// `parlab two-hosts`: builds two hosts, runs calc_pi of `samples` (seed 1) on 2 + 2 ranks over
/// them and on 4 ranks on this host, shows where each rank ran and whether the estimates are
/// identical, and removes the two hosts.
pub fn demo(samples: u64) -> Result<(), String> {
    use parlab::mpi::tasks;
    let limit = Duration::from_secs(120);
    let mpi = Mpi::find().map_err(|e| e.to_string())?;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/two-hosts");
    let started = Instant::now();
    let hosts = TwoHosts::up(&dir, Duration::from_secs(30))?;
    println!(
        "two hosts up in {:.1} s: {HOST_A} ({ADDR_A}) runs mpirun, {HOST_B} ({ADDR_B}) runs sshd; \
         a veth joins them",
        started.elapsed().as_secs_f64()
    );
    let hostfile = hosts.hostfile("hostfile", &[(ADDR_A, 2), (ADDR_B, 2)])?;
    let on_two = hosts.mpi(&mpi, &hostfile)?;
    println!(
        "the hostfile:\n{}",
        std::fs::read_to_string(&hostfile).unwrap_or_default()
    );
    println!(
        "{}",
        on_two
            .command_line(tasks::CALC_PI, 4, &(samples, 1))
            .map_err(|e| e.to_string())?
    );
    let t = Instant::now();
    let two = on_two
        .run(tasks::CALC_PI, 4, &(samples, 1), limit)
        .map_err(|e| e.to_string())?;
    let two_s = t.elapsed().as_secs_f64();
    print!("{}", two.table());
    let t = Instant::now();
    let one = mpi
        .run(tasks::CALC_PI, 4, &(samples, 1), limit)
        .map_err(|e| e.to_string())?;
    let one_s = t.elapsed().as_secs_f64();
    println!(
        "2 + 2 ranks on two hosts: {:?} ({two_s:.2} s with mpirun's start)\n\
         4 ranks on this host:      {:?} ({one_s:.2} s)\nidentical: {}",
        two.estimate,
        one.estimate,
        two.estimate == one.estimate
    );
    println!("\nwhat a first cluster job runs into, each a clear error within the timeout:");
    let show = |what: &str, run: Result<Vec<parlab::mpi::RankInfo>, parlab::mpi::MpiError>| {
        let said = match run {
            Ok(ranks) => format!("it ran?! ({} ranks)", ranks.len()),
            Err(e) => e.to_string(),
        };
        println!("- {what}:\n  {}", said.replace('\n', "\n  "));
    };
    let short = Duration::from_secs(30);
    hosts.forget_host_key()?;
    show(
        "the second host's key is not in known_hosts",
        on_two.run(tasks::RANKS, 4, &(), short),
    );
    hosts.remember_host_key()?;
    let nobody = hosts.hostfile("hostfile-nobody", &[(ADDR_A, 2), (ADDR_NOBODY, 2)])?;
    show(
        &format!("the hostfile names {ADDR_NOBODY}, where no host answers"),
        hosts.mpi(&mpi, &nobody)?.run(tasks::RANKS, 4, &(), short),
    );
    let mut hosts = hosts;
    hosts.stop_sshd()?;
    show(
        "sshd on the second host is stopped",
        on_two.run(tasks::RANKS, 4, &(), short),
    );
    drop(hosts);
    let left = leftovers();
    if !left.is_empty() {
        return Err(format!("left behind: {}", left.join(", ")));
    }
    println!("the two hosts are removed");
    Ok(())
}
