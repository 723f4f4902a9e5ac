//! `parlab::python` with the real interpreter of the project's `.venv` (made by `parlab setup`,
//! with numpy, numba and the Rust extension `parlab_py`): the lessons' scripts at tiny sizes, and
//! every kind of bad input: no interpreter, one that is not Python 3, a script that raises, one
//! that never returns, one that prints garbage, a Python without numba; and the extension's
//! exceptions. No test here asserts a speed.
#![cfg(unix)]

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use parlab::python::{PiThreads, Python, PythonError};

/// The project's interpreter; setup makes it (the test says so if it is not there).
fn venv() -> Python {
    Python::find().unwrap_or_else(|e| panic!("the lessons' Python: {e}"))
}

/// A fresh folder for this test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("parlab-python-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn script(dir: &Path, name: &str, code: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, code).unwrap();
    path
}

fn alive(pid: u32) -> bool {
    // A zombie still has a /proc entry; its state is Z.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

/// Waits up to 10 s for `pid` to be gone.
fn gone(pid: u32) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn tiny() -> PiThreads {
    PiThreads {
        threads: vec![1, 2],
        repeats: 1,
        python: 20_000,
        numba: 100_000,
        ext: 1_000_000,
    }
}

#[test]
fn the_lesson_scripts_give_sweeps_and_comparisons() {
    let py = venv();
    assert!(py.version().starts_with("3."), "{py}");
    let report = py.pi_threads(&tiny()).unwrap();
    assert!(report.skipped.is_empty(), "{:?}", report.notes());
    for name in [
        "Python threads",
        "numba nogil threads",
        "Rust extension, GIL held",
        "Rust extension, GIL released",
    ] {
        let s = report.sweep(name).unwrap();
        assert_eq!(s.param, "threads");
        let counts: Vec<f64> = s.points.iter().map(|p| p.0).collect();
        assert_eq!(counts, [1.0, 2.0], "{name}");
        assert!(
            s.equal_work(),
            "{name}: the same samples at every thread count"
        );
        assert_eq!(s.speedup().len(), 2);
    }
    assert_eq!(report.python.version, py.version());
    assert!(report.modules["numba"].is_some());

    let sorts = py.sort_pair(10_000, 1).unwrap();
    let labels: Vec<&str> = sorts
        .measurements
        .iter()
        .map(|m| m.label.as_str())
        .collect();
    assert_eq!(
        labels,
        ["numpy.sort, one after the other", "numpy.sort, two threads"]
    );
    assert_eq!(sorts.measurements[1].work, Some(20_000));

    let costs = py.process_costs(1, 5).unwrap();
    let labels: Vec<&str> = costs
        .measurements
        .iter()
        .map(|m| m.label.as_str())
        .collect();
    assert_eq!(
        labels,
        [
            "Python Process start + join (spawn)",
            "Python Process start + join (fork)",
            "Python Queue round trip (spawn)"
        ]
    );
    assert_eq!(costs.measurements[2].times.len(), 5);

    let pool = py.pool_submit(&[1_000, 2_000], 1).unwrap();
    assert_eq!(pool.param, "samples per task");
    assert_eq!(pool.points[1].0, 2_000.0);
    assert_eq!(pool.points[1].1.work, Some(8_000));
}

#[test]
fn no_interpreter_says_to_run_setup() {
    let e = Python::at("/nonexistent/project/.venv/bin/python").unwrap_err();
    assert!(matches!(e, PythonError::NoVenv { .. }), "{e}");
    assert!(
        e.to_string().contains("cargo run --release -- setup"),
        "{e}"
    );
}

#[test]
fn a_python_that_is_not_python_3_is_refused() {
    // A real Python 2 where the machine has one (pyenv's), else a stand-in that answers the
    // version question as Python 2.7 does.
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let real = std::fs::read_dir(home.join(".pyenv/versions"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin/python2"))
        .find(|p| p.is_file());
    let python2 = real.unwrap_or_else(|| {
        let dir = scratch("python2");
        let path = script(&dir, "python", "#!/bin/sh\nprintf '2.7.18 1'\n");
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        path
    });
    let e = Python::at(&python2).unwrap_err();
    assert!(matches!(e, PythonError::NotPython3 { .. }), "{e}");
    assert!(e.to_string().contains("2.7"), "{e}");
    // Something that is not a Python at all.
    let e = Python::at("/bin/true").unwrap_err();
    assert!(matches!(e, PythonError::NotPython3 { .. }), "{e}");
}

#[test]
fn a_script_that_raises_gives_its_traceback() {
    let dir = scratch("raises");
    let path = script(
        &dir,
        "boom.py",
        "def f():\n    raise RuntimeError('the input was bad')\nf()\n",
    );
    let e = venv().run_file(&path, &[] as &[&str]).unwrap_err();
    assert!(matches!(e, PythonError::Raised { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("boom.py") && text.contains("RuntimeError: the input was bad"),
        "{text}"
    );
}

#[test]
fn a_script_that_prints_garbage_is_an_error_naming_the_line() {
    let dir = scratch("garbage");
    let path = script(&dir, "chatty.py", "print('hello, I am not JSON')\n");
    let e = venv().run_file(&path, &[] as &[&str]).unwrap_err();
    assert!(matches!(e, PythonError::Garbage { .. }), "{e}");
    assert!(e.to_string().contains("hello, I am not JSON"), "{e}");
    let path = script(&dir, "silent.py", "pass\n");
    let e = venv().run_file(&path, &[] as &[&str]).unwrap_err();
    assert!(e.to_string().contains("printed nothing"), "{e}");
    let path = script(
        &dir,
        "other.py",
        "print('{\"format\": \"parlab-python-report\", \"version\": 7}')\n",
    );
    let e = venv().run_file(&path, &[] as &[&str]).unwrap_err();
    assert!(e.to_string().contains("version 7"), "{e}");
}

#[test]
fn a_script_that_never_returns_is_stopped_with_its_children() {
    let dir = scratch("hangs");
    let pids = dir.join("pids");
    let code = format!(
        "import multiprocessing as mp, os, time\n\
         def sleep():\n    time.sleep(1000)\n\
         if __name__ == '__main__':\n\
         \x20   p = mp.get_context('spawn').Process(target=sleep)\n\
         \x20   p.start()\n\
         \x20   open({pids:?}, 'w').write('%d %d' % (os.getpid(), p.pid))\n\
         \x20   time.sleep(1000)\n"
    );
    let path = script(&dir, "hang.py", &code);
    let py = venv().with_timeout(Duration::from_secs(3));
    let start = Instant::now();
    let e = py.run_file(&path, &[] as &[&str]).unwrap_err();
    let took = start.elapsed();
    assert!(matches!(e, PythonError::Timeout { .. }), "{e}");
    assert!(took < Duration::from_secs(8), "stopped after {took:?}");
    let text = std::fs::read_to_string(&pids).expect("the script wrote its pids");
    for pid in text.split_whitespace() {
        let pid: u32 = pid.parse().unwrap();
        assert!(gone(pid), "process {pid} outlived the timeout");
    }
}

#[test]
fn a_script_whose_parent_dies_ends_its_process_group() {
    // What a Jupyter "Interrupt" does to a cell: the process that ran the script is gone, so
    // the script's stdin closes. Its watch (python/parlab_report.py) ends its whole group.
    let dir = scratch("orphan");
    let pids = dir.join("pids");
    let code = format!(
        "import multiprocessing as mp, os, sys, time\n\
         sys.path.insert(0, {scripts:?})\n\
         import parlab_report\n\
         def sleep():\n    time.sleep(1000)\n\
         if __name__ == '__main__':\n\
         \x20   parlab_report.watch_parent()\n\
         \x20   p = mp.get_context('fork').Process(target=sleep)\n\
         \x20   p.start()\n\
         \x20   open({pids:?}, 'w').write('%d %d' % (os.getpid(), p.pid))\n\
         \x20   time.sleep(1000)\n",
        scripts = parlab::python::SCRIPTS,
    );
    let path = script(&dir, "orphan.py", &code);
    let mut child = Command::new(venv().path())
        .arg(&path)
        .env("PARLAB_PYTHON_WATCH", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !pids.is_file()
        || std::fs::read_to_string(&pids)
            .unwrap_or_default()
            .split_whitespace()
            .count()
            < 2
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the script did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(child.stdin.take()); // the parent's end closes, as when the parent dies
    let text = std::fs::read_to_string(&pids).unwrap();
    for pid in text.split_whitespace() {
        let pid: u32 = pid.parse().unwrap();
        assert!(gone(pid), "process {pid} outlived its parent");
    }
    let _ = child.wait();
}

#[test]
fn a_python_without_numba_skips_its_series_and_says_how_to_add_it() {
    // A real, bare Python 3 environment: no numpy, no numba, no parlab_py.
    let dir = scratch("bare");
    let base = Python::find().unwrap();
    let made = Command::new(base.path())
        .args(["-m", "venv", "--without-pip"])
        .arg(dir.join("venv"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let bare = Python::at(dir.join("venv/bin/python")).unwrap();
    let report = bare.pi_threads(&tiny()).unwrap();
    assert!(report.sweep("Python threads").is_ok());
    let e = report.sweep("numba nogil threads").unwrap_err();
    assert!(matches!(e, PythonError::Missing { .. }), "{e}");
    assert!(e.to_string().contains("pip install numba"), "{e}");
    let e = report.sweep("Rust extension, GIL released").unwrap_err();
    assert!(e.to_string().contains("maturin"), "{e}");
    assert_eq!(report.notes().len(), 3);
    let e = bare.sort_pair(1000, 1).unwrap_err();
    assert!(e.to_string().contains("numpy"), "{e}");
}

#[test]
fn the_extension_raises_python_exceptions_for_bad_arguments() {
    let code = "import parlab_py\n\
        est, n = parlab_py.calc_pi(100000, 1)\n\
        assert n == 100000 and 3.0 < est < 3.3, est\n\
        assert parlab_py.calc_pi_nogil(100000, 1) == (est, n)\n\
        for f in (parlab_py.calc_pi, parlab_py.calc_pi_nogil):\n\
        \x20   for args in ((0, 1), (-5, 1), (10**30, 1), (parlab_py.MAX_SAMPLES + 1, 1), ('many', 1), (10, -1)):\n\
        \x20       try:\n\
        \x20           f(*args)\n\
        \x20       except (ValueError, OverflowError, TypeError) as e:\n\
        \x20           print(f.__name__, args[0], type(e).__name__, e)\n\
        \x20       else:\n\
        \x20           raise SystemExit('no exception for %r' % (args,))\n";
    let out = Command::new(venv().path())
        .args(["-c", code])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.lines().count(), 12, "{stdout}");
    assert!(
        stdout.contains("calc_pi 0 ValueError calc_pi needs at least 1 sample"),
        "{stdout}"
    );
    assert!(stdout.contains("OverflowError"), "{stdout}");
    assert!(stdout.contains("split the work"), "{stdout}");
    assert!(stdout.contains("TypeError"), "{stdout}");
}

#[test]
fn a_free_threaded_python_if_there_is_one_says_so() {
    match Python::free_threaded() {
        Some(py) => {
            assert!(!py.gil_enabled());
            let report = py
                .pi_threads(&PiThreads {
                    numba: 0,
                    ext: 0,
                    ..tiny()
                })
                .unwrap();
            assert!(
                report
                    .sweep("Python threads (free-threaded, no GIL)")
                    .is_ok()
            );
        }
        None => assert!(venv().gil_enabled(), "the .venv Python has its GIL"),
    }
}
