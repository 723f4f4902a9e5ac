//! The reports for other programs: a CSV gradebook (`--csv`) and JSON lines (`--json`).

use serde_json::json;

use super::report::{Report, columns};

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The gradebook: notebook, lesson, one column per exercise (DONE / PENDING / ERROR, empty where
/// the notebook's lesson has no such exercise), solved, exercises, problem, notes.
pub(super) fn gradebook_csv(reports: &[Report]) -> String {
    let cols = columns(reports);
    let mut header = vec!["notebook".to_owned(), "lesson".to_owned()];
    header.extend(cols.iter().cloned());
    header.extend(["solved", "exercises", "problem", "notes"].map(String::from));
    let mut out = header
        .iter()
        .map(|h| csv_field(h))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for r in reports {
        let mut row = vec![
            r.notebook.display().to_string(),
            r.lesson.clone().unwrap_or_default(),
        ];
        for c in &cols {
            row.push(
                r.results
                    .iter()
                    .find(|e| &e.exercise == c)
                    .map_or(String::new(), |e| e.status.as_str().to_owned()),
            );
        }
        row.push(r.solved().to_string());
        row.push(r.results.len().to_string());
        row.push(r.problem.clone().unwrap_or_default());
        row.push(r.notes.join("; "));
        out.push_str(
            &row.iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}

/// One JSON object per exercise per notebook; a notebook that could not be checked gets one
/// object with `exercise: null` and its problem as the message.
pub(super) fn json_lines(reports: &[Report]) -> Vec<String> {
    let mut lines = Vec::new();
    for r in reports {
        let notebook = r.notebook.display().to_string();
        if let Some(problem) = &r.problem {
            lines.push(
                json!({"notebook": notebook, "lesson": null, "exercise": null,
                       "status": "ERROR", "message": problem,
                       "check_changed": false, "exercise_missing": false})
                .to_string(),
            );
            continue;
        }
        for e in &r.results {
            lines.push(
                json!({"notebook": notebook, "lesson": r.lesson, "exercise": e.exercise,
                       "status": e.status.as_str(), "message": e.message,
                       "check_changed": e.check_changed, "exercise_missing": e.exercise_missing})
                .to_string(),
            );
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::report::samples::sample;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn several_notebooks_get_a_csv_row_each_and_json_lines_per_exercise() {
        let csv = gradebook_csv(&sample());
        assert!(
            csv.starts_with(
                "notebook,lesson,sort_in_two_threads,calc_pi_k,solved,exercises,problem,notes\n"
            ),
            "{csv}"
        );
        assert!(
            csv.contains("\nbob.ipynb,,,,0,0,damaged: not valid JSON,\n"),
            "{csv}"
        );
        let json = json_lines(&sample());
        assert_eq!(json.len(), 3);
        assert!(json[2].contains("\"exercise\":null"), "{}", json[2]);
    }
}
