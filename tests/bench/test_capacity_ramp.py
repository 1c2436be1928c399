"""`bench capacity` on the real Asterisk pair: a tiny two-step ramp runs both sides and prints every key."""

from __future__ import annotations

import json

import pytest

from bench.capacity import Size, run

pytestmark = pytest.mark.asterisk

KEYS = {"ours_concurrent_calls", "raw_concurrent_calls", "ratio", "audio_complete", "steps", "plan",
        "capped_by_time", "capped_by_calls", "size", "baseline", "targets"}
STEP_KEYS = {"side", "calls", "answered", "bridged", "dropped", "complete", "failures", "held",
             "asterisk_cpu_pct", "world_asterisk_cpu_pct", "service_and_bench_cpu_pct", "recording_worker_cpu_pct",
             "redis_cpu_pct", "machine_busy_pct", "load_1m", "wav_bytes_per_min"}


@pytest.mark.timeout(240)
async def test_a_tiny_ramp_holds_both_steps_on_both_sides_and_prints_all_keys(
        capsys: pytest.CaptureFixture[str]) -> None:
    result = await run(Size((1, 2), hold_s=3.0, time_cap_s=200.0), name="capacity-test")
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed == json.loads(json.dumps(result))
    assert set(printed) >= KEYS
    assert [(s["side"], s["calls"]) for s in printed["steps"]] == [("raw", 1), ("ours", 1), ("raw", 2), ("ours", 2)]
    for step in printed["steps"]:
        assert set(step) >= STEP_KEYS, step["side"]
        assert step["held"], step  # two calls never overload the node: every call bridged, every recording whole
        assert step["recording_s_avg"] > 3.0 and 900_000 < step["wav_bytes_per_min"] < 1_000_000  # 8 kHz 16-bit
    assert printed["ours_concurrent_calls"] == printed["raw_concurrent_calls"] == 2
    assert printed["ratio"] == 1.0 and printed["audio_complete"] == 1.0
    plan = printed["plan"]
    assert plan["stored_recordings"] == 2 and plan["stored_bytes_per_min"] > 0
    assert plan["db_rows_per_call"]["calls"] == 1.0 and plan["redis_bytes_per_held_call"] > 0
