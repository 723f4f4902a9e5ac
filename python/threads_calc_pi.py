"""Lesson 01, in Python: the source lesson's calc_pi on threads, with the GIL and without.

The same total work at every thread count (the source gave each thread n samples; here
k threads share n), four ways:

- "Python threads": the source's own calc_pi in threading.Thread;
- "numba nogil threads": the source's calc_pi_nogil, @numba.jit(nopython=True, nogil=True);
- the Rust extension parlab_py (python/parlab-py, built by `parlab setup`):
  calc_pi holds the GIL while it counts, calc_pi_nogil releases it (py.detach).

Usage (sample counts are totals per run; 0 leaves a series out):

    python threads_calc_pi.py --threads 1,2 --repeats 3 --python 600000 --numba 20000000 --ext 100000000

Pure Python does about 2 M samples per second on the lessons' machine, so the source's
10**7 samples on two threads (2 * 10**7) take about 10 s: `--python 20000000` runs it.
Prints parlab's JSON report (see parlab_report.py) as its last line.
"""
import argparse
import random
from threading import Thread

import parlab_report


# The source lesson's calc_pi, as it is there.
def calc_pi(N):
    M = 0
    for i in range(N):
        # Simulate impact coordinates
        x = random.uniform(-1, 1)
        y = random.uniform(-1, 1)
        # True if impact happens inside the circle
        if x**2 + y**2 < 1.0:
            M += 1
    return (4 * M / N, N)  # result, iterations


def numba_calc_pi_nogil():
    """The source's numba version (imported here, so a missing numba skips only its series)."""
    import numba

    @numba.jit(nopython=True, nogil=True)
    def calc_pi_nogil(N):
        M = 0
        for i in range(N):
            x = random.uniform(-1, 1)
            y = random.uniform(-1, 1)
            if x**2 + y**2 < 1:
                M += 1
        return 4 * M / N

    calc_pi_nogil(1000)  # compile now, not inside the first timed run
    return calc_pi_nogil


def shares(n, k):
    """n samples split over k threads: sizes that differ by at most one."""
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def run_threads(target, n, k, seeded=False):
    """The source's Thread(target=calc_pi, args=(n,)), started and joined for k threads."""
    threads = []
    for i, share in enumerate(shares(n, k)):
        args = (share, i + 1) if seeded else (share,)
        threads.append(Thread(target=target, args=args))
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def sweep(report, name, target, n, counts, repeats, seeded=False, warmup=0):
    points = []
    for k in counts:
        times = parlab_report.timed(lambda: run_threads(target, n, k, seeded), repeats, warmup)
        points.append((k, "%d thread%s" % (k, "" if k == 1 else "s"), times, n))
    report.add(name, "threads", points)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2", help="thread counts, e.g. 1,2,4")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--python", type=int, default=600_000, help="samples per run, pure Python")
    parser.add_argument("--numba", type=int, default=20_000_000, help="samples per run, numba")
    parser.add_argument("--ext", type=int, default=100_000_000, help="samples per run, parlab_py")
    args = parser.parse_args()
    counts = [int(k) for k in args.threads.split(",")]
    if not counts or min(counts) < 1 or args.repeats < 1:
        parser.error("thread counts and --repeats must be at least 1")
    for flag in ("python", "numba", "ext"):
        n = getattr(args, flag)
        if n and n < max(counts):
            parser.error("--%s %d: fewer samples than threads" % (flag, n))

    asked = [m for m, n in (("numba", args.numba), ("parlab_py", args.ext)) if n]
    report = parlab_report.Report(modules=asked)
    if args.python:
        name = "Python threads"
        if not parlab_report.gil_enabled():
            name = "Python threads (free-threaded, no GIL)"
        sweep(report, name, calc_pi, args.python, counts, args.repeats)
    if args.numba:
        try:
            calc_pi_nogil = numba_calc_pi_nogil()
        except Exception as e:
            report.skip("numba nogil threads", "numba", "%s: %s" % (type(e).__name__, e))
        else:
            sweep(report, "numba nogil threads", calc_pi_nogil, args.numba, counts, args.repeats, warmup=1)
    if args.ext:
        try:
            import parlab_py
        except Exception as e:
            for series in ("Rust extension, GIL held", "Rust extension, GIL released"):
                report.skip(series, "parlab_py", "%s: %s" % (type(e).__name__, e))
        else:
            sweep(report, "Rust extension, GIL held", parlab_py.calc_pi, args.ext, counts,
                  args.repeats, seeded=True, warmup=1)
            sweep(report, "Rust extension, GIL released", parlab_py.calc_pi_nogil, args.ext,
                  counts, args.repeats, seeded=True, warmup=1)
    report.emit()


if __name__ == "__main__":
    parlab_report.watch_parent()
    main()
