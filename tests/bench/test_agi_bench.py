"""`bench agi` on the real Asterisk, tiny: our server and the floor both serve every call, and the ratio is theirs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bench.agi
import bench.common
from hotline.core.asterisk.root import AsteriskRoot

pytestmark = pytest.mark.asterisk


async def test_the_agi_bench_measures_ours_beside_the_floor(
        asterisk_root: AsteriskRoot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench.agi, "CALLS", 40)
    monkeypatch.setattr(bench.common, "RESULTS", tmp_path)
    result = await bench.agi.run()
    assert result["agi_leg"]["calls"] == result["floor_leg"]["calls"] == 40
    assert result["agi_leg"]["errors"] == result["floor_leg"]["errors"] == 0
    assert len(result["agi_leg"]["rounds"]) == len(result["floor_leg"]["rounds"]) == bench.agi.ROUNDS
    assert result["sessions_per_s"] > 0 and result["floor_sessions_per_s"] > 0
    assert result["ratio_to_floor"] == pytest.approx(result["sessions_per_s"] / result["floor_sessions_per_s"],
                                                     abs=0.001)
    assert result["target_ratio_to_floor"] == 0.9
    assert json.loads((tmp_path / "agi.json").read_text()) == result
