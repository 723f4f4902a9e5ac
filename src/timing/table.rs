//! The table measurements show: HTML in evcxr, aligned plain text elsewhere.

use std::fmt;

use crate::display;

/// A table of text cells: an HTML table in evcxr, aligned plain text with `Display`.
///
/// # Examples
/// ```
/// let mut t = parlab::timing::Table::new(["case", "time"]);
/// t.push(["serial", "1.0 s"]);
/// assert_eq!(t.to_string(), "case    time\n------  -----\nserial  1.0 s\n");
/// assert!(t.to_html().contains("<td>serial</td>"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// The column headers.
    pub headers: Vec<String>,
    /// The rows; a row may be shorter than the headers.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers and no rows.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(parlab::timing::Table::new(["a", "b"]).headers.len(), 2);
    /// ```
    pub fn new<S: Into<String>>(headers: impl IntoIterator<Item = S>) -> Self {
        Table {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    ///
    /// # Examples
    /// ```
    /// let mut t = parlab::timing::Table::new(["a"]);
    /// t.push(["1"]).push(["2"]);
    /// assert_eq!(t.rows.len(), 2);
    /// ```
    pub fn push<S: Into<String>>(&mut self, row: impl IntoIterator<Item = S>) -> &mut Self {
        self.rows.push(row.into_iter().map(Into::into).collect());
        self
    }

    /// The table as HTML (cells escaped).
    ///
    /// # Examples
    /// ```
    /// let mut t = parlab::timing::Table::new(["a<b"]);
    /// assert!(t.to_html().contains("<th>a&lt;b</th>"));
    /// ```
    pub fn to_html(&self) -> String {
        let cells = |row: &[String], tag: &str| {
            row.iter()
                .map(|c| format!("<{tag}>{}</{tag}>", display::escape_html(c)))
                .collect::<String>()
        };
        let mut html = String::from("<table>\n<thead><tr>");
        html += &cells(&self.headers, "th");
        html += "</tr></thead>\n<tbody>\n";
        for row in &self.rows {
            html += "<tr>";
            html += &cells(row, "td");
            html += "</tr>\n";
        }
        html += "</tbody>\n</table>";
        html
    }

    /// Shows the table as HTML in evcxr (called by the kernel).
    ///
    /// # Examples
    /// ```
    /// parlab::timing::Table::new(["a"]).evcxr_display();
    /// ```
    pub fn evcxr_display(&self) {
        display::show("text/html", &self.to_html());
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let columns = self
            .rows
            .iter()
            .map(Vec::len)
            .chain([self.headers.len()])
            .max()
            .unwrap_or(0);
        let mut widths = vec![0; columns];
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, row: &[String]| {
            let cells: Vec<String> = widths
                .iter()
                .enumerate()
                .map(|(i, w)| format!("{:<w$}", row.get(i).map_or("", String::as_str)))
                .collect();
            writeln!(f, "{}", cells.join("  ").trim_end())
        };
        line(f, &self.headers)?;
        line(
            f,
            &widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>(),
        )?;
        for row in &self.rows {
            line(f, row)?;
        }
        Ok(())
    }
}

/// A note under a table, as HTML (nothing for `None`).
pub(super) fn note_html(note: Option<String>) -> String {
    note.map_or_else(String::new, |n| {
        format!(
            "<p data-parlab-note=\"skipped\"><small>{}</small></p>",
            display::escape_html(&n)
        )
    })
}
