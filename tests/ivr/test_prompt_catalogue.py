"""`hotline prompts render` on the real Asterisk root: recorded audio wins over text, per-call prompts are
rendered with sample values, and a prompt a flow needs but the file lacks is reported (exit 1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import pytest
import yaml

from hotline.app.settings import Settings
from hotline.core.asterisk.root import AsteriskRoot

pytestmark = pytest.mark.asterisk


def test_the_catalogue_renders_recorded_and_synthesised_prompts_and_names_the_missing(
        asterisk_root: AsteriskRoot, tmp_path: Path) -> None:
    plan = yaml.safe_load(Settings().core.dialplan_file.read_text(encoding="utf-8"))
    del plan["prompts"]["revisit_aspect"]  # a prompt the revisit flow plays
    dialplan = tmp_path / "hotline.yaml"
    dialplan.write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    recorded = tmp_path / "recorded"
    recorded.mkdir()
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "2", "-b", "16", str(recorded / "goodbye.wav"), "synth", "1.5",
                    "sine", "440"], check=True)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=300:duration=2",
                    "-ar", "44100", "-ac", "2", str(recorded / "rating_thanks.mp3")], check=True)  # any format
    env = {**os.environ, "HOTLINE_DIALPLAN": str(dialplan), "HOTLINE_RECORDED_PROMPTS": str(recorded),
           "HOTLINE_HOME_DIR": str(tmp_path / "home"), "HOTLINE_ASTERISK_ROOT": str(asterisk_root.path)}
    hotline = str(Path(sys.executable).parent / "hotline")
    done = subprocess.run([hotline, "prompts", "render", "--json", "--out", str(tmp_path / "out")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stderr[-2000:]
    report = json.loads(done.stdout)
    by_key = {p["key"]: p for p in report["prompts"]}
    assert report["missing"] == ["revisit_aspect"]
    assert by_key["goodbye"]["source"] == "recorded" and abs(by_key["goodbye"]["seconds"] - 1.5) < 0.05
    assert by_key["rating_thanks"]["source"] == "recorded" and abs(by_key["rating_thanks"]["seconds"] - 2) < 0.1
    assert by_key["greeting"]["source"] == "synthesised" and 0.5 < by_key["greeting"]["seconds"] < 5
    assert by_key["revisit_opening"]["source"] == "per-call" and by_key["queue_wait"]["source"] == "per-call"
    with wave.open(str(tmp_path / "out" / "goodbye.wav")) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2), "converted for Asterisk"
