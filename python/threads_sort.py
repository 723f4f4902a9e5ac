"""Lesson 01's exercise, in Python: sort two random arrays with numpy.sort, in two threads.

"Many Numpy functions unlock the GIL. Try to sort two randomly generated arrays using
numpy.sort in parallel." Equal work both ways: the same two arrays sorted one after the
other, and each in its own threading.Thread. The arrays hold random 64-bit unsigned
integers, like the Rust side's `threads::random_vec`.

Usage: python threads_sort.py --len 2000000 --repeats 3
Prints parlab's JSON report (see parlab_report.py) as its last line.
"""
import argparse
from threading import Thread

import parlab_report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--len", type=int, default=2_000_000, help="length of each array")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.len < 1 or args.repeats < 1:
        parser.error("--len and --repeats must be at least 1")

    report = parlab_report.Report(modules=("numpy",))
    try:
        import numpy
    except Exception as e:
        report.skip("numpy.sort", "numpy", "%s: %s" % (type(e).__name__, e))
        report.emit()
        return

    rng = numpy.random.default_rng(7)
    a = rng.integers(0, 2**64 - 1, size=args.len, dtype=numpy.uint64, endpoint=True)
    b = rng.integers(0, 2**64 - 1, size=args.len, dtype=numpy.uint64, endpoint=True)
    results = {}

    def sort_into(key, array):
        results[key] = numpy.sort(array)

    def one_after_the_other():
        sort_into("a", a)
        sort_into("b", b)

    def two_threads():
        t1 = Thread(target=sort_into, args=("a", a))
        t2 = Thread(target=sort_into, args=("b", b))
        t1.start()
        t2.start()
        t1.join()
        t2.join()

    work = 2 * args.len
    points = []
    for value, label, run in ((1, "one after the other", one_after_the_other),
                              (2, "two threads", two_threads)):
        times = parlab_report.timed(run, args.repeats, warmup=1)
        if not all(numpy.all(r[:-1] <= r[1:]) for r in results.values()):
            raise RuntimeError("numpy.sort left an array unsorted (%s)" % label)
        points.append((value, label, times, work))
    report.add("numpy.sort", "threads", points)
    report.emit()


if __name__ == "__main__":
    parlab_report.watch_parent()
    main()
