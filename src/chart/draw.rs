//! The plotters drawing behind [`super`]: input is already checked (finite, non-empty).
//!
//! What every chart shares (font, colours, numbers, title) is in `style.rs`; each kind of chart is
//! drawn in its own file: `bars.rs`, `lines.rs`, `timeline.rs`.

mod bars;
mod lines;
mod style;
mod timeline;

pub(super) use bars::bars;
#[cfg(test)]
pub(super) use bars::wrap;
#[cfg(test)]
pub(super) use lines::legend_corner_for_test;
pub(super) use lines::{Kind, lines};
#[cfg(test)]
pub(super) use style::{MIN_TEXT, fit_title, fmt_log_tick};
pub(super) use style::{fmt_num, min_max};
pub(super) use timeline::{Bar, timeline, timeline_plot_width};
