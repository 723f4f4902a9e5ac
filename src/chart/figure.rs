//! A drawn chart: its SVG, its description, and how it shows in evcxr, in HTML and in a file.

use std::fmt;
use std::path::Path;

use super::canvas::{HEIGHT, WIDTH};
use super::error::ChartError;

/// A drawn chart: SVG text and a text description of what it shows.
///
/// Every chart is 720 x 450 pixels, on a white background.
/// Shown inline in evcxr (it has `evcxr_display`); `Display` prints the description.
///
/// # Examples
/// ```
/// let c = parlab::chart::bars("calc_pi, 10^7 samples", "time (s)", &[("serial", 0.09), ("2 threads", 0.046)])?;
/// assert!(c.svg().starts_with("<svg"));
/// assert!(c.description().contains("serial 0.09"));
/// println!("{c}");
/// # Ok::<(), parlab::chart::ChartError>(())
/// ```
#[derive(Clone, PartialEq)]
pub struct Chart {
    svg: String,
    description: String,
    /// A note shown under the chart (a busy machine, say), also in the description.
    note: Option<String>,
}

impl Chart {
    /// Wraps plotters' SVG, adding `<title>`, `<desc>` and `role="img"` for screen readers.
    pub(super) fn new(title: &str, svg: String, description: String) -> Chart {
        let head = format!(
            " role=\"img\"><title>{}</title><desc>{}</desc>",
            crate::display::escape_html(title),
            crate::display::escape_html(&description)
        );
        let svg = match svg
            .find("<svg")
            .and_then(|s| svg[s..].find('>').map(|e| s + e))
        {
            Some(end) => format!("{}{}{}", &svg[..end], head, &svg[end + 1..]),
            None => svg,
        };
        Chart {
            svg,
            description,
            note: None,
        }
    }

    /// The same chart with a note shown under it (and added to its description).
    ///
    /// # Examples
    /// ```
    /// let c = parlab::chart::bars("t", "time (s)", &[("a", 1.0)])?.with_note("measured on a busy machine");
    /// assert!(c.description().ends_with("Note: measured on a busy machine"));
    /// assert!(c.to_html().contains("measured on a busy machine"));
    /// # Ok::<(), parlab::chart::ChartError>(())
    /// ```
    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        let note = note.into();
        self.description = format!("{} Note: {note}", self.description);
        self.note = Some(note);
        self
    }

    /// The chart as HTML: an `<img>` of the SVG whose alt text is the description (what
    /// JupyterLab and the rendered HTML pages show, so a screen reader reads the description),
    /// then the note, if any.
    ///
    /// # Examples
    /// ```
    /// let c = parlab::chart::bars("t", "time (s)", &[("a", 1.0)])?;
    /// let html = c.to_html();
    /// assert!(html.contains("<img src=\"data:image/svg+xml;base64,"));
    /// assert!(html.contains("alt=\"Bar chart &quot;t&quot;: time (s) per variant: a 1.\""));
    /// # Ok::<(), parlab::chart::ChartError>(())
    /// ```
    pub fn to_html(&self) -> String {
        let note = self
            .note
            .as_deref()
            .map_or(String::new(), crate::cores::busy_note_html);
        format!(
            "<figure style=\"margin:0\"><img src=\"data:image/svg+xml;base64,{}\" alt=\"{}\" \
             width=\"{WIDTH}\" height=\"{HEIGHT}\" style=\"max-width:100%;height:auto\">{note}</figure>",
            crate::display::base64(self.svg.as_bytes()),
            crate::display::escape_html(&self.description),
        )
    }

    /// The SVG text, with `<title>` and `<desc>` for accessibility.
    ///
    /// # Examples
    /// ```
    /// let c = parlab::chart::bars("t", "time (s)", &[("a", 1.0)])?;
    /// assert!(c.svg().contains("<title>t</title>"));
    /// # Ok::<(), parlab::chart::ChartError>(())
    /// ```
    pub fn svg(&self) -> &str {
        &self.svg
    }

    /// The text description (alt text): the kind of chart, its axes, each series and its ranges.
    ///
    /// # Examples
    /// ```
    /// use parlab::chart::{self, Series};
    /// let c = chart::lines("t", "threads", "time (s)", &[Series::new("a", vec![(1.0, 2.0), (2.0, 1.0)])])?;
    /// assert!(c.description().contains("threads from 1 to 2"));
    /// # Ok::<(), parlab::chart::ChartError>(())
    /// ```
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Writes the chart to an SVG file (with `<title>` and `<desc>`).
    ///
    /// # Errors
    /// [`ChartError::Io`] if the file cannot be written.
    ///
    /// # Examples
    /// ```
    /// let c = parlab::chart::bars("t", "time (s)", &[("a", 1.0)])?;
    /// let path = std::env::temp_dir().join("parlab-doc-chart.svg");
    /// c.save(&path)?;
    /// assert!(std::fs::read_to_string(&path).unwrap().contains("<desc>"));
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), parlab::chart::ChartError>(())
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ChartError> {
        let path = path.as_ref();
        std::fs::write(path, &self.svg).map_err(|source| ChartError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Shows the chart inline in evcxr: as `text/html` ([`Chart::to_html`], what Jupyter shows)
    /// and as `image/svg+xml`.
    ///
    /// # Examples
    /// ```
    /// let c = parlab::chart::bars("t", "time (s)", &[("a", 1.0)])?;
    /// c.evcxr_display(); // evcxr calls this for a cell's last value
    /// # Ok::<(), parlab::chart::ChartError>(())
    /// ```
    pub fn evcxr_display(&self) {
        // Both: frontends prefer the HTML (with its alt text); the SVG is there for the others.
        crate::display::show("image/svg+xml", &self.svg);
        crate::display::show("text/html", &self.to_html());
    }
}

impl fmt::Display for Chart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description)
    }
}

impl fmt::Debug for Chart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chart")
            .field("description", &self.description)
            .field("note", &self.note)
            .field("svg_bytes", &self.svg.len())
            .finish()
    }
}
