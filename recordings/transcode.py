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

    @property
    def content_type(self) -> str:
        return "audio/ogg" if self.format == "opus" else "audio/mpeg"


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


def _inputs(sources: list[Path]) -> list[str]:
    if len(sources) not in (1, 2):
        raise ValueError("one mixed recording or two channels (caller, heard)")
    return [arg for src in sources for arg in ("-i", str(src))]


async def transcode(sources: list[Path], out: Path, codec: Codec) -> None:
    """Write `out` (its container from the codec): mono from one WAV, stereo (caller left) from two."""
    container, args = FORMATS[codec.format]
    tuning = (["-compression_level", str(codec.complexity), "-frame_duration", "60"]
              if codec.format == "opus" else [])
    layout = (["-filter_complex", "[0:a][1:a]amerge=inputs=2[a]", "-map", "[a]", "-ac", "2"] if len(sources) == 2
              else ["-ac", "1"])
    await _run("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *_inputs(sources), *layout,
               *args, *tuning, "-b:a", f"{codec.bitrate_kbps}k", "-f", container, str(out))
    if not out.exists() or out.stat().st_size == 0:
        raise TranscodeFailed(f"ffmpeg wrote nothing for {sources[0].name}")


async def waveform(sources: list[Path], out: Path, width: int = 1200) -> None:
    """A PNG of the waveform for the console player: one band per channel (caller above, heard below)."""
    merge = "[0:a][1:a]amerge=inputs=2," if len(sources) == 2 else "[0:a]"
    height = 80 * len(sources)
    draw = f"{merge}showwavespic=s={width}x{height}:split_channels=1:colors=0x2f6fb0|0xd9822b[v]"
    await _run("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *_inputs(sources),
               "-filter_complex", draw, "-map", "[v]", "-frames:v", "1", "-f", "image2", "-c:v", "png", str(out))
    if not out.exists() or out.stat().st_size == 0:
        raise TranscodeFailed(f"ffmpeg drew no waveform for {sources[0].name}")


async def media_seconds(path: Path) -> float:
    """Duration of any audio file (ffprobe)."""
    text = await _run("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path))
    try:
        return float(text.strip())
    except ValueError as exc:
        raise TranscodeFailed(f"ffprobe gave no duration for {path.name}") from exc
