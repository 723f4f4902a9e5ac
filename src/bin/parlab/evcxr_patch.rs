//! evcxr_jupyter 0.22.0 with four small fixes, built by setup: a kernel that answers a client who
//! has already left lives on, rust-analyzer's work for a `:dep` moves off the cells' path, a
//! client that leaves no longer hangs the kernel's shell channel, and a cell compiles only the
//! variables it names.
//!
//! While evcxr is starting (its first compile, a few seconds), Jupyter's server "nudges" it:
//! every half second a `kernel_info_request` on a shell channel and on a control channel of its
//! own, which it closes as soon as one answer has come back. evcxr answers the queued requests
//! once it is ready; answering a channel that is already closed fails with `Broken pipe`, and on
//! the control channel evcxr 0.22.0 ends the whole kernel on that error ("The kernel appears to
//! have died"); on the shell channel it skips the `idle` status after the failed reply, so the
//! page may show a busy kernel that is idle. The fix: a `kernel_info_reply` (and an interrupt's
//! reply) that cannot be delivered is dropped, as the client that asked has gone. Three small
//! changes to evcxr_jupyter's `src/core.rs`.
//!
//! evcxr (the library evcxr_jupyter is built on) runs rust-analyzer on every cell, to learn the
//! types of the cell's new variables. After a new Cargo.toml (kernel start, a `:dep`) the first
//! such question waits for the analysis of every crate the cell can use, the standard library's
//! and parlab's with its dependencies: 4-5 s at kernel start, as long again in the `:dep` cell,
//! 7 s in the first cell that uses parlab (2 cores). The fix, in evcxr's
//! `src/rust_analyzer.rs`: a cell with no top-level `let` asks nothing (its answer was always
//! empty), and a new Cargo.toml starts that analysis on a thread of its own, so it runs while the
//! cell compiles, while Jupyter connects and while the `:dep` cell runs cargo; the next cell
//! waits only for what is left; each analysis ends with one line on the kernel's stderr (Jupyter's
//! log) saying how many crates it analysed in how long. evcxr_jupyter is built with this evcxr as a path dependency
//! (its Cargo.toml and Cargo.lock say so).
//!
//! zeromq (the pure-Rust ZeroMQ evcxr_jupyter talks to Jupyter with) removes a peer that has
//! left from its socket's peer map with a blocking wait, on a tokio worker thread. When two
//! kernels start at once (two notebooks opened together, a busy machine), Jupyter's start-up nudge
//! channels come and go while the entry of that map is held by, or was just handed to, a task
//! queued on that very worker: the worker waits for a task it should run itself, and the kernel's
//! shell channel never answers again (the notebook shows its kernel "Unknown" for good; 4 of 25
//! two-notebook starts in the browser test). The fix, in zeromq's `src/backend.rs`: that wait runs
//! in `tokio::task::block_in_place`, which first hands the worker's queue to another thread.
//! evcxr_jupyter is built with this zeromq through `[patch.crates-io]`.
//!
//! evcxr keeps the cells' variables in a store, and every cell took every variable out of it and
//! put it back: code for each variable (its type's checks, moves and drops) in every cell, which
//! late in a lesson (40 variables) was a third of a cell's compile (0.35 of 0.85-1.2 s). The
//! fix, in evcxr's `src/eval_context.rs`: a cell takes and puts back only the variables whose
//! names it holds as whole words; the others stay in the store, untouched. A cell can reach a
//! variable only by its name (an earlier cell's items and macros cannot see a cell's locals), and
//! a name that is in a string or a comment only costs a variable taken and put back.
//!
//! Each change is applied only where the source reads exactly as expected. The sources are
//! cargo's own downloads of the three crates (`cargo fetch`, then their `.crate` files), unpacked
//! and patched in `$CARGO_HOME/parlab/` (evcxr and zeromq in the `evcxr/` and `zeromq/` folders of
//! evcxr_jupyter's), and
//! installed from there with `cargo install --locked --path`, so the build folder is kept and
//! shared by every clone of this user (a new patch starts from the previous patch's build).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::project::{self, run_inherit};

/// The evcxr_jupyter release the lessons are tested with, and the one the patch applies to.
pub const VERSION: &str = "0.22.0";

/// Names this patch; a change to [`CHANGES`] gets a new one, so setup builds it again.
pub const PATCH_ID: &str = "parlab-7";

/// The evcxr_jupyter folder where evcxr's source is unpacked (its Cargo.toml points there).
const EVCXR_DIR: &str = "evcxr";

/// The zeromq release evcxr_jupyter's Cargo.lock names, and the one the patch applies to.
const ZEROMQ_VERSION: &str = "0.6.0";

/// The evcxr_jupyter folder where zeromq's source is unpacked (its Cargo.toml points there).
const ZEROMQ_DIR: &str = "zeromq";

/// The changes: (the file, in evcxr_jupyter's folder; what it fixes; the original text; its
/// replacement).
const CHANGES: [(&str, &str, &str, &str); 19] = [
    (
        "src/core.rs",
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
        "src/core.rs",
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
        "src/core.rs",
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
    (
        "Cargo.toml",
        "evcxr_jupyter is built with the published evcxr, not the patched one",
        "[dependencies.evcxr]\nversion = \"=0.22.0\"\n",
        "[dependencies.evcxr]\nversion = \"=0.22.0\"\npath = \"evcxr\"\n",
    ),
    (
        "Cargo.lock",
        "the lock file names the published evcxr (and `--locked` refuses the patched one)",
        "name = \"evcxr\"\nversion = \"0.22.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"ee69caeeefc311959b85962458e370d8eccb165123edbc5270134aaee6d7ed80\"\n",
        "name = \"evcxr\"\nversion = \"0.22.0\"\n",
    ),
    (
        "Cargo.toml",
        "evcxr_jupyter is built with the published zeromq, not the patched one",
        "\n[features]\n",
        "\n[patch.crates-io.zeromq]\npath = \"zeromq\"\n\n[features]\n",
    ),
    (
        "Cargo.lock",
        "the lock file names the published zeromq (and `--locked` refuses the patched one)",
        "name = \"zeromq\"\nversion = \"0.6.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"efb2c254fd8f366755335c9e43b865f8484fe3bd717d65ffe7c3f28852863030\"\n",
        "name = \"zeromq\"\nversion = \"0.6.0\"\n",
    ),
    (
        "zeromq/src/backend.rs",
        "a peer that leaves can hang a socket's receiving task for good",
        r#"    fn peer_disconnected(&self, peer_id: &PeerIdentity) {
        self.peers.remove_sync(peer_id);"#,
        r#"    fn peer_disconnected(&self, peer_id: &PeerIdentity) {
        // parlab patch: waiting here for the peer's map entry parks a tokio worker thread; the
        // task that holds (or was just handed) that entry may sit in this very worker's queue and
        // never run, and the socket's receiving task hangs for good. block_in_place hands the
        // worker's queue to another thread first (a current-thread runtime has none to hand).
        let remove = || {
            self.peers.remove_sync(peer_id);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(remove)
            }
            _ => remove(),
        }"#,
    ),
    (
        "evcxr/src/rust_analyzer.rs",
        "a new Cargo.toml makes the next cells wait for rust-analyzer's analysis of every crate",
        r#"        if cargo_toml != self.last_cargo_toml {
            self.load_cargo_toml(&mut change)?;
            self.last_cargo_toml = cargo_toml;
        }

        self.analysis_host.apply_change(change);
        Ok(())
    }
"#,
        r#"        let loaded = cargo_toml != self.last_cargo_toml;
        if loaded {
            self.load_cargo_toml(&mut change)?;
            self.last_cargo_toml = cargo_toml;
        }

        // parlab patch: a change would cancel the warm-up and lose its work; it finishes first.
        if let Some(warm_up) = self.warm_up.take() {
            let _ = warm_up.join();
        }
        self.analysis_host.apply_change(change);
        if loaded {
            self.start_warm_up();
        }
        Ok(())
    }

    /// parlab patch: analyses, on a thread of its own, what typing a cell's variables needs from
    /// every crate the cell can use (name resolution, then trait impls, crate by crate), while
    /// the cell is compiled and the next one comes; done on first use, it takes seconds.
    fn start_warm_up(&mut self) {
        let db = self.analysis_host.raw_database().clone();
        let cell_file = self.source_file_id;
        // Named, so that `top -H` (and parlab's kernel test) can see it working.
        let thread = std::thread::Builder::new().name("ra-warm-up".to_owned());
        self.warm_up = thread.spawn(move || {
            let started = std::time::Instant::now();
            let crates = ra_ap_base_db::all_crates(&db);
            let Some(cell) = crates
                .iter()
                .find(|krate| krate.data(&db).root_file_id == cell_file)
            else {
                eprintln!("rust-analyzer warm-up (parlab's evcxr patch): the cell's crate is not among {} crates", crates.len());
                return;
            };
            let used: std::collections::HashSet<_> = cell.transitive_deps(&db).into_iter().collect();
            // all_crates lists dependencies before the crates that use them.
            for &krate in crates.iter().filter(|krate| used.contains(*krate)) {
                let _ = ra_hir::crate_def_map(&db, krate);
                ra_hir::attach_db(&db, || {
                    let _ = ra_hir::TraitImpls::for_crate(&db, krate);
                });
            }
            // One line per new Cargo.toml on the kernel's stderr (Jupyter's log): what a cell
            // after it no longer waits for.
            eprintln!(
                "rust-analyzer warm-up (parlab's evcxr patch): analysed {} crates in {:.1} s",
                used.len(),
                started.elapsed().as_secs_f64()
            );
        }).ok();
    }
"#,
    ),
    (
        "evcxr/src/rust_analyzer.rs",
        "the warm-up thread has no place in evcxr's rust-analyzer state",
        "    current_source: String,\n}\n",
        "    current_source: String,\n    /// parlab patch: the analysis of the crates a new Cargo.toml brought, running in the background.\n    warm_up: Option<std::thread::JoinHandle<()>>,\n}\n",
    ),
    (
        "evcxr/src/rust_analyzer.rs",
        "a new rust-analyzer state has no warm-up thread",
        "            current_source: String::new(),\n        })",
        "            current_source: String::new(),\n            warm_up: None,\n        })",
    ),
    (
        "evcxr/src/rust_analyzer.rs",
        "a cell without variables waits for rust-analyzer's analysis of every crate",
        r#"                    let Some(body) = function.body() else {
                        continue;
                    };
"#,
        r#"                    let Some(body) = function.body() else {
                        continue;
                    };
                    // parlab patch: with no top-level `let` there is nothing to type, and asking
                    // for the scope would wait for the analysis of every crate.
                    if !body
                        .statements()
                        .any(|statement| matches!(statement, ast::Stmt::LetStmt(_)))
                    {
                        continue;
                    }
"#,
    ),
    (
        "evcxr/src/eval_context.rs",
        "every cell takes every variable out of the store and puts it back",
        "        compilation_mode: CompilationMode,\n    ) -> CodeBlock {\n        let needs_variable_store = !self.variable_states.is_empty()",
        "        compilation_mode: CompilationMode,\n    ) -> CodeBlock {\n        // parlab patch: only the variables the cell names leave the store and go back to it.\n        let used = user_code.code_string();\n        let needs_variable_store = !self.variable_states.is_empty()",
    ),
    (
        "evcxr/src/eval_context.rs",
        "the checks and loads of a cell's variables are of every variable",
        "                .add_all(self.check_variable_statements())\n                .add_all(self.load_variable_statements());\n            user_code = user_code.add_all(self.store_variable_statements(VariableMoveState::New));",
        "                .add_all(self.check_variable_statements(&used))\n                .add_all(self.load_variable_statements(&used));\n            user_code =\n                user_code.add_all(self.store_variable_statements(VariableMoveState::New, &used));",
    ),
    (
        "evcxr/src/eval_context.rs",
        "the variables put back after a cell are every variable",
        "            code = code.add_all(self.store_variable_statements(VariableMoveState::Available));",
        "            code = code\n                .add_all(self.store_variable_statements(VariableMoveState::Available, &used));",
    ),
    (
        "evcxr/src/eval_context.rs",
        "storing puts back variables the cell did not take",
        "    fn store_variable_statements(&self, move_state: VariableMoveState) -> CodeBlock {\n        let mut statements = CodeBlock::new();\n        for (var_name, var_state) in &self.variable_states {\n            if var_state.move_state == move_state {",
        "    fn store_variable_statements(&self, move_state: VariableMoveState, used: &str) -> CodeBlock {\n        let mut statements = CodeBlock::new();\n        for (var_name, var_state) in &self.variable_states {\n            // parlab patch: a variable the cell does not name was not taken, so it is not put back.\n            if var_state.move_state == move_state\n                && (move_state == VariableMoveState::New || names_variable(used, var_name))\n            {",
    ),
    (
        "evcxr/src/eval_context.rs",
        "checking looks at variables the cell does not take",
        "    fn check_variable_statements(&self) -> CodeBlock {\n        let mut statements = CodeBlock::new().generated(\"{let mut vars_ok = true;\");\n        for (var_name, var_state) in &self.stored_variable_states {\n",
        "    fn check_variable_statements(&self, used: &str) -> CodeBlock {\n        let mut statements = CodeBlock::new().generated(\"{let mut vars_ok = true;\");\n        for (var_name, var_state) in &self.stored_variable_states {\n            // parlab patch: only the variables the cell takes.\n            if !names_variable(used, var_name) {\n                continue;\n            }\n",
    ),
    (
        "evcxr/src/eval_context.rs",
        "loading takes every variable out of the store",
        "    fn load_variable_statements(&self) -> CodeBlock {\n        let mut statements = CodeBlock::new();\n        for (var_name, var_state) in &self.stored_variable_states {\n",
        "    fn load_variable_statements(&self, used: &str) -> CodeBlock {\n        let mut statements = CodeBlock::new();\n        for (var_name, var_state) in &self.stored_variable_states {\n            // parlab patch: a variable the cell does not name stays in the store.\n            if !names_variable(used, var_name) {\n                continue;\n            }\n",
    ),
    (
        "evcxr/src/eval_context.rs",
        "there is no test of whether a cell names a variable",
        "fn non_persistable_type_error(variable_name: &str, actual_type: &str) -> Result<(), Error> {",
        "/// parlab patch: whether `code` holds `name` as a whole word (in code, a string or a comment:\n/// naming it more often than it is used only costs a variable taken and put back). A cell can use\n/// a variable only by its name (an item or a macro of an earlier cell cannot reach a cell's\n/// locals), so a variable it does not name stays in the store, and the cell compiles less.\nfn names_variable(code: &str, name: &str) -> bool {\n    let is_word = |c: char| c.is_alphanumeric() || c == '_';\n    code.match_indices(name).any(|(at, _)| {\n        !code[..at].chars().next_back().is_some_and(is_word)\n            && !code[at + name.len()..].chars().next().is_some_and(is_word)\n    })\n}\n\nfn non_persistable_type_error(variable_name: &str, actual_type: &str) -> Result<(), Error> {",
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

/// Applies the [`CHANGES`] to `file` (a path in evcxr_jupyter's folder) to its text; the error
/// names the change that does not fit.
fn patch(file: &str, original: &str) -> Result<String, String> {
    let mut text = original.to_owned();
    for (_, what, old, new) in CHANGES.iter().filter(|c| c.0 == file) {
        match text.matches(old).count() {
            1 => text = text.replacen(old, new, 1),
            n => {
                return Err(format!(
                    "evcxr_jupyter {VERSION}'s {file} is not as the parlab patch expects ({n} places for the fix of \"{what}\")"
                ));
            }
        }
    }
    Ok(text)
}

/// The files [`CHANGES`] patches, each once.
fn patched_files() -> Vec<&'static str> {
    let mut files: Vec<&str> = CHANGES.iter().map(|c| c.0).collect();
    files.sort_unstable();
    files.dedup();
    files
}

/// The `.crate` file cargo downloaded for `name` at `version`, or None.
fn cached_crate(name: &str, version: &str) -> Option<PathBuf> {
    let cache = cargo_home().join("registry").join("cache");
    std::fs::read_dir(cache).ok()?.flatten().find_map(|index| {
        let file = index.path().join(format!("{name}-{version}.crate"));
        file.is_file().then_some(file)
    })
}

/// The `.crate` files cargo downloaded for evcxr_jupyter, evcxr and zeromq, fetching them when
/// they are not there.
fn crate_files() -> Result<[PathBuf; 3], String> {
    let find = || {
        Some([
            cached_crate("evcxr_jupyter", VERSION)?,
            cached_crate("evcxr", VERSION)?,
            cached_crate("zeromq", ZEROMQ_VERSION)?,
        ])
    };
    if let Some(files) = find() {
        return Ok(files);
    }
    // A manifest that only depends on evcxr_jupyter: `cargo fetch` downloads it and everything
    // it depends on (evcxr, zeromq).
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
        format!(
            "cargo fetched, but evcxr_jupyter-{VERSION}.crate, evcxr-{VERSION}.crate or zeromq-{ZEROMQ_VERSION}.crate is not in its download cache"
        )
    })
}

/// Unpacks a `.crate` file into `parent` (as `name-VERSION/`).
fn untar(crate_file: &Path, parent: &Path) -> Result<(), String> {
    project::output(
        Command::new("tar")
            .arg("-xzf")
            .arg(crate_file)
            .arg("-C")
            .arg(parent),
    )
    .map(drop)
}

/// Unpacks evcxr_jupyter's source, with evcxr's and zeromq's in its `evcxr/` and `zeromq/`
/// folders, into [`source_dir`] (keeping its `target/`) and patches them.
fn prepare_source() -> Result<PathBuf, String> {
    let dir = source_dir();
    let parent = dir.parent().unwrap_or(&dir).to_path_buf();
    let unpacked = parent.join(format!("evcxr_jupyter-{VERSION}"));
    let inner = [
        (format!("evcxr-{VERSION}"), EVCXR_DIR),
        (format!("zeromq-{ZEROMQ_VERSION}"), ZEROMQ_DIR),
    ];
    let [jupyter_crate, evcxr_crate, zeromq_crate] = crate_files()?;
    let _ = std::fs::remove_dir_all(&unpacked);
    for (name, _) in &inner {
        let _ = std::fs::remove_dir_all(parent.join(name));
    }
    std::fs::create_dir_all(&parent)
        .map_err(|e| format!("cannot make {}: {e}", parent.display()))?;
    for krate in [&jupyter_crate, &evcxr_crate, &zeromq_crate] {
        untar(krate, &parent)?;
    }
    for (name, folder) in &inner {
        std::fs::rename(parent.join(name), unpacked.join(folder)).map_err(|e| {
            format!(
                "cannot move {name}'s source into {}: {e}",
                unpacked.display()
            )
        })?;
    }
    for file in patched_files() {
        let path = unpacked.join(file);
        let patched = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
            .and_then(|text| patch(file, &text))?;
        std::fs::write(&path, patched)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    // The fresh source replaces the old one file by file; the build in `target/` stays.
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    adopt_earlier_build(&parent, &dir);
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

/// A new patch's folder without a build takes over the build of an earlier patch of the same
/// release (`evcxr_jupyter-VERSION-parlab-N/target`): cargo then compiles only what the patch
/// changed (about a minute) instead of all of evcxr_jupyter's dependencies (about 15 minutes).
fn adopt_earlier_build(parent: &Path, dir: &Path) {
    if dir.join("target").exists() {
        return;
    }
    let prefix = format!("evcxr_jupyter-{VERSION}-");
    let earlier = std::fs::read_dir(parent).ok().and_then(|entries| {
        entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p != dir
                    && p.join("target").is_dir()
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(&prefix))
            })
            .max_by_key(|p| {
                std::fs::metadata(p.join("target"))
                    .and_then(|m| m.modified())
                    .ok()
            })
    });
    if let Some(earlier) = earlier {
        // Best effort: without it cargo builds everything.
        let _ = std::fs::rename(earlier.join("target"), dir.join("target"));
    }
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
            "  installed: {}; the lessons use evcxr_jupyter {VERSION} with parlab's fixes ({PATCH_ID})",
            line.trim_end_matches(':')
        );
    }
    Ok(ours.then(|| format!("version {VERSION}, with parlab's fixes ({PATCH_ID})")))
}

/// Setup's install: the patched source, built and installed with cargo (about 15 minutes on 2
/// cores the first time; the kept build, or an earlier patch's, makes a later install take a
/// minute or two).
pub fn install() -> Result<(), String> {
    let dir = prepare_source()?;
    run_inherit(
        Command::new(project::cargo())
            .args(["install", "--locked", "--force", "--path"])
            .arg(&dir),
        "cargo install --path (evcxr_jupyter with parlab's fixes)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A text holding, once each, the places the changes to `file` expect.
    fn original(file: &str) -> String {
        CHANGES
            .iter()
            .filter(|c| c.0 == file)
            .map(|c| format!("// before\n{}\n// after\n", c.2))
            .collect()
    }

    #[test]
    fn each_change_is_applied_once() {
        for file in patched_files() {
            let patched = patch(file, &original(file)).unwrap();
            for (_, what, old, new) in CHANGES.iter().filter(|c| c.0 == file) {
                assert_eq!(patched.matches(new).count(), 1, "{what}");
                if !new.contains(old) {
                    assert!(!patched.contains(old), "not applied: {what}");
                }
            }
        }
        let core = patch("src/core.rs", &original("src/core.rs")).unwrap();
        assert_eq!(core.matches("parlab patch").count(), 3);
        assert!(
            !core.contains(".await?"),
            "a reply can still end the kernel"
        );
        let analyzer = "evcxr/src/rust_analyzer.rs";
        assert_eq!(
            patch(analyzer, &original(analyzer))
                .unwrap()
                .matches("parlab patch")
                .count(),
            4
        );
        let backend = "zeromq/src/backend.rs";
        assert!(
            patch(backend, &original(backend))
                .unwrap()
                .contains("tokio::task::block_in_place(remove)")
        );
        let eval = "evcxr/src/eval_context.rs";
        let eval = patch(eval, &original(eval)).unwrap();
        assert_eq!(eval.matches("parlab patch").count(), 5);
        assert!(
            !eval.contains("_variable_statements()"),
            "a cell still takes every variable"
        );
        assert_eq!(patched_files().len(), 6, "{:?}", patched_files());
    }

    #[test]
    fn a_source_that_differs_is_refused_by_name() {
        let without_control = original("src/core.rs").replace(CHANGES[1].2, "");
        let e = patch("src/core.rs", &without_control).unwrap_err();
        assert!(e.contains("0 places") && e.contains(CHANGES[1].1), "{e}");
        let twice = format!("{0}{0}", original("src/core.rs"));
        assert!(
            patch("src/core.rs", &twice)
                .unwrap_err()
                .contains("2 places")
        );
        let lock = patch("Cargo.lock", "name = \"evcxr\"\nversion = \"0.21.0\"\n").unwrap_err();
        assert!(
            lock.contains("Cargo.lock") && lock.contains("0 places"),
            "{lock}"
        );
    }

    /// Where `file` (a path of [`CHANGES`]) is as published: cargo's unpacked crates, else the
    /// patched copy setup made.
    fn published(file: &str) -> Option<(PathBuf, bool)> {
        let (krate, version, inner) = if let Some(inner) = file.strip_prefix("evcxr/") {
            ("evcxr", VERSION, inner)
        } else if let Some(inner) = file.strip_prefix("zeromq/") {
            ("zeromq", ZEROMQ_VERSION, inner)
        } else {
            ("evcxr_jupyter", VERSION, file)
        };
        let registry = cargo_home().join("registry").join("src");
        let found = std::fs::read_dir(&registry).ok().and_then(|dirs| {
            dirs.flatten()
                .map(|d| d.path().join(format!("{krate}-{version}")).join(inner))
                .find(|p| p.is_file())
        });
        found.map(|p| (p, false)).or_else(|| {
            let patched = source_dir().join(file);
            patched.is_file().then_some((patched, true))
        })
    }

    /// The patch fits the real sources, where cargo has them unpacked (after setup it does).
    #[test]
    fn the_patch_fits_evcxr_jupyter_as_published() {
        for file in patched_files() {
            let Some((path, is_patched)) = published(file) else {
                eprintln!("no {file} of evcxr {VERSION} here: run `cargo run --release -- setup`");
                continue;
            };
            let text = std::fs::read_to_string(&path).unwrap();
            if is_patched {
                // Only the patched copy is here: it must hold every replacement once.
                for (_, what, _, new) in CHANGES.iter().filter(|c| c.0 == file) {
                    assert_eq!(text.matches(new).count(), 1, "{what} in {}", path.display());
                }
            } else {
                patch(file, &text).unwrap();
            }
        }
    }
}
