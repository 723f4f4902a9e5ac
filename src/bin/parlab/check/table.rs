//! The reports as text tables: one notebook in detail, or several side by side.

use super::report::{Report, Status, columns};

fn totals(reports: &[Report]) -> String {
    let solved: usize = reports.iter().map(Report::solved).sum();
    let all: usize = reports.iter().map(|r| r.results.len()).sum();
    let unchecked = reports.iter().filter(|r| r.problem.is_some()).count();
    let mut line = format!("{solved}/{all} exercises solved");
    if reports.len() > 1 {
        line.push_str(&format!(" in {} notebooks", reports.len()));
    }
    if unchecked > 0 {
        line.push_str(&format!(
            " ({unchecked} notebook{} could not be checked)",
            if unchecked == 1 { "" } else { "s" }
        ));
    }
    line
}

fn pad(text: &str, width: usize) -> String {
    format!("{text:<width$}")
}

/// The report on one notebook: a row per exercise with its message.
pub(super) fn single_table(r: &Report) -> String {
    let mut out = String::new();
    let name = r.notebook.display();
    match (&r.problem, &r.lesson) {
        (Some(problem), _) => out.push_str(&format!("{name}: cannot check: {problem}\n")),
        (None, lesson) => {
            out.push_str(&format!(
                "{name}: lesson {}, run in {:.1} s\n",
                lesson.as_deref().unwrap_or("?"),
                r.seconds
            ));
            let width = r
                .results
                .iter()
                .map(|e| e.exercise.len())
                .max()
                .unwrap_or(8)
                .max(8);
            out.push_str(&format!(
                "  {}  {:<7}  message\n",
                pad("exercise", width),
                "result"
            ));
            for e in &r.results {
                out.push_str(&format!(
                    "  {}  {:<7}  {}\n",
                    pad(&e.exercise, width),
                    e.status.as_str(),
                    e.message
                ));
            }
            for note in &r.notes {
                out.push_str(&format!("  note: {note}\n"));
            }
        }
    }
    out.push_str(&totals(std::slice::from_ref(r)));
    out.push('\n');
    out
}

/// The report on several notebooks: a row per notebook, a column per exercise, then the notes.
pub(super) fn multi_table(reports: &[Report]) -> String {
    let cols = columns(reports);
    let names: Vec<String> = reports
        .iter()
        .map(|r| r.notebook.display().to_string())
        .collect();
    let name_w = names.iter().map(String::len).max().unwrap_or(8).max(8);
    let lesson_w = reports
        .iter()
        .filter_map(|r| r.lesson.as_ref().map(String::len))
        .max()
        .unwrap_or(6)
        .max(6);
    let widths: Vec<usize> = cols.iter().map(|c| c.len().max(7)).collect();
    let mut out = format!("{}  {}", pad("notebook", name_w), pad("lesson", lesson_w));
    for (c, w) in cols.iter().zip(&widths) {
        out.push_str(&format!("  {}", pad(c, *w)));
    }
    out.push_str("  solved\n");
    let mut details = Vec::new();
    for (r, name) in reports.iter().zip(&names) {
        out.push_str(&format!(
            "{}  {}",
            pad(name, name_w),
            pad(r.lesson.as_deref().unwrap_or("-"), lesson_w)
        ));
        if let Some(problem) = &r.problem {
            out.push_str(&format!("  cannot check: {problem}\n"));
            continue;
        }
        for (c, w) in cols.iter().zip(&widths) {
            let cell = r
                .results
                .iter()
                .find(|e| &e.exercise == c)
                .map_or("-", |e| e.status.as_str());
            out.push_str(&format!("  {}", pad(cell, *w)));
        }
        out.push_str(&format!("  {}/{}\n", r.solved(), r.results.len()));
        for note in &r.notes {
            details.push(format!("  {name}: {note}"));
        }
        for e in r.results.iter().filter(|e| e.status == Status::Error) {
            details.push(format!("  {name}: `{}` ERROR: {}", e.exercise, e.message));
        }
    }
    if !details.is_empty() {
        out.push_str("notes:\n");
        for d in details {
            out.push_str(&d);
            out.push('\n');
        }
    }
    out.push_str(&totals(reports));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::report::samples::sample;

    #[test]
    fn one_notebook_gets_a_row_per_exercise_with_its_message() {
        let table = single_table(&sample()[0]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0], "alice.ipynb: lesson 01-threads, run in 12.5 s");
        assert!(
            lines[2].contains("sort_in_two_threads  DONE     sorted, on two threads"),
            "{table}"
        );
        assert!(
            lines[3].contains("calc_pi_k            ERROR    your code panicked: boom"),
            "{table}"
        );
        assert!(
            lines[4].starts_with("  note: check cell changed for `calc_pi_k`"),
            "{table}"
        );
        assert_eq!(lines[5], "1/2 exercises solved");
    }

    #[test]
    fn several_notebooks_get_a_row_each_and_a_column_per_exercise() {
        let table = multi_table(&sample());
        let lines: Vec<&str> = table.lines().collect();
        assert!(
            lines[0].starts_with("notebook     lesson      sort_in_two_threads  calc_pi_k  solved"),
            "{table}"
        );
        assert!(
            lines[1].starts_with("alice.ipynb  01-threads  DONE                 ERROR      1/2"),
            "{table}"
        );
        assert!(
            lines[2].starts_with("bob.ipynb    -           cannot check: damaged: not valid JSON"),
            "{table}"
        );
        assert!(
            table.contains("  alice.ipynb: `calc_pi_k` ERROR: your code panicked: boom"),
            "{table}"
        );
        assert_eq!(
            lines.last().unwrap(),
            &"1/2 exercises solved in 2 notebooks (1 notebook could not be checked)"
        );
    }
}
