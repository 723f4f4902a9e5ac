//! evcxr_jupyter 0.22.0 with a small fix, built by setup: a kernel that answers a client who has
//! already left lives on.
//!
//! While evcxr is starting (its first compile, a few seconds), Jupyter's server "nudges" it:
//! every half second a `kernel_info_request` on a shell channel and on a control channel of its
//! own, which it closes as soon as one answer has come back. evcxr answers the queued requests
//! once it is ready; answering a channel that is already closed fails with `Broken pipe`, and on
//! the control channel evcxr 0.22.0 ends the whole kernel on that error ("The kernel appears to
//! have died"); on the shell channel it skips the `idle` status after the failed reply, so the
//! page may show a busy kernel that is idle. The fix: a `kernel_info_reply` (and an interrupt's
//! reply) that cannot be delivered is dropped, as the client that asked has gone. Three small
//! changes to `src/core.rs`, each applied only where evcxr's source reads exactly as expected.
//!
//! The source is cargo's own download of the crate (`cargo fetch`, then its `.crate` file),
//! unpacked and patched in `$CARGO_HOME/parlab/`, and installed from there with `cargo install
//! --locked --path`, so the build folder is kept and shared by every clone of this user.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::project::{self, run_inherit};

/// The evcxr_jupyter release the lessons are tested with, and the one the patch applies to.
pub const VERSION: &str = "0.22.0";

/// Names this patch; a change to [`CHANGES`] gets a new one, so setup builds it again.
pub const PATCH_ID: &str = "parlab-1";

/// The changes to evcxr_jupyter's `src/core.rs`: (what it fixes, the original text, its replacement).
const CHANGES: [(&str, &str, &str); 3] = [
    (
        "a shell kernel_info_reply to a client that left ends without the idle status",
        r#"        if message.message_type() == "kernel_info_request" {
            message
                .new_reply()
                .with_content(kernel_info())
                .send(connection)
                .await?;
        }"#,
        r#"        if message.message_type() == "kernel_info_request" {
            // parlab patch: the asker may have left already (Jupyter's start-up nudge closes its
            // channel at the first answer); the reply carries no state, so it is dropped.
            let _ = message
                .new_reply()
                .with_content(kernel_info())
                .send(connection)
                .await;
        }"#,
    ),
    (
        "a control kernel_info_reply to a client that left ends the kernel",
        r#"                "kernel_info_request" => {
                    message
                        .new_reply()
                        .with_content(kernel_info())
                        .send(&mut connection)
                        .await?
                }"#,
        r#"                "kernel_info_request" => {
                    // parlab patch: the asker may have left already (Jupyter's start-up nudge
                    // closes its channel at the first answer); that must not end the kernel.
                    let _ = message
                        .new_reply()
                        .with_content(kernel_info())
                        .send(&mut connection)
                        .await;
                }"#,
    ),
    (
        "an interrupt_reply to a client that left ends the kernel",
        r#"                    message
                        .new_reply()
                        .with_content(object! {"status": "ok"})
                        .send(&mut connection)
                        .await?;"#,
        r#"                    // parlab patch: the interrupt is done; a client that left misses its reply.
                    if let Err(error) = message
                        .new_reply()
                        .with_content(object! {"status": "ok"})
                        .send(&mut connection)
                        .await
                    {
                        eprintln!("interrupt_reply not delivered (the client left): {error}");
                    }"#,
    ),
];

/// `$CARGO_HOME`, where cargo keeps its downloads and `cargo install` its binaries.
fn cargo_home() -> PathBuf {
    project::cargo_bin_dir()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The patched source folder (its `target/` is the kept build).
pub fn source_dir() -> PathBuf {
    cargo_home()
        .join("parlab")
        .join(format!("evcxr_jupyter-{VERSION}-{PATCH_ID}"))
}

/// Applies [`CHANGES`] to the text of `core.rs`; the error names the change that does not fit.
fn patch(core: &str) -> Result<String, String> {
    let mut text = core.to_owned();
    for (what, old, new) in CHANGES {
        match text.matches(old).count() {
            1 => text = text.replacen(old, new, 1),
            n => {
                return Err(format!(
                    "evcxr_jupyter {VERSION}'s src/core.rs is not as the parlab patch expects ({n} places for the fix of \"{what}\")"
                ));
            }
        }
    }
    Ok(text)
}

/// The `.crate` file cargo downloaded for evcxr_jupyter, fetching it when it is not there.
fn crate_file() -> Result<PathBuf, String> {
    let find = || {
        let cache = cargo_home().join("registry").join("cache");
        std::fs::read_dir(cache).ok()?.flatten().find_map(|index| {
            let file = index.path().join(format!("evcxr_jupyter-{VERSION}.crate"));
            file.is_file().then_some(file)
        })
    };
    if let Some(file) = find() {
        return Ok(file);
    }
    // A manifest that only depends on it: `cargo fetch` downloads it (and what it needs).
    let fetch = source_dir().with_extension("fetch");
    std::fs::create_dir_all(&fetch)
        .and_then(|_| {
            std::fs::write(
                fetch.join("Cargo.toml"),
                format!(
                    "[package]\nname = \"parlab-evcxr-fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[lib]\npath = \"lib.rs\"\n\n[dependencies]\nevcxr_jupyter = \"={VERSION}\"\n"
                ),
            )
        })
        .and_then(|_| std::fs::write(fetch.join("lib.rs"), ""))
        .map_err(|e| format!("cannot write {}: {e}", fetch.display()))?;
    run_inherit(
        Command::new(project::cargo())
            .arg("fetch")
            .arg("--manifest-path")
            .arg(fetch.join("Cargo.toml")),
        "cargo fetch (evcxr_jupyter's source)",
    )?;
    find().ok_or_else(|| {
        format!("cargo fetched, but no evcxr_jupyter-{VERSION}.crate is in its download cache")
    })
}

/// Unpacks evcxr_jupyter's source into [`source_dir`] (keeping its `target/`) and patches it.
fn prepare_source() -> Result<PathBuf, String> {
    let dir = source_dir();
    let parent = dir.parent().unwrap_or(&dir).to_path_buf();
    let unpacked = parent.join(format!("evcxr_jupyter-{VERSION}"));
    let crate_file = crate_file()?;
    let _ = std::fs::remove_dir_all(&unpacked);
    std::fs::create_dir_all(&parent)
        .map_err(|e| format!("cannot make {}: {e}", parent.display()))?;
    project::output(
        Command::new("tar")
            .arg("-xzf")
            .arg(&crate_file)
            .arg("-C")
            .arg(&parent),
    )?;
    let core = unpacked.join("src").join("core.rs");
    let patched = std::fs::read_to_string(&core)
        .map_err(|e| format!("cannot read {}: {e}", core.display()))
        .and_then(|text| patch(&text))?;
    std::fs::write(&core, patched).map_err(|e| format!("cannot write {}: {e}", core.display()))?;
    // The fresh source replaces the old one file by file; the build in `target/` stays.
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    for entry in std::fs::read_dir(&unpacked)
        .map_err(|e| format!("cannot read {}: {e}", unpacked.display()))?
        .flatten()
    {
        let to = dir.join(entry.file_name());
        if to.is_dir() {
            let _ = std::fs::remove_dir_all(&to);
        }
        std::fs::rename(entry.path(), &to)
            .map_err(|e| format!("cannot move the source into {}: {e}", dir.display()))?;
    }
    let _ = std::fs::remove_dir_all(&unpacked);
    Ok(dir)
}

/// Setup's check: Some when the installed evcxr_jupyter is this patched build.
pub fn check() -> Result<Option<String>, String> {
    if project::find_tool("evcxr_jupyter").is_none() {
        return Ok(None);
    }
    let list = project::output(Command::new(project::cargo()).args(["install", "--list"]))?;
    let Some(line) = list.lines().find(|l| l.starts_with("evcxr_jupyter v")) else {
        return Ok(None);
    };
    let ours = line.contains(&format!("v{VERSION} ("))
        && line.contains(&source_dir().display().to_string());
    if !ours {
        println!(
            "  installed: {}; the lessons use evcxr_jupyter {VERSION} with parlab's fix ({PATCH_ID})",
            line.trim_end_matches(':')
        );
    }
    Ok(ours.then(|| format!("version {VERSION}, with parlab's fix ({PATCH_ID})")))
}

/// Setup's install: the patched source, built and installed with cargo (about 15 minutes on 2
/// cores the first time; the kept build makes a later install take a minute).
pub fn install() -> Result<(), String> {
    let dir = prepare_source()?;
    run_inherit(
        Command::new(project::cargo())
            .args(["install", "--locked", "--force", "--path"])
            .arg(&dir),
        "cargo install --path (evcxr_jupyter with parlab's fix)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The three places of evcxr_jupyter 0.22.0's core.rs, as it reads there.
    fn original() -> String {
        format!(
            "fn shell() {{\n{}\n}}\nfn control() {{\n{}\n{}\n}}\n",
            CHANGES[0].1, CHANGES[1].1, CHANGES[2].1
        )
    }

    #[test]
    fn each_change_is_applied_once() {
        let patched = patch(&original()).unwrap();
        for (what, old, new) in CHANGES {
            assert!(!patched.contains(old), "not applied: {what}");
            assert_eq!(patched.matches(new).count(), 1, "{what}");
        }
        assert_eq!(patched.matches("parlab patch").count(), 3);
        assert!(
            !patched.contains(".await?"),
            "a reply can still end the kernel"
        );
    }

    #[test]
    fn a_source_that_differs_is_refused_by_name() {
        let without_control = original().replace(CHANGES[1].1, "");
        let e = patch(&without_control).unwrap_err();
        assert!(e.contains("0 places") && e.contains(CHANGES[1].0), "{e}");
        let twice = format!("{0}{0}", original());
        assert!(patch(&twice).unwrap_err().contains("2 places"));
    }

    /// The patch fits the real source, where cargo has it unpacked (after setup it is).
    #[test]
    fn the_patch_fits_evcxr_jupyter_as_published() {
        let registry = cargo_home().join("registry").join("src");
        let core = std::fs::read_dir(&registry).ok().and_then(|dirs| {
            dirs.flatten()
                .map(|d| {
                    d.path()
                        .join(format!("evcxr_jupyter-{VERSION}/src/core.rs"))
                })
                .find(|p| p.is_file())
        });
        let Some(core) = core.or_else(|| {
            let patched = source_dir().join("src/core.rs");
            patched.is_file().then_some(patched)
        }) else {
            eprintln!("no evcxr_jupyter {VERSION} source here: run `cargo run --release -- setup`");
            return;
        };
        let text = std::fs::read_to_string(&core).unwrap();
        if text.contains("parlab patch") {
            // Only the patched copy is here: it must hold every replacement once.
            for (what, _, new) in CHANGES {
                assert_eq!(text.matches(new).count(), 1, "{what} in {}", core.display());
            }
        } else {
            patch(&text).unwrap();
        }
    }
}
