//! Disk space: what a folder takes, what a file system has free, and both written for people.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The space the file system holding `dir` has free for this user.
pub fn free_bytes(dir: &Path) -> Result<u64, String> {
    let st = nix::sys::statvfs::statvfs(dir)
        .map_err(|e| format!("cannot read the free space of {}: {e}", dir.display()))?;
    Ok(st.blocks_available() as u64 * st.fragment_size() as u64)
}

/// The disk space a folder takes (allocated blocks, symlinks not followed).
pub fn disk_use(path: &Path) -> u64 {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return 0;
    };
    let mut total = meta.blocks() * 512;
    if meta.is_dir()
        && let Ok(entries) = fs::read_dir(path)
    {
        total += entries
            .filter_map(Result::ok)
            .map(|e| disk_use(&e.path()))
            .sum::<u64>();
    }
    total
}

/// A byte count for people: "412 MiB", "1.3 GiB".
pub fn human_bytes(bytes: u64) -> String {
    const MIB: f64 = (1u64 << 20) as f64;
    let mib = bytes as f64 / MIB;
    if mib >= 1024.0 {
        format!("{:.1} GiB", mib / 1024.0)
    } else {
        format!("{mib:.0} MiB")
    }
}
