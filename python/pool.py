"""Lesson 04, in Python: the source lesson's pool exercise, as it is there, at smaller sizes.

submit(ctx, N) starts a Pool in the spawn context, runs calc_pi on it 4 times with
starmap, and closes it: a new pool each time. The source timed it at N = 1_000, 100_000
and 10_000_000 samples per task with timeit(number=5). Pure Python counts about 2 M
samples per second on the lessons' machine, so 4 x 10**7 samples on 2 workers take
about 10 s per call, 50 s for number=5: here the sizes stop lower by default, and each
call is timed on its own (timeit's number=1, `--repeats` times) so parlab gets a median.

Usage: python pool.py --sizes 1000,10000,100000 --repeats 3
(the source's run: python pool.py --sizes 1000,100000,10000000 --repeats 5)
Prints parlab's JSON report (see parlab_report.py) as its last line.
"""
import argparse
from itertools import repeat
import multiprocessing as mp
import random
from timeit import timeit

import parlab_report


# The source lesson's calc_pi and submit, as they are there.
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


def submit(ctx, N):
    with ctx.Pool() as pool:
        pool.starmap(calc_pi, repeat((N,), 4))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="samples per task")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    if not sizes or min(sizes) < 1 or args.repeats < 1:
        parser.error("sizes and --repeats must be at least 1")

    report = parlab_report.Report()
    ctx = mp.get_context("spawn")
    points = []
    for i in sizes:
        res = [timeit(lambda: submit(ctx, i), number=1) for _ in range(args.repeats)]
        points.append((i, "Python Pool (spawn), %d samples per task" % i, res, 4 * i))
    report.add("Python: new Pool each time (spawn)", "samples per task", points)
    report.emit()


if __name__ == "__main__":
    parlab_report.watch_parent()
    main()
