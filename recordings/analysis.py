"""What a recording says about the call, from webrtcvad: speech per channel, dead air, talk-over.

With both channels (the caller's voice, and what the caller heard: prompts, music, the agent) the
analysis tells who spoke how much, the longest stretch where nobody spoke (dead air: an agent who
went quiet, a hold without music), and how long both spoke at once. With only the mixed recording,
speech and the longest silence. Calls past the review rules are flagged for quality review.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.core.audio.speech import FRAME_S, speech_frames


@dataclass(frozen=True)
class ReviewRules:
    longest_silence_s: float = 30.0  # dead air this long on a call is worth a supervisor's ear
    talk_over_ratio: float = 0.25  # both talking over a quarter of the time both were talking at all


def _longest_run(flags: list[bool]) -> int:
    best = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


def _padded(frames: list[bool], n: int) -> list[bool]:
    return frames + [False] * (n - len(frames))


@dataclass(frozen=True)
class Analysis:
    duration_s: float
    caller_speech_s: float
    heard_speech_s: float | None  # None: only the mixed recording was there
    longest_silence_s: float
    talk_over_s: float | None
    review_reasons: tuple[str, ...]

    @property
    def review(self) -> bool:
        return bool(self.review_reasons)

    def to_json(self) -> dict[str, Any]:
        d = self.duration_s or 1.0
        return {"duration_s": round(self.duration_s, 2), "caller_speech_s": round(self.caller_speech_s, 2),
                "caller_speech_ratio": round(self.caller_speech_s / d, 3),
                "heard_speech_s": None if self.heard_speech_s is None else round(self.heard_speech_s, 2),
                "heard_speech_ratio": None if self.heard_speech_s is None else round(self.heard_speech_s / d, 3),
                "longest_silence_s": round(self.longest_silence_s, 2),
                "talk_over_s": None if self.talk_over_s is None else round(self.talk_over_s, 2),
                "review_reasons": list(self.review_reasons)}


def analyse(mixed: Path, caller: Path | None = None, heard: Path | None = None,
            rules: ReviewRules | None = None) -> Analysis:
    """Analyse a call's recording; both channel files when there are, else the mix (blocking: run in a thread)."""
    rules = rules or ReviewRules()
    if caller is not None and heard is not None:
        said, got = speech_frames(caller), speech_frames(heard)
        n = max(len(said), len(got))
        said, got = _padded(said, n), _padded(got, n)
        silence = [not a and not b for a, b in zip(said, got, strict=True)]
        over = sum(a and b for a, b in zip(said, got, strict=True))
        talking = sum(a or b for a, b in zip(said, got, strict=True))
        result_heard: float | None = sum(got) * FRAME_S
        talk_over: float | None = over * FRAME_S
        caller_speech = sum(said) * FRAME_S
    else:
        mix = speech_frames(mixed)
        n, silence = len(mix), [not f for f in mix]
        over, talking, result_heard, talk_over = 0, 0, None, None
        caller_speech = sum(mix) * FRAME_S
    longest = _longest_run(silence) * FRAME_S
    reasons = []
    if longest >= rules.longest_silence_s:
        reasons.append("long_silence")
    if talking and over / talking >= rules.talk_over_ratio:
        reasons.append("talk_over")
    return Analysis(n * FRAME_S, caller_speech, result_heard, longest, talk_over, tuple(reasons))
