"""`parlab bench kernel`'s measuring side: real "Rust (parlab)" kernels driven through jupyter_client.

Usage: bench_kernel.py NOTEBOOKS_DIR ROUNDS ORDINARY_CELLS

Each round starts one kernel in the lessons' folder, as JupyterLab does, and times its start (until it
answers kernel_info), the lessons' `:dep parlab` cell, the first `let` after it and ORDINARY_CELLS
ordinary cells, and reads from the kernel's stderr how long rust-analyzer's analysis took (one line per
Cargo.toml from parlab's evcxr patch: at start, after `:dep`), which the first cell with a `let` waits
for. In the first round a second kernel is started while the first still runs (two notebooks
open at once: it gets a build slot of its own) and timed the same way. Prints one JSON object per kernel
on stdout, each after the tag `PARLAB-KERNEL `, and progress on stderr (with the kernels' own output); exits 1 when a kernel did not start or a cell failed or timed out.
"""
import json
import re
import sys
import tempfile
import time

from jupyter_client.manager import KernelManager

DEP = ':dep parlab = { path = "..", default-features = false }'
FIRST_LET = "let answer = 6 * 7;"
ORDINARY = 'println!("{}", answer + 1);'
# Every wait has a limit: a cold `:dep` (a slot built from scratch) takes about 2 minutes on 2 cores.
START_LIMIT = 120
CELL_LIMIT = 300
# What parlab's evcxr patch prints on the kernel's stderr when an analysis ends.
ANALYSED = re.compile(r"^rust-analyzer warm-up \(parlab's evcxr patch\): analysed \d+ crates in ([\d.]+) s$", re.M)


class Failed(Exception):
    """A kernel that did not start, or a cell that failed or did not answer in time."""


class Stderr:
    """A kernel's stderr, in a file: passed on with the progress, and kept to be read."""

    def __init__(self):
        self.file = tempfile.TemporaryFile()
        self.read = 0
        self.text = ""

    def pass_on(self):
        """Passes on what the kernel wrote since the last call; all it wrote so far."""
        self.file.seek(self.read)
        raw = self.file.read()
        self.read += len(raw)
        new = raw.decode(errors="replace")
        self.text += new
        sys.stderr.write(new)
        sys.stderr.flush()
        return self.text


def start(cwd):
    """A started "parlab" kernel, its client, its stderr, and how long it took to answer."""
    t = time.monotonic()
    km = KernelManager(kernel_name="parlab")
    err = Stderr()
    # The kernel's own output (evcxr's start-up lines) goes with the progress, not into the figures.
    km.start_kernel(cwd=cwd, stdout=sys.stderr, stderr=err.file)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=START_LIMIT)
    except RuntimeError as e:
        err.pass_on()
        stop(km, kc)
        raise Failed(f"the kernel did not answer within {START_LIMIT} s: {e}") from e
    err.pass_on()
    return km, kc, err, time.monotonic() - t


def run(kc, code):
    """Runs one cell; how long until its reply came."""
    t = time.monotonic()
    msg_id = kc.execute(code, store_history=False)
    end = t + CELL_LIMIT
    while True:
        left = end - time.monotonic()
        if left <= 0:
            raise Failed(f"no reply to {code!r} within {CELL_LIMIT} s")
        try:
            reply = kc.get_shell_msg(timeout=left)
        except Exception:  # queue.Empty: the loop's check says it timed out
            continue
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    took = time.monotonic() - t
    if reply["content"].get("status") != "ok":
        content = reply["content"]
        raise Failed(f"{code!r} failed: {content.get('ename', '')} {content.get('evalue', '')}".strip())
    return took


def measure(kc, err, ordinary):
    """The lesson-start cells' times in one started kernel."""
    said = lambda what: print(f"  {what}", file=sys.stderr, flush=True)
    figures = {"dep_s": run(kc, DEP)}
    err.pass_on()
    said(f"`:dep parlab` {figures['dep_s']:.2f} s")
    figures["first_let_s"] = run(kc, FIRST_LET)
    # The first `let` waited for every analysis so far: their lines are written.
    figures["analysis_s"] = [float(s) for s in ANALYSED.findall(err.pass_on())]
    said(f"first `let` {figures['first_let_s']:.2f} s")
    figures["ordinary_s"] = [run(kc, ORDINARY) for _ in range(ordinary)]
    said(f"{ordinary} ordinary cells, each {min(figures['ordinary_s']):.2f}-{max(figures['ordinary_s']):.2f} s")
    return figures


def stop(km, kc):
    """Shuts a kernel down (and kills it if it does not go)."""
    kc.stop_channels()
    km.shutdown_kernel(now=False)


def one(cwd, ordinary, label, rnd):
    """Starts, measures and keeps one kernel: its figures, manager and client."""
    print(f"round {rnd}, {label} kernel: starting", file=sys.stderr, flush=True)
    km, kc, err, ready = start(cwd)
    print(f"  answered after {ready:.2f} s", file=sys.stderr, flush=True)
    try:
        figures = measure(kc, err, ordinary)
    except BaseException:
        err.pass_on()
        stop(km, kc)
        raise
    figures.update(kernel=label, round=rnd, ready_s=ready)
    print("PARLAB-KERNEL " + json.dumps(figures), flush=True)
    return km, kc


def main():
    cwd, rounds, ordinary = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    try:
        for rnd in range(1, rounds + 1):
            first = one(cwd, ordinary, "first", rnd)
            try:
                if rnd == 1:
                    stop(*one(cwd, ordinary, "second, beside the first", rnd))
            finally:
                stop(*first)
    except Failed as e:
        print(f"bench kernel: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
