"""Small stand-ins for the announcements' unit tests: a synthesiser that writes a WAV of a known length per
character, and audio of the browsers' formats made by pydub (ffmpeg)."""

from __future__ import annotations

import io
import wave
from collections.abc import Mapping
from pathlib import Path

from pydub import AudioSegment
from pydub.generators import Sine

SECONDS_PER_CHAR = 0.2


class CountingSynthesiser:
    """Writes `<key>.wav`: 8 kHz silence lasting SECONDS_PER_CHAR per character; counts its calls; fails when
    told to."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.failing = False

    async def render_all(self, texts: Mapping[str, str], out_dir: Path, *, cache: bool = True) -> dict[str, Path]:
        if self.failing:
            raise RuntimeError("espeak-ng failed")
        out_dir.mkdir(parents=True, exist_ok=True)
        made = {}
        for key, text in texts.items():
            self.texts.append(text)
            with wave.open(str(out_dir / f"{key}.wav"), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(8000)
                w.writeframes(bytes(int(8000 * SECONDS_PER_CHAR * len(text)) * 2))
            made[key] = out_dir / f"{key}.wav"
        return made


def tone(seconds: float, fmt: str, rate: int = 48000, **export: str) -> bytes:
    """A 440 Hz tone at `rate` (48 kHz as a browser records) in `fmt` (wav, ogg, webm)."""
    sound = Sine(440).to_audio_segment(duration=int(seconds * 1000)).set_frame_rate(rate).set_channels(1)
    out = io.BytesIO()
    sound.export(out, format=fmt, **export)
    return out.getvalue()


def opus(seconds: float, container: str = "ogg") -> bytes:
    return tone(seconds, container, codec="libopus")


def loaded(data: bytes) -> AudioSegment:
    return AudioSegment.from_file(io.BytesIO(data))
