//! Verdict scraping: the status of each exercise, read from the outputs of its executed cells.

use parlab::exercise::{Outcome, Verdict};
use serde_json::Value;

use super::notebook::{cells, parlab_id};
use super::report::{ExerciseResult, Status};
use super::runner::Run;

/// The verdict on one exercise, from the outputs of its exercise and check cells.
pub(super) fn judge(
    run: &Run,
    name: &str,
    changed: bool,
    missing: bool,
    timeout: u64,
) -> ExerciseResult {
    let cells = cells(&run.executed);
    let find = |role: &str| -> Vec<usize> {
        (0..cells.len())
            .filter(|&i| parlab_id(&cells[i]) == Some((name, role)))
            .collect()
    };
    let exercise_cells = find("exercise");
    let check_cells = find("check");
    let (status, message) = verdict(run, &exercise_cells, &check_cells, missing, timeout);
    ExerciseResult {
        exercise: name.to_owned(),
        status,
        message,
        check_changed: changed,
        exercise_missing: missing,
    }
}

fn verdict(
    run: &Run,
    exercise_cells: &[usize],
    check_cells: &[usize],
    missing: bool,
    timeout: u64,
) -> (Status, String) {
    let cells = cells(&run.executed);
    let timed_out = |i: &usize| run.timed_out.contains(i);
    if exercise_cells.iter().any(timed_out) {
        return (
            Status::Error,
            format!("timeout: your exercise cell ran longer than {timeout} s and was interrupted"),
        );
    }
    let Some(&check) = check_cells.first() else {
        return (Status::Error, "the check cell was not run".into());
    };
    if check_cells.iter().any(timed_out) {
        return (
            Status::Error,
            format!(
                "timeout: the check ran longer than {timeout} s and was interrupted \
                 (is your code waiting forever, or far too slow?)"
            ),
        );
    }
    let check = &cells[check];
    if let Some(shown) = outputs(check)
        .iter()
        .find_map(|o| Verdict::from_output_data(&o["data"]))
    {
        let text = shown.message().to_owned();
        return match shown.outcome() {
            _ if shown.is_solved() => (Status::Done, text),
            Outcome::Panicked => (Status::Error, text),
            Outcome::TimedOut => (Status::Error, format!("timeout: {text}")),
            Outcome::NotRun => match exercise_cells.iter().find_map(|&i| error_text(&cells[i])) {
                Some(e) => (
                    Status::Error,
                    format!("your exercise cell does not compile: {e}"),
                ),
                None if missing => (
                    Status::Error,
                    "the exercise cell is missing, and the check needs it".into(),
                ),
                None => (Status::Error, format!("not run: {text}")),
            },
            Outcome::Solved | Outcome::Wrong | Outcome::Todo => (Status::Pending, text),
        };
    }
    if let Some(err) = error_text(check) {
        let own = exercise_cells
            .iter()
            .find_map(|&i| error_text(&cells[i]))
            .map(|e| format!("your exercise cell does not compile: {e}"));
        let message = match (own, missing) {
            (Some(own), _) => own,
            (None, true) => {
                format!(
                    "compile error: the exercise cell is missing, and the check needs it: {err}"
                )
            }
            (None, false) => format!("compile error in the check with your code: {err}"),
        };
        return (Status::Error, message);
    }
    let stderr = stream(check, "stderr");
    if stderr.contains("panicked at") {
        return (Status::Error, format!("panic: {}", first_lines(&stderr, 3)));
    }
    match &run.fatal {
        Some(fatal)
            if check
                .get("outputs")
                .is_none_or(|o| o.as_array().is_none_or(Vec::is_empty)) =>
        {
            (Status::Error, format!("not run: {fatal}"))
        }
        _ => (
            Status::Error,
            "the check showed no verdict (did the cell before it stop the kernel?)".into(),
        ),
    }
}

fn outputs(cell: &Value) -> &[Value] {
    cell["outputs"].as_array().map_or(&[], Vec::as_slice)
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

fn stream(cell: &Value, name: &str) -> String {
    outputs(cell)
        .iter()
        .filter(|o| o["output_type"] == "stream" && o["name"] == name)
        .map(|o| text_of(&o["text"]))
        .collect()
}

/// The first lines of a cell's error output, ANSI colours removed; None without one.
fn error_text(cell: &Value) -> Option<String> {
    let err = outputs(cell).iter().find(|o| o["output_type"] == "error")?;
    let mut text = err["evalue"].as_str().unwrap_or_default().to_owned();
    let detail: Vec<String> = err["traceback"]
        .as_array()
        .map(|t| t.iter().filter_map(Value::as_str).map(strip_ansi).collect())
        .unwrap_or_default();
    let detail = detail.join("\n");
    if text.trim().is_empty() {
        text = detail.clone();
    }
    let text = strip_ansi(&text);
    Some(first_lines(&text, 2))
}

fn first_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(n)
        .collect();
    let joined = lines.join(" | ");
    if joined.chars().count() > 300 {
        format!("{}...", joined.chars().take(300).collect::<String>())
    } else {
        joined
    }
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_verdict_is_read_from_its_json_not_its_html() {
        let v = Verdict::not_yet("f", "a < b & c");
        let data = json!({"text/html": v.to_html(), parlab::exercise::VERDICT_MIME: serde_json::from_str::<Value>(&v.to_json()).unwrap()});
        let shown = Verdict::from_output_data(&data).unwrap();
        assert_eq!(shown.message(), "a < b & c");
        assert_eq!(shown.outcome(), Outcome::Wrong);
        // HTML that only looks like a verdict (printed by hand) is not one.
        assert!(Verdict::from_output_data(&json!({"text/html": v.to_html()})).is_none());
    }

    #[test]
    fn ansi_colours_are_removed() {
        assert_eq!(strip_ansi("\u{1b}[31merror\u{1b}[0m: x"), "error: x");
    }
}
