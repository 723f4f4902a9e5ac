//! The project's JupyterLab stylesheet: compile errors readable on their pink background.
//!
//! JupyterLab draws an error output on a pale pink (`--jp-rendermime-error-background`), and evcxr
//! colours the quoted source lines of a compile error light grey: 1.68:1, unreadable. `setup`
//! installs [`CSS`] as the `.venv` JupyterLab's custom stylesheet (`custom/custom.css` in
//! jupyter_server's static files, which a user's own `~/.jupyter/custom/custom.css` still
//! overrides), and `parlab lab` starts JupyterLab with `--LabApp.custom_css=True` to load it.

use std::path::PathBuf;
use std::process::Command;

use crate::project::{self, output};

/// The stylesheet (every text colour it sets reaches at least 4.5:1 on its background).
pub const CSS: &str = include_str!("lab_custom.css");

/// Where the `.venv` JupyterLab looks for `custom.css` (asked of its Python).
fn target() -> Result<PathBuf, String> {
    let probe = "import jupyter_server, os; \
                 print(os.path.join(os.path.dirname(jupyter_server.__file__), 'static', 'custom', 'custom.css'))";
    output(Command::new(project::venv_python()).args(["-c", probe])).map(PathBuf::from)
}

/// `Some(where)` when the stylesheet is installed as it is now.
pub fn check() -> Result<Option<String>, String> {
    if !project::venv_python().is_file() {
        return Ok(None);
    }
    let path = target()?;
    Ok(
        (std::fs::read_to_string(&path).ok().as_deref() == Some(CSS))
            .then(|| format!("{} (loaded by `parlab lab`)", path.display())),
    )
}

/// Writes the stylesheet where the `.venv` JupyterLab finds it.
pub fn install() -> Result<(), String> {
    let path = target()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("could not make {}: {e}", dir.display()))?;
    }
    std::fs::write(&path, CSS).map_err(|e| format!("could not write {}: {e}", path.display()))
}

/// The `jupyter lab` option that loads it.
pub const LAB_OPTION: &str = "--LabApp.custom_css=True";

#[cfg(test)]
mod tests {
    use super::*;

    /// WCAG's contrast ratio of two sRGB colours.
    fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
        let lum = |c: [u8; 3]| {
            let ch = |v: u8| {
                let v = v as f64 / 255.0;
                if v <= 0.03928 {
                    v / 12.92
                } else {
                    ((v + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * ch(c[0]) + 0.7152 * ch(c[1]) + 0.0722 * ch(c[2])
        };
        let (x, y) = (lum(a) + 0.05, lum(b) + 0.05);
        x.max(y) / x.min(y)
    }

    fn hex(s: &str) -> [u8; 3] {
        let v = u32::from_str_radix(s.trim_start_matches('#'), 16).expect("a #rrggbb colour");
        [(v >> 16) as u8, (v >> 8) as u8, v as u8]
    }

    /// Every `color:` in the stylesheet reads at 4.5:1 or better on its error background.
    #[test]
    fn every_colour_reads_on_the_error_background() {
        let background = CSS
            .lines()
            .find_map(|l| l.trim().strip_prefix("--jp-rendermime-error-background:"))
            .map(|v| {
                hex(v
                    .trim()
                    .trim_end_matches(';')
                    .trim_end_matches("!important")
                    .trim())
            })
            .expect("the stylesheet sets the error background");
        let mut checked = 0;
        for line in CSS.lines() {
            if let Some(v) = line
                .trim()
                .strip_prefix("color: #")
                .map(|v| format!("#{v}"))
            {
                let c = hex(v
                    .trim()
                    .trim_end_matches(';')
                    .trim_end_matches("!important")
                    .trim());
                let ratio = contrast(c, background);
                assert!(ratio >= 4.5, "{line}: {ratio:.2}:1 on the error background");
                checked += 1;
            }
        }
        assert_eq!(checked, 2, "the two greys evcxr quotes source in");
        // What the issue measured: evcxr's grey 249 on the pink, before this stylesheet.
        assert!((contrast([178; 3], background) - 1.68).abs() < 0.02);
        // Any other colour, even white, is darkened to at most `brightness` of itself.
        let factor: f64 = CSS
            .split("brightness(")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .and_then(|v| v.parse().ok())
            .expect("a brightness filter");
        let whitest = (255.0 * factor).round() as u8;
        let ratio = contrast([whitest; 3], background);
        assert!(ratio >= 4.5, "white at {factor}: {ratio:.2}:1");
    }
}
