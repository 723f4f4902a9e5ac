"""Start lesson kernels from fresh browsers, one start after another, and check that each answers.

Run by tests/browser.rs against a `parlab lab` it started (JupyterLab with
`--expose-app-in-browser`). Each start launches a new headless Chromium (a fresh profile, as a
learner's first visit), opens the first notebook with a fresh workspace and, in every second
start, the second notebook too at the same moment (two kernels starting at once), waits until
each kernel is idle, runs one probe cell in it through the kernel's own connection (the notebooks
are not edited), with `--restart` restarts the first notebook's kernel (Kernel > Restart) and
runs the probe again, then shuts the kernels down and closes the browser. A kernel that is not idle within
`--limit` seconds is stuck; one that JupyterLab reports restarting or dead has died.

Prints one `PARLAB-START` JSON line per start and a `PARLAB-STARTS` summary; exits 1 when any
kernel was stuck, died or answered wrongly, 2 when the browser or the server cannot be reached.
"""
import argparse
import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from browser_lab import wait_for_server

PROBE = 'println!("{}", 6 * 7);'

# Every notebook panel's kernel state; each panel's status changes are recorded from the moment
# the page first sees it, so a kernel that died and was restarted between two looks still shows.
STATE_JS = """() => {
  const app = window.jupyterapp;
  if (!app) return null;
  const dialog = document.querySelector('.jp-Dialog');
  const notebooks = {};
  for (const w of Array.from(app.shell.widgets('main'))) {
    if (!w.context || !w.sessionContext) continue;
    const sc = w.sessionContext;
    if (!w.__parlabStatuses) {
      w.__parlabStatuses = [];
      sc.statusChanged.connect((_, s) => { w.__parlabStatuses.push(s); });
    }
    const k = sc.session ? sc.session.kernel : null;
    notebooks[w.context.path] = {
      ready: sc.isReady, status: k ? k.status : 'no kernel', kernel: k ? k.name : null,
      id: k ? k.id : null, statuses: w.__parlabStatuses.slice(),
    };
  }
  return {notebooks, dialog: dialog ? dialog.innerText.slice(0, 300) : null};
}"""

PROBE_JS = """async ([path, code, limitMs]) => {
  const w = Array.from(window.jupyterapp.shell.widgets('main'))
    .find(w => w.context && w.context.path === path);
  const k = w.sessionContext.session.kernel;
  let out = '';
  const f = k.requestExecute({code, store_history: false});
  f.onIOPub = m => { if (m.header.msg_type === 'stream') out += m.content.text;
                     if (m.header.msg_type === 'error') out += 'ERROR ' + m.content.evalue; };
  const timer = new Promise(resolve => setTimeout(() => resolve(null), limitMs));
  const reply = await Promise.race([f.done, timer]);
  return reply ? {status: reply.content.status, out} : {status: 'no reply', out};
}"""

# Kernel > Restart Kernel... as the menu runs it: the notebook's command, whose dialog is then
# accepted. (Calling the kernel connection's own restart() skips the session's part: the page then
# shows "unknown" until the next cell runs, whatever the kernel, ipykernel included.)
RESTART_JS = """(path) => {
  const w = Array.from(window.jupyterapp.shell.widgets('main'))
    .find(w => w.context && w.context.path === path);
  if (window.jupyterapp.shell.currentWidget !== w) return false;
  w.__parlabStatuses = [];
  window.__parlabRestart = 'pending';
  w.sessionContext.kernelChanged.connect(() => { window.__parlabRestart = 'done'; });
  window.jupyterapp.commands.execute('notebook:restart-kernel').catch(
    e => { window.__parlabRestart = 'failed: ' + e; });
  return true;
}"""

WIDGET_ID_JS = """(path) => Array.from(window.jupyterapp.shell.widgets('main'))
  .find(w => w.context && w.context.path === path).id"""

OPEN_JS = """(path) => { window.jupyterapp.commands.execute('docmanager:open', {path}); return true; }"""

SHUT_DOWN_JS = """() => Promise.all(Array.from(window.jupyterapp.shell.widgets('main'))
  .filter(w => w.sessionContext && w.sessionContext.session)
  .map(w => w.sessionContext.shutdown().catch(() => null))).then(() => true)"""

# What the server's log says about a kernel in trouble.
LOG_SIGNS = {
    "nudges": "Nudge: attempt",
    "broken_pipe": "Broken pipe",
    "restarts": "restarting kernel",
    "died": "died",
    "shell_errors": "Error handling shell message",
}


def running_kernels(base, token):
    with urllib.request.urlopen(f"{base}/api/kernels?token={token}", timeout=10) as r:
        return json.load(r)


def wait_no_kernels(base, token, limit):
    """Waits until the server runs no kernel (the last start's are shut down); the count left."""
    end = time.monotonic() + limit
    left = running_kernels(base, token)
    while left and time.monotonic() < end:
        time.sleep(0.3)
        left = running_kernels(base, token)
    return len(left)


def log_signs(log, offset):
    """Counts of LOG_SIGNS in the server's log after `offset`, and the new offset."""
    if not log or not log.exists():
        return {}, offset
    with open(log, "rb") as f:
        f.seek(offset)
        text = f.read().decode("utf-8", "replace")
        offset = f.tell()
    return {k: text.count(v) for k, v in LOG_SIGNS.items() if v in text}, offset


def one_start(p, a, index, names):
    """One fresh browser opening `names` at once; the start's report."""
    started = time.monotonic()
    report = {"start": index, "notebooks": {}, "problems": []}
    browser = p.chromium.launch(executable_path=a.chromium, headless=True, timeout=60_000)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(f"{a.url}/lab/tree/{names[0]}?reset&token={a.token}", wait_until="domcontentloaded",
                  timeout=60_000)
        opened = False
        end = started + a.limit
        idle_at = {}
        state = None
        while time.monotonic() < end:
            state = page.evaluate(STATE_JS)
            if state is None:
                time.sleep(0.2)
                continue
            if not opened and names[0] in state["notebooks"] and len(names) > 1:
                page.evaluate(OPEN_JS, names[1])
                opened = True
            if state["dialog"]:
                report["problems"].append(f"JupyterLab shows a dialog: {state['dialog']!r}")
                break
            for name in names:
                nb = state["notebooks"].get(name)
                if nb and nb["ready"] and nb["status"] == "idle" and name not in idle_at:
                    idle_at[name] = round(time.monotonic() - started, 2)
            if len(idle_at) == len(names):
                break
            time.sleep(0.2)
        for name in names:
            nb = (state or {}).get("notebooks", {}).get(name) or {}
            entry = {"idle_s": idle_at.get(name), "statuses": nb.get("statuses", []), "kernel": nb.get("kernel")}
            report["notebooks"][name] = entry
            if name not in idle_at:
                entry["stuck"] = nb.get("status", "not open")
                report["problems"].append(f"{name}: its kernel is not idle after {a.limit:.0f} s "
                                          f"(status {entry['stuck']!r}, seen {entry['statuses']})")
        for name in idle_at:
            t = time.monotonic()
            answer = page.evaluate(PROBE_JS, [name, PROBE, int(a.limit * 1000)])
            entry = report["notebooks"][name]
            entry["answer_s"] = round(time.monotonic() - t, 2)
            if answer["status"] != "ok" or answer["out"].strip() != "42":
                report["problems"].append(f"{name}: the probe cell gave {answer}")
        # Kernel > Restart on the first notebook: the restarted kernel must answer too.
        if names[0] in idle_at and a.restart:
            t = time.monotonic()
            # The menu restarts the notebook in front: its tab is clicked first, as a learner would.
            tab = page.evaluate(WIDGET_ID_JS, names[0])
            page.locator(f'.lm-TabBar-tab[data-id="{tab}"]').click()
            while not page.evaluate(RESTART_JS, names[0]) and time.monotonic() < t + 10:
                time.sleep(0.1)
            if page.evaluate("() => window.__parlabRestart") == "pending":
                page.locator(".jp-Dialog .jp-mod-accept").click(timeout=a.limit * 1000)
            entry = report["notebooks"][names[0]]
            while time.monotonic() < t + a.limit:
                time.sleep(0.2)
                state = page.evaluate(STATE_JS)
                nb = state["notebooks"].get(names[0], {})
                done = page.evaluate("() => window.__parlabRestart")
                if done != "pending" and nb.get("status") == "idle":
                    break
            entry["restart_statuses"] = nb.get("statuses", [])
            if done != "done" or nb.get("status") != "idle":
                report["problems"].append(f"{names[0]}: after Restart the kernel is not idle within {a.limit:.0f} s "
                                          f"(restart {done}, statuses {entry['restart_statuses']})")
            else:
                entry["restart_idle_s"] = round(time.monotonic() - t, 2)
                answer = page.evaluate(PROBE_JS, [names[0], PROBE, int(a.limit * 1000)])
                if answer["status"] != "ok" or answer["out"].strip() != "42":
                    report["problems"].append(f"{names[0]}: after Restart the probe cell gave {answer}")
        # A kernel that died and was restarted by the server shows it in the statuses seen.
        state = page.evaluate(STATE_JS) or {"notebooks": {}}
        for name, nb in state["notebooks"].items():
            entry = report["notebooks"].get(name)
            if entry is None:
                continue
            if "restart_statuses" in entry:
                entry["restart_statuses"] = nb["statuses"]
                seen, died = entry["statuses"] + nb["statuses"], ("autorestarting", "dead")
            else:
                entry["statuses"] = nb["statuses"]
                seen, died = nb["statuses"], ("restarting", "autorestarting", "dead")
            if any(s in died for s in seen):
                report["problems"].append(f"{name}: its kernel died (statuses {seen})")
        try:
            page.evaluate(SHUT_DOWN_JS)
        except PlaywrightError:
            pass
    finally:
        browser.close()
    left = wait_no_kernels(a.url, a.token, 30)
    if left:
        report["problems"].append(f"{left} kernel(s) still running 30 s after shutting down")
    report["seconds"] = round(time.monotonic() - started, 1)
    report["ok"] = not report["problems"]
    return report


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs=2, help="the first notebook, and the one opened beside it")
    ap.add_argument("--url", required=True, help="JupyterLab's base URL")
    ap.add_argument("--token", required=True)
    ap.add_argument("--chromium", required=True, help="the system Chromium to drive")
    ap.add_argument("--starts", type=int, default=4, help="browser starts; every second opens both notebooks")
    ap.add_argument("--limit", type=float, default=120, help="seconds for a kernel to become idle, and to answer")
    ap.add_argument("--restart", action="store_true",
                    help="also Kernel > Restart the first notebook's kernel after its probe, and probe it again")
    ap.add_argument("--log", type=Path, help="the server's log, to count nudges and errors per start")
    a = ap.parse_args()
    wait_for_server(a.url, a.token, time.monotonic() + 60)
    offset = a.log.stat().st_size if a.log and a.log.exists() else 0
    reports = []
    with sync_playwright() as p:
        for i in range(a.starts):
            names = a.notebooks if i % 2 == 1 else a.notebooks[:1]
            try:
                report = one_start(p, a, i + 1, names)
            except PlaywrightError as e:
                report = {"start": i + 1, "ok": False, "notebooks": {},
                          "problems": [f"the browser failed: {str(e).splitlines()[0]}"]}
            report["log"], offset = log_signs(a.log, offset)
            reports.append(report)
            print("PARLAB-START " + json.dumps(report), flush=True)
            for problem in report["problems"]:
                print(f"  start {i + 1}: {problem}", flush=True)
    kernels = [nb for r in reports for nb in r["notebooks"].values()]
    idle = [nb["idle_s"] for nb in kernels if nb.get("idle_s") is not None]
    answer = [nb["answer_s"] for nb in kernels if nb.get("answer_s") is not None]
    summary = {
        "starts": len(reports), "two_at_once": sum(1 for r in reports if len(r["notebooks"]) == 2),
        "kernels": len(kernels), "failed_starts": sum(1 for r in reports if not r["ok"]),
        "stuck": sum(1 for nb in kernels if "stuck" in nb),
        "median_idle_s": round(statistics.median(idle), 2) if idle else None,
        "max_idle_s": max(idle) if idle else None,
        "median_answer_s": round(statistics.median(answer), 2) if answer else None,
        "log": {k: sum(r["log"].get(k, 0) for r in reports) for k in LOG_SIGNS},
    }
    print("PARLAB-STARTS " + json.dumps(summary), flush=True)
    sys.exit(0 if summary["failed_starts"] == 0 else 1)


if __name__ == "__main__":
    main()
