//! Numbers for people: durations, seconds and rates with three significant digits and a unit
//! (`1.50 ms`, `0.350 ns`, `982 M`), as the lessons' tables, readings and messages print them.

use std::time::Duration;

/// A duration with 3 significant digits and a unit: `812 ns`, `1.50 ms`, `12.3 s`.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// assert_eq!(parlab::units::format_duration(Duration::from_micros(1500)), "1.50 ms");
/// ```
pub fn format_duration(d: Duration) -> String {
    format_seconds(d.as_secs_f64())
}

/// Seconds with 3 significant digits and a unit, below a nanosecond too: `1.02 ns`, `0.350 ns`.
///
/// # Examples
/// ```
/// assert_eq!(parlab::units::format_seconds(1.02e-9), "1.02 ns");
/// assert_eq!(parlab::units::format_seconds(2.5), "2.50 s");
/// ```
pub fn format_seconds(s: f64) -> String {
    if s > 0.0 && s < 1e-9 {
        return format!("{:.3} ns", s * 1e9);
    }
    let (value, unit) = if s >= 1.0 {
        (s, "s")
    } else if s >= 1e-3 {
        (s * 1e3, "ms")
    } else if s >= 1e-6 {
        (s * 1e6, "µs")
    } else {
        (s * 1e9, "ns")
    };
    format!("{} {unit}", three_digits(value))
}

/// A rate with an SI prefix and 3 significant digits: `982 M`, `2.10 G`, `45.0 k`.
///
/// # Examples
/// ```
/// assert_eq!(parlab::units::format_si(982.4e6), "982 M");
/// ```
pub fn format_si(x: f64) -> String {
    let (value, prefix) = if !x.is_finite() {
        return x.to_string();
    } else if x.abs() >= 1e9 {
        (x / 1e9, " G")
    } else if x.abs() >= 1e6 {
        (x / 1e6, " M")
    } else if x.abs() >= 1e3 {
        (x / 1e3, " k")
    } else {
        (x, "")
    };
    format!("{}{prefix}", three_digits(value))
}

fn three_digits(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}
