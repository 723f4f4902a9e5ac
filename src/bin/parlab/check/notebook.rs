//! Learners' notebooks as files and JSON: finding them, reading them, and the parts of a cell
//! `parlab check` looks at.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The notebooks named on the command line, folders expanded (sorted, checkpoints skipped).
pub(super) fn learner_notebooks(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), String> {
        let entries =
            std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            if p.is_dir() {
                if p.file_name().is_none_or(|n| n != ".ipynb_checkpoints") {
                    walk(&p, found)?;
                }
            } else if p.extension().is_some_and(|x| x == "ipynb") {
                found.push(p);
            }
        }
        Ok(())
    }
    let mut found = Vec::new();
    for p in paths {
        if p.is_dir() {
            let before = found.len();
            walk(p, &mut found)?;
            if found.len() == before {
                return Err(format!("no .ipynb notebooks in {}", p.display()));
            }
        } else if p.exists() {
            found.push(p.clone());
        } else {
            return Err(format!("no notebook or folder at {}", p.display()));
        }
    }
    Ok(found)
}

/// Reads and parses a notebook; the error says what is wrong with the file.
pub(super) fn read_notebook(path: &Path) -> Result<Value, String> {
    let mut text = String::new();
    File::open(path)
        .and_then(|mut f| f.read_to_string(&mut text))
        .map_err(|e| format!("cannot read it: {e}"))?;
    if text.trim().is_empty() {
        return Err("the file is empty".into());
    }
    let nb: Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "damaged: not valid JSON (line {}, column {}: {e})",
            e.line(),
            e.column()
        )
    })?;
    if !nb["cells"].is_array() {
        return Err("not a Jupyter notebook: it has no list of cells".into());
    }
    if nb["nbformat"].as_u64() != Some(4) {
        return Err(format!(
            "notebook format {} is not 4: open and save it in JupyterLab first",
            nb["nbformat"]
        ));
    }
    Ok(nb)
}

/// The notebook's cells (none when it has no list of them).
pub(super) fn cells(nb: &Value) -> &[Value] {
    nb["cells"].as_array().map_or(&[], Vec::as_slice)
}

/// The `(exercise, role)` a code cell carries in its `parlab` metadata.
pub(super) fn parlab_id(cell: &Value) -> Option<(&str, &str)> {
    if cell["cell_type"] != "code" {
        return None;
    }
    let meta = &cell["metadata"]["parlab"];
    Some((meta["exercise"].as_str()?, meta["role"].as_str()?))
}

/// A cell's source as one string (nbformat allows a string or a list of lines).
pub(super) fn source(cell: &Value) -> String {
    match &cell["source"] {
        Value::String(s) => s.clone(),
        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

/// A file's name without its extension: `01-threads` for `notebooks/01-threads.ipynb`.
pub(super) fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_json_names_line_and_column() {
        let dir = std::env::temp_dir().join(format!("parlab-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.ipynb");
        std::fs::write(&path, "{\n \"cells\": [\n  {,\n").unwrap();
        let e = read_notebook(&path).unwrap_err();
        assert!(e.contains("not valid JSON (line 3"), "{e}");
        std::fs::write(&path, "{\"cells\": 3}").unwrap();
        assert!(
            read_notebook(&path)
                .unwrap_err()
                .contains("no list of cells")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
