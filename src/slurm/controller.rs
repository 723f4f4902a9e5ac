//! A quick look for Slurm's controller before asking it through `sinfo`: when the configuration
//! names the controller's hosts and port and each of them refuses a TCP connection, no command can
//! reach it, and saying so takes milliseconds where `sinfo` retries for seconds.

use std::io::ErrorKind;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

/// slurmctld's port when the configuration does not name one.
const DEFAULT_PORT: u16 = 6817;

/// How long one connection attempt may take; a host that neither accepts nor refuses in this time
/// is left for `sinfo` to judge.
const CONNECT_LIMIT: Duration = Duration::from_millis(300);

/// Why no controller can answer, when every controller that the configuration at `conf` names
/// refused a connection on every port; None when one accepted, one could not be tried (an unknown
/// host, no answer in time), or the configuration does not name them.
pub(super) fn refused(conf: &Path) -> Option<String> {
    let text = std::fs::read_to_string(conf).ok()?;
    let (hosts, ports) = controllers(&text);
    if hosts.is_empty() || ports.is_empty() {
        return None;
    }
    let mut tried = Vec::new();
    for host in &hosts {
        for &port in &ports {
            for addr in (host.as_str(), port).to_socket_addrs().ok()? {
                match TcpStream::connect_timeout(&addr, CONNECT_LIMIT) {
                    Err(e) if e.kind() == ErrorKind::ConnectionRefused => {}
                    _ => return None,
                }
            }
            tried.push(format!("{host}:{port}"));
        }
    }
    Some(format!(
        "nothing listens at {} (connection refused; the controller named in {})",
        tried.join(", "),
        conf.display()
    ))
}

/// The controller hosts (`SlurmctldHost`, or the older `ControlMachine`; the address in brackets
/// when given) and ports (`SlurmctldPort`, a number or a range; the last setting counts) that a
/// `slurm.conf` names.
fn controllers(text: &str) -> (Vec<String>, Vec<u16>) {
    let mut hosts = Vec::new();
    let mut ports = vec![DEFAULT_PORT];
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        match key.trim().to_ascii_lowercase().as_str() {
            "slurmctldhost" | "controlmachine" => {
                let host = match value.split_once('(') {
                    Some((_, addr)) => addr.trim_end_matches(')'),
                    None => value,
                };
                hosts.push(host.trim().to_owned());
            }
            "slurmctldport" => {
                ports = match value.split_once('-') {
                    Some((a, b)) => match (a.trim().parse::<u16>(), b.trim().parse::<u16>()) {
                        (Ok(a), Ok(b)) => (a..=b).collect(),
                        _ => Vec::new(),
                    },
                    None => value.parse().map(|p| vec![p]).unwrap_or_default(),
                };
            }
            _ => {}
        }
    }
    (hosts, ports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_controllers_are_read_from_the_configuration() {
        let text = "SlurmctldHost=head(10.0.0.1) # primary\nslurmctldhost=backup\nSlurmctldPort=7000\nSlurmctldPort=6899-6900\n";
        assert_eq!(
            controllers(text),
            (vec!["10.0.0.1".into(), "backup".into()], vec![6899, 6900])
        );
        assert_eq!(
            controllers("ControlMachine=old\n"),
            (vec!["old".into()], vec![DEFAULT_PORT])
        );
        assert!(controllers("ClusterName=x\n").0.is_empty());
    }

    #[test]
    fn a_port_nobody_listens_on_is_refused_and_a_listening_one_is_not() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap().port();
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port(); // dropped at once: nothing listens there now
        let dir = std::env::temp_dir().join(format!("parlab-controller-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("slurm.conf");
        std::fs::write(
            &conf,
            format!("SlurmctldHost=127.0.0.1\nSlurmctldPort={closed}\n"),
        )
        .unwrap();
        let said = refused(&conf).expect("a closed port is refused");
        assert!(said.contains(&format!("127.0.0.1:{closed}")), "{said}");
        std::fs::write(
            &conf,
            format!("SlurmctldHost=127.0.0.1\nSlurmctldPort={open}\n"),
        )
        .unwrap();
        assert_eq!(refused(&conf), None);
        assert_eq!(refused(&dir.join("missing.conf")), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
