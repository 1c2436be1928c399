"""Speech detection in recorded audio with webrtcvad (used to prove a caller heard a prompt, to hear a silent
caller, to tell a person from a recording)."""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import webrtcvad

_FRAME_MS = 30


@dataclass(frozen=True)
class SpeechReport:
    """How much speech a WAV file holds."""

    duration_s: float
    speech_s: float

    @property
    def has_speech(self) -> bool:
        """At least half a second of speech: more than a click or a beep."""
        return self.speech_s >= 0.5

    def to_json(self) -> dict[str, float | bool]:
        return {"duration_s": round(self.duration_s, 2), "speech_s": round(self.speech_s, 2),
                "has_speech": self.has_speech}


FRAME_S = _FRAME_MS / 1000


def speech_frames(path: Path, aggressiveness: int = 3) -> list[bool]:
    """webrtcvad's verdict for each 30 ms frame of a mono 16-bit WAV (8/16/32/48 kHz)."""
    with wave.open(str(path), "rb") as wav:
        rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
        if width != 2 or channels != 1 or rate not in (8000, 16000, 32000, 48000):
            raise ValueError(f"{path}: need mono 16-bit 8/16/32/48 kHz audio, got {channels}ch {width * 8}bit {rate}Hz")
        pcm = wav.readframes(wav.getnframes())
    return verdicts(pcm, rate, aggressiveness)


def verdicts(pcm: bytes, rate: int, aggressiveness: int) -> list[bool]:
    """webrtcvad's verdict for each 30 ms frame of mono 16-bit PCM."""
    vad = webrtcvad.Vad(aggressiveness)
    frame_bytes = rate * _FRAME_MS // 1000 * 2
    return [vad.is_speech(pcm[i * frame_bytes:(i + 1) * frame_bytes], rate) for i in range(len(pcm) // frame_bytes)]


def speech_in_growing_wav(path: Path, rate: int = 8000, aggressiveness: int = 3) -> float:
    """Seconds of speech in a mono 16-bit WAV that is still being written (its header's sizes are not
    final yet, so the samples after the 44-byte header are read as they are)."""
    return sum(verdicts(growing_pcm(path), rate, aggressiveness)) * FRAME_S


def growing_pcm(path: Path) -> bytes:
    """The samples of a WAV still being written (after its 44-byte header)."""
    return path.read_bytes()[44:]


def detect_speech(path: Path, aggressiveness: int = 3) -> SpeechReport:
    """How much of a mono 16-bit WAV is speech."""
    with wave.open(str(path), "rb") as wav:
        duration = wav.getnframes() / float(wav.getframerate() or 1)
    return SpeechReport(duration_s=duration, speech_s=sum(speech_frames(path, aggressiveness)) * FRAME_S)
