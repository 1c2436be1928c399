"""WAV to a compact format with ffmpeg (Opus in Ogg by default, MP3 as an option).

ffmpeg runs as an asyncio child process rather than through pydub, which decodes whole files into
memory and blocks the event loop; the command line is what pydub would run.
"""

from __future__ import annotations

import asyncio
import wave
from dataclasses import dataclass
from pathlib import Path

FORMATS = {"opus": ("ogg", ["-c:a", "libopus", "-application", "voip"]),
           "mp3": ("mp3", ["-c:a", "libmp3lame"])}


class TranscodeFailed(RuntimeError):
    """ffmpeg failed or produced nothing."""


@dataclass(frozen=True)
class Codec:
    format: str = "opus"
    bitrate_kbps: int = 12  # 12 kb/s Opus: clear speech at 8 kHz, about 90 KB per minute
    # Opus encoder complexity 0-10 and 60 ms frames: for stored 8 kHz speech at 12 kb/s (no latency
    # matters) this is about three times faster than the defaults (see `python -m bench recordings`)
    complexity: int = 0

    @property
    def suffix(self) -> str:
        return "opus" if self.format == "opus" else "mp3"


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate() or 1)


async def _run(*argv: str) -> str:
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise TranscodeFailed(f"{argv[0]} exited {proc.returncode}: {err.decode(errors='replace')[-300:]}")
    return out.decode()


async def transcode(wav: Path, out: Path, codec: Codec) -> None:
    """Write `out` (its container from the codec) from `wav`; mono, the source's rate."""
    container, args = FORMATS[codec.format]
    tuning = (["-compression_level", str(codec.complexity), "-frame_duration", "60"]
              if codec.format == "opus" else [])
    await _run("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(wav), "-ac", "1",
               *args, *tuning, "-b:a", f"{codec.bitrate_kbps}k", "-f", container, str(out))
    if not out.exists() or out.stat().st_size == 0:
        raise TranscodeFailed(f"ffmpeg wrote nothing for {wav.name}")


async def media_seconds(path: Path) -> float:
    """Duration of any audio file (ffprobe)."""
    text = await _run("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path))
    try:
        return float(text.strip())
    except ValueError as exc:
        raise TranscodeFailed(f"ffprobe gave no duration for {path.name}") from exc
