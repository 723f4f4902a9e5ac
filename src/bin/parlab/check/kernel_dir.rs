//! The evcxr build folder the kernels of one `parlab check` share, locked so that two checks
//! running at once do not build in the same folder.

use std::fs::File;
use std::path::PathBuf;

use crate::project;

/// A folder of evcxr build products shared by the kernels of one `parlab check` at a time, so
/// that the lesson's `:dep`s are built once, not once per notebook (30 s each on 2 cores).
pub(super) struct KernelDir {
    pub(super) path: PathBuf,
    /// Held for the lifetime of the run: only one kernel may use the folder at once.
    _lock: Option<nix::fcntl::Flock<File>>,
    pub(super) temporary: bool,
}

impl KernelDir {
    /// The shared folder when no other `parlab check` holds it, else a temporary one of our own.
    pub(super) fn take() -> Result<Self, String> {
        let base = project::root().join("target").join("parlab-check");
        let shared = base.join("evcxr");
        std::fs::create_dir_all(&shared)
            .map_err(|e| format!("cannot create {}: {e}", shared.display()))?;
        let lock_path = base.join("evcxr.lock");
        let file = File::create(&lock_path)
            .map_err(|e| format!("cannot create {}: {e}", lock_path.display()))?;
        match nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock) {
            Ok(lock) => Ok(KernelDir {
                path: shared,
                _lock: Some(lock),
                temporary: false,
            }),
            Err(_) => {
                // Another `parlab check` is running: build in a folder of our own.
                let own = base.join(format!("evcxr-{}", std::process::id()));
                std::fs::create_dir_all(&own)
                    .map_err(|e| format!("cannot create {}: {e}", own.display()))?;
                Ok(KernelDir {
                    path: own,
                    _lock: None,
                    temporary: true,
                })
            }
        }
    }
}

impl Drop for KernelDir {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
