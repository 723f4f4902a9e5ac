"""How the lessons' Python scripts hand their timings to parlab (the Rust side).

Every script prints exactly one line on stdout, at the end: a JSON report that
`parlab::python` checks by its shape before it believes it. Everything else a
script says goes to stderr. The report:

    {"format": "parlab-python-report", "version": 1,
     "python": {"version": "3.11.7", "implementation": "CPython", "gil_enabled": true,
                "executable": "/path/to/python"},
     "modules": {"numpy": "2.4.6", "numba": null, ...},
     "skipped": [{"series": "numba nogil threads", "module": "numba", "reason": "..."}],
     "series": [{"name": "Python threads", "param": "threads",
                 "points": [{"value": 1, "label": "1 thread", "times_s": [0.51, 0.50], "work": 1000000}]}]}

When parlab runs a script it also sets PARLAB_PYTHON_WATCH=1 and gives it a pipe
as stdin whose other end only parlab holds. `watch_parent()` then ends this
process group as soon as that pipe closes: the cell was interrupted, or the
kernel died, so no Python outlives its cell.
"""
import importlib
import json
import os
import platform
import signal
import sys
import threading
import time

FORMAT = "parlab-python-report"
VERSION = 1


def watch_parent():
    """Kill this process group when parlab's end of stdin closes (only when parlab asked)."""
    if os.environ.get("PARLAB_PYTHON_WATCH") != "1" or os.getpgrp() != os.getpid():
        return  # run by hand from a terminal: stdin is yours

    def wait_for_eof():
        # os.read on the descriptor, not sys.stdin: a daemon thread blocked inside a buffered
        # reader's lock makes the interpreter abort at exit.
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=wait_for_eof, name="parlab-watch", daemon=True).start()


def gil_enabled():
    """False on a free-threaded CPython (3.13t, 3.14t) running without its GIL."""
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    return True if is_enabled is None else bool(is_enabled())


def module_version(name):
    """The module's version, or None when it cannot be imported."""
    try:
        module = importlib.import_module(name)
    except Exception:
        return None
    return getattr(module, "__version__", "installed")


def timed(run, repeats, warmup=0):
    """The times in seconds of `repeats` calls of run() after `warmup` untimed ones."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


class Report:
    """The series a script measured, and what it skipped, printed by `emit()`."""

    def __init__(self, modules=()):
        """`modules`: the names whose versions the report lists (each is imported to ask)."""
        self.modules = {name: module_version(name) for name in modules}
        self.series = []
        self.skipped = []

    def add(self, name, param, points):
        """points: (value, label, times in seconds, work per run) for each point."""
        self.series.append({
            "name": name,
            "param": param,
            "points": [
                {"value": value, "label": label, "times_s": times, "work": work}
                for value, label, times, work in points
            ],
        })

    def skip(self, series, module, reason):
        """A series that could not run because `module` is missing or broken."""
        self.skipped.append({"series": series, "module": module, "reason": str(reason)})

    def emit(self):
        report = {
            "format": FORMAT,
            "version": VERSION,
            "python": {
                "version": platform.python_version(),
                "implementation": platform.python_implementation(),
                "gil_enabled": gil_enabled(),
                "executable": sys.executable,
            },
            "modules": self.modules,
            "skipped": self.skipped,
            "series": self.series,
        }
        sys.stdout.write(json.dumps(report) + "\n")
        sys.stdout.flush()
