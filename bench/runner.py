"""`python -m bench all`: every registered benchmark in its own subprocess, within a time budget, then the report.

Each benchmark module may declare, beside `run()` and its `HEADLINES`:
- `ALL_ENV` / `ALL_ARGS`: environment or command-line options (`--quick`) that size it for the whole run
  (smaller than its default where that is long);
- `BUDGET_S`: how long it may take here before it is stopped and recorded as failed (default `BUDGET_S` below).
The run as a whole stops starting benchmarks once `TOTAL_S` is spent, and records the rest as skipped.
Progress (which benchmark, elapsed) goes to stderr; a failing benchmark is recorded with its stderr's tail and
the others still run.
"""

from __future__ import annotations

import collections
import importlib
import importlib.util
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import RESULTS, progress
from bench.headlines import Headline
from bench.report import Outcome, write_report

BUDGET_S = 600.0
TOTAL_S = 28 * 60.0
TAIL_LINES = 30
TICK_S = 30.0
REPO = Path(__file__).resolve().parent.parent


def run_all(names: Sequence[str], out: Path = RESULTS) -> int:
    """Run `names` one after the other and write the report into `out`; 0 unless one failed or was skipped
    (a registered benchmark not in the tree yet is reported as absent, not as a failure)."""
    started = datetime.now(UTC)
    machine = machine_facts()
    deadline = time.monotonic() + TOTAL_S
    outcomes: list[Outcome] = []
    for i, name in enumerate(names, 1):
        left = deadline - time.monotonic()
        if left <= 60:
            outcomes.append(Outcome(name, "skipped", note=f"not started: the run's {TOTAL_S / 60:.0f} min were spent"))
            progress(f"all: {name} skipped (out of time)")
            continue
        progress(f"all: [{i}/{len(names)}] {name} starting")
        outcomes.append(run_one(name, left))
        o = outcomes[-1]
        progress(f"all: [{i}/{len(names)}] {name} {o.status} in {o.seconds:.0f} s")
    machine["load_after"] = list(os.getloadavg())
    write_report(outcomes, {"started": started.isoformat(timespec="seconds"),
                            "ended": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine}, out)
    progress(f"all: report in {out}/report.md, report.json and charts/")
    return 1 if any(o.status in ("failed", "skipped") for o in outcomes) else 0


def run_one(name: str, time_left_s: float) -> Outcome:
    """One benchmark in a subprocess: its declarations, its JSON (the last stdout line) or why it failed."""
    if importlib.util.find_spec(f"bench.{name}") is None:
        return Outcome(name, "absent", note=f"registered, but bench/{name}.py is not in this tree yet")
    try:
        module = importlib.import_module(f"bench.{name}")
    except Exception as exc:  # a broken module is that benchmark's failure, not the run's
        return Outcome(name, "failed", note=f"import failed: {exc!r}")
    headlines: tuple[Headline, ...] = tuple(getattr(module, "HEADLINES", ()))
    env: Mapping[str, str] = getattr(module, "ALL_ENV", {})
    args: tuple[str, ...] = tuple(getattr(module, "ALL_ARGS", ()))
    budget = min(float(getattr(module, "BUDGET_S", BUDGET_S)), time_left_s)
    sized = " ".join([*(f"{k}={v}" for k, v in env.items()), *args])
    outcome = run_process(name, [sys.executable, "-m", "bench", name, *args], env, budget)
    outcome.headlines, outcome.sized = headlines, sized
    return outcome


def run_process(name: str, command: list[str], env: Mapping[str, str], budget: float) -> Outcome:
    """Run `command` in its own process group; `ok` with the JSON of its last stdout line when it exits 0."""
    start = time.monotonic()
    process = subprocess.Popen(command, cwd=REPO, env={**os.environ, **env}, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    reader = threading.Thread(target=_follow, args=(name, process, tail), daemon=True)
    reader.start()
    with process:  # closes its pipes at the end
        stdout = _wait(name, process, budget, start)
        reader.join(timeout=5)
    seconds = time.monotonic() - start
    result = _last_json(stdout)
    if process.returncode == 0 and result is not None:
        return Outcome(name, "ok", seconds, result)
    why = (f"stopped after its budget of {budget:.0f} s" if process.returncode in (-signal.SIGTERM, -signal.SIGKILL)
           else f"exit code {process.returncode}" if process.returncode else "no JSON result on stdout")
    return Outcome(name, "failed", seconds, result, note=why, stderr_tail="".join(tail))


def _follow(name: str, process: subprocess.Popen[str], tail: collections.deque[str]) -> None:
    """Pass the benchmark's progress on to stderr, keeping the last lines for the report."""
    assert process.stderr is not None
    for line in process.stderr:
        tail.append(line)
        print(f"  {name}: {line}", end="", file=sys.stderr, flush=True)


def _wait(name: str, process: subprocess.Popen[str], budget: float, start: float) -> str:
    """The benchmark's stdout once it ends; stopped (its whole process group) when the budget runs out."""
    stdout: list[str] = []
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: stdout.extend(process.stdout or ()), daemon=True)
    reader.start()
    while True:
        try:
            process.wait(timeout=TICK_S)
            break
        except subprocess.TimeoutExpired:
            elapsed = time.monotonic() - start
            progress(f"all: {name} running, {elapsed:.0f} s of {budget:.0f} s")
            if elapsed >= budget:
                _stop(process)
                break
    reader.join(timeout=5)
    return "".join(stdout)


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM to the benchmark's process group (Asterisk, redis-server … included), SIGKILL after 15 s."""
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _last_json(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
    return None


def machine_facts() -> dict[str, Any]:
    """Cores, memory, load, Asterisk version and the git commit the run measured."""
    facts: dict[str, Any] = {"cores": os.cpu_count(), "memory_gb": _memory_gb(), "load_before": list(os.getloadavg()),
                             "python": platform.python_version(), "kernel": platform.release()}
    facts["git_commit"] = _output(["git", "rev-parse", "HEAD"])
    facts["git_dirty"] = bool(_output(["git", "status", "--porcelain", "--untracked-files=no"]))
    try:
        from hotline.core.asterisk.root import find_root
        facts["asterisk"] = find_root().version()
    except Exception as exc:  # the report still says what else it knows
        facts["asterisk"] = f"unknown ({exc!r})"
    return facts


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _output(command: list[str]) -> str:
    try:
        return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
