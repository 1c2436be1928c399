"""`bench capacity`: when a recording counts as complete, when a ramp step holds, where the ramp stops."""

from __future__ import annotations

import array
import math
import struct
import wave
from pathlib import Path

import pytest

from bench.capacity import FULL, QUICK, _between, _estimate_s, _figure
from bench.capacity_calls import RAW_CONTEXT, raw_contexts
from bench.capacity_check import StepTally, WavFacts, closed, kept_real_time, last_good, recording_complete, wav_facts

RATE = 8000


def _wav(path: Path, seconds: float, gap: tuple[float, float] | None = None, amplitude: int = 7000) -> Path:
    """A 440 Hz tone of `seconds`, silent between `gap`'s two times (s)."""
    samples = array.array("h")
    for i in range(round(seconds * RATE)):
        t = i / RATE
        silent = gap is not None and gap[0] <= t < gap[1]
        samples.append(0 if silent else round(amplitude * math.sin(2 * math.pi * 440 * t)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())
    return path


def test_a_steady_tone_is_whole_and_its_length_comes_from_the_frames(tmp_path: Path) -> None:
    facts = wav_facts(_wav(tmp_path / "a.wav", 12.0))
    assert facts.seconds == pytest.approx(12.0)
    assert facts.silent_share == 0.0


def test_a_gap_in_the_audio_shows_as_silent_windows_but_the_edges_do_not_count(tmp_path: Path) -> None:
    gapped = wav_facts(_wav(tmp_path / "gap.wav", 12.0, gap=(5.0, 5.5)))
    assert gapped.silent_share == pytest.approx(5 / 100, abs=0.011)  # 5 of the 100 windows between the edges
    late_start = wav_facts(_wav(tmp_path / "start.wav", 12.0, gap=(0.0, 0.6)))
    assert late_start.silent_share == 0.0


def test_the_length_is_what_the_file_holds_whatever_its_header_says(tmp_path: Path) -> None:
    path = _wav(tmp_path / "cut.wav", 10.0)
    data = path.read_bytes()
    assert closed(path)
    path.write_bytes(data[: len(data) // 2])  # the header still says 10 s
    assert wav_facts(path).seconds == pytest.approx(5.0, abs=0.01)
    assert not closed(path)
    stale = bytearray(data)  # as Asterisk leaves a WAV it still writes: sizes in the header not yet set
    stale[4:8] = struct.pack("<I", 36)
    stale[40:44] = struct.pack("<I", 0)
    (tmp_path / "open.wav").write_bytes(bytes(stale))
    assert wav_facts(tmp_path / "open.wav").seconds == pytest.approx(10.0)
    assert not closed(tmp_path / "open.wav")


def test_what_is_not_16_bit_pcm_wav_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.wav").write_bytes(b"RIFF\x04\x00\x00\x00WAVE")
    with pytest.raises(ValueError, match="no audio"):
        wav_facts(tmp_path / "x.wav")
    (tmp_path / "y.wav").write_bytes(b"not a wav at all")
    with pytest.raises(ValueError, match="not a WAV"):
        wav_facts(tmp_path / "y.wav")


def test_complete_needs_both_files_long_enough_and_no_lost_audio() -> None:
    whole = WavFacts(seconds=29.8, silent_share=0.0)
    assert recording_complete(whole, whole, sent_s=30.0)
    short = WavFacts(seconds=28.0, silent_share=0.0)  # 2 s of what a 30 s citizen said missing
    assert not recording_complete(short, whole, sent_s=30.0)
    assert not recording_complete(whole, short, sent_s=30.0)
    assert not recording_complete(whole, WavFacts(seconds=29.8, silent_share=0.05), sent_s=30.0)
    assert not recording_complete(None, whole, sent_s=30.0)
    assert not recording_complete(whole, None, sent_s=30.0)
    assert not recording_complete(whole, whole, sent_s=0.0)


def test_the_media_start_is_allowed_but_one_percent_plus_half_a_second_is_the_limit() -> None:
    assert recording_complete(WavFacts(29.2, 0.0), WavFacts(29.2, 0.0), sent_s=30.0)  # 0.99*30 - 0.5 = 29.2
    assert not recording_complete(WavFacts(29.1, 0.0), WavFacts(29.1, 0.0), sent_s=30.0)


def test_a_recording_is_judged_by_what_the_citizen_sent_and_the_machine_by_the_clock() -> None:
    # 150 calls on a busy machine (measured): the citizen's phone sent 42 s in a 48 s call, all of it recorded
    recorded = WavFacts(41.9, 0.0)
    assert recording_complete(recorded, recorded, sent_s=42.0)
    assert not kept_real_time(sent_s=42.0, connected_s=48.0)
    assert kept_real_time(sent_s=47.1, connected_s=48.0) and not kept_real_time(sent_s=47.0, connected_s=48.0)
    assert not kept_real_time(sent_s=1.0, connected_s=0.0)


def test_a_step_with_calls_behind_real_time_does_not_hold() -> None:
    assert _tally(100, late=1).held and _tally(100, late=1).on_time_share == 0.99
    assert not _tally(100, late=2).held


def _tally(calls: int, answered: int | None = None, bridged: int | None = None, dropped: int = 0,
           complete: int | None = None, late: int = 0) -> StepTally:
    answered = calls if answered is None else answered
    bridged = answered if bridged is None else bridged
    return StepTally(calls, answered, bridged, dropped, bridged if complete is None else complete, late)


def test_a_step_holds_only_with_every_call_answered_bridged_and_kept() -> None:
    assert _tally(10).held
    assert not _tally(10, answered=9).held
    assert not _tally(10, bridged=9).held
    assert not _tally(10, dropped=1).held
    assert _tally(10, answered=9).failures == 1 and _tally(10, bridged=8, dropped=1).failures == 3
    assert not _tally(0).held


def test_a_step_holds_with_at_most_one_percent_of_recordings_incomplete() -> None:
    assert _tally(100, complete=99).held
    assert not _tally(100, complete=98).held
    assert not _tally(50, complete=49).held  # 98 %


def test_the_ramp_reports_the_last_step_before_the_first_failure() -> None:
    steps = [_tally(10), _tally(30), _tally(60, bridged=59), _tally(100)]
    good = last_good(steps)
    assert good is not None and good.calls == 30
    assert last_good([_tally(10, dropped=1), _tally(30)]) is None
    all_good = last_good([_tally(10), _tally(30)])
    assert all_good is not None and all_good.calls == 30
    assert last_good([]) is None


def test_the_raw_baseline_records_like_ours_and_dials_the_agent_straight() -> None:
    conf = raw_contexts(["8001", "8002"], "/srv/rec")
    assert "exten => raw8001,1,Goto(bench-capacity-raw,8001,1)" in conf
    section = conf.split(f"[{RAW_CONTEXT}]\n", 1)[1]
    assert "AGI" not in section and "Queue" not in section
    assert "MixMonitor(${REC}.wav,r(${REC}-caller.wav)t(${REC}-heard.wav))" in section
    assert "Dial(PJSIP/${EXTEN},30)" in section


def test_the_sizes_are_bounded() -> None:
    assert max(FULL.steps) <= 200 and FULL.time_cap_s <= 20 * 60 and FULL.hold_s >= 30
    assert QUICK.time_cap_s <= 3 * 60 and len(QUICK.agents) == max(QUICK.steps)
    assert list(FULL.steps) == sorted(FULL.steps)
    assert _estimate_s(200, (150, 100.0)) > 100.0  # the next step's guess grows with the calls
    assert _estimate_s(200, (150, 100.0)) < 200.0 * 1.1  # but holding and clearing do not


def test_one_more_step_halves_the_gap_where_a_side_failed() -> None:
    assert _between([_tally(10), _tally(30), _tally(60), _tally(100), _tally(150, dropped=3)]) == 125
    assert _between([_tally(10), _tally(30), _tally(60, late=5)]) == 45
    assert _between([_tally(10, dropped=1)]) is None  # 0 to 10: too close to refine
    assert _between([_tally(10), _tally(30)]) is None  # nothing failed: no refining
    assert _between([]) is None


def test_a_refined_step_that_held_is_the_figure_else_the_ramps_last_good() -> None:
    ramp = [_tally(60), _tally(100), _tally(150, late=10)]
    good = _figure(ramp, _tally(125))
    assert good is not None and good.calls == 125
    fallback = _figure(ramp, _tally(125, dropped=1))
    assert fallback is not None and fallback.calls == 100
    only = _figure(ramp, None)
    assert only is not None and only.calls == 100
