//! Runs of length-prefixed items: how a chunk's arguments and its outcomes travel.
//!
//! Each item is a LEB128 length, then that many bytes (one postcard-encoded value). The lengths
//! let a worker hand on a value it cannot decode (`echo`) and let both sides decode each value
//! strictly: bytes left over inside an item mean it was of another type.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Appends one item: its length, then its bytes (the tests' way to write a run by hand).
#[cfg(test)]
pub(crate) fn push(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(MAX_LEN_BYTES + bytes.len());
    push_len(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// The most bytes a LEB128 length of a `usize` takes.
const MAX_LEN_BYTES: usize = 10;

/// Appends `n` as LEB128: an item's length.
pub(crate) fn push_len(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let low = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(low);
            break;
        }
        out.push(low | 0x80);
    }
}

/// A postcard output that appends to a vector it borrows (postcard's own `to_extend` takes the
/// vector, and loses it on an error).
struct AppendTo<'a>(&'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for AppendTo<'_> {
    type Output = ();

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.push(data);
        Ok(())
    }

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        // Mostly a varint of a few bytes: pushed one by one, cheaper than a call of memcpy.
        if data.len() <= 16 {
            self.0.reserve(data.len());
            for &byte in data {
                self.0.push(byte);
            }
        } else {
            self.0.extend_from_slice(data);
        }
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// Appends `value`, encoded, as one item. It is encoded in place, after a one-byte length that
/// most items' lengths fit (under 128 bytes); a longer item's length is put in front of it
/// afterwards. On an error, `out` is as it was.
pub(crate) fn push_encoded<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
) -> Result<(), postcard::Error> {
    let start = out.len();
    out.push(0);
    if let Err(e) = postcard::serialize_with_flavor(value, AppendTo(out)) {
        out.truncate(start);
        return Err(e);
    }
    let len = out.len() - start - 1;
    if len < 0x80 {
        out[start] = len as u8;
    } else {
        let mut prefix = Vec::with_capacity(MAX_LEN_BYTES);
        push_len(&mut prefix, len);
        out.splice(start..start + 1, prefix);
    }
    Ok(())
}

/// The items of a run, in order; `Err` (once, then the end) where the framing is corrupt.
pub(crate) fn split(mut run: &[u8]) -> impl Iterator<Item = Result<&[u8], String>> {
    let mut broken = false;
    std::iter::from_fn(move || {
        if run.is_empty() || broken {
            return None;
        }
        let mut len: usize = 0;
        let mut shift = 0;
        loop {
            let Some((&b, rest)) = run.split_first() else {
                broken = true;
                return Some(Err("an item's length is cut off".to_string()));
            };
            run = rest;
            if shift > 56 {
                broken = true;
                return Some(Err("an item's length is not a valid number".to_string()));
            }
            len |= usize::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        if len > run.len() {
            broken = true;
            return Some(Err(format!(
                "an item says it has {len} bytes, but only {} follow",
                run.len()
            )));
        }
        let (item, rest) = run.split_at(len);
        run = rest;
        Some(Ok(item))
    })
}

/// Decodes all of `bytes` as one `T`: bytes left over mean they were a value of another type.
pub(crate) fn decode_exact<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(left_over(rest.len())),
        Err(e) => Err(not_decoded(e)),
    }
}

/// Why `left` bytes after a value fail its decoding. Non-generic (as [`not_decoded`]), so that
/// a notebook cell does not compile the message with each type it decodes.
#[inline(never)]
fn left_over(left: usize) -> String {
    format!("{left} bytes left over after the value: it was of another type")
}

/// The message of a decoding error.
#[inline(never)]
fn not_decoded(e: postcard::Error) -> String {
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_round_trip_and_corruption_is_caught() {
        let mut run = Vec::new();
        let big = vec![7u8; 300];
        for item in [&b""[..], b"abc", &big] {
            push(&mut run, item);
        }
        let got: Vec<&[u8]> = split(&run).collect::<Result<_, _>>().unwrap();
        assert_eq!(got, [&b""[..], b"abc", &big[..]]);
        let cut = &run[..run.len() - 1];
        let last = split(cut).last().unwrap();
        assert!(last.unwrap_err().contains("only 299 follow"));
        let endless = [0xffu8; 12];
        assert!(split(&endless).next().unwrap().is_err());
        assert_eq!(split(&endless).count(), 1, "no items after a corrupt one");
    }

    #[test]
    fn values_are_encoded_in_place_as_items_of_any_length() {
        for len in [0usize, 1, 126, 127, 128, 300, 16_383, 16_384, 70_000] {
            let value = vec![5u8; len];
            let mut run = vec![9u8]; // what was there before stays
            push_encoded(&mut run, &value).unwrap();
            let mut want = vec![9u8];
            push(&mut want, &postcard::to_stdvec(&value).unwrap());
            assert_eq!(run, want, "a vector of {len} bytes");
        }
        /// A value that cannot be encoded, after writing part of itself.
        struct HalfWritten;
        impl Serialize for HalfWritten {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::{Error, SerializeTuple};
                let mut t = s.serialize_tuple(2)?;
                t.serialize_element(&7u32)?;
                Err(S::Error::custom("cannot"))
            }
        }
        let mut run = vec![1u8, 2];
        assert!(push_encoded(&mut run, &HalfWritten).is_err());
        assert_eq!(run, [1, 2], "a failed value leaves nothing behind");
    }

    #[test]
    fn exact_decoding_refuses_other_types() {
        let bytes = postcard::to_stdvec(&(1u64, 2u64)).unwrap();
        assert_eq!(decode_exact::<(u64, u64)>(&bytes), Ok((1, 2)));
        assert!(
            decode_exact::<u64>(&bytes)
                .unwrap_err()
                .contains("left over")
        );
    }
}
