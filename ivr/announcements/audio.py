"""An announcement's audio as Asterisk plays it (8 kHz mono 16-bit WAV) in the announcements folder of the
data folders: synthesised from its words (espeak-ng `cmn`, as the prompts), or a short recording from the
page's microphone (WebM or Ogg Opus, or WAV; read by pydub with ffmpeg). Files are named by their content
and never overwritten, so every version an announcement had stays playable for the log.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import wave
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pydub import AudioSegment, effects
from pydub.exceptions import CouldntDecodeError

from hotline.core.errors import DomainError, Invalid, NotFound

log = logging.getLogger(__name__)

MAX_BYTES = 2 * 1024 * 1024
MAX_SECONDS = 60.0
MIN_SECONDS = 0.5
# the media types a browser's MediaRecorder (or a file) brings, and how their bytes begin
FORMATS: Mapping[str, tuple[str, tuple[bytes, ...]]] = {
    "audio/webm": ("webm", (b"\x1a\x45\xdf\xa3",)),
    "audio/ogg": ("ogg", (b"OggS",)),
    "audio/opus": ("ogg", (b"OggS",)),
    "audio/wav": ("wav", (b"RIFF",)),
    "audio/x-wav": ("wav", (b"RIFF",)),
    "audio/wave": ("wav", (b"RIFF",)),
}


class Synthesiser(Protocol):
    """Text to WAV files Asterisk plays (hotline.core.audio.prompts.PromptRenderer)."""

    async def render_all(self, texts: Mapping[str, str], out_dir: Path, *, cache: bool = True) -> dict[str, Path]: ...


class UnsupportedAudio(DomainError):
    status, error_id = 415, "unsupported_audio"


@dataclass(frozen=True)
class Sound:
    """One rendered audio file: its name in the folder and its length."""

    name: str
    seconds: float


def bad_recording(message: str) -> Invalid:
    return Invalid(message, fields=[{"field": "recording", "message": message}], error_id="bad_recording")


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return round(w.getnframes() / w.getframerate(), 2)


@dataclass(frozen=True)
class AnnouncementAudio:
    """The announcements folder, as the host (`host`) and Asterisk (`inner`) see it."""

    synthesiser: Synthesiser
    host: Path
    inner: str

    def file(self, sound: str) -> Path:
        return self.host / f"{sound}.wav"

    def existing(self, sound: str) -> Path:
        """The file of `sound`; 404 `audio_missing` when it is gone (a data folder moved or cleaned)."""
        path = self.file(sound)
        if not path.is_file():
            raise NotFound("the announcement's audio file is missing", error_id="audio_missing")
        return path

    def played(self, sound: str) -> str:
        """What Asterisk's Playback / STREAM FILE is given (no extension)."""
        return f"{self.inner}/{sound}"

    async def synthesise(self, text: str) -> Sound:
        """The words as speech; 503 `synthesis_failed` when the synthesiser fails (nothing is published)."""
        name = "tts-" + hashlib.sha256(text.encode()).hexdigest()[:24]
        if not self.file(name).exists():
            try:
                await self.synthesiser.render_all({name: text}, self.host)
            except Exception as exc:
                log.exception("announcement not synthesised")
                raise DomainError(f"the words could not be synthesised ({type(exc).__name__})",
                                  error_id="synthesis_failed", status=503) from None
        return Sound(name, wav_seconds(self.file(name)))

    async def recording(self, data: bytes, content_type: str) -> Sound:
        """A recording turned into what Asterisk plays: 415 for a type that is not audio we read, 422 when the
        bytes are not that audio, or it is shorter than half a second or longer than a minute."""
        kind = content_type.split(";", 1)[0].strip().lower()
        if kind not in FORMATS:
            raise UnsupportedAudio(f"send audio/webm, audio/ogg or audio/wav, not {kind or 'nothing'}")
        fmt, magic = FORMATS[kind]
        if len(data) > MAX_BYTES:
            raise DomainError(f"a recording is at most {MAX_BYTES} bytes", error_id="body_too_large", status=413)
        if not data.startswith(magic):
            raise bad_recording(f"the body is not {kind} audio")
        name = "rec-" + hashlib.sha256(data).hexdigest()[:24]
        if not self.file(name).exists():
            await asyncio.to_thread(_telephone, data, fmt, self.file(name))
        return Sound(name, wav_seconds(self.file(name)))


def _telephone(data: bytes, fmt: str, target: Path) -> None:
    try:
        sound = AudioSegment.from_file(io.BytesIO(data), format=fmt)
    except (CouldntDecodeError, IndexError, ValueError) as exc:
        raise bad_recording(f"the recording cannot be read: {str(exc)[-120:]}") from None
    seconds = len(sound) / 1000
    if seconds > MAX_SECONDS:
        raise bad_recording(f"the recording lasts {seconds:.0f} s; at most {MAX_SECONDS:.0f} s")
    if seconds < MIN_SECONDS:
        raise bad_recording("the recording is shorter than half a second")
    sound = effects.normalize(sound.set_frame_rate(8000).set_channels(1).set_sample_width(2), headroom=3.0)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(f".{target.name}.part")
    sound.export(part, format="wav").close()
    part.replace(target)
