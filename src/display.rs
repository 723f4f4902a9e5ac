//! Rich output in evcxr: HTML and SVG shown inline, plain text elsewhere.
//!
//! evcxr shows a value richly when its type has an `evcxr_display(&self)` method that prints
//! `EVCXR_BEGIN_CONTENT <mime>` ... `EVCXR_END_CONTENT` on stdout. Only the last output per MIME
//! type per cell is shown, so a cell shows one table and one chart at most.

/// True when running inside the evcxr kernel (its runtime sets `EVCXR_IS_RUNTIME`).
///
/// # Examples
/// ```
/// // In `cargo test` we are not in evcxr.
/// assert!(!parlab::display::in_evcxr());
/// ```
pub fn in_evcxr() -> bool {
    std::env::var_os("EVCXR_IS_RUNTIME").is_some()
}

/// Wraps `content` as an evcxr rich output of the given MIME type.
///
/// # Examples
/// ```
/// let s = parlab::display::evcxr_content("text/html", "<b>hi</b>");
/// assert!(s.starts_with("EVCXR_BEGIN_CONTENT text/html\n"));
/// assert!(s.ends_with("EVCXR_END_CONTENT\n"));
/// ```
pub fn evcxr_content(mime: &str, content: &str) -> String {
    format!("EVCXR_BEGIN_CONTENT {mime}\n{content}\nEVCXR_END_CONTENT\n")
}

/// Prints `content` as an evcxr rich output of the given MIME type (what `evcxr_display` calls).
///
/// # Examples
/// ```
/// parlab::display::show("text/html", "<p>shown inline in evcxr</p>");
/// ```
pub fn show(mime: &str, content: &str) {
    print!("{}", evcxr_content(mime, content));
}

/// Escapes `&`, `<`, `>` and `"` for use inside HTML text or attributes.
///
/// # Examples
/// ```
/// assert_eq!(parlab::display::escape_html("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
/// ```
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(ch),
        }
    }
    out
}

/// Standard base64 (with `=` padding), for `data:` URLs.
///
/// # Examples
/// ```
/// assert_eq!(parlab::display::base64(b"Man"), "TWFu");
/// assert_eq!(parlab::display::base64(b"Ma"), "TWE=");
/// assert_eq!(parlab::display::base64(b"M"), "TQ==");
/// ```
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
