//! What a ping-pong chart shows, in words: which way was fastest for the smallest and the largest
//! message, and by how much, from the figures just measured.

use super::ping_pong::PingPong;
use crate::timing::{Claim, Reading};
use crate::units::format_seconds;

/// For the smallest and the largest message size that every way measured: the way with the
/// shortest one-way latency, and how many times faster it was than each other way, with the times.
///
/// # Examples
/// ```
/// use parlab::mpi::{PingPong, ping_pong_reading};
/// let mpi = [PingPong { bytes: 8, round_trip: 0.4e-6 }, PingPong { bytes: 1 << 21, round_trip: 6e-3 }];
/// let threads = [PingPong { bytes: 8, round_trip: 12e-6 }, PingPong { bytes: 1 << 21, round_trip: 13e-6 }];
/// let r = ping_pong_reading(&[("MPI", &mpi[..]), ("threads", &threads[..])]);
/// assert!(r.text.starts_with("At 8 B: MPI was 30.00x faster than threads (200 ns against 6.00 µs one way)."), "{r}");
/// assert!(r.text.contains("At 2 MiB: threads was 461.54x faster than MPI"), "{r}");
/// ```
pub fn ping_pong_reading(ways: &[(&str, &[PingPong])]) -> Reading {
    let common: Vec<usize> = ways.first().map_or(Vec::new(), |(_, first)| {
        first
            .iter()
            .map(|p| p.bytes)
            .filter(|&bytes| ways.iter().all(|(_, way)| latency(way, bytes).is_some()))
            .collect()
    });
    let (Some(&smallest), Some(&largest)) = (common.iter().min(), common.iter().max()) else {
        return Reading::note(
            "No message size was measured by every way, so there is nothing to compare.",
        );
    };
    let sizes = if smallest == largest {
        vec![smallest]
    } else {
        vec![smallest, largest]
    };
    Reading::join(sizes.into_iter().map(|bytes| at_size(ways, bytes)))
}

/// The reading for one message size: the fastest way against each of the others.
fn at_size(ways: &[(&str, &[PingPong])], bytes: usize) -> Reading {
    let mut timed: Vec<(&str, f64)> = ways
        .iter()
        .filter_map(|(name, way)| Some((*name, latency(way, bytes)?)))
        .collect();
    timed.sort_by(|a, b| a.1.total_cmp(&b.1));
    let Some(&(fastest, best)) = timed.first() else {
        return Reading::default();
    };
    let claims: Vec<Claim> = timed[1..]
        .iter()
        .map(|&(other, us)| {
            let mut claim = Claim::compare(fastest, best, other, us);
            claim.said = format!(
                "{} ({} against {} one way)",
                claim.said,
                format_seconds(best * 1e-6),
                format_seconds(us * 1e-6)
            );
            claim
        })
        .collect();
    let said: Vec<&str> = claims.iter().map(|c| c.said.as_str()).collect();
    Reading {
        text: format!("At {}: {}.", size_text(bytes), said.join("; ")),
        claims,
    }
}

/// The one-way latency of `way` at `bytes`, in microseconds.
fn latency(way: &[PingPong], bytes: usize) -> Option<f64> {
    way.iter()
        .find(|p| p.bytes == bytes)
        .map(PingPong::latency_us)
        .filter(|us| us.is_finite() && *us > 0.0)
}

/// `8 B`, `4 KiB`, `2 MiB`.
fn size_text(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn way(points: &[(usize, f64)]) -> Vec<PingPong> {
        points
            .iter()
            .map(|&(bytes, round_trip)| PingPong { bytes, round_trip })
            .collect()
    }

    #[test]
    fn a_size_one_way_missed_is_left_out_and_no_common_size_says_so() {
        let a = way(&[(8, 2e-6), (64, 4e-6), (512, 8e-6)]);
        let b = way(&[(64, 2e-6), (512, 2e-6)]);
        let r = ping_pong_reading(&[("a", &a), ("b", &b)]);
        assert!(
            r.text.starts_with("At 64 B: b was 2.00x faster than a"),
            "{r}"
        );
        assert!(
            r.text.contains("At 512 B: b was 4.00x faster than a"),
            "{r}"
        );
        assert_eq!(r.claims.len(), 2);
        let none = ping_pong_reading(&[("a", &a), ("c", &way(&[(4096, 1e-6)]))]);
        assert!(
            none.claims.is_empty() && none.text.contains("nothing to compare"),
            "{none}"
        );
        assert!(ping_pong_reading(&[]).claims.is_empty());
    }

    #[test]
    fn three_ways_at_one_size_name_the_fastest_against_each() {
        let r = ping_pong_reading(&[
            ("pipe", &way(&[(8, 14e-6)])),
            ("MPI", &way(&[(8, 0.4e-6)])),
            ("threads", &way(&[(8, 12e-6)])),
        ]);
        assert_eq!(
            r.text,
            "At 8 B: MPI was 30.00x faster than threads (200 ns against 6.00 µs one way); \
             MPI was 35.00x faster than pipe (200 ns against 7.00 µs one way)."
        );
    }
}
