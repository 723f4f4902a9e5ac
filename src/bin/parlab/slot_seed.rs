//! Seeding a new kernel slot from a warm one: a second kernel (two notebooks open at once) starts
//! with a copy of the first one's build, so its `:dep parlab` finds parlab and its dependencies
//! built instead of compiling them for half a minute.
//!
//! The copy is a plain one (a reflink where the file system has them: `std::fs::copy` uses
//! `copy_file_range`), never hard links: cargo rewrites some files of a build in place (its
//! fingerprints), so two slots sharing files could disagree about what is built. Modification
//! times are kept, because cargo decides what is fresh by them. While copying, the source slot's
//! cargo build lock is held, so the kernel that owns the source cannot be building into it at the
//! same moment (its next cell waits for the copy, a second or two). The copy is made beside the
//! new slot's `target` and renamed into place only when complete.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};

/// How long to wait for the source slot's kernel to finish a build before giving up the copy.
const BUILD_WAIT: Duration = Duration::from_secs(20);

/// What a seeding did, for the kernel's one line in Jupyter's log.
pub struct Seeded {
    /// The slot copied from (`slot-N`).
    pub from: String,
    /// Bytes copied.
    pub bytes: u64,
    /// How long the copy took.
    pub took: Duration,
}

/// Copies `from`'s build (`target/`) into the empty slot `to`; the error says why it was not done
/// (the new slot then builds from scratch, as before).
pub fn seed(from: &Path, to: &Path, free: u64, reserve: u64) -> Result<Seeded, String> {
    let name = from.file_name().map_or_else(
        || from.display().to_string(),
        |n| n.to_string_lossy().into(),
    );
    let source = from.join("target");
    let need = crate::disk::disk_use(&source);
    if free < need.saturating_add(reserve) {
        return Err(format!(
            "not copied from {name}: it needs {} and the disk has {} free",
            crate::disk::human_bytes(need),
            crate::disk::human_bytes(free)
        ));
    }
    let started = Instant::now();
    let _locks = hold_build_locks(&source).map_err(|e| format!("not copied from {name}: {e}"))?;
    let partial = to.join("target.parlab-seed");
    let _ = fs::remove_dir_all(&partial);
    let copied = copy_tree(&source, &partial)
        .and_then(|bytes| fs::rename(&partial, to.join("target")).map(|_| bytes));
    match copied {
        Ok(bytes) => Ok(Seeded {
            from: name,
            bytes,
            took: started.elapsed(),
        }),
        Err(e) => {
            let _ = fs::remove_dir_all(&partial);
            Err(format!("not copied from {name}: {e}"))
        }
    }
}

/// Cargo's build locks in a target folder: `.cargo-lock` in each profile folder (`release/`,
/// `debug/`, `<target triple>/release/`, ...), which cargo holds exclusively while it builds.
fn build_locks(target: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut look = |dir: &Path| {
        let lock = dir.join(".cargo-lock");
        if lock.is_file() {
            found.push(lock);
        }
    };
    look(target);
    for entry in fs::read_dir(target).into_iter().flatten().flatten() {
        let dir = entry.path();
        if !dir.is_dir() {
            continue;
        }
        look(&dir);
        for inner in fs::read_dir(&dir).into_iter().flatten().flatten() {
            if inner.path().is_dir() {
                look(&inner.path());
            }
        }
    }
    found
}

/// Takes a shared lock on each of cargo's build locks in `target`, waiting at most [`BUILD_WAIT`]
/// for a build in progress to end.
fn hold_build_locks(target: &Path) -> Result<Vec<Flock<File>>, String> {
    let until = Instant::now() + BUILD_WAIT;
    let mut held = Vec::new();
    for path in build_locks(target) {
        let mut file =
            File::open(&path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        loop {
            match Flock::lock(file, FlockArg::LockSharedNonblock) {
                Ok(lock) => {
                    held.push(lock);
                    break;
                }
                Err((back, nix::errno::Errno::EWOULDBLOCK)) if Instant::now() < until => {
                    file = back;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
                    return Err(format!(
                        "its kernel was still building after {} s",
                        BUILD_WAIT.as_secs()
                    ));
                }
                Err((_, e)) => return Err(format!("cannot lock {}: {e}", path.display())),
            }
        }
    }
    Ok(held)
}

/// Copies the tree at `from` to `to` (which must not exist), keeping modification times and
/// symbolic links; returns the bytes copied.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<u64> {
    let meta = fs::symlink_metadata(from)?;
    let kind = meta.file_type();
    if kind.is_symlink() {
        std::os::unix::fs::symlink(fs::read_link(from)?, to)?;
        return Ok(0);
    }
    if kind.is_dir() {
        fs::create_dir(to)?;
        let mut bytes = 0;
        for entry in fs::read_dir(from)? {
            let entry = entry?;
            bytes += copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        set_times(to, &meta)?;
        return Ok(bytes);
    }
    if !kind.is_file() {
        // A socket or a fifo has no place in a build folder: leave it out.
        return Ok(0);
    }
    let bytes = fs::copy(from, to)?;
    set_times(to, &meta)?;
    Ok(bytes)
}

/// Gives `path` the access and modification times of `like`.
fn set_times(path: &Path, like: &fs::Metadata) -> std::io::Result<()> {
    let mut times = fs::FileTimes::new().set_modified(like.modified()?);
    if let Ok(accessed) = like.accessed() {
        times = times.set_accessed(accessed);
    }
    if like.is_dir() {
        // A folder cannot be opened for writing: set its times through a read-only handle.
        File::open(path)?.set_times(times)
    } else {
        fs::OpenOptions::new()
            .write(true)
            .open(path)?
            .set_times(times)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_keeps_contents_times_and_links() {
        let dir = std::env::temp_dir().join(format!("parlab-seed-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let from = dir.join("from");
        fs::create_dir_all(from.join("release/deps")).unwrap();
        fs::write(from.join("release/deps/libx.rlib"), b"artifact").unwrap();
        fs::write(from.join("release/.cargo-lock"), b"").unwrap();
        std::os::unix::fs::symlink("deps/libx.rlib", from.join("release/libx.rlib")).unwrap();
        let old = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        fs::OpenOptions::new()
            .write(true)
            .open(from.join("release/deps/libx.rlib"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert_eq!(build_locks(&from), vec![from.join("release/.cargo-lock")]);
        let to = dir.join("to");
        assert_eq!(copy_tree(&from, &to).unwrap(), 8);
        assert_eq!(
            fs::read(to.join("release/deps/libx.rlib")).unwrap(),
            b"artifact"
        );
        let copied = fs::metadata(to.join("release/deps/libx.rlib")).unwrap();
        assert_eq!(copied.modified().unwrap(), old);
        assert_eq!(
            fs::read_link(to.join("release/libx.rlib")).unwrap(),
            Path::new("deps/libx.rlib")
        );
        // A build in progress (cargo's exclusive lock) holds the copy back.
        let busy = Flock::lock(
            File::open(from.join("release/.cargo-lock")).unwrap(),
            FlockArg::LockExclusiveNonblock,
        )
        .map_err(|(_, e)| e)
        .unwrap();
        let shared = Flock::lock(
            File::open(from.join("release/.cargo-lock")).unwrap(),
            FlockArg::LockSharedNonblock,
        );
        assert!(shared.is_err(), "a shared lock was granted during a build");
        drop(busy);
        assert_eq!(hold_build_locks(&from).unwrap().len(), 1);
        let _ = fs::remove_dir_all(&dir);
    }
}
