use super::*;

fn speedups() -> Vec<Series> {
    vec![
        Series::new(
            "threads",
            vec![(1.0, 1.0), (2.0, 1.96), (4.0, 3.8), (8.0, 6.9), (16.0, 8.1)],
        ),
        Series::new(
            "threads + GIL",
            vec![
                (1.0, 1.0),
                (2.0, 0.97),
                (4.0, 0.95),
                (8.0, 0.93),
                (16.0, 0.9),
            ],
        ),
    ]
}

fn pool_times() -> Vec<Series> {
    let xs = [1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
    vec![
        Series::new("serial", xs.iter().map(|&n| (n, n / 250e6)).collect()),
        Series::new(
            "thread pool",
            xs.iter().map(|&n| (n, 40e-6 + n / 490e6)).collect(),
        ),
        Series::new(
            "process pool",
            xs.iter().map(|&n| (n, 3e-3 + n / 480e6)).collect(),
        ),
    ]
}

/// The text of every `<text>` element, trimmed.
pub(super) fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            Some(
                t.split_once('>')?
                    .1
                    .split_once("</text>")?
                    .0
                    .trim()
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn speedup_has_title_axes_legend_and_ideal_line() {
    let c = speedup("calc_pi on threads", &speedups()).unwrap();
    let t = texts(c.svg());
    for want in [
        "calc_pi on threads",
        "threads",
        "speed-up (x)",
        "threads + GIL",
        "ideal (y = x)",
    ] {
        assert!(
            t.iter().any(|s| s == want),
            "missing text {want:?} in {t:?}"
        );
    }
    // The dashed ideal line: grey dashes (plotters draws each dash as its own polyline).
    assert!(
        c.svg().matches("stroke=\"#808080\"").count() >= 5,
        "no dashed grey line"
    );
    assert!(c.description().contains("ideal speed-up"));
    assert!(c.description().contains(
        "Series \"threads\": 5 points, threads from 1 to 16, speed-up (x) from 1 to 8.1."
    ));
}

#[test]
fn loglog_and_lines_have_title_axes_and_legend() {
    let c = loglog("pool overhead", "samples", "time (s)", &pool_times()).unwrap();
    let t = texts(c.svg());
    for want in [
        "pool overhead",
        "samples",
        "time (s)",
        "serial",
        "thread pool",
        "process pool",
        "10⁹",
        "10⁻³",
    ] {
        assert!(
            t.iter().any(|s| s == want),
            "missing text {want:?} in {t:?}"
        );
    }
    let c = lines("time on threads", "threads", "time (s)", &speedups()).unwrap();
    let t = texts(c.svg());
    for want in ["time on threads", "threads", "time (s)", "threads + GIL"] {
        assert!(
            t.iter().any(|s| s == want),
            "missing text {want:?} in {t:?}"
        );
    }
    assert!(!c.svg().contains("ideal"));
}

#[test]
fn bars_have_title_axis_and_a_label_per_bar() {
    let c = bars(
        "calc_pi, 10^7 samples",
        "time (s)",
        &[("serial", 0.09), ("threads", 0.046)],
    )
    .unwrap();
    let t = texts(c.svg());
    for want in [
        "calc_pi, 10^7 samples",
        "time (s)",
        "serial",
        "threads",
        "0.09",
        "0.046",
    ] {
        assert!(
            t.iter().any(|s| s == want),
            "missing text {want:?} in {t:?}"
        );
    }
    assert_eq!(
        c.description(),
        "Bar chart \"calc_pi, 10^7 samples\": time (s) per variant: serial 0.09, threads 0.046."
    );
    // String labels work too, and negative values.
    let owned = vec![(String::from("a"), -1.0), (String::from("b"), 2.0)];
    assert!(bars("t", "y", &owned).is_ok());
}

#[test]
fn svg_is_accessible_and_text_stays_text() {
    let c = speedup("a <b> & c", &speedups()).unwrap();
    let svg = c.svg();
    assert!(svg.starts_with("<svg "));
    assert!(svg.contains(" role=\"img\"><title>a &lt;b&gt; &amp; c</title><desc>Line chart"));
    assert!(svg.trim_end().ends_with("</svg>"));
    // Labels are <text>, not glyph outlines, so the file stays small.
    assert!(svg.len() < 40_000, "svg is {} bytes", svg.len());
    assert_eq!(c.to_string(), c.description());
}

#[test]
fn renders_with_the_bundled_font_only() {
    // default-features = false: plotters has no system fonts; a caption needs the bundled one.
    // Charts from many threads at once, as other cells or tests may do.
    let handles: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(|| speedup("t", &speedups()).map(|_| ())))
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
}

#[test]
fn registering_the_font_each_call_is_cheap() {
    let start = std::time::Instant::now();
    for _ in 0..1000 {
        plotters::style::register_font(
            "sans-serif",
            plotters::style::FontStyle::Normal,
            include_bytes!("DejaVuSans.ttf"),
        )
        .ok()
        .unwrap();
    }
    let per_call = start.elapsed() / 1000;
    eprintln!("register_font: {per_call:?} per call");
    assert!(per_call < std::time::Duration::from_millis(1));
}

#[test]
fn bad_input_is_an_error() {
    let nan = Series::new("bad", vec![(1.0, f64::NAN)]);
    let inf = Series::new("bad", vec![(f64::INFINITY, 1.0)]);
    let zero = Series::new("zero", vec![(1.0, 1.0), (10.0, 0.0)]);
    let empty = Series::new("empty", vec![]);
    assert!(matches!(speedup("t", &[]), Err(ChartError::NoSeries)));
    assert!(matches!(
        loglog("t", "x", "y", &[]),
        Err(ChartError::NoSeries)
    ));
    assert!(matches!(
        lines("t", "x", "y", &[empty]),
        Err(ChartError::EmptySeries { .. })
    ));
    assert!(matches!(
        speedup("t", &[nan]),
        Err(ChartError::NotFinite { index: 0, .. })
    ));
    assert!(matches!(
        loglog("t", "x", "y", &[inf]),
        Err(ChartError::NotFinite { .. })
    ));
    assert!(matches!(
        loglog("t", "x", "y", std::slice::from_ref(&zero)),
        Err(ChartError::NotPositive { index: 1, .. })
    ));
    assert!(
        lines("t", "x", "y", &[zero]).is_ok(),
        "0 is fine on linear axes"
    );
    let e = bars::<&str>("t", "y", &[]).unwrap_err();
    assert!(matches!(e, ChartError::NoBars));
    let e = bars("t", "y", &[("a", 1.0), ("b", f64::NAN)]).unwrap_err();
    assert!(matches!(&e, ChartError::BarNotFinite { label, .. } if label == "b"));
    let e = loglog("t", "x", "y", &[Series::new("zero", vec![(0.0, 1.0)])]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "series \"zero\" point 0 is (0, 1): a log axis needs values above 0"
    );
    assert_eq!(
        ChartError::EmptySeries { name: "s".into() }.to_string(),
        "series \"s\" has no points"
    );
}

#[test]
fn degenerate_but_valid_input_draws() {
    let one = Series::new("one", vec![(4.0, 2.0)]);
    assert!(speedup("t", std::slice::from_ref(&one)).is_ok());
    assert!(loglog("t", "x", "y", std::slice::from_ref(&one)).is_ok());
    assert!(
        lines(
            "t",
            "x",
            "y",
            &[Series::new("zeros", vec![(0.0, 0.0), (0.0, 0.0)])]
        )
        .is_ok()
    );
    assert!(bars("t", "y", &[("zero", 0.0)]).is_ok());
    assert!(
        lines(
            "",
            "",
            "",
            &[Series::new("", vec![(1.0, -1e300), (2.0, 1e300)])]
        )
        .is_ok()
    );
}

#[test]
fn save_writes_the_svg_and_reports_bad_paths() {
    let c = bars("t", "time (s)", &[("a", 1.0)]).unwrap();
    let path = std::env::temp_dir().join(format!("parlab-chart-test-{}.svg", std::process::id()));
    c.save(&path).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), c.svg());
    std::fs::remove_file(&path).unwrap();
    let e = c.save("/nonexistent-dir/x.svg").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("could not write /nonexistent-dir/x.svg: ")
    );
}

#[test]
fn numbers_are_short() {
    let cases = [
        (0.0, "0"),
        (1.0, "1"),
        (0.09, "0.09"),
        (8.1, "8.1"),
        (123.456, "123"),
        (1e9, "10⁹"),
        (2.5e-5, "2.5·10⁻⁵"),
        (-1e-6, "-10⁻⁶"),
        (-1.23456, "-1.23"),
        (1000.0, "1000"),
        (12000.0, "1.2·10⁴"),
    ];
    for (v, want) in cases {
        assert_eq!(draw::fmt_num(v), want);
    }
    // On a log axis every power of ten is written alike, large or small.
    for (v, want) in [
        (1e-4, "10⁻⁴"),
        (0.01, "10⁻²"),
        (1.0, "10⁰"),
        (2e-4, "2·10⁻⁴"),
    ] {
        assert_eq!(draw::fmt_log_tick(v), want);
    }
}

#[test]
fn legend_avoids_the_data() {
    // Data along the top-left to bottom-right diagonal: the legend goes to an empty corner.
    let falling = vec![vec![(0.0, 1.0), (1.0, 0.0)]];
    let pos = draw::legend_corner_for_test(&falling, &["time"]);
    assert!(pos == "UpperRight" || pos == "LowerLeft", "{pos}");
    let rising = vec![vec![(0.0, 0.0), (1.0, 0.9)]];
    assert_eq!(
        draw::legend_corner_for_test(&rising, &["time"]),
        "UpperLeft"
    );
}

/// Every `font-size` in an SVG, in pixels.
fn font_sizes(svg: &str) -> Vec<f64> {
    svg.split("font-size=\"")
        .skip(1)
        .filter_map(|t| t.split('"').next()?.trim_end_matches("px").parse().ok())
        .collect()
}

#[test]
fn long_bar_names_lie_down_and_stay_readable() {
    // The release-vs-debug chart of lesson 00: four long names.
    let rates = [
        ("calc_pi (learner), release", 105.0),
        ("calc_pi (learner), debug", 4.1),
        ("pi::calc_pi (kernel), release", 980.0),
        ("pi::calc_pi (kernel), debug", 21.0),
    ];
    let c = bars(
        "release vs debug build, one thread",
        "million samples per second",
        &rates,
    )
    .unwrap();
    let sizes = font_sizes(c.svg());
    assert!(!sizes.is_empty());
    assert!(
        sizes.iter().all(|&s| s >= f64::from(draw::MIN_TEXT)),
        "text below {} px: {sizes:?}",
        draw::MIN_TEXT
    );
    let t = texts(c.svg());
    for (name, _) in rates {
        assert!(
            t.iter().any(|s| s == name),
            "{name:?} not drawn whole in {t:?}"
        );
    }
    assert!(!c.svg().contains("rotate"), "no turned labels");
    let out = std::env::temp_dir().join("parlab-chart-tests");
    std::fs::create_dir_all(&out).unwrap();
    c.save(out.join("bars-long-names.svg")).unwrap();

    // Names too long for one line are wrapped, each line readable.
    let long = [
        ("a very long name for a bar that goes on and on and on", 1.0),
        ("short", 2.0),
    ];
    let c = bars("t", "y", &long).unwrap();
    assert!(
        font_sizes(c.svg())
            .iter()
            .all(|&s| s >= f64::from(draw::MIN_TEXT))
    );
    let t = texts(c.svg());
    assert!(t.iter().any(|s| s.starts_with("a very long name")), "{t:?}");
    assert!(t.iter().all(|s| s.chars().count() <= 40), "{t:?}");

    // Short names stay under standing bars.
    let c = bars("t", "time (s)", &[("serial", 0.09), ("threads", 0.046)]).unwrap();
    assert!(
        font_sizes(c.svg())
            .iter()
            .all(|&s| s >= f64::from(draw::MIN_TEXT))
    );
}

#[test]
fn wrap_breaks_at_spaces() {
    assert_eq!(draw::wrap("one two three", 7), vec!["one two", "three"]);
    assert_eq!(draw::wrap("unbreakable", 4), vec!["unbreakable"]);
}

#[test]
fn available_line_and_busy_note() {
    use crate::cores::Parallelism;
    let busy = Parallelism {
        cores: 2,
        available: 1.2,
        window: std::time::Duration::from_millis(100),
        own_busy: 0.0,
    };
    let c = speedup_available("t", &speedups(), &busy).unwrap();
    assert!(
        texts(c.svg())
            .iter()
            .any(|s| s == "available now (1.2 of 2 cores)")
    );
    assert!(
        c.description().contains("min(threads, 1.2)"),
        "{}",
        c.description()
    );
    let html = c.to_html();
    assert!(html.contains("data-parlab-note=\"busy\""), "{html}");
    assert!(html.contains(&format!(
        "alt=\"{}\"",
        crate::display::escape_html(c.description())
    )));
    let quiet = Parallelism {
        available: 1.97,
        ..busy
    };
    let c = speedup_available("t", &speedups(), &quiet).unwrap();
    assert!(!c.to_html().contains("data-parlab-note"));
    let out = std::env::temp_dir().join("parlab-chart-tests");
    std::fs::create_dir_all(&out).unwrap();
    speedup_available(
        "calc_pi, 10⁸ samples: speed-up against threads",
        &speedups()[..1],
        &busy,
    )
    .unwrap()
    .save(out.join("speedup-busy.svg"))
    .unwrap();
}

#[test]
fn a_long_title_shrinks_then_is_cut_and_the_description_keeps_it() {
    let short = "calc_pi on threads";
    assert_eq!(draw::fit_title(short), (short.to_string(), 24));
    let long = "a title of a hundred and twenty characters, far wider than the chart, which a learner may well write in an exercise cell";
    let (shown, size) = draw::fit_title(long);
    assert!(shown.ends_with('…'), "{shown}");
    assert!(
        size < 24 && size as f64 / 1.24 >= draw::MIN_TEXT as f64 - 0.01,
        "{size}"
    );
    // Somewhat long: smaller, whole.
    let mid = "2 worker processes: 2000 tiny tasks in chunks, then one by one; a worker dies";
    let (shown, size) = draw::fit_title(mid);
    assert_eq!(shown, mid);
    assert!(size < 24);
    let c = bars(long, "s", &[("a".to_string(), 1.0)]).unwrap();
    assert!(texts(c.svg()).iter().any(|t| t.ends_with('…')));
    assert!(c.description().contains(long));
    assert!(
        font_sizes(c.svg())
            .iter()
            .all(|&px| px >= draw::MIN_TEXT as f64 - 0.01)
    );
}

#[test]
fn bars_draw_rectangles_of_positive_size_even_alone_or_negative() {
    for values in [vec![1.0], vec![-1.0], vec![-2.0, 3.0], vec![-0.5, -4.0]] {
        // Short names stand under upright bars; long ones lie down.
        for name_len in [1, 80] {
            let named: Vec<(String, f64)> = values
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("bar {i} {}", "x".repeat(name_len)), *v))
                .collect();
            let c = bars("signs", "change (s)", &named).unwrap();
            let bad: Vec<&str> = c
                .svg()
                .split("<rect")
                .skip(1)
                .filter(|r| r.contains("width=\"-") || r.contains("height=\"-"))
                .collect();
            assert!(
                bad.is_empty(),
                "negative rectangles for {values:?}: {bad:?}"
            );
            // Every bar is drawn (one filled rectangle each), and its name shows.
            let drawn = c.svg().matches("fill=\"#0072B2\"").count();
            assert_eq!(drawn, values.len(), "{values:?}, names of {name_len}");
            assert!(
                texts(c.svg()).iter().any(|t| t.starts_with("bar 0")),
                "{values:?}"
            );
        }
    }
}
