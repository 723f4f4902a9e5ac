//! [`PiEstimate`]: an estimate of pi with the hits and samples it came from, its standard error
//! and how it shows.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::PiError;
use crate::display;

/// An estimate of pi with the counts it came from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PiEstimate {
    /// The estimate, `4 * hits / samples`.
    pub estimate: f64,
    /// Points thrown.
    pub samples: u64,
    /// Points that landed inside the unit circle.
    pub hits: u64,
}

impl PiEstimate {
    /// One estimate from several: their hits and samples added up (the estimates of a split
    /// calc_pi, from threads, processes or a pool).
    ///
    /// # Errors
    /// [`PiError::ZeroSamples`] for no estimates.
    ///
    /// # Examples
    /// ```
    /// use parlab::pi::PiEstimate;
    /// let a = PiEstimate::from_hits(78, 100)?;
    /// let b = PiEstimate::from_hits(80, 100)?;
    /// assert_eq!(PiEstimate::combine(&[a, b])?.hits, 158);
    /// assert!(PiEstimate::combine(&[]).is_err());
    /// # Ok::<(), parlab::pi::PiError>(())
    /// ```
    pub fn combine(estimates: &[PiEstimate]) -> Result<PiEstimate, PiError> {
        let hits = estimates.iter().map(|e| e.hits).sum();
        let samples = estimates.iter().map(|e| e.samples).sum();
        PiEstimate::from_hits(hits, samples)
    }

    /// The estimate from `hits` inside the circle out of `samples` points.
    ///
    /// # Errors
    /// [`PiError::ZeroSamples`] for 0 samples, [`PiError::MoreHitsThanSamples`] if `hits > samples`.
    ///
    /// # Examples
    /// ```
    /// let e = parlab::pi::PiEstimate::from_hits(785, 1000)?;
    /// assert_eq!(e.estimate, 3.14);
    /// # Ok::<(), parlab::pi::PiError>(())
    /// ```
    pub fn from_hits(hits: u64, samples: u64) -> Result<Self, PiError> {
        crate::exercise::used_solution(crate::exercise::Solution::FromHits);
        if samples == 0 {
            return Err(PiError::ZeroSamples);
        }
        if hits > samples {
            return Err(PiError::MoreHitsThanSamples { hits, samples });
        }
        Ok(PiEstimate {
            estimate: 4.0 * hits as f64 / samples as f64,
            samples,
            hits,
        })
    }

    /// One standard error of the estimate, `4 * sqrt(p (1 - p) / n)` with `p = hits / samples`.
    ///
    /// About 95% of estimates fall within 2 standard errors of pi. Infinite for 0 samples.
    ///
    /// # Examples
    /// ```
    /// let e = parlab::pi::calc_pi(1_000_000, 1)?;
    /// assert!(e.std_error() > 0.001 && e.std_error() < 0.002);
    /// # Ok::<(), parlab::pi::PiError>(())
    /// ```
    pub fn std_error(&self) -> f64 {
        if self.samples == 0 {
            return f64::INFINITY;
        }
        let n = self.samples as f64;
        let p = self.hits as f64 / n;
        4.0 * (p * (1.0 - p) / n).sqrt()
    }

    /// How far the estimate is from the true pi, `|estimate - pi|`.
    ///
    /// # Examples
    /// ```
    /// let e = parlab::pi::calc_pi(1_000_000, 1)?;
    /// assert!(e.abs_error() < 0.01);
    /// # Ok::<(), parlab::pi::PiError>(())
    /// ```
    pub fn abs_error(&self) -> f64 {
        (self.estimate - std::f64::consts::PI).abs()
    }

    /// Shows the estimate as a small HTML line in evcxr (called by the kernel).
    ///
    /// # Examples
    /// ```
    /// parlab::pi::calc_pi(1000, 1)?.evcxr_display();
    /// # Ok::<(), parlab::pi::PiError>(())
    /// ```
    pub fn evcxr_display(&self) {
        let html = format!(
            "<p>π ≈ <b>{:.6}</b> ± {:.6} <small>(1 standard error; {} hits of {} samples; off by {:.6})</small></p>",
            self.estimate,
            self.std_error(),
            group_digits(self.hits),
            group_digits(self.samples),
            self.abs_error(),
        );
        display::show("text/html", &html);
    }
}

impl fmt::Display for PiEstimate {
    /// `pi ≈ 3.141593 ± 0.000052 (785398163 hits of 1000000000 samples)`, grouped digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pi ≈ {:.6} ± {:.6} ({} hits of {} samples)",
            self.estimate,
            self.std_error(),
            group_digits(self.hits),
            group_digits(self.samples)
        )
    }
}

/// `1234567` as `1_234_567`, as in Rust source.
pub(super) fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('_');
        }
        out.push(ch);
    }
    out
}
