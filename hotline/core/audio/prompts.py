"""Chinese prompts from text: offline TTS (espeak-ng `cmn` inside the Asterisk root) to 8 kHz WAV.

Generated audio is cached machine-wide by a hash of (text, voice, recipe), so a stack starts
without re-synthesising unchanged prompts. Digit runs are read digit by digit, the way
Chinese hotlines say numbers ("12345" → "幺二三四五").
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydub import AudioSegment

from hotline.core.asterisk.root import AsteriskRoot

log = logging.getLogger(__name__)

RECORDED_FORMATS = (".wav", ".mp3", ".m4a", ".ogg", ".flac")
_RECIPE = "espeak-ng cmn s175 -> sox 8000Hz mono s16 trim-silence norm-3 v2"
_SPEED = "175"  # words per minute: clear, and the greeting ends within 5 s of answer
_DIGITS = str.maketrans("0123456789", "零幺二三四五六七八九")


def normalise_numbers(text: str) -> str:
    """Spell digit runs as Chinese digits so TTS reads phone and ticket numbers digit by digit."""
    return re.sub(r"\d+", lambda m: m.group(0).translate(_DIGITS), text)


@dataclass(frozen=True)
class PromptRenderer:
    """Turns prompt texts into WAV files Asterisk can play."""

    root: AsteriskRoot
    cache_dir: Path
    recorded: Path | None = None  # engineers' recordings, `<key>.wav`, played instead of the text
    # one synthesis per text at a time: callers rendering the same words wait for the first
    _busy: dict[str, asyncio.Lock] = field(default_factory=dict, init=False, repr=False, compare=False)

    async def render_all(self, texts: Mapping[str, str], out_dir: Path, *, cache: bool = True) -> dict[str, Path]:
        """Write `<out_dir>/<key>.wav` for every prompt; return key → host path. Without `cache` (words
        for one petitioner, say) the audio is synthesised straight into place and not kept."""
        out_dir.mkdir(parents=True, exist_ok=True)
        result: dict[str, Path] = {}
        for key, text in texts.items():
            target = out_dir / f"{key}.wav"
            recording = self.recorded_for(key)
            if recording is not None:
                shutil.copyfile(await self._converted(recording), target)
            elif cache:
                shutil.copyfile(await self._cached(text), target)
            else:
                await self._synthesise(text, uuid.uuid4().hex[:24], target)
            result[key] = target
        return result

    def recorded_for(self, key: str) -> Path | None:
        """The engineers' recording of this prompt, if there is one (`<key>.wav`, `.mp3`, `.m4a` …)."""
        if self.recorded is None:
            return None
        for suffix in RECORDED_FORMATS:
            found = self.recorded / f"{key}{suffix}"
            if found.is_file():
                return found
        return None

    async def _converted(self, recording: Path) -> Path:
        """A recording at the rate Asterisk plays (8 kHz mono 16-bit WAV), cached by its content. pydub
        (ffmpeg) reads it in any rate, channel count and format engineers are likely to bring."""
        digest = hashlib.sha256(_RECIPE.encode() + b"\n" + recording.read_bytes()).hexdigest()[:24]
        target = self.cache_dir / f"rec-{digest}.wav"
        if target.exists():
            return target
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        made = target.with_name(f".{uuid.uuid4().hex[:16]}.wav")
        try:
            await asyncio.to_thread(_telephone_wav, recording, made)
            _publish(made, target)
        finally:
            made.unlink(missing_ok=True)
        log.info("recorded prompt converted: %s", recording.name)
        return target

    async def _cached(self, text: str) -> Path:
        digest = hashlib.sha256(f"{_RECIPE}\n{text}".encode()).hexdigest()[:24]
        target = self.cache_dir / f"{digest}.wav"
        if target.exists():
            return target
        lock = self._busy.setdefault(digest, asyncio.Lock())
        try:
            async with lock:
                if target.exists():
                    return target
                self.cache_dir.mkdir(parents=True, exist_ok=True)
                return await self._synthesise(text, digest, target)
        finally:
            if not lock.locked():
                self._busy.pop(digest, None)

    async def _synthesise(self, text: str, digest: str, target: Path) -> Path:
        # unique per synthesis: another process (a second stack on the same root) may render the same text
        work = self.root.path / "tmp" / f"hotline-tts-{digest}-{uuid.uuid4().hex[:8]}"
        work.mkdir(parents=True, exist_ok=True)
        try:
            await _run(
                "chroot", str(self.root.path), "espeak-ng", "-v", "cmn", "-s", _SPEED,
                "-w", f"/tmp/{work.name}/raw.wav", normalise_numbers(text),
            )
            await _run(
                "chroot", str(self.root.path), "sox", f"/tmp/{work.name}/raw.wav",
                "-r", "8000", "-c", "1", "-b", "16", f"/tmp/{work.name}/out.wav",
                # drop the synthesiser's leading and trailing silence: dead air costs the caller time
                "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse", "norm", "-3",
            )
            _publish(work / "out.wav", target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        log.info("prompt synthesised: %s", text[:24])
        return target


def _telephone_wav(source: Path, target: Path) -> None:
    sound = AudioSegment.from_file(source).set_frame_rate(8000).set_channels(1).set_sample_width(2)
    sound.export(target, format="wav")


def _publish(made: Path, target: Path) -> None:
    """Move a finished prompt into the cache atomically; concurrent writers each use their own part file."""
    partial = target.with_name(f"{target.name}.{uuid.uuid4().hex[:8]}.part")
    shutil.copyfile(made, partial)
    partial.replace(target)


async def _run(*argv: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[2] if len(argv) > 2 else argv[0]} failed: {err.decode(errors='replace')[-400:]}")
