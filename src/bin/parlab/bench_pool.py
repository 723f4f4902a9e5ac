"""The `parlab bench pool --compare-python` cases, in Python's multiprocessing, side by side.

Usage: python bench_pool.py WORKERS [START_METHOD]. Prints one JSON object per case:
{"case", "median_s", "samples", "method"}. The cases match parlab's names.
"""
import json
import multiprocessing as mp
import statistics
import sys
import time


def echo(x):
    return x


def median_of(f, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    workers = int(sys.argv[1])
    ctx = mp.get_context(sys.argv[2] if len(sys.argv) > 2 else None)
    method = ctx.get_start_method()

    def out(case, seconds, samples=1):
        print(json.dumps({"case": case, "median_s": seconds, "samples": samples, "method": method}), flush=True)

    def create_close():
        pool = ctx.Pool(workers)
        pool.close()
        pool.join()

    create_close()
    out("create_close_process_pool", median_of(create_close, 10))
    with ctx.Pool(workers) as pool:
        for i in range(100):
            pool.apply(echo, (i,))
        times = []
        for i in range(2000):
            start = time.perf_counter()
            pool.apply(echo, (i,))
            times.append(time.perf_counter() - start)
        out("apply_round_trip_process_pool", statistics.median(times))
        pool.map(echo, range(1000))
        out("map_tiny_process_pool", median_of(lambda: pool.map(echo, range(100_000)), 11), 100_000)
        out("map_tiny_chunk1_process_pool", median_of(lambda: pool.map(echo, range(10_000), chunksize=1), 3), 10_000)

    def start_join():
        p = ctx.Process(target=echo, args=(1,))
        p.start()
        p.join()

    out("process_start", median_of(start_join, 20))


if __name__ == "__main__":
    main()
