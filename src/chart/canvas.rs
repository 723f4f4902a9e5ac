//! The canvas every chart is drawn on: its size, and how many lanes fit on it as readable rows.

/// Width of every chart, in pixels.
pub(super) const WIDTH: u32 = 720;
/// Height of every chart, in pixels.
pub(super) const HEIGHT: u32 = 450;

/// The most lanes [`timeline`](super::timeline()) draws (rows stay tall enough for their names).
pub const MAX_LANES: usize = 16;
