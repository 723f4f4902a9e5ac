//! Readings: sentences computed from the figures just measured, so that what a lesson says about a
//! measurement is what this run measured ("RwLock, short was 1.40x faster than Mutex, short here").
//!
//! A [`Reading`] carries its text and the [`Claim`]s it makes, each with the figures it read; in
//! evcxr it shows as a paragraph whose `data-parlab-reading` attribute holds those claims as JSON,
//! so a test can check every printed reading against its own figures. Where an effect the lesson
//! expects did not show, the reading says why it may not have: a busy machine
//! ([`Reading::given`]), a size too small for the start-up to pay off.

use std::fmt;

use serde::Serialize;

use super::{Comparison, Measurement, Parallelism, Sweep, format_duration, format_si};
use crate::display;

/// Two times closer than this factor read as "about as fast": timing noise on a shared machine is
/// easily 5%.
pub const SAME_WITHIN: f64 = 1.1;

/// How `a` stands to `b` in a [`Claim`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    /// `a` took at most `1 / SAME_WITHIN` of `b`'s time.
    Faster,
    /// `a` took at least `SAME_WITHIN` times `b`'s time.
    Slower,
    /// Within [`SAME_WITHIN`] of each other.
    Same,
}

impl Relation {
    /// The relation for `ratio`, `b`'s time over `a`'s (how many times faster `a` was).
    ///
    /// # Examples
    /// ```
    /// use parlab::timing::Relation;
    /// assert_eq!(Relation::of(1.4), Relation::Faster);
    /// assert_eq!(Relation::of(0.5), Relation::Slower);
    /// assert_eq!(Relation::of(1.05), Relation::Same);
    /// ```
    pub fn of(ratio: f64) -> Relation {
        if ratio >= SAME_WITHIN {
            Relation::Faster
        } else if ratio <= 1.0 / SAME_WITHIN {
            Relation::Slower
        } else {
            Relation::Same
        }
    }
}

/// One comparison a reading makes: `a` against `b`, from their median times.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Claim {
    /// What was compared.
    pub a: String,
    /// `a`'s median time, in seconds.
    pub a_seconds: f64,
    /// What it was compared with.
    pub b: String,
    /// `b`'s median time, in seconds.
    pub b_seconds: f64,
    /// `b_seconds / a_seconds`: how many times faster `a` was (a speed-up when `b` is the baseline).
    pub ratio: f64,
    /// What the ratio means, by [`Relation::of`].
    pub relation: Relation,
    /// The words of the reading's text that state this claim.
    pub said: String,
}

impl Claim {
    /// `a` against `b`, said as "a was 1.40x faster than b" (or slower, or "about as fast as").
    ///
    /// # Examples
    /// ```
    /// let c = parlab::timing::Claim::compare("RwLock", 0.010, "Mutex", 0.014);
    /// assert_eq!(c.said, "RwLock was 1.40x faster than Mutex");
    /// let c = parlab::timing::Claim::compare("two threads", 0.21, "one thread", 0.2);
    /// assert_eq!(c.said, "two threads was about as fast as one thread (1.05x slower)");
    /// ```
    pub fn compare(a: &str, a_seconds: f64, b: &str, b_seconds: f64) -> Claim {
        let ratio = ratio(a_seconds, b_seconds);
        let relation = Relation::of(ratio);
        let said = match relation {
            Relation::Faster => format!("{a} was {ratio:.2}x faster than {b}"),
            Relation::Slower => format!("{a} was {:.2}x slower than {b}", 1.0 / ratio),
            Relation::Same => format!("{a} was about as fast as {b} ({})", times(ratio)),
        };
        Claim {
            a: a.to_owned(),
            a_seconds,
            b: b.to_owned(),
            b_seconds,
            ratio,
            relation,
            said,
        }
    }

    /// A speed-up of `a` over the baseline `b`, said as "1.93x at 2 threads" (`at` names `a`).
    ///
    /// # Examples
    /// ```
    /// let c = parlab::timing::Claim::speedup("2 threads", 0.05, "1 thread", 0.1, "at 2 threads");
    /// assert_eq!(c.said, "2.00x at 2 threads");
    /// ```
    pub fn speedup(a: &str, a_seconds: f64, b: &str, b_seconds: f64, at: &str) -> Claim {
        let ratio = ratio(a_seconds, b_seconds);
        Claim {
            a: a.to_owned(),
            a_seconds,
            b: b.to_owned(),
            b_seconds,
            ratio,
            relation: Relation::of(ratio),
            said: format!("{ratio:.2}x {at}"),
        }
    }
}

/// `b / a`, NaN when either is not a positive time.
fn ratio(a_seconds: f64, b_seconds: f64) -> f64 {
    if a_seconds > 0.0 && b_seconds > 0.0 {
        b_seconds / a_seconds
    } else {
        f64::NAN
    }
}

/// "1.05x faster" or "1.05x slower", for a ratio near 1.
fn times(ratio: f64) -> String {
    if ratio >= 1.0 {
        format!("{ratio:.2}x faster")
    } else {
        format!("{:.2}x slower", 1.0 / ratio)
    }
}

/// A sentence (or a few) that reads measured figures, with the claims it makes.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use parlab::timing::{Comparison, Measurement};
/// let ms = |v| vec![Duration::from_millis(v)];
/// let c = Comparison::from(vec![Measurement::new("Mutex", ms(14)), Measurement::new("RwLock", ms(10))]);
/// let r = c.reading("RwLock", "Mutex");
/// assert_eq!(r.to_string(), "RwLock was 1.40x faster than Mutex here (10.0 ms against 14.0 ms).");
/// assert!(r.to_html().contains("data-parlab-reading"));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reading {
    /// What the reading says.
    pub text: String,
    /// The claims the text makes, each with its figures.
    pub claims: Vec<Claim>,
}

impl Reading {
    /// `a` against `b`: which was faster, by how much, and both median times.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use parlab::timing::{Measurement, Reading, Relation};
    /// let one = Measurement::new("one thread", vec![Duration::from_millis(200)]);
    /// let two = Measurement::new("two threads", vec![Duration::from_millis(104)]);
    /// let r = Reading::compare(&two, &one);
    /// assert_eq!(r.claims[0].relation, Relation::Faster);
    /// assert!(r.text.starts_with("two threads was 1.92x faster than one thread"));
    /// ```
    pub fn compare(a: &Measurement, b: &Measurement) -> Reading {
        let claim = Claim::compare(&a.label, a.seconds(), &b.label, b.seconds());
        Reading {
            text: format!(
                "{} here ({} against {}).",
                claim.said,
                format_duration(a.median()),
                format_duration(b.median())
            ),
            claims: vec![claim],
        }
    }

    /// Several readings as one, their texts joined by spaces.
    ///
    /// # Examples
    /// ```
    /// use parlab::timing::Reading;
    /// let r = Reading::join([Reading::note("One."), Reading::note("Two.")]);
    /// assert_eq!(r.text, "One. Two.");
    /// ```
    pub fn join(readings: impl IntoIterator<Item = Reading>) -> Reading {
        let mut all = Reading::default();
        for r in readings {
            all = all.then(r);
        }
        all
    }

    /// A reading that only says something (no figures): the start of a longer reading.
    ///
    /// # Examples
    /// ```
    /// assert!(parlab::timing::Reading::note("Hello.").claims.is_empty());
    /// ```
    pub fn note(text: impl Into<String>) -> Reading {
        Reading {
            text: text.into(),
            claims: Vec::new(),
        }
    }

    /// This reading followed by `more`.
    ///
    /// # Examples
    /// ```
    /// use parlab::timing::Reading;
    /// assert_eq!(Reading::note("A.").then(Reading::note("B.")).text, "A. B.");
    /// ```
    #[must_use]
    pub fn then(mut self, more: Reading) -> Reading {
        if !more.text.is_empty() {
            if !self.text.is_empty() {
                self.text.push(' ');
            }
            self.text += &more.text;
        }
        self.claims.extend(more.claims);
        self
    }

    /// This reading, with a sentence on what a busy machine does to it when `now` says the machine
    /// was busy (nothing added on a quiet machine).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use parlab::timing::{Parallelism, Reading};
    /// let busy = Parallelism { cores: 2, available: 1.1, window: Duration::ZERO, own_busy: 0.0 };
    /// assert!(Reading::note("A.").given(&busy).text.contains("only about 1.1 of its 2 cores"));
    /// let quiet = Parallelism { cores: 2, available: 1.95, window: Duration::ZERO, own_busy: 0.0 };
    /// assert_eq!(Reading::note("A.").given(&quiet).text, "A.");
    /// ```
    #[must_use]
    pub fn given(self, now: &Parallelism) -> Reading {
        if !now.is_busy() {
            return self;
        }
        self.then(Reading::note(format!(
            "This machine was busy when the cores were last measured (only about {:.1} of its {} \
             cores free), so whatever needs threads running at the same time (a speed-up, \
             contention, false sharing, readers sharing a lock) shows less here than on a quiet \
             machine.",
            now.available, now.cores
        )))
    }

    /// This reading, checked against the speed-up `threads` threads could get from the free cores
    /// (`now`): when its last claim falls well short of that, or goes well above it, a sentence
    /// says what most likely happened. Nothing is added when it is near the line.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use parlab::timing::{Claim, Parallelism, Reading};
    /// let quiet = Parallelism { cores: 2, available: 2.0, window: Duration::ZERO, own_busy: 0.0 };
    /// let r = Reading::from(Claim::compare("two threads", 0.192, "one thread", 0.2)).expect_speedup(2.0, &quiet);
    /// assert!(r.text.contains("well below the 2.0x"), "{r}");
    /// ```
    #[must_use]
    pub fn expect_speedup(self, threads: f64, now: &Parallelism) -> Reading {
        let Some(last) = self.claims.last() else {
            return self;
        };
        let best = now.best_speedup(threads);
        let got = last.ratio;
        if got < 0.75 * best {
            let why = if now.is_busy() {
                "other programs kept cores busy"
            } else {
                "the cores were free when counted, so another program most likely took one while \
                 this ran (they were counted before, not during): run the cell again"
            };
            self.then(Reading::note(format!(
                "That is well below the {best:.1}x the free cores allowed: {why}."
            )))
        } else if got > 1.2 * best {
            self.then(Reading::note(format!(
                "That is above the {best:.1}x the free cores allowed when they were counted: cores \
                 freed up since, or the slower run was held up by another program; run the cell \
                 again."
            )))
        } else {
            self
        }
    }

    /// The reading as an HTML paragraph, its claims as JSON in `data-parlab-reading`.
    ///
    /// # Examples
    /// ```
    /// assert!(parlab::timing::Reading::note("x < y").to_html().contains("x &lt; y"));
    /// ```
    pub fn to_html(&self) -> String {
        let claims = serde_json::to_string(&self.claims).unwrap_or_else(|_| "[]".into());
        format!(
            "<p data-parlab-reading=\"{}\" style=\"border-left:4px solid #1f6feb;padding:4px 8px;\
             margin:4px 0\"><b>Reading:</b> {}</p>",
            display::escape_html(&claims),
            display::escape_html(&self.text)
        )
    }

    /// Shows the reading in evcxr (called by the kernel).
    ///
    /// # Examples
    /// ```
    /// parlab::timing::Reading::note("measured").evcxr_display();
    /// ```
    pub fn evcxr_display(&self) {
        display::show("text/html", &self.to_html());
    }
}

impl From<Claim> for Reading {
    /// A reading of one claim: its words, as a sentence.
    fn from(claim: Claim) -> Reading {
        Reading {
            text: format!("{}.", claim.said),
            claims: vec![claim],
        }
    }
}

impl fmt::Display for Reading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `10⁵` for a power of ten, else the number with an SI prefix (`2.50 M`).
///
/// # Examples
/// ```
/// assert_eq!(parlab::timing::power_of_ten(100_000.0), "10⁵");
/// ```
pub fn power_of_ten(x: f64) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let e = x.log10().round();
    if x > 0.0 && (10f64.powf(e) - x).abs() < 1e-9 * x && e >= 1.0 {
        let exponent: String = (e as u32)
            .to_string()
            .chars()
            .filter_map(|c| c.to_digit(10).map(|d| DIGITS[d as usize]))
            .collect();
        format!("10{exponent}")
    } else {
        format_si(x).trim_end().to_owned()
    }
}

impl Reading {
    /// How the lanes of `timeline` whose names start with `lanes` spent their recorded time, by
    /// kind, largest share first: "Mutex/sample threads: 47% holding the lock, 40% running, 13%
    /// waiting (of 12.3 ms recorded)".
    ///
    /// # Examples
    /// ```
    /// use parlab::timeline::{Kind, Timeline};
    /// let tl = Timeline::new();
    /// tl.record_ns(tl.lane("Mutex/sample 1"), Kind::Waiting, "", 0, 25);
    /// tl.record_ns(tl.lane("Mutex/sample 1"), Kind::Holding, "", 25, 100);
    /// let r = parlab::timing::Reading::time_shares(&tl, "Mutex/sample");
    /// assert!(r.text.contains("75% holding the lock, 25% waiting"), "{r}");
    /// ```
    pub fn time_shares(timeline: &crate::timeline::Timeline, lanes: &str) -> Reading {
        use crate::timeline::Kind;
        let names = timeline.lanes();
        let mut by_kind: Vec<(Kind, u64)> = Vec::new();
        for span in timeline.spans() {
            if !names
                .get(span.lane.index())
                .is_some_and(|n| n.starts_with(lanes))
            {
                continue;
            }
            match by_kind.iter_mut().find(|(k, _)| *k == span.kind) {
                Some((_, ns)) => *ns += span.duration_ns(),
                None => by_kind.push((span.kind, span.duration_ns())),
            }
        }
        let total: u64 = by_kind.iter().map(|(_, ns)| ns).sum();
        if total == 0 {
            return Reading::note(format!("Nothing was recorded on the lanes {lanes:?}."));
        }
        by_kind.sort_by_key(|(_, ns)| std::cmp::Reverse(*ns));
        let parts: Vec<String> = by_kind
            .iter()
            .map(|(k, ns)| format!("{:.0}% {}", 100.0 * *ns as f64 / total as f64, k.name()))
            .collect();
        Reading::note(format!(
            "The {lanes} lanes spent {} of the {} they recorded.",
            parts.join(", "),
            format_duration(std::time::Duration::from_nanos(total))
        ))
    }
}

impl Reading {
    /// The spread of one measurement's runs: its best run against its median, and what a wide
    /// spread means (runs that waited, most likely for a core another program had), so that a
    /// median far above the cost itself is not read as the cost.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use parlab::timing::{Measurement, Reading};
    /// let us = |v: &[u64]| v.iter().map(|&u| Duration::from_micros(u)).collect::<Vec<_>>();
    /// let busy = Measurement::new("spawn + join", us(&[26, 3_900, 3_970, 4_000]));
    /// assert!(Reading::spread(&busy).text.contains("most runs waited"), "{}", Reading::spread(&busy));
    /// let quiet = Measurement::new("spawn + join", us(&[26, 27, 28, 29]));
    /// assert!(Reading::spread(&quiet).text.contains("the runs agree"));
    /// ```
    pub fn spread(m: &Measurement) -> Reading {
        let (best, median) = (m.min(), m.median());
        if best.is_zero() {
            return Reading::note(format!("{}: no run took measurable time.", m.label));
        }
        let times = median.as_secs_f64() / best.as_secs_f64();
        let figures = format!(
            "{}: {} at best, {} in the median",
            m.label,
            format_duration(best),
            format_duration(median)
        );
        Reading::note(if times < 1.5 {
            format!("{figures}: the runs agree, so that is what it costs here.")
        } else if times < 4.0 {
            format!(
                "{figures} ({times:.1}x the best): some runs waited, most likely for a core \
                 another program had; the best run is the closest to the cost itself."
            )
        } else {
            format!(
                "{figures} ({times:.0}x the best): most runs waited, most likely for a core \
                 another program had, so the median says how busy the machine was, and the best \
                 run is the closest to the cost itself."
            )
        })
    }
}

impl Comparison {
    /// The row labelled `label`.
    fn row(&self, label: &str) -> Option<&Measurement> {
        self.measurements.iter().find(|m| m.label == label)
    }

    /// Reads row `a` against row `b` (by label): which was faster, by how much, and their times.
    /// A label with no row gives a reading that says so and names the rows there are.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use parlab::timing::{Comparison, Measurement};
    /// let c = Comparison::from(vec![Measurement::new("a", vec![Duration::from_millis(3)])]);
    /// assert!(c.reading("a", "b").text.contains("no row labelled \"b\""));
    /// ```
    pub fn reading(&self, a: &str, b: &str) -> Reading {
        match (self.row(a), self.row(b)) {
            (Some(a), Some(b)) => Reading::compare(a, b),
            _ => {
                let missing = if self.row(a).is_none() { a } else { b };
                let rows: Vec<&str> = self.measurements.iter().map(|m| m.label.as_str()).collect();
                let skipped = if self.skipped.iter().any(|s| s.label == missing) {
                    " (it did not fit in the time budget)"
                } else {
                    ""
                };
                Reading::note(format!(
                    "Nothing to read: no row labelled {missing:?}{skipped}; the rows are {rows:?}."
                ))
            }
        }
    }

    /// The rows from fastest to slowest, each against the next.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use parlab::timing::{Comparison, Measurement};
    /// let ms = |l: &str, v| Measurement::new(l, vec![Duration::from_millis(v)]);
    /// let c = Comparison::from(vec![ms("Mutex", 90), ms("atomic", 30), ms("local", 3)]);
    /// let r = c.ranking();
    /// assert!(r.text.starts_with("From fastest to slowest: local (3.00 ms), atomic (30.0 ms), Mutex (90.0 ms)."));
    /// assert_eq!(r.claims.len(), 2);
    /// ```
    pub fn ranking(&self) -> Reading {
        let mut rows: Vec<&Measurement> = self.measurements.iter().collect();
        rows.sort_by(|x, y| x.seconds().total_cmp(&y.seconds()));
        let order: Vec<String> = rows
            .iter()
            .map(|m| format!("{} ({})", m.label, format_duration(m.median())))
            .collect();
        let claims: Vec<Claim> = rows
            .windows(2)
            .map(|w| Claim::compare(&w[0].label, w[0].seconds(), &w[1].label, w[1].seconds()))
            .collect();
        let steps: Vec<String> = claims.iter().map(|c| c.said.clone()).collect();
        Reading {
            text: format!(
                "From fastest to slowest: {}. {}.",
                order.join(", "),
                steps.join("; ")
            ),
            claims,
        }
    }
}

impl Sweep {
    /// The speed-up at each point over the first, against what the free cores allowed (`now`):
    /// "Rust threads: 1.93x at 2 threads, 1.90x at 4 threads (the free cores allowed up to 2.0x)".
    /// A speed-up well above that line is explained (a slow first run), and so is the busy machine.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use parlab::timing::{Measurement, Parallelism, Sweep};
    /// let ms = |v| Measurement::new("", vec![Duration::from_millis(v)]);
    /// let s = Sweep { name: "Rust threads".into(), param: "threads".into(),
    ///     points: vec![(1.0, ms(100)), (2.0, ms(52)), (4.0, ms(51))], ..Sweep::default() };
    /// let quiet = Parallelism { cores: 2, available: 1.97, window: Duration::ZERO, own_busy: 0.0 };
    /// let r = s.speedup_reading(&quiet);
    /// assert!(r.text.starts_with("Rust threads: 1.92x at 2 threads, 1.96x at 4 threads"), "{r}");
    /// ```
    pub fn speedup_reading(&self, now: &Parallelism) -> Reading {
        let Some((first_x, first)) = self.points.first() else {
            return Reading::note(format!("{}: nothing was measured.", self.name));
        };
        let unit = self.param.trim_end_matches('s');
        let one = format!("{} {unit}", first_x);
        let claims: Vec<Claim> = self
            .points
            .iter()
            .skip(1)
            .map(|(x, m)| {
                let at = format!("at {x} {}", self.param);
                Claim::speedup(
                    &format!("{x} {}", self.param),
                    m.seconds(),
                    &one,
                    first.seconds(),
                    &at,
                )
            })
            .collect();
        let said: Vec<&str> = claims.iter().map(|c| c.said.as_str()).collect();
        let best = claims
            .iter()
            .zip(self.points.iter().skip(1))
            .map(|(_, (x, _))| now.best_speedup(*x))
            .fold(1.0, f64::max);
        let mut text = format!(
            "{}: {} (the free cores allowed up to {best:.1}x).",
            self.name,
            said.join(", ")
        );
        let over: Vec<String> = claims
            .iter()
            .zip(self.points.iter().skip(1))
            .filter(|(c, (x, _))| c.ratio > 1.2 * now.best_speedup(*x))
            .map(|(c, _)| c.said.clone())
            .collect();
        let under: Vec<String> = claims
            .iter()
            .zip(self.points.iter().skip(1))
            .filter(|(c, (x, _))| {
                now.best_speedup(*x) >= 1.3 && c.ratio < 0.75 * now.best_speedup(*x)
            })
            .map(|(c, _)| c.said.clone())
            .collect();
        if !under.is_empty() {
            text += &format!(
                " Well below what the free cores allowed ({}): the threads could not run at the \
                 same time (a lock such as the GIL makes them take turns), or another program took \
                 a core while they ran.",
                under.join(", ")
            );
        }
        if !over.is_empty() {
            text += &format!(
                " Above that line ({}): the {one} run was slow, its runs took {} to {} (another \
                 program had the core for a while?), or cores freed up after they were counted; \
                 run the cell again.",
                over.join(", "),
                format_duration(first.min()),
                format_duration(first.max())
            );
        }
        Reading { text, claims }
    }

    /// Where this sweep over sizes got faster than `baseline` (the same sizes), and how it compared
    /// at the largest size measured by both: "two new threads were faster than one thread from 10⁵
    /// on; at 10⁷, two new threads was 1.95x faster than one thread".
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use parlab::timing::{Measurement, Sweep};
    /// let s = |name: &str, ms: [u64; 3]| Sweep { name: name.into(), param: "samples".into(),
    ///     points: [1e3, 1e5, 1e7].iter().zip(ms).map(|(&n, t)| (n, Measurement::new(name, vec![Duration::from_millis(t)]))).collect(),
    ///     ..Sweep::default() };
    /// let r = s("pool", [3, 5, 500]).crossover_reading(&s("serial", [1, 6, 990]));
    /// assert!(r.text.starts_with("pool was faster than serial from 10⁵ samples on"), "{r}");
    /// ```
    pub fn crossover_reading(&self, baseline: &Sweep) -> Reading {
        let pairs: Vec<(f64, &Measurement, &Measurement)> = self
            .points
            .iter()
            .filter_map(|(x, m)| {
                let (_, b) = baseline.points.iter().find(|(bx, _)| bx == x)?;
                Some((*x, m, b))
            })
            .collect();
        let Some(&(largest, m, b)) = pairs.last() else {
            return Reading::note(format!(
                "{} and {} share no size: nothing to compare.",
                self.name, baseline.name
            ));
        };
        let faster: Vec<bool> = pairs
            .iter()
            .map(|(_, m, b)| Relation::of(ratio(m.seconds(), b.seconds())) == Relation::Faster)
            .collect();
        let from = faster
            .iter()
            .rposition(|f| !f)
            .map_or(Some(0), |i| (i + 1 < pairs.len()).then_some(i + 1));
        let at_largest = Claim::compare(&self.name, m.seconds(), &baseline.name, b.seconds());
        let size = |x: f64| format!("{} {}", power_of_ten(x), self.param);
        let mut claims = Vec::new();
        let mut text = match from {
            Some(0) => format!(
                "{} was faster than {} at every size measured, from {}.",
                self.name,
                baseline.name,
                size(pairs[0].0)
            ),
            Some(i) => {
                let (below, bm, bb) = pairs[i - 1];
                let step = Claim::compare(&self.name, bm.seconds(), &baseline.name, bb.seconds());
                let t = format!(
                    "{} was faster than {} from {} on; below, at {}, {}: there the start-up \
                     costs about as much as the work, or more.",
                    self.name,
                    baseline.name,
                    size(pairs[i].0),
                    size(below),
                    step.said
                );
                claims.push(step);
                t
            }
            None => format!(
                "{} was never clearly faster than {} (by {}x or more) up to {}.",
                self.name,
                baseline.name,
                SAME_WITHIN,
                size(largest)
            ),
        };
        text += &format!(" At {}, {}.", size(largest), at_largest.said);
        claims.push(at_largest);
        if let Some(skipped) = self.skipped.first() {
            text += &format!(
                " Larger sizes, from {}, did not fit in the time budget.",
                power_of_ten(skipped.value)
            );
        }
        Reading { text, claims }
    }
}

#[cfg(test)]
mod tests;
