"""Call-progress tones: the SIT and China's 450 Hz cadences on synthesised tones, in noise, and never on a voice
(the carrier's Chinese announcements as the project renders them, and Asterisk's recorded English prompts)."""

from __future__ import annotations

import asyncio
import math
import random
import wave
from pathlib import Path

import pytest

from callback.early_media import early_media
from callback.tones import detect_tones
from hotline.core.asterisk.root import AsteriskRoot
from hotline.core.audio.prompts import PromptRenderer
from integration.world.render import CARRIER_ANNOUNCEMENTS

RATE = 8000
Samples = list[int]


def tone(*freqs: float, s: float, level: float = 8000.0) -> Samples:
    """A steady tone (the sum of `freqs`) for `s` seconds."""
    return [int(sum(level / len(freqs) * math.sin(2 * math.pi * f * i / RATE) for f in freqs))
            for i in range(int(s * RATE))]


def silence(s: float) -> Samples:
    return [0] * int(s * RATE)


def noisy(samples: Samples, snr_db: float, seed: int = 7) -> Samples:
    """White noise added at this signal-to-noise ratio (of the whole stretch)."""
    power = sum(x * x for x in samples) / len(samples)
    sd = math.sqrt(power / 10 ** (snr_db / 10))
    rnd = random.Random(seed)
    return [max(-32768, min(32767, int(x + rnd.gauss(0, sd)))) for x in samples]


def pcm(samples: Samples) -> bytes:
    return b"".join(x.to_bytes(2, "little", signed=True) for x in samples)


SIT = tone(950, s=0.33) + tone(1400, s=0.33) + tone(1800, s=0.33) + silence(1.0)  # ITU-T E.180
SIT_NORTH_AMERICA = tone(913.8, s=0.274) + tone(1370.6, s=0.274) + tone(1776.7, s=0.38) + silence(1.0)
BUSY = (tone(450, s=0.35) + silence(0.35)) * 4
CONGESTION = (tone(450, s=0.7) + silence(0.7)) * 3
RINGBACK = (tone(450, s=1.0) + silence(4.0)) * 2
VACANT = (tone(450, s=0.1) + silence(0.1)) * 3 + tone(450, s=0.4) + silence(0.4)  # 空号音
US_RINGBACK = (tone(440, 480, s=2.0) + silence(4.0)) * 2


@pytest.mark.parametrize(("audio", "tone_s"), [
    (SIT, 0.99), (SIT_NORTH_AMERICA, 0.93), (silence(0.5) + SIT + tone(450, s=1.0), 1.99),
    (noisy(silence(0.3) + SIT, 10), 0.99), (noisy(SIT, 5), 0.99), ([x // 40 for x in SIT], 0.99),
], ids=["itu", "north-america", "between-other-tones", "noise-10db", "noise-5db", "quiet"])
def test_the_special_information_tone_is_found(audio: Samples, tone_s: float) -> None:
    found = detect_tones(pcm(audio))
    assert found.sit and found.not_in_service
    assert found.tone_s == pytest.approx(tone_s, abs=0.1)


@pytest.mark.parametrize("audio", [
    tone(950, s=0.33) + tone(1400, s=0.33) + silence(1.0),  # two segments only
    tone(1800, s=0.33) + tone(1400, s=0.33) + tone(950, s=0.33),  # falling
    tone(950, s=0.1) + tone(1400, s=0.1) + tone(1800, s=0.1),  # chirps, too short
    tone(950, s=0.33) + silence(0.3) + tone(1400, s=0.33) + silence(0.3) + tone(1800, s=0.33),  # far apart
    tone(950, s=2.0) + tone(1400, s=2.0) + tone(1800, s=2.0),  # too long
    tone(950, 1400, 1800, s=1.0),  # all at once
], ids=["two", "falling", "chirps", "apart", "long", "chord"])
def test_what_is_not_a_sit(audio: Samples) -> None:
    assert not detect_tones(pcm(audio)).sit


@pytest.mark.parametrize(("audio", "cadence"), [
    (BUSY, "busy"), (CONGESTION, "congestion"), (RINGBACK, "ringback"), (VACANT, "vacant"),
    (noisy(BUSY, 10), "busy"), (noisy(VACANT * 2, 10), "vacant"), (silence(0.6) + RINGBACK, "ringback"),
], ids=["busy", "congestion", "ringback", "vacant", "busy-noise", "vacant-noise", "ringback-late"])
def test_chinas_450_hz_cadences_are_told_apart(audio: Samples, cadence: str) -> None:
    found = detect_tones(pcm(audio))
    assert found.cadences == {cadence} and not found.sit
    assert found.not_in_service == (cadence == "vacant")


def test_steady_or_foreign_tones_name_no_cadence() -> None:
    assert detect_tones(pcm(tone(450, s=5.0))).cadences == set(), "a dial tone is steady"
    assert not detect_tones(pcm(US_RINGBACK)).cadences, "440+480 Hz, 2 s on 4 s off: not China's"
    assert detect_tones(pcm(noisy(silence(3.0), 0) + silence(1.0))).tone_s == 0.0, "noise is no tone"


def _wav_pcm(path: Path) -> bytes:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) == (RATE, 2, 1)
        return wav.readframes(wav.getnframes())


@pytest.fixture(scope="module")
def announcements(asterisk_root: AsteriskRoot, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The carrier's Chinese announcements, synthesised the way the world's are (espeak-ng in the root)."""
    folder = tmp_path_factory.mktemp("announcements")
    renderer = PromptRenderer(asterisk_root, folder / "cache")
    paths = asyncio.run(renderer.render_all(CARRIER_ANNOUNCEMENTS, folder))
    return {key: _wav_pcm(path) for key, path in paths.items()}


@pytest.mark.asterisk
def test_a_voice_is_never_a_tone(announcements: dict[str, bytes], asterisk_root: AsteriskRoot) -> None:
    recorded = sorted((asterisk_root.path / "usr/share/asterisk/sounds/en_US_f_Allison").glob("*.wav"))[::12]
    voices = [*announcements.values(), *map(_wav_pcm, recorded)]
    assert sum(len(v) for v in voices) / 2 / RATE > 120, "minutes of speech, synthesised and recorded"
    for voice in voices:
        found = detect_tones(voice)
        assert not found.sit and not found.cadences
        assert found.tone_s < 0.1 * len(voice) / 2 / RATE


@pytest.mark.asterisk
def test_the_carriers_sit_and_announcement_as_early_media(announcements: dict[str, bytes]) -> None:
    spoken = announcements["carrier-invalid"]
    heard = early_media(pcm(silence(0.4) + SIT) + spoken)
    assert heard.tones.sit
    assert heard.speech_s == pytest.approx(early_media(spoken).speech_s, abs=0.3), "the SIT is not speech"
    assert heard.speech_s >= 1.5
    tones_only = early_media(pcm(SIT + BUSY + CONGESTION))
    assert tones_only.speech_s == 0.0 and tones_only.tones.cadences == {"busy", "congestion"}
