"""Speech analysis of recordings on synthesised audio: who spoke, dead air, talk-over, the review flag."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from recordings.analysis import ReviewRules, analyse

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("sox") is None,
                                reason="needs espeak-ng and sox")


def _speech(folder: Path) -> Path:
    raw, out = folder / "raw.wav", folder / "speech.wav"
    if not out.exists():
        subprocess.run(["espeak-ng", "-w", str(raw), "hello, this is the twelve three four five hotline, "
                        "how can I help you today"], check=True)
        subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(out)], check=True)
    return out


def _silence(folder: Path, seconds: float) -> Path:
    out = folder / f"silence-{seconds}.wav"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(out), "trim", "0", str(seconds)], check=True)
    return out


def _join(out: Path, *parts: Path) -> Path:
    subprocess.run(["sox", *map(str, parts), str(out)], check=True)
    return out


def test_dead_air_after_the_caller_spoke_is_flagged(tmp_path: Path) -> None:
    speech, pause = _speech(tmp_path), _silence(tmp_path, 35)
    said_len = subprocess.run(["soxi", "-D", str(speech)], capture_output=True, text=True, check=True).stdout.strip()
    caller = _join(tmp_path / "caller.wav", speech, pause)
    heard = _join(tmp_path / "heard.wav", _silence(tmp_path, float(said_len)), pause)
    result = analyse(caller, caller, heard)
    assert 1.0 < result.caller_speech_s < float(said_len) + 0.1
    assert result.heard_speech_s == 0 and result.talk_over_s == 0
    assert 34 < result.longest_silence_s < 36.5
    assert result.review_reasons == ("long_silence",)
    assert result.to_json()["caller_speech_ratio"] < 0.2


def test_both_talking_at_once_is_talk_over(tmp_path: Path) -> None:
    speech = _speech(tmp_path)
    result = analyse(speech, speech, speech)
    assert result.talk_over_s is not None and result.talk_over_s == result.caller_speech_s > 1.0
    assert result.review_reasons == ("talk_over",)
    assert analyse(speech, speech, speech, ReviewRules(talk_over_ratio=1.01)).review is False


def test_a_mixed_recording_alone_gives_speech_and_silence(tmp_path: Path) -> None:
    mixed = _join(tmp_path / "mix.wav", _silence(tmp_path, 2), _speech(tmp_path), _silence(tmp_path, 5))
    result = analyse(mixed)
    assert result.heard_speech_s is None and result.talk_over_s is None
    assert result.caller_speech_s > 1.0 and 4.5 < result.longest_silence_s < 5.5
    assert not result.review
