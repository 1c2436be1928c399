"""Call-progress tones in telephone audio: the special information tone and China's 450 Hz tones.

A carrier that cannot complete a call says so in its early media: the ITU-T E.180 special information
tone (SIT: 950, 1400, 1800 Hz, about 330 ms each, rising) before an announcement that the number is not
in service, or one of the national tones of China (YD/T 1278 style: 450 Hz busy 0.35 s on / 0.35 s off,
congestion 0.7 / 0.7, ringback 1 / 4, and the 空号音 of three short 0.1 s beeps and a long 0.4 s one).

The audio is cut into 20 ms blocks and each block's power at a few probe frequencies is measured (the
Goertzel term, one DFT bin at any frequency, computed as two dot products with precomputed tables so
Python does the loop at C speed). A block is a tone when one probe holds most of its energy; a voice
spreads its energy over many harmonics, and a vowel that is pure for a moment names no tone, because
a tone is named only from a run of such blocks with the right lengths, order and cadence.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from operator import mul
from typing import TypeVar

T = TypeVar("T")
BLOCK_S = 0.02
PURITY = 0.6  # share of a block's energy at one probe frequency that makes it a tone
FLOOR = 30.0  # RMS below this (about -60 dBFS) is silence, not a tone


@dataclass(frozen=True)
class _Band:
    """A tone's frequency with its tolerance, probed every 25 Hz (a 20 ms block's bin is 50 Hz wide)."""

    label: str
    probes: tuple[float, ...]


_BANDS = (
    _Band("450", (437.5, 450.0, 462.5)),  # China's call-progress tones
    _Band("sit1", (900.0, 925.0, 950.0, 975.0, 1000.0)),  # the SIT's three segments, each ±50 Hz (so the
    _Band("sit2", (1350.0, 1375.0, 1400.0, 1425.0, 1450.0)),  # North American 914/985, 1371/1429 and 1777 Hz
    _Band("sit3", (1750.0, 1775.0, 1800.0, 1825.0, 1850.0)),  # variants count too)
)
_SIT = ("sit1", "sit2", "sit3")
_SIT_SEGMENT_S = (0.2, 0.46)  # 330 ms ± 70 (ITU-T), 274 or 380 ms (North America), ± a block at each end
_SIT_GAP_S = 0.07  # at most 30 ms of silence between segments, plus the blocks that straddle a change

# China's 450 Hz cadences as (shortest, longest) seconds of tone, silence, tone …, starting with a tone
_CADENCES: dict[str, tuple[tuple[float, float], ...]] = {
    "busy": ((0.25, 0.45),) * 3,
    "congestion": ((0.55, 0.85),) * 3,
    "ringback": ((0.8, 1.25), (3.5, 4.5), (0.8, 1.25)),
    "vacant": ((0.05, 0.16),) * 6 + ((0.3, 0.5),),  # 空号音: three short, then a long one
}


@dataclass(frozen=True)
class Tones:
    """The call-progress tones heard in a stretch of audio."""

    sit: bool = False
    cadences: frozenset[str] = frozenset()  # busy, congestion, ringback, vacant (空号音)
    blocks: tuple[str | None, ...] = field(default=(), repr=False)  # each 20 ms block's tone, if any

    @property
    def not_in_service(self) -> bool:
        """The network's own sign that the number cannot be served: a SIT or the 空号音."""
        return self.sit or "vacant" in self.cadences

    @property
    def tone_s(self) -> float:
        return sum(1 for b in self.blocks if b is not None) * BLOCK_S

    def tone_between(self, start_s: float, end_s: float) -> bool:
        """Whether a tone sounds anywhere in this stretch."""
        first, last = max(0, int(start_s / BLOCK_S)), math.ceil(end_s / BLOCK_S)
        return any(b is not None for b in self.blocks[first:last])


NO_TONES = Tones()


def detect_tones(pcm: bytes | Sequence[int], rate: int = 8000) -> Tones:
    """The tones in mono 16-bit PCM (little-endian bytes, or samples)."""
    blocks = tuple(_smooth(block_tones(pcm, rate)))
    runs = _runs(blocks)
    on_off = _runs(tuple(b == "450" for b in blocks))
    cadences = frozenset(name for name, pattern in _CADENCES.items() if _has_cadence(on_off, pattern))
    return Tones(sit=_has_sit(runs), cadences=cadences, blocks=blocks)


def block_tones(pcm: bytes | Sequence[int], rate: int = 8000) -> list[str | None]:
    """Each 20 ms block's tone (a band's label) or None for speech, noise, silence or a mix."""
    samples = _samples(pcm)
    n = int(rate * BLOCK_S)
    probes = [(band.label, _table(f, rate, n)) for band in _BANDS for f in band.probes]
    out: list[str | None] = []
    for start in range(0, len(samples) - n + 1, n):
        block = samples[start:start + n]
        energy = sum(map(mul, block, block))
        label = None
        if energy >= FLOOR * FLOOR * n:
            for name, (cos_t, sin_t) in probes:
                re, im = sum(map(mul, block, cos_t)), sum(map(mul, block, sin_t))
                if 2 * (re * re + im * im) >= PURITY * n * energy:  # a pure tone at the probe gives 1
                    label = name  # PURITY > 1/2: no other probe can hold as much
                    break
        out.append(label)
    return out


def _samples(pcm: bytes | Sequence[int]) -> Sequence[int]:
    if not isinstance(pcm, bytes | bytearray):
        return pcm
    samples = array("h", pcm[:len(pcm) // 2 * 2])
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


@cache
def _table(freq: float, rate: int, n: int) -> tuple[list[float], list[float]]:
    w = 2 * math.pi * freq / rate
    return [math.cos(w * i) for i in range(n)], [math.sin(w * i) for i in range(n)]


def _smooth(blocks: Sequence[T]) -> list[T]:
    """A single block unlike both its (equal) neighbours takes theirs: a click in a tone, a blip in silence."""
    out = list(blocks)
    for i in range(1, len(out) - 1):
        if out[i - 1] == blocks[i + 1] != blocks[i]:
            out[i] = out[i - 1]
    return out


def _runs(blocks: Sequence[T]) -> list[tuple[T, float]]:
    """Consecutive equal blocks as (value, seconds)."""
    runs: list[tuple[T, float]] = []
    for b in blocks:
        if runs and runs[-1][0] == b:
            runs[-1] = (b, runs[-1][1] + BLOCK_S)
        else:
            runs.append((b, BLOCK_S))
    return runs


def _has_sit(runs: Sequence[tuple[str | None, float]]) -> bool:
    """950, 1400 and 1800 Hz segments of SIT length, in that order, with at most a short gap between."""
    low, high = _SIT_SEGMENT_S
    for i, (label, length) in enumerate(runs):
        if label != _SIT[0] or not low <= length <= high:
            continue
        j, found = i + 1, 1
        while found < len(_SIT) and j < len(runs):
            label, length = runs[j]
            if label is None and length <= _SIT_GAP_S:
                j += 1
                continue
            if label != _SIT[found] or not low <= length <= high:
                break
            found, j = found + 1, j + 1
        if found == len(_SIT):
            return True
    return False


def _has_cadence(on_off: Sequence[tuple[bool, float]], pattern: Sequence[tuple[float, float]]) -> bool:
    """Whether the 450 Hz on/off runs hold the pattern (tone, silence, tone … lengths) anywhere."""
    for i, (on, _) in enumerate(on_off):
        if not on or i + len(pattern) > len(on_off):
            continue
        if all(low <= on_off[i + k][1] <= high for k, (low, high) in enumerate(pattern)):
            return True
    return False
