"""`make bench`'s report: tables, verdicts and charts generated from results and their declared headlines."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import bench.runner as runner
from bench.__main__ import BENCHMARKS
from bench.headlines import Headline
from bench.report import Outcome, write_report

AGI = {"sessions_per_s": 850.0, "floor_sessions_per_s": 1000.0, "ratio_to_floor": 0.85, "rtt_p99_ms": 3.2}
ACD = {"ours": {"sl_15s": 0.91, "wait_avg_s": 4.0}, "app_queue": {"sl_15s": 0.8, "wait_avg_s": 6.5},
       "ours_one_seat_short_sl_15s": 0.82}
AGI_HEADLINES = (Headline("sessions_per_s", baseline="floor_sessions_per_s", target=">= 0.9 * baseline"),
                 Headline("ratio_to_floor", target=">= 0.9"), Headline("rtt_p99_ms"))
ACD_HEADLINES = (Headline("ours.sl_15s", baseline="app_queue.sl_15s", target=">= baseline"),
                 Headline("ours_one_seat_short_sl_15s", baseline="app_queue.sl_15s", target=">= baseline"),
                 Headline("ours.wait_avg_s", baseline="app_queue.wait_avg_s", target="<= baseline"),
                 Headline("ours.missing_key", baseline="app_queue.sl_15s", target="<= 1"))
MACHINE = {"cores": 2, "memory_gb": 7.8, "load_before": [1.0, 1.2, 1.3], "load_after": [2.0, 1.5, 1.4],
           "git_commit": "abc123", "git_dirty": False, "asterisk": "Asterisk 22.10.1"}
RUN = {"started": "2026-11-28T05:00:00+00:00", "ended": "2026-11-28T05:20:00+00:00", "machine": MACHINE}


def test_targets_judge_against_numbers_the_baseline_and_booleans() -> None:
    assert [h.met(AGI) for h in AGI_HEADLINES] == [False, False, None]
    assert [h.met(ACD) for h in ACD_HEADLINES] == [True, True, True, None]
    assert Headline("equal", target="== true").met({"equal": True}) is True
    assert Headline("equal", target="== true").met({"equal": False}) is False
    assert Headline("p95", target="<= 300").met({"p95": 301}) is False
    assert AGI_HEADLINES[0].goal(AGI) == pytest.approx(900.0)
    with pytest.raises(ValueError, match="expected"):
        Headline("x", target="about 5")
    with pytest.raises(ValueError, match="baseline"):
        Headline("x", target=">= baseline")


def test_the_report_has_a_table_per_benchmark_a_failure_and_charts(tmp_path: Path) -> None:
    outcomes = [Outcome("agi", "ok", 61.0, AGI, AGI_HEADLINES, sized="BENCH_AGI_CALLS=400"),
                Outcome("acd", "ok", 400.0, ACD, ACD_HEADLINES),
                Outcome("ivr", "failed", 12.0, None, note="exit code 1", stderr_tail="Traceback …\nBoom: no root\n"),
                Outcome("kb", "absent", note="registered, but bench/kb.py is not in this tree yet")]
    write_report(outcomes, RUN, tmp_path)

    md = (tmp_path / "report.md").read_text()
    assert "| sessions_per_s | 850 | 1,000 (floor_sessions_per_s) | >= 0.9 * baseline | **missed** |" in md
    assert "| ratio_to_floor | 0.85 | – | >= 0.9 | **missed** |" in md
    assert "| rtt_p99_ms | 3.2 | – | – | – |" in md
    assert "| ours_one_seat_short_sl_15s | 0.82 | 0.8 (app_queue.sl_15s) | >= baseline | met |" in md
    assert "| ours.missing_key | missing | 0.8 (app_queue.sl_15s) | <= 1 | – |" in md
    assert "| [acd](#acd) | ok | 400 s | 3/3 |" in md and "| [agi](#agi) | ok | 61 s | 0/2 |" in md
    assert "**FAILED**: exit code 1 (12 s)." in md and "Boom: no root" in md
    assert "**ABSENT**" in md and "`BENCH_AGI_CALLS=400`" in md
    assert "2 cores" in md and "commit `abc123`" in md

    report = json.loads((tmp_path / "report.json").read_text())
    assert report["machine"]["load_after"] == [2.0, 1.5, 1.4]
    assert report["benchmarks"]["agi"]["result"] == AGI
    assert report["benchmarks"]["ivr"]["status"] == "failed" and "Boom" in report["benchmarks"]["ivr"]["stderr_tail"]
    assert report["benchmarks"]["acd"]["headlines"][1]["met"] is True

    for name in ("agi", "acd"):
        png = (tmp_path / "charts" / f"{name}.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
        assert f"![{name}](charts/{name}.png)" in md
    assert sorted(p.name for p in (tmp_path / "charts").iterdir()) == ["acd.png", "agi.png"]


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_benchmark_process_is_ok_failed_or_stopped_at_its_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "TICK_S", 0.2)
    ok = runner.run_process("x", _python("import json; print('noise'); print(json.dumps({'a': 1}))"), {}, 10)
    assert (ok.status, ok.result) == ("ok", {"a": 1})

    failed = runner.run_process("x", _python("import sys; print('step 1', file=sys.stderr); sys.exit(3)"), {}, 10)
    assert (failed.status, failed.note, failed.stderr_tail) == ("failed", "exit code 3", "step 1\n")

    silent = runner.run_process("x", _python("import os; print(os.environ['SIZE'])"), {"SIZE": "7"}, 10)
    assert (silent.status, silent.note) == ("failed", "no JSON result on stdout")

    slow = runner.run_process("x", _python("import time; time.sleep(30)"), {}, 0.5)
    assert slow.status == "failed" and "budget" in slow.note and slow.seconds < 10


def test_every_registered_benchmark_that_exists_declares_its_headlines() -> None:
    import importlib
    import importlib.util
    present = [n for n in BENCHMARKS if importlib.util.find_spec(f"bench.{n}") is not None]
    assert {"agi", "acd", "ivr", "routing"} <= set(present)
    for name in present:
        headlines = importlib.import_module(f"bench.{name}").HEADLINES
        assert headlines and all(isinstance(h, Headline) for h in headlines), name


def test_a_registered_benchmark_not_in_the_tree_is_absent_not_failed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "machine_facts", lambda: dict(MACHINE))
    assert runner.run_all(["not_built_yet"], tmp_path) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["benchmarks"]["not_built_yet"]["status"] == "absent"
    assert "**ABSENT**" in (tmp_path / "report.md").read_text()
