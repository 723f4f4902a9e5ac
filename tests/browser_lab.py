"""Open parlab lessons in JupyterLab in headless Chromium, run every cell, and check the page.

Run by tests/browser.rs against a `parlab lab` it started (JupyterLab with
`--expose-app-in-browser`, so `window.jupyterapp` is there). For each notebook: open it, wait for
its kernel, run all cells through JupyterLab's own command, wait until the kernel is idle and every
code cell has run, then check what the page shows: each cell tagged `chart` shows its chart as an `<img>`
that has loaded with a non-zero size, and no cell shows an error (an error output, or stderr where
the cell is not tagged `allow-stderr`). Saves a PNG of each chart. Prints one line per notebook and
one line per problem; exits 1 on any problem, 2 when the browser or the server cannot be reached.
"""
import argparse
import json
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

STATE_JS = """(path) => {
  const app = window.jupyterapp;
  if (!app) return {phase: 'no-app'};
  const dialog = document.querySelector('.jp-Dialog');
  const dialogText = dialog ? dialog.innerText.slice(0, 300) : null;
  const w = app.shell.currentWidget;
  if (!w || !w.context || w.context.path !== path || !w.content || !w.content.widgets) {
    return {phase: 'opening', dialog: dialogText};
  }
  const sc = w.sessionContext;
  const kernel = sc && sc.session ? sc.session.kernel : null;
  const cells = w.content.widgets.filter(c => c.model.type === 'code');
  const prompts = [...w.node.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent);
  return {
    phase: 'open', dialog: dialogText, ready: !!(sc && sc.isReady),
    kernel: kernel ? kernel.name : null, status: kernel ? kernel.status : 'no kernel',
    total: cells.length, executed: cells.filter(c => c.model.executionCount !== null).length,
    running: prompts.filter(t => t.includes('*')).length,
    ran: window.__parlabRan === undefined ? null : String(window.__parlabRan),
  };
}"""

RUN_ALL_JS = """() => {
  window.__parlabRan = undefined;
  window.jupyterapp.commands.execute('notebook:run-all-cells').then(
    ok => { window.__parlabRan = ok; }, e => { window.__parlabRan = 'failed: ' + e; });
  return true;
}"""

CELLS_JS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  return w.content.widgets.filter(c => c.model.type === 'code').map((c, i) => {
    c.node.dataset.parlabCell = String(i);
    const outputs = c.model.outputs.toJSON();
    const text = o => Array.isArray(o.text) ? o.text.join('') : (o.text || '');
    return {
      index: i,
      first: c.model.sharedModel.getSource().split('\\n')[0].slice(0, 60),
      tags: c.model.getMetadata('tags') || [],
      errors: outputs.filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue),
      stderr: outputs.filter(o => o.output_type === 'stream' && o.name === 'stderr').map(text).join(''),
      shownStderr: c.node.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').length,
      svgs: [...c.node.querySelectorAll('.jp-OutputArea-output img')].map(img => {
        const r = img.getBoundingClientRect();
        return {complete: img.complete, natural: [img.naturalWidth, img.naturalHeight],
                shown: [Math.round(r.width), Math.round(r.height)],
                svg: (img.getAttribute('src') || '').startsWith('data:image/svg+xml')};
      }),
    };
  });
}"""


def wait_for_server(base, token, deadline):
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError as e:
            last = e
        time.sleep(0.5)
    print(f"error: JupyterLab did not answer at {base} ({last})", file=sys.stderr)
    sys.exit(2)


def poll(page, path, until, limit, what):
    """Polls the notebook's state until `until(state)` holds; raises with the last state after `limit`."""
    end = time.monotonic() + limit
    state = {}
    while time.monotonic() < end:
        state = page.evaluate(STATE_JS, path)
        if state.get("dialog"):
            raise RuntimeError(f"{what}: JupyterLab shows a dialog: {state['dialog']!r}")
        if until(state):
            return state
        time.sleep(0.5)
    raise RuntimeError(f"{what}: not done after {limit:.0f} s; last state {json.dumps(state)}")


def check_notebook(page, base, token, name, shots, limit):
    problems = []
    started = time.monotonic()
    # `reset`: a fresh workspace, so only this notebook opens (and starts a kernel).
    page.goto(f"{base}/lab/tree/{name}?reset&token={token}", wait_until="domcontentloaded", timeout=60_000)
    state = poll(page, name, lambda s: s.get("phase") == "open" and s.get("ready") and s.get("status") == "idle",
                 120, f"{name}: opening it and starting its kernel")
    kernel = state.get("kernel")
    page.evaluate(RUN_ALL_JS)
    state = poll(page, name, lambda s: s.get("ran") is not None and s.get("status") == "idle" and s.get("running") == 0,
                 limit, f"{name}: running all cells")
    if state["executed"] != state["total"]:
        problems.append(f"Run All stopped after {state['executed']} of {state['total']} code cells (a cell failed?)")
    # Images decode asynchronously: give the charts a few seconds to load.
    end = time.monotonic() + 15
    while True:
        cells = page.evaluate(CELLS_JS)
        charts = [c for c in cells if "chart" in c["tags"]]
        if all(c["svgs"] and all(s["complete"] and min(s["natural"]) > 0 for s in c["svgs"]) for c in charts) or time.monotonic() > end:
            break
        time.sleep(0.5)
    shot_paths = []
    for c in cells:
        label = f"code cell {c['index'] + 1} ({c['first']!r})"
        if c["errors"] and "expect-error" not in c["tags"]:
            problems.append(f"{label} shows an error: {c['errors'][0][:300]}")
        if c["shownStderr"] and c["stderr"].strip() and not ({"allow-stderr", "expect-error"} & set(c["tags"])):
            problems.append(f"{label} shows stderr: {c['stderr'].strip()[:300]}")
        if "chart" not in c["tags"]:
            continue
        if not c["svgs"]:
            problems.append(f"{label} is tagged `chart` but shows no SVG image")
            continue
        for s in c["svgs"]:
            if not s["svg"] or not s["complete"] or min(s["natural"]) <= 0 or min(s["shown"]) <= 0:
                problems.append(f"{label}: its chart did not render: {json.dumps(s)}")
        img = page.locator(f'[data-parlab-cell="{c["index"]}"] .jp-OutputArea-output img').first
        shot = shots / f"{Path(name).stem}-cell{c['index'] + 1:02d}.png"
        img.screenshot(path=str(shot), timeout=30_000)
        shot_paths.append(str(shot))
    seconds = time.monotonic() - started
    print(f"{name}: {'ok' if not problems else 'FAILED'} in {seconds:.1f} s, kernel {kernel!r}, "
          f"{state['executed']}/{state['total']} code cells run, {len(shot_paths)} chart screenshots", flush=True)
    for p in problems:
        print(f"  {name}: {p}", flush=True)
    print("PARLAB-BROWSER " + json.dumps({"notebook": name, "ok": not problems, "seconds": round(seconds, 1),
                                          "kernel": kernel, "cells": state["total"], "screenshots": shot_paths}), flush=True)
    return not problems


def shut_down_kernel(page):
    """Shuts the open notebook's kernel down (best effort), so the next notebook has the cores."""
    try:
        page.evaluate("""() => {
          const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
          return w && w.sessionContext ? w.sessionContext.shutdown().then(() => true) : false;
        }""")
    except PlaywrightError:
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="+")
    ap.add_argument("--url", required=True, help="JupyterLab's base URL")
    ap.add_argument("--token", required=True)
    ap.add_argument("--chromium", required=True, help="the system Chromium to drive")
    ap.add_argument("--shots", type=Path, required=True, help="folder for the chart screenshots")
    ap.add_argument("--notebook-limit", type=float, default=420, help="seconds to run one notebook's cells")
    a = ap.parse_args()
    a.shots.mkdir(parents=True, exist_ok=True)
    wait_for_server(a.url, a.token, time.monotonic() + 60)
    ok = True
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=a.chromium, headless=True, timeout=60_000)
        except PlaywrightError as e:
            print(f"error: Chromium at {a.chromium} did not start: {str(e).splitlines()[0]}", file=sys.stderr)
            sys.exit(2)
        try:
            for name in a.notebooks:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(60_000)
                try:
                    ok &= check_notebook(page, a.url, a.token, name, a.shots, a.notebook_limit)
                except (RuntimeError, PlaywrightError) as e:
                    print(f"{name}: FAILED: {e}", flush=True)
                    ok = False
                finally:
                    shut_down_kernel(page)
                    page.close()
        finally:
            browser.close()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
