"""Execute parlab notebooks in the real evcxr kernel and check what a learner would see.

Used by `parlab render` and by the notebook tests. For each notebook it runs every cell through
nbclient (kernel `parlab` unless `--kernel` says otherwise), then checks each cell's outputs:

- an error output fails the cell, unless the cell is tagged `expect-error` (then an error must be
  there, and must contain the text in the cell's `parlab.expect` metadata when given);
- `panicked at` in stderr fails the cell (evcxr reports a panicking cell as a success), and so
  does any other stderr output (the error of a failed `?`), unless the cell is tagged `allow-stderr`;
- a cell tagged `chart` must show an SVG image;
- a cell tagged `check` must show an exercise verdict: "not solved" in `shipped` mode, "solved" in
  `solved` mode (where each cell tagged `exercise` is replaced by the Rust code in the `<details>`
  solution block of the next markdown cell); with `parlab.expect` metadata, its verdict must
  contain that text (for tests of wrong answers);
- every reading a cell prints (`data-parlab-reading`, from `parlab::timing::Reading`) must agree
  with its own figures: each claim's ratio is its two times' ratio, its relation (faster, slower,
  about the same) is that ratio's, and its words are in the text and say that number;
- no cell may run longer than `--cell-timeout` seconds (a hang guard, not a speed test: a `:dep`
  cell gets at least `DEP_CELL_TIMEOUT`), and, only when `--budget` is given, the notebook must
  finish within that many seconds.

Speed is a benchmark, not a test: `--summary` prints each notebook's time and its slowest cell
against the lessons' targets (`LESSON_TARGET_S` for Run All, `CELL_TARGET_S` per cell) with the
machine's load average at the time, and says which are over, without failing the run.

Prints one line per notebook and a JSON summary line per notebook on request; exits 1 naming the
notebook and the cell on any failure, 2 on bad usage or a missing tool.

With `--run-only` (used by `parlab check`) it only executes: each notebook runs in a fresh kernel
(the one `--kernel` names if installed, else `parlab` or `rust`), in the folder `--cwd`, with
`--cell-timeout` seconds per cell (a `:dep` cell, which builds crates, gets at least
`DEP_CELL_TIMEOUT`); a cell that overruns is interrupted and the notebook goes on. The executed
notebook is written to `--out`, and a line `PARLAB-RUN {json}` says which kernel ran, how long it
took, which cells timed out and what stopped the run early (a dead kernel), if anything.
"""
import argparse
import json
import re
import sys
import time
from pathlib import Path
from queue import Empty

try:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbclient.util import ensure_async
except ImportError as e:  # pragma: no cover - reported to the user
    print(f"error: the Python packages for running notebooks are missing ({e}); run `cargo run --release -- setup`", file=sys.stderr)
    sys.exit(2)

# evcxr forwards a cell's stderr on a thread of its own and may say "idle" before the last lines
# are sent (evcxr issues #353/#354: stdout is ordered, stderr is not), e.g. the "Error: ..." of a
# cell that ends in `?`. After each cell the runner keeps listening until the kernel has been quiet
# this long, and gives the late stderr to the cell it belongs to.
LATE_STDERR_QUIET = 0.05


class PatientClient(NotebookClient):
    """A NotebookClient that also collects a cell's stream output sent just after its "idle"."""

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)
        while True:
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=LATE_STDERR_QUIET))
            except Empty:
                return
            if msg["parent_header"].get("msg_id") == parent_msg_id and msg["msg_type"] == "stream":
                self.process_message(msg, cell, cell_index)


# The MIME type of a verdict's JSON form (parlab::exercise::VERDICT_MIME), put in by `parlab`
# when it writes this runner out: the verdict's one definition is the library's `Verdict`.
VERDICT_MIME = "@PARLAB_VERDICT_MIME@"

ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
SOLUTION_RE = re.compile(r"<details>.*?```rust\n(.*?)```", re.S)


def tags(cell):
    return set(cell.get("metadata", {}).get("tags", []))


def cell_name(index, cell):
    first = next((l for l in cell.source.splitlines() if l.strip()), "").strip()
    return f"cell {index + 1} ({first[:60]!r})"


def put_solutions(nb):
    """Replaces each `exercise` cell by the solution from the next markdown cell's <details> block."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "exercise" not in tags(cell):
            continue
        for later in nb.cells[i + 1:]:
            if later.cell_type == "markdown":
                m = SOLUTION_RE.search(later.source)
                if m:
                    cell.source = m.group(1)
                    break
        else:
            raise ValueError(f"{cell_name(i, cell)} is an exercise with no <details> solution block after it")


def outputs_text(cell, kind):
    texts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream" and out.name == kind:
            texts.append(out.text)
    return "".join(texts)


def rich(cell, mime):
    return [out.data[mime] for out in cell.get("outputs", [])
            if out.output_type in ("display_data", "execute_result") and mime in out.get("data", {})]


def verdict(cell):
    """The exercise verdict a cell shows (the library's `Verdict` as a dict), or None."""
    for out in cell.get("outputs", []):
        if out.output_type in ("display_data", "execute_result"):
            v = out.get("data", {}).get(VERDICT_MIME)
            if isinstance(v, str):
                try:
                    v = json.loads(v)
                except ValueError:
                    v = None
            if isinstance(v, dict) and "solved" in v and "message" in v:
                return v
    return None


def error_text(cell):
    errs = [out for out in cell.get("outputs", []) if out.output_type == "error"]
    text = "\n".join(f"{e.ename}: {e.evalue}" + ("\n" + "\n".join(e.traceback) if e.traceback else "") for e in errs)
    return ANSI_RE.sub("", text)


def cell_seconds(cell):
    ex = cell.get("metadata", {}).get("execution", {})
    start, end = ex.get("iopub.execute_input"), ex.get("shell.execute_reply")
    if not (start and end):
        return None
    from datetime import datetime
    def parse(s):
        return datetime.fromisoformat(s.replace("Z", "+00:00"))
    return (parse(end) - parse(start)).total_seconds()


READING_RE = re.compile(r'<p data-parlab-reading="([^"]*)"[^>]*>(.*?)</p>', re.S)
SAME_WITHIN = 1.1  # parlab::timing::SAME_WITHIN


def unescape(text):
    return text.replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def reading_problems(html):
    """What is wrong with each reading in `html`: a claim its own figures contradict."""
    problems = []
    for attr, body in READING_RE.findall(html):
        text = unescape(re.sub(r"<[^>]+>", "", body))
        try:
            claims = json.loads(unescape(attr))
        except ValueError as e:
            problems.append(f"a reading's figures are not JSON ({e}): {text[:200]}")
            continue
        for c in claims:
            a, b, ratio, said = c["a_seconds"], c["b_seconds"], c["ratio"], c["said"]
            where = f"reading {said!r}"
            if ratio is None or not (a > 0 and b > 0):
                problems.append(f"{where}: no positive times to compare ({a}, {b})")
                continue
            if abs(ratio - b / a) > 1e-6 * max(1.0, ratio):
                problems.append(f"{where}: says {ratio:.3f}x, its figures give {b / a:.3f}x")
            want = "faster" if ratio >= SAME_WITHIN else "slower" if ratio <= 1 / SAME_WITHIN else "same"
            if c["relation"] != want:
                problems.append(f"{where}: calls it {c['relation']}, a ratio of {ratio:.2f}x is {want}")
            if said not in text:
                problems.append(f"{where}: not in the printed text {text[:300]!r}")
            if "faster than" in said and not (want == "faster" and f"{ratio:.2f}x faster" in said):
                problems.append(f"{where}: says faster, its figures give {ratio:.2f}x")
            if "slower than" in said and not (want == "slower" and f"{1 / ratio:.2f}x slower" in said):
                problems.append(f"{where}: says slower, its figures give {ratio:.2f}x")
            if "about as fast" in said and want != "same":
                problems.append(f"{where}: says about as fast, its figures give {ratio:.2f}x")
            if not any(w in said for w in ("faster than", "slower than", "about as fast")) \
                    and not said.startswith(f"{ratio:.2f}x"):
                problems.append(f"{where}: does not start with its speed-up {ratio:.2f}x")
    return problems


def check_cells(nb, mode):
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        t = tags(cell)
        name = cell_name(i, cell)
        err = error_text(cell)
        stderr = outputs_text(cell, "stderr")
        if "expect-error" in t:
            want = cell.get("metadata", {}).get("parlab", {}).get("expect", "")
            if not err:
                problems.append(f"{name}: expected a compile error, but the cell ran")
            elif want and want not in err:
                problems.append(f"{name}: expected an error containing {want!r}, got: {err[:400]}")
        elif err:
            problems.append(f"{name}: error: {err[:1500]}")
        if "panicked at" in stderr:
            problems.append(f"{name}: panicked: {stderr.strip()[:1500]}")
        elif stderr.strip() and "allow-stderr" not in t:
            # evcxr prints the error of a failed `?` to stderr and reports the cell as a success.
            problems.append(f"{name}: wrote to stderr (an error from `?`?): {stderr.strip()[:1000]}")
        for p in reading_problems("".join(rich(cell, "text/html"))):
            problems.append(f"{name}: {p}")
        if "chart" in t:
            svgs = rich(cell, "image/svg+xml")
            if not any("<svg" in s for s in svgs):
                problems.append(f"{name}: tagged `chart` but shows no SVG chart")
        if "check" in t:
            v = verdict(cell)
            html = "".join(rich(cell, "text/html"))
            if v is not None:
                shown = f"{v.get('headline') or ('Solved' if v['solved'] else 'Not solved yet')}: {v['message']}"
            else:
                shown = re.sub(r"<[^>]+>", " ", html).strip() or outputs_text(cell, "stdout").strip() or err.strip() or "nothing"
            if v is None or v["solved"] != (mode == "solved"):
                expected = "solved" if mode == "solved" else "not solved yet (the exercise stub must not pass)"
                problems.append(f"{name}: the check should say {expected}; it shows: {shown[:400]}")
            said = cell.get("metadata", {}).get("parlab", {}).get("expect", "")
            if said and (v is None or said not in v["message"]):
                problems.append(f"{name}: the check should say {said!r}; it shows: {shown[:600]}")
    return problems


DEP_CELL_TIMEOUT = 600

# The lessons' speed targets on a 2-core machine with no other load: Run All of one lesson, and
# any one cell (a room should never wait longer). Reported by --summary; never a test failure.
LESSON_TARGET_S = 45.0
CELL_TARGET_S = 8.0


def load_average():
    """The 1-minute load average, or None where the system does not say."""
    try:
        import os
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


def execute(nb, kernel, cwd, cell_timeout, interrupt_on_timeout):
    """Runs every cell of `nb` in place, in a new `kernel` started in `cwd`.

    Each cell may take `cell_timeout` seconds, a `:dep` cell (which may compile parlab and its
    dependencies on a busy machine) at least DEP_CELL_TIMEOUT. With `interrupt_on_timeout` a cell
    over its limit is interrupted and the notebook goes on; without, the run stops there.
    Returns (fatal: why the run stopped early, or None; seconds; indices of cells that timed out).
    """
    started_at, timed_out = {}, []

    def timeout_of(cell):
        if cell.source.lstrip().startswith(":dep"):
            return max(cell_timeout, DEP_CELL_TIMEOUT)
        return cell_timeout

    def on_start(cell, cell_index, **_):
        started_at[cell_index] = time.monotonic()

    def on_done(cell, cell_index, **_):
        if time.monotonic() - started_at.get(cell_index, time.monotonic()) >= timeout_of(cell):
            timed_out.append(cell_index)

    client = PatientClient(nb, kernel_name=kernel, timeout=cell_timeout, timeout_func=timeout_of,
                            interrupt_on_timeout=interrupt_on_timeout, allow_errors=True,
                            record_timing=True, on_cell_start=on_start, on_cell_executed=on_done,
                            resources={"metadata": {"path": str(cwd)}})
    started = time.monotonic()
    fatal = None
    try:
        client.execute()
    except CellTimeoutError as e:
        fatal = f"a cell ran longer than its limit ({cell_timeout} s): {str(e).splitlines()[0] if str(e) else ''}"
    except DeadKernelError as e:
        fatal = f"the kernel died (abort, segfault or killed): {e}"
    except Exception as e:  # the kernel failed to start, a timeout the interrupt did not end, ...
        fatal = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    return fatal, time.monotonic() - started, sorted(set(timed_out))


def run(path, mode, out_dir, budget, cell_timeout, summary, kernel):
    nb = nbformat.read(path, as_version=4)
    if mode == "solved":
        put_solutions(nb)
    load_before = load_average()
    fatal, elapsed, _ = execute(nb, kernel, path.parent, cell_timeout, interrupt_on_timeout=False)
    problems = [] if fatal is None else [fatal]
    problems += check_cells(nb, mode)
    if budget and elapsed > budget:
        problems.append(f"took {elapsed:.1f} s, over its budget of {budget:.0f} s")
    timed = [(cell_seconds(c), cell_name(i, c)) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    timed = [(s, n) for s, n in timed if s is not None]
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
        stem = path.stem if mode != "solved" else path.stem + ".solved"
        nbformat.write(nb, out_dir / f"{stem}.ipynb")
        try:
            from nbconvert import HTMLExporter
            heading = next((l.lstrip("# ").strip() for c in nb.cells if c.cell_type == "markdown"
                            for l in c.source.splitlines() if l.startswith("# ")), path.stem)
            nb.metadata.setdefault("title", heading)  # the page's <title>, not "Notebook"
            html, _ = HTMLExporter().from_notebook_node(nb)
            (out_dir / f"{stem}.html").write_text(html, encoding="utf-8")
        except ImportError:
            print("warning: nbconvert is missing, no HTML written; run `cargo run --release -- setup`", file=sys.stderr)
    slowest = max(timed) if timed else (0.0, "")
    status = "ok" if not problems else "FAILED"
    print(f"{path.name} [{mode}]: {status} in {elapsed:.1f} s ({len(timed)} cells, slowest {slowest[0]:.1f} s: {slowest[1]})", flush=True)
    for p in problems:
        print(f"  {path.name}: {p}", flush=True)
    if summary:
        cells = sorted(s for s, _ in timed)
        # The `:dep` cell builds parlab (seconds to minutes, depending on the build slot): the
        # per-cell target is about the lesson's own cells.
        over = [(round(cell_seconds(c), 1), cell_name(i, c)) for i, c in enumerate(nb.cells)
                if c.cell_type == "code" and (cell_seconds(c) or 0) > CELL_TARGET_S
                and not c.source.lstrip().startswith(":")]
        load = [load_before, load_average()]
        print(f"  benchmark: {elapsed:.1f} s (target {LESSON_TARGET_S:.0f} s: "
              f"{'over' if elapsed > LESSON_TARGET_S else 'met'}); "
              f"{len(over)} cell(s) over {CELL_TARGET_S:.0f} s{': ' + '; '.join(f'{s} s {n}' for s, n in over) if over else ''}; "
              f"load average {load[0]} before, {load[1]} after", flush=True)
        print("PARLAB-SUMMARY " + json.dumps({
            "notebook": path.name, "mode": mode, "kernel": kernel, "ok": not problems, "seconds": round(elapsed, 2),
            "cells": len(cells), "median_cell_s": cells[len(cells) // 2] if cells else None,
            "slowest_cell_s": slowest[0], "slowest_cell": slowest[1],
            "first_cell_s": timed[0][0] if timed else None,
            "target_s": LESSON_TARGET_S, "over_target": elapsed > LESSON_TARGET_S,
            "cell_target_s": CELL_TARGET_S, "cells_over_target": [{"seconds": s, "cell": n} for s, n in over],
            "load_average": load}), flush=True)
    return not problems


def pick_kernel(preferred):
    """The kernel to run a learner's notebook in: `preferred` if installed, else `parlab` or `rust`."""
    from jupyter_client.kernelspec import KernelSpecManager
    installed = KernelSpecManager().find_kernel_specs()
    for name in [preferred, "parlab", "rust"]:
        if name and name in installed:
            return name
    return None


def run_only(path, out_dir, kernel, cwd, cell_timeout):
    """Executes one notebook without judging it, and prints a PARLAB-RUN line about the run."""
    nb = nbformat.read(path, as_version=4)
    fatal, elapsed, timed_out = execute(nb, kernel, cwd, cell_timeout, interrupt_on_timeout=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    executed = out_dir / path.name
    nbformat.write(nb, executed)
    print("PARLAB-RUN " + json.dumps({
        "notebook": str(path), "executed": str(executed), "kernel": kernel, "fatal": fatal,
        "seconds": round(elapsed, 2), "timed_out": timed_out}), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="+", type=Path)
    ap.add_argument("--mode", choices=["shipped", "solved"], default="shipped")
    ap.add_argument("--out", type=Path, help="write executed notebooks and HTML pages here")
    ap.add_argument("--budget", type=float, default=0.0,
                    help="fail a notebook that takes longer than this many seconds (0, the default: no limit; speed is reported by --summary)")
    ap.add_argument("--cell-timeout", type=int, default=300)
    ap.add_argument("--summary", action="store_true", help="print a JSON summary line per notebook")
    ap.add_argument("--kernel", default="parlab", help="the Jupyter kernel name (parlab, or rust for plain evcxr)")
    ap.add_argument("--run-only", action="store_true", help="execute and write out, judge nothing")
    ap.add_argument("--cwd", type=Path, help="with --run-only: the folder the kernel runs in")
    a = ap.parse_args()
    if a.run_only:
        if not a.out:
            print("error: --run-only needs --out", file=sys.stderr)
            sys.exit(2)
        kernel = pick_kernel(a.kernel)
        if kernel is None:
            print(f"error: no Jupyter kernel named {a.kernel!r}, `parlab` or `rust` is installed; run `cargo run --release -- setup`", file=sys.stderr)
            sys.exit(2)
        for p in a.notebooks:
            run_only(p, a.out, kernel, a.cwd or p.parent, a.cell_timeout)
        sys.exit(0)
    ok = True
    for p in a.notebooks:
        if not p.is_file():
            print(f"error: no notebook at {p}", file=sys.stderr)
            sys.exit(2)
        ok &= run(p, a.mode, a.out, a.budget, a.cell_timeout, a.summary, a.kernel)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
