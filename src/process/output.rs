//! A child's stdout and stderr, read line by line with every line and every capture bounded: a
//! line longer than [`MAX_LINE`] bytes is cut, and [`Output::Capture`](super::Output::Capture)
//! keeps the last [`MAX_CAPTURED`] bytes of lines, saying how many earlier ones it let go.

use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::sync::Mutex;

/// The longest line kept or printed whole, in bytes; the rest of a longer line is counted, not
/// kept.
pub const MAX_LINE: usize = 16 * 1024;

/// The most bytes of output lines one capture keeps (a process's, or a whole pool's); older lines
/// make way for newer ones.
pub const MAX_CAPTURED: usize = 1024 * 1024;

/// Calls `line` with each line `reader` gives (without its newline), at most [`MAX_LINE`] bytes of
/// it, and how many bytes were cut from its end; ends at end of input or at a read error.
pub(crate) fn for_each_line(mut reader: impl BufRead, mut line: impl FnMut(&[u8], usize)) {
    let mut kept = Vec::new();
    let mut cut = 0usize;
    loop {
        let buf = match reader.fill_buf() {
            Ok([]) | Err(_) => break,
            Ok(buf) => buf,
        };
        let (part, ends_line) = match buf.iter().position(|&b| b == b'\n') {
            Some(at) => (&buf[..at], true),
            None => (buf, false),
        };
        let room = MAX_LINE - kept.len();
        kept.extend_from_slice(&part[..part.len().min(room)]);
        cut += part.len().saturating_sub(room);
        let used = part.len() + usize::from(ends_line);
        reader.consume(used);
        if ends_line {
            line(&kept, cut);
            kept.clear();
            cut = 0;
        }
    }
    if !kept.is_empty() || cut > 0 {
        line(&kept, cut);
    }
}

/// A line as text, with a note of what was cut from it.
pub(crate) fn line_text(bytes: &[u8], cut: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    if cut == 0 {
        text.into_owned()
    } else {
        format!("{text}… ({cut} more bytes of this line not shown)")
    }
}

/// Prints `line` to stdout or stderr, ignoring a closed or full stream (the child's result matters
/// more than its chatter, and a panicking printer would lose the rest).
pub(crate) fn print_line(line: &str, to_stderr: bool) {
    let _ = if to_stderr {
        writeln!(std::io::stderr().lock(), "{line}")
    } else {
        writeln!(std::io::stdout().lock(), "{line}")
    };
}

/// Captured output lines: the newest ones, at most [`MAX_CAPTURED`] bytes, and a count of the
/// older ones let go.
///
/// # Examples
/// ```
/// use parlab::process::CapturedOutput;
/// let out = CapturedOutput::default();
/// out.push("[w1] hello".into());
/// assert_eq!(out.lines(), ["[w1] hello"]);
/// assert_eq!(out.take(), ["[w1] hello"]);
/// assert!(out.lines().is_empty());
/// ```
#[derive(Debug, Default)]
pub struct CapturedOutput {
    inner: Mutex<Kept>,
}

#[derive(Debug, Default)]
struct Kept {
    lines: VecDeque<String>,
    bytes: usize,
    dropped_lines: usize,
    dropped_bytes: usize,
}

impl CapturedOutput {
    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `line`, letting the oldest lines go while more than [`MAX_CAPTURED`] bytes are kept.
    ///
    /// # Examples
    /// ```
    /// let out = parlab::process::CapturedOutput::default();
    /// for i in 0..200 {
    ///     out.push(format!("{i:>10000}"));
    /// }
    /// let lines = out.lines();
    /// assert!(lines[0].contains("earlier lines"), "{}", lines[0]);
    /// assert!(lines.last().unwrap().ends_with("199"));
    /// ```
    pub fn push(&self, line: String) {
        let mut kept = self.kept();
        kept.bytes += line.len();
        kept.lines.push_back(line);
        while kept.bytes > MAX_CAPTURED {
            let Some(old) = kept.lines.pop_front() else {
                break;
            };
            kept.bytes -= old.len();
            kept.dropped_lines += 1;
            kept.dropped_bytes += old.len();
        }
    }

    /// The lines kept, oldest first; when some were let go, a first line says how many.
    ///
    /// # Examples
    /// ```
    /// let out = parlab::process::CapturedOutput::default();
    /// out.push("[w1] one".into());
    /// out.push("[w2] two".into());
    /// assert_eq!(out.lines().len(), 2);
    /// assert_eq!(out.lines().len(), 2, "reading does not take them");
    /// ```
    pub fn lines(&self) -> Vec<String> {
        let kept = self.kept();
        Self::listed(&kept)
    }

    /// The lines kept, as [`lines`](CapturedOutput::lines), and forgets them (and the count of
    /// those let go), so the capture starts empty.
    ///
    /// # Examples
    /// ```
    /// let out = parlab::process::CapturedOutput::default();
    /// out.push("[w1] one".into());
    /// assert_eq!(out.take().len(), 1);
    /// assert!(out.take().is_empty());
    /// ```
    pub fn take(&self) -> Vec<String> {
        let mut kept = self.kept();
        let lines = Self::listed(&kept);
        *kept = Kept::default();
        lines
    }

    fn listed(kept: &Kept) -> Vec<String> {
        let mut lines = Vec::with_capacity(kept.lines.len() + 1);
        if kept.dropped_lines > 0 {
            lines.push(format!(
                "[parlab] {} earlier lines ({} KiB) were let go: a capture keeps the last {} KiB \
                 of output (read it as you go, or print it with Output::Forward)",
                kept.dropped_lines,
                kept.dropped_bytes.div_ceil(1024),
                MAX_CAPTURED / 1024
            ));
        }
        lines.extend(kept.lines.iter().cloned());
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(input: &[u8]) -> Vec<(Vec<u8>, usize)> {
        let mut got = Vec::new();
        // A small buffer: lines arrive in many pieces.
        let reader = std::io::BufReader::with_capacity(7, input);
        for_each_line(reader, |l, cut| got.push((l.to_vec(), cut)));
        got
    }

    #[test]
    fn lines_are_split_at_newlines_and_the_last_needs_none() {
        let got = lines_of(b"one\ntwo\n\nthree");
        let texts: Vec<_> = got
            .iter()
            .map(|(l, c)| (String::from_utf8_lossy(l), *c))
            .collect();
        assert_eq!(
            texts,
            [
                ("one".into(), 0),
                ("two".into(), 0),
                ("".into(), 0),
                ("three".into(), 0)
            ]
        );
    }

    #[test]
    fn a_long_line_is_cut_and_counted() {
        let mut input = vec![b'x'; MAX_LINE + 5000];
        input.extend_from_slice(b"\nnext\n");
        let got = lines_of(&input);
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].0.len(), got[0].1), (MAX_LINE, 5000));
        assert_eq!(got[1], (b"next".to_vec(), 0));
        assert!(
            line_text(&got[0].0, got[0].1).ends_with("(5000 more bytes of this line not shown)")
        );
    }

    #[test]
    fn a_capture_keeps_its_newest_bytes_and_says_what_it_let_go() {
        let out = CapturedOutput::default();
        let line = "y".repeat(100 * 1024);
        for _ in 0..20 {
            out.push(line.clone());
        }
        let lines = out.lines();
        let kept: usize = lines[1..].iter().map(String::len).sum();
        assert!(kept <= MAX_CAPTURED);
        assert_eq!(lines.len() - 1, 10, "the newest 10 lines of 100 KiB");
        assert!(
            lines[0].starts_with("[parlab] 10 earlier lines (1000 KiB)"),
            "{}",
            lines[0]
        );
    }
}
