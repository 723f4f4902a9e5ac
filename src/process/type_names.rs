//! Names and fingerprints of Rust types: short names for people, stable hashes for signatures.

/// FNV-1a, 64 bits: a stable hash (std's hasher may change between releases; this must not).
pub(crate) fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A type's name without module paths: `alloc::vec::Vec<parlab::pi::PiEstimate>` -> `Vec<PiEstimate>`.
pub(crate) fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(word.rsplit("::").next().unwrap_or(word));
        word.clear();
    };
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names() {
        assert_eq!(
            short_type_name("alloc::vec::Vec<(alloc::string::String, parlab::pi::PiEstimate)>"),
            "Vec<(String, PiEstimate)>"
        );
        assert_eq!(short_type_name("()"), "()");
        assert_eq!(short_type_name("[u8; 4]"), "[u8; 4]");
    }

    #[test]
    fn fnv1a_is_fixed() {
        // FNV-1a of "u64": a value fixed forever, so old and new workers agree.
        assert_eq!(fnv1a("u64"), 0x4d35_d319_3e8d_66f2_u64);
    }
}
