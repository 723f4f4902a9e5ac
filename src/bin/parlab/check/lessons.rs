//! The shipped lessons: their exercises, which lesson a learner's notebook is, and the notebook
//! made ready to run with the shipped checks put back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::notebook::{cells, parlab_id, read_notebook, source, stem};
use crate::project;

/// One exercise of a shipped lesson: its name and the check cell as shipped.
pub(super) struct Exercise {
    pub(super) name: String,
    pub(super) check_cell: Value,
}

/// A shipped lesson: `notebooks/01-threads.ipynb` is lesson `01-threads`.
pub(super) struct Lesson {
    pub(super) name: String,
    pub(super) path: PathBuf,
    pub(super) kernel: String,
    pub(super) exercises: Vec<Exercise>,
}

/// The shipped lessons in `dir`: every .ipynb with its exercises, in the order of their checks.
pub(super) fn load_lessons(dir: &Path) -> Result<Vec<Lesson>, String> {
    let dir = if dir.is_absolute() || dir.exists() {
        dir.to_owned()
    } else {
        project::root().join(dir)
    };
    let entries = std::fs::read_dir(&dir).map_err(|e| {
        format!(
            "cannot read the shipped lessons in {}: {e} (--lessons names the folder)",
            dir.display()
        )
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ipynb"))
        .collect();
    paths.sort();
    let mut lessons = Vec::new();
    for path in paths {
        let nb = read_notebook(&path)
            .map_err(|e| format!("the shipped lesson {} is damaged: {e}", path.display()))?;
        let mut exercises: Vec<Exercise> = Vec::new();
        for cell in cells(&nb) {
            if let Some((name, "check")) = parlab_id(cell) {
                exercises.push(Exercise {
                    name: name.to_owned(),
                    check_cell: cell.clone(),
                });
            }
        }
        lessons.push(Lesson {
            name: stem(&path),
            kernel: nb["metadata"]["kernelspec"]["name"]
                .as_str()
                .unwrap_or("rust")
                .to_owned(),
            path,
            exercises,
        });
    }
    if lessons.iter().all(|l| l.exercises.is_empty()) {
        return Err(format!(
            "no lesson in {} has an exercise (cells with `parlab` exercise metadata)",
            dir.display()
        ));
    }
    Ok(lessons)
}

/// Which shipped lesson a learner's notebook is, from the exercises its cells name.
pub(super) fn identify<'a>(nb: &Value, lessons: &'a [Lesson]) -> Result<&'a Lesson, String> {
    let named: Vec<&str> = cells(nb)
        .iter()
        .filter_map(|c| parlab_id(c).map(|(name, _)| name))
        .collect();
    if named.is_empty() {
        return Err(
            "not a parlab lesson: no cell carries parlab exercise metadata \
             (is it a notebook from notebooks/, or one saved by a tool that drops cell metadata?)"
                .into(),
        );
    }
    let best = lessons
        .iter()
        .map(|l| {
            let hits = named
                .iter()
                .filter(|n| l.exercises.iter().any(|e| e.name == **n))
                .count();
            (hits, l)
        })
        .max_by_key(|(hits, _)| *hits);
    match best {
        Some((hits, lesson)) if hits > 0 => Ok(lesson),
        _ => {
            let mut names = named.clone();
            names.dedup();
            Err(format!(
                "not a parlab lesson: its exercises ({}) are in none of the shipped lessons",
                names.join(", ")
            ))
        }
    }
}

/// The learner's notebook made ready to run: outputs cleared, the shipped checks put back.
pub(super) fn prepare(
    nb: &Value,
    lesson: &Lesson,
) -> (Value, Vec<String>, BTreeMap<String, (bool, bool)>) {
    let mut nb = nb.clone();
    let with_ids = cells(&nb).iter().any(|c| c.get("id").is_some());
    let cells = nb["cells"]
        .as_array_mut()
        .expect("checked by read_notebook");
    for cell in cells.iter_mut() {
        if cell["cell_type"] == "code" {
            cell["outputs"] = json!([]);
            cell["execution_count"] = Value::Null;
        }
    }
    let shown = lesson.path.display();
    let mut notes = Vec::new();
    let mut flags = BTreeMap::new();
    for ex in &lesson.exercises {
        let name = ex.name.as_str();
        let shipped = source(&ex.check_cell);
        let exercise_cells: Vec<usize> = (0..cells.len())
            .filter(|&i| parlab_id(&cells[i]) == Some((name, "exercise")))
            .collect();
        let missing = exercise_cells.is_empty();
        if missing {
            notes.push(format!(
                "the exercise cell of `{name}` is missing (deleted?): copy it back from {shown}"
            ));
        }
        let mut changed = false;
        let mut found_check = false;
        for cell in cells.iter_mut() {
            if parlab_id(cell) == Some((name, "check")) {
                found_check = true;
                if source(cell).trim_end() != shipped.trim_end() {
                    changed = true;
                    cell["source"] = json!(shipped);
                }
            }
        }
        if changed {
            notes.push(format!(
                "check cell changed for `{name}`: the shipped check ran instead"
            ));
        }
        if !found_check {
            let mut cell = ex.check_cell.clone();
            cell["outputs"] = json!([]);
            cell["execution_count"] = Value::Null;
            if with_ids {
                cell["id"] = json!(format!("parlab-check-{name}"));
            } else if let Some(obj) = cell.as_object_mut() {
                obj.remove("id");
            }
            let at = exercise_cells.last().map_or(cells.len(), |i| i + 1);
            cells.insert(at, cell);
            notes.push(format!(
                "the check cell of `{name}` is missing: the shipped check was put back"
            ));
        }
        flags.insert(name.to_owned(), (changed, missing));
    }
    (nb, notes, flags)
}
