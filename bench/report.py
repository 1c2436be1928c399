"""The whole run's report: report.json (every result and the machine), report.md (a table per benchmark) and
charts/NAME.png, all generated from the benchmarks' results and their `HEADLINES`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.charts import write_chart
from bench.headlines import Headline


@dataclass
class Outcome:
    """One benchmark's part of the run: `ok`, `failed`, `absent` (not in this tree) or `skipped` (no time left)."""

    name: str
    status: str
    seconds: float = 0.0
    result: dict[str, Any] | None = None
    headlines: tuple[Headline, ...] = ()
    note: str = ""
    stderr_tail: str = ""
    sized: str = ""  # the environment `bench all` sized it with, if any

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The headline table: figure, ours, baseline, target, met (None: no target or a value missing)."""
        if self.result is None:
            return []
        return [{"figure": h.key, "ours": h.ours(self.result), "baseline_key": h.baseline,
                 "baseline": h.base(self.result), "target": h.target, "met": h.met(self.result)}
                for h in self.headlines]


def write_report(outcomes: Sequence[Outcome], run: dict[str, Any], out: Path) -> None:
    """report.json, report.md and charts/*.png into `out`."""
    charts = out / "charts"
    charts.mkdir(parents=True, exist_ok=True)
    drawn: dict[str, str] = {}
    for o in outcomes:
        if o.status == "ok" and o.result is not None and o.headlines:
            path = charts / f"{o.name}.png"
            write_chart(path, o.name, o.headlines, o.result)
            drawn[o.name] = f"charts/{path.name}"
    report = {**run, "benchmarks": {o.name: {
        "status": o.status, "seconds": round(o.seconds, 1), "note": o.note, "sized": o.sized,
        "headlines": o.rows, "chart": drawn.get(o.name), "stderr_tail": o.stderr_tail, "result": o.result,
    } for o in outcomes}}
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str) + "\n")
    (out / "report.md").write_text(markdown(outcomes, run, drawn))


def markdown(outcomes: Sequence[Outcome], run: dict[str, Any], charts: dict[str, str]) -> str:
    machine = run.get("machine", {})
    lines = ["# Benchmark report (`make bench`)", "",
             f"Run {run.get('started')} → {run.get('ended')}, commit `{machine.get('git_commit', '?')}`"
             f"{' (with local changes)' if machine.get('git_dirty') else ''}.", "",
             f"Machine: {machine.get('cores')} cores, {machine.get('memory_gb')} GB, load average "
             f"{_load(machine.get('load_before'))} before and {_load(machine.get('load_after'))} after; "
             f"{machine.get('asterisk', '')}.", "",
             "Each figure is beside its baseline measured in the same run. Summary:", "",
             "| benchmark | status | time | targets met |", "|---|---|---|---|"]
    for o in outcomes:
        judged = [r["met"] for r in o.rows if r["met"] is not None]
        met = f"{sum(judged)}/{len(judged)}" if judged else "–"
        lines.append(f"| [{o.name}](#{o.name}) | {o.status} | {o.seconds:.0f} s | {met} |")
    for o in outcomes:
        lines += ["", f"## {o.name}", ""]
        if o.sized:
            lines += [f"Sized for the whole run: `{o.sized}` (smaller than its default; `python -m bench {o.name}` "
                      "runs the full size).", ""]
        if o.status != "ok":
            lines.append(f"**{o.status.upper()}**{': ' + o.note if o.note else ''} ({o.seconds:.0f} s).")
            if o.stderr_tail:
                lines += ["", "```", o.stderr_tail.rstrip(), "```"]
            continue
        if not o.rows:
            lines.append("No headline figures declared; its whole result is in report.json.")
            continue
        lines += ["| figure | ours | baseline | target | met? |", "|---|---|---|---|---|"]
        for r in o.rows:
            base = f"{_cell(r['baseline'])} ({r['baseline_key']})" if r["baseline_key"] else "–"
            lines.append(f"| {r['figure']} | {_cell(r['ours'])} | {base} | {r['target'] or '–'} | "
                         f"{_verdict(r['met'])} |")
        if o.name in charts:
            lines += ["", f"![{o.name}]({charts[o.name]})"]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return "missing"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _verdict(met: bool | None) -> str:
    return "–" if met is None else "met" if met else "**missed**"


def _load(values: Any) -> str:
    return " / ".join(f"{v:.1f}" for v in values) if values else "?"
