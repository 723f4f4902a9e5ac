//! Axis ranges plotters can draw: padded without overflowing, never narrower than their values'
//! precision, and on log axes never more powers of ten than an `f64` ratio holds. A range that
//! cannot be made so is a [`ChartError::AxisTooWide`] that says why, instead of a chart that spins
//! inside plotters' tick computation (it loops forever on an infinite or NaN span).

use super::error::ChartError;

/// The most powers of ten a log axis spans (plotters divides its ends, and needs the ratio finite).
pub(super) const MAX_DECADES: f64 = 300.0;

/// A span narrower than this share of its values' size is drawn as one value: narrower spans
/// have too few distinct `f64`s between their ends to tick.
const NARROWEST: f64 = 1e-9;

/// The half-width of an axis around one value `v` (or values closer than [`NARROWEST`]).
fn half_width(v: f64) -> f64 {
    if v == 0.0 {
        1.0
    } else {
        (v.abs() * 0.5).max(1e-300)
    }
}

/// `[lo, hi]` widened by fractions of its span below and above (or around its one value), as a
/// linear axis of `axis` can draw it. Ends beyond `f64::MAX` are held at it; padding that would make
/// the span overflow is left off.
///
/// # Errors
/// [`ChartError::AxisTooWide`] when `hi - lo` itself overflows.
pub(super) fn linear(
    axis: &'static str,
    lo: f64,
    hi: f64,
    below: f64,
    above: f64,
) -> Result<(f64, f64), ChartError> {
    let span = hi - lo;
    if !span.is_finite() {
        return Err(ChartError::AxisTooWide {
            axis,
            lo,
            hi,
            why: "their difference is beyond the largest f64 (about 1.8e308); divide them by a power of ten",
        });
    }
    let size = lo.abs().max(hi.abs());
    if span <= size * NARROWEST {
        let middle = lo / 2.0 + hi / 2.0;
        let d = half_width(middle);
        return Ok((clamp(middle - d), clamp(middle + d)));
    }
    let padded = (clamp(lo - below * span), clamp(hi + above * span));
    Ok(if (padded.1 - padded.0).is_finite() {
        padded
    } else {
        (lo, hi)
    })
}

/// `[lo, hi]` (both above 0) widened on a log scale by `frac` of its span in powers of ten at each
/// end (or 2x around one value), as a log axis of `axis` can draw it.
///
/// # Errors
/// [`ChartError::AxisTooWide`] when the values span more than [`MAX_DECADES`] powers of ten.
pub(super) fn log(
    axis: &'static str,
    lo: f64,
    hi: f64,
    frac: f64,
) -> Result<(f64, f64), ChartError> {
    let decades = hi.log10() - lo.log10();
    if decades > MAX_DECADES {
        return Err(ChartError::AxisTooWide {
            axis,
            lo,
            hi,
            why: "a log axis shows at most 300 powers of ten; leave out the extreme values",
        });
    }
    let f = if decades > NARROWEST {
        10f64.powf(frac * decades)
    } else {
        2.0
    };
    let (low, high) = (lo / f, clamp(hi * f));
    // Below the smallest f64 the end would be 0, which has no logarithm: keep the value itself.
    let low = if low > 0.0 { low } else { lo };
    Ok(if (high / low).is_finite() {
        (low, high)
    } else {
        (lo, hi)
    })
}

/// `v` held within the finite `f64`s.
fn clamp(v: f64) -> f64 {
    v.clamp(f64::MIN, f64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_ranges_are_padded_by_their_fractions() {
        assert_eq!(linear("x", 0.0, 10.0, 0.1, 0.2).unwrap(), (-1.0, 12.0));
        let (lo, hi) = log("x", 1.0, 100.0, 0.5).unwrap();
        assert!((lo - 0.1).abs() < 1e-12 && (hi - 1000.0).abs() < 1e-9);
    }

    #[test]
    fn one_value_gets_an_axis_around_it() {
        assert_eq!(linear("x", 4.0, 4.0, 0.1, 0.1).unwrap(), (2.0, 6.0));
        assert_eq!(linear("x", 0.0, 0.0, 0.1, 0.1).unwrap(), (-1.0, 1.0));
        assert_eq!(log("x", 4.0, 4.0, 0.1).unwrap(), (2.0, 8.0));
    }

    #[test]
    fn ends_stay_finite_and_overflowing_spans_are_refused() {
        let (lo, hi) = linear("x", 0.0, f64::MAX, 0.0, 0.1).unwrap();
        assert_eq!((lo, hi), (0.0, f64::MAX));
        let e = linear("y", -f64::MAX, f64::MAX, 0.0, 0.0).unwrap_err();
        assert!(e.to_string().contains("the y axis"), "{e}");
        let e = log("x", f64::MIN_POSITIVE, f64::MAX, 0.1).unwrap_err();
        assert!(e.to_string().contains("300 powers of ten"), "{e}");
    }
}
