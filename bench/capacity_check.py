"""`bench capacity`'s judgements, kept apart from the calls so they can be tested on their own: is a
recording complete, did the media keep real time, did a ramp step hold, and which step was the last good one.

A recording is complete when its WAV holds at least `MIN_SHARE` of the audio the citizen's phone sent (its RTP
packets counted by the world's Asterisk at the hang-up), less `MEDIA_START_S` (frames counted, not the header's
claim), and the caller's side carries audio all through: the bench's citizens send a steady tone, so a 100 ms
window without it means audio was lost on the way to the file. The citizen talks from the hotline's answer, so
the recording must also cover the greeting and the queue, not only the bridge.

What the citizen sent is also checked against the clock: on one machine the world's phones share the cores with
the node, and a machine that is full sends less audio than the call lasted (measured: 5–9 s short in 48 s at 150
calls with other work running). A call whose citizen sent less than `REAL_TIME_SHARE` of its connected time did
not keep real time; a step with more than 1 % of such calls did not hold, whichever side it was: the machine, not
only the recorder, was full. Before this check the bench compared recordings with the connected time alone and
counted the world's lag as lost recording.
"""

from __future__ import annotations

import array
import math
import struct
from dataclasses import dataclass
from pathlib import Path

MIN_SHARE = 0.99  # a recording shorter than this share of the connected time is short
# Asterisk's Answer() reads (and drops) incoming media until the first voice frame, up to 500 ms, before the
# dialplan goes on to MixMonitor: measured 0.15-0.3 s at low load on both sides
MEDIA_START_S = 0.5
MIN_COMPLETE = 0.99  # a step holds when at least this share of its recordings is complete, and of its calls on time
REAL_TIME_SHARE = 0.98  # a citizen who sent less audio than this share of the connected time fell behind
WINDOW_S = 0.1
SILENT_RMS = 100.0  # below this (16-bit samples) a window has no tone in it; the bench's tone is ~ -12 dBFS
EDGE_S = 1.0  # the first and last second may lack the tone (media starting, hang-up)
MAX_SILENT_SHARE = 0.01  # of the windows between the edges


@dataclass(frozen=True)
class WavFacts:
    seconds: float  # from the frames actually in the file
    silent_share: float  # windows without audio, between the edges


def wav_facts(path: Path) -> WavFacts:
    """Duration from the frames in the file and the share of silent 100 ms windows (16-bit PCM); the data runs to
    the end of the file whatever the header says (Asterisk writes the sizes only when it closes the file)."""
    rate, channels, samples = read_pcm(path)
    frames = len(samples) // channels
    step = max(1, int(rate * WINDOW_S)) * channels
    edge = int(EDGE_S / WINDOW_S)
    windows = [samples[i:i + step] for i in range(0, len(samples) - step + 1, step)][edge:-edge or None]
    silent = sum(1 for win in windows if _rms(win) < SILENT_RMS)
    return WavFacts(frames / rate, silent / len(windows) if windows else 1.0)


def read_pcm(path: Path) -> tuple[int, int, array.array[int]]:
    """(rate, channels, samples) of a 16-bit PCM WAV, the data chunk read to the end of the file."""
    data = path.read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError(f"{path.name}: not a WAV file")
    at, fmt = 12, None
    while at + 8 <= len(data):
        kind, size = data[at:at + 4], struct.unpack("<I", data[at + 4:at + 8])[0]
        if kind == b"fmt ":
            fmt = struct.unpack("<HHIIHH", data[at + 8:at + 24])
        elif kind == b"data":
            if fmt is None or fmt[0] != 1 or fmt[5] != 16:
                raise ValueError(f"{path.name}: not 16-bit PCM")
            body = data[at + 8:]
            samples = array.array("h", body[: len(body) // 2 * 2])
            return fmt[2], fmt[1], samples
        at += 8 + size + (size & 1)
    raise ValueError(f"{path.name}: no audio data")


def closed(path: Path) -> bool:
    """Asterisk has closed the WAV: the RIFF size in its header matches the file (written on close)."""
    try:
        with path.open("rb") as f:
            head = f.read(8)
        return len(head) == 8 and struct.unpack("<I", head[4:8])[0] + 8 == path.stat().st_size
    except OSError:
        return False


def _rms(window: array.array[int]) -> float:
    return math.sqrt(sum(s * s for s in window) / len(window)) if window else 0.0


def recording_complete(mix: WavFacts | None, caller: WavFacts | None, sent_s: float) -> bool:
    """The mix and the caller's side both last `MIN_SHARE` of the audio the citizen sent (less the media start),
    and the caller's side has its audio all through; a missing file is incomplete."""
    if mix is None or caller is None or sent_s <= 0:
        return False
    long_enough = min(mix.seconds, caller.seconds) >= MIN_SHARE * sent_s - MEDIA_START_S
    return long_enough and caller.silent_share <= MAX_SILENT_SHARE


def kept_real_time(sent_s: float, connected_s: float) -> bool:
    """The citizen's phone sent audio for at least `REAL_TIME_SHARE` of the time the call was connected."""
    return connected_s > 0 and sent_s >= REAL_TIME_SHARE * connected_s


@dataclass(frozen=True)
class StepTally:
    """One ramp step of one side: how many calls, and what became of them."""

    calls: int
    answered: int  # the hotline answered
    bridged: int  # an agent's phone answered and the two were connected
    dropped: int  # ended before the bench hung up
    complete: int  # recordings complete
    late: int = 0  # calls whose citizen's audio fell behind real time (the machine was full)

    @property
    def failures(self) -> int:
        return (self.calls - self.answered) + (self.answered - self.bridged) + self.dropped

    @property
    def complete_share(self) -> float:
        return self.complete / self.calls if self.calls else 0.0

    @property
    def on_time_share(self) -> float:
        return 1 - self.late / self.calls if self.calls else 0.0

    @property
    def held(self) -> bool:
        """Every call answered, bridged and kept, the recordings complete and the media in real time."""
        return (self.calls > 0 and self.failures == 0 and self.complete_share >= MIN_COMPLETE
                and self.on_time_share >= MIN_COMPLETE)


def last_good(steps: list[StepTally]) -> StepTally | None:
    """The last step before the first that did not hold (the ramp stops there); None if the first failed."""
    good: StepTally | None = None
    for step in steps:
        if not step.held:
            break
        good = step
    return good
