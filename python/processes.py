"""Lesson 03, in Python: what starting a process costs (spawn, fork), and a Queue round trip.

The source lesson's queue exercise, calc_pi(N, que), is the worker: each start is

    p = ctx.Process(target=calc_pi, args=(n, que)); p.start(); que.get(); p.join()

with n = 1 sample, so the time is the start, the result's trip back, and the join: the
same "trivial result back" that parlab's start methods are timed with. Then a round trip:
one worker process echoes what it gets from one Queue into another, and each put + get
is timed.

Usage: python processes.py --starts 5 --round-trips 200 [--methods spawn,fork]
Prints parlab's JSON report (see parlab_report.py) as its last line.
"""
import argparse
import multiprocessing as mp
import random
import time

import parlab_report


# The source lesson's exercise: calc_pi that returns its result through a queue.
def calc_pi(N, que):
    M = 0
    for i in range(N):
        # Simulate impact coordinates
        x = random.uniform(-1, 1)
        y = random.uniform(-1, 1)
        # True if impact happens inside the circle
        if x**2 + y**2 < 1.0:
            M += 1
    que.put((4 * M / N, N))  # result, iterations


def echo(que_in, que_out):
    """Puts back what it gets, until it gets None."""
    for item in iter(que_in.get, None):
        que_out.put(item)


def start_times(ctx, repeats):
    que = ctx.Queue()

    def start_one():
        p = ctx.Process(target=calc_pi, args=(1, que))
        p.start()
        que.get()
        p.join()

    return parlab_report.timed(start_one, repeats, warmup=1)


def round_trip_times(ctx, repeats):
    que_in, que_out = ctx.Queue(), ctx.Queue()
    p = ctx.Process(target=echo, args=(que_in, que_out))
    p.start()
    times = []
    for i in range(repeats + 20):  # the first 20 warm up
        start = time.perf_counter()
        que_in.put(i)
        que_out.get()
        if i >= 20:
            times.append(time.perf_counter() - start)
    que_in.put(None)
    p.join()
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=5, help="timed starts per method")
    parser.add_argument("--round-trips", type=int, default=200)
    parser.add_argument("--methods", default="spawn,fork")
    args = parser.parse_args()
    if args.starts < 1 or args.round_trips < 1:
        parser.error("--starts and --round-trips must be at least 1")

    report = parlab_report.Report()
    points = []
    for method in args.methods.split(","):
        try:
            ctx = mp.get_context(method)
        except ValueError as e:
            report.skip("Python %s start" % method, "multiprocessing", e)
            continue
        label = "Python Process start + join (%s)" % method
        points.append((len(points) + 1, label, start_times(ctx, args.starts), 1))
    report.add("Python process start", "method", points)
    ctx = mp.get_context("spawn")
    report.add("Python Queue round trip", "method",
               [(1, "Python Queue round trip (spawn)", round_trip_times(ctx, args.round_trips), 1)])
    report.emit()


if __name__ == "__main__":
    parlab_report.watch_parent()
    main()
