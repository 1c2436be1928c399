"""Small pure helpers: number masking, digit normalisation for TTS, speech detection."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import pytest

from hotline.core.audio.prompts import normalise_numbers
from hotline.core.audio.speech import detect_speech
from hotline.core.privacy import mask_number


def test_mask_number_hides_the_middle() -> None:
    assert mask_number("13800138000") == "138****8000"
    assert mask_number("01012345678") == "010****5678"
    assert mask_number("12345") == "*****"
    assert "0013" not in mask_number("13800138000")


def test_digit_runs_are_read_digit_by_digit() -> None:
    assert normalise_numbers("欢迎致电12345热线") == "欢迎致电幺二三四五热线"
    assert normalise_numbers("请拨110或120") == "请拨幺幺零或幺二零"
    assert normalise_numbers("没有数字") == "没有数字"


def _write_wav(path: Path, pcm: bytes, rate: int = 8000) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)


def test_silence_has_no_speech(tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    _write_wav(path, b"\x00\x00" * 8000 * 3)
    report = detect_speech(path)
    assert report.duration_s == pytest.approx(3.0)
    assert not report.has_speech


@pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("sox") is None, reason="needs espeak-ng and sox")
def test_synthesised_speech_is_found(tmp_path: Path) -> None:
    raw, out = tmp_path / "raw.wav", tmp_path / "out.wav"
    subprocess.run(["espeak-ng", "-w", str(raw), "hello, this is the twelve three four five hotline"], check=True)
    subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(out)], check=True)
    assert detect_speech(out).has_speech


def test_wrong_format_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "odd.wav"
    _write_wav(path, b"\x00\x00" * 11025, rate=11025)
    with pytest.raises(ValueError, match="11025"):
        detect_speech(path)
