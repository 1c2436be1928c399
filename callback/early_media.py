"""What a carrier played before a revisit call was answered or failed (its early media): an announcement's
speech (webrtcvad) and the network's call-progress tones (callback.tones), told apart."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from callback.tones import NO_TONES, Tones, detect_tones
from hotline.core.audio.speech import FRAME_S, growing_pcm, verdicts


@dataclass(frozen=True)
class EarlyMedia:
    """What the far end played before the call was answered or failed."""

    speech_s: float  # a voice (an operator's announcement), tones not counted
    tones: Tones


_VAD_HANGOVER_S = 0.15  # webrtcvad goes on calling it speech for a few frames after a sound ends
_TONE_ONSET_S = 0.03  # and a frame the tone starts in may be a block too early for the tone detector


NOTHING_HEARD = EarlyMedia(speech_s=0.0, tones=NO_TONES)


def early_media(pcm: bytes, rate: int = 8000, aggressiveness: int = 3) -> EarlyMedia:
    """The speech and the call-progress tones in mono 16-bit PCM. webrtcvad takes a tone for a voice, so
    frames where a tone sounds (or has just sounded) are not counted as speech."""
    tones = detect_tones(pcm, rate)
    frames = verdicts(pcm, rate, aggressiveness)
    speech = sum(1 for i, said in enumerate(frames)
                 if said and not tones.tone_between(i * FRAME_S - _VAD_HANGOVER_S, (i + 1) * FRAME_S + _TONE_ONSET_S))
    return EarlyMedia(speech_s=speech * FRAME_S, tones=tones)


def early_media_in_growing_wav(path: Path, rate: int = 8000, aggressiveness: int = 3) -> EarlyMedia:
    """`early_media` of a mono 16-bit WAV that may still be being written (see `speech_in_growing_wav`)."""
    return early_media(growing_pcm(path), rate, aggressiveness)
