"""Revisit outcomes from the network: the Originate result, the dial's status and cause, the early media's
speech and tones (空号 / 停机 / 关机 told apart without ASR), and when each is called again."""

from __future__ import annotations

import pytest

from callback.outcome import FINAL, LATE, RETRY, classify, classify_dial, retry_delay_s
from callback.tones import Tones
from hotline.core.asterisk.ami import OriginateReason

SIT = Tones(sit=True)
VACANT_TONE = Tones(cadences=frozenset({"vacant"}))  # 空号音
BUSY_TONE = Tones(cadences=frozenset({"busy"}))
RINGBACK = Tones(cadences=frozenset({"ringback"}))
SPOKEN = 4.0  # seconds of an announcement


def test_outcomes_from_the_originate_result_alone() -> None:
    assert classify(OriginateReason.ANSWERED, 16) == "answered"
    assert classify(OriginateReason.CONGESTION, 1) == "invalid_number"
    assert classify(OriginateReason.NO_ANSWER, 20) == "phone_off"
    assert classify(OriginateReason.BUSY, 17) == "busy"
    assert classify(OriginateReason.RINGING_TIMEOUT, 0) == "no_answer"
    assert classify(OriginateReason.NO_ANSWER, 19, 1.0, 30) == "phone_off", "480 at once: switched off"
    assert classify(OriginateReason.NO_ANSWER, 19, 29.0, 30) == "no_answer"
    assert classify(OriginateReason.FAILED, 0) == "failed"


@pytest.mark.parametrize(("status", "cause", "speech_s", "tones", "outcome"), [
    ("ANSWER", 16, 0.0, SIT, "answered"),
    # 空号: the cause says it, with or without the tone and the announcement
    ("CONGESTION", 1, SPOKEN, SIT, "invalid_number"),
    ("CONGESTION", 1, 0.0, Tones(), "invalid_number"),
    ("CHANUNAVAIL", 28, 0.0, Tones(), "invalid_number"),
    # 停机: a SIT (or the 空号音), then a refusal
    ("CONGESTION", 21, SPOKEN, SIT, "suspended"),
    ("CONGESTION", 21, 0.0, SIT, "suspended"),
    ("CONGESTION", 21, SPOKEN, VACANT_TONE, "suspended"),
    # not in service, but the cause does not say which: the tone alone
    ("CONGESTION", 16, SPOKEN, SIT, "not_in_service"),
    ("NOANSWER", 19, SPOKEN, VACANT_TONE, "not_in_service"),
    ("CONGESTION", 0, 0.0, SIT, "not_in_service"),
    # 关机 / 不在服务区: subscriber absent, or a 480 at once or after an announcement
    ("CHANUNAVAIL", 20, SPOKEN, Tones(), "phone_off"),
    ("CHANUNAVAIL", 20, 0.0, Tones(), "phone_off"),
    ("NOANSWER", 19, 0.0, Tones(), "phone_off"),
    ("NOANSWER", 19, SPOKEN, Tones(), "phone_off"),
    # an announcement, no SIT, a cause that says nothing more (any refusal is a 21): the generic 无法接通
    ("CONGESTION", 21, SPOKEN, Tones(), "unreachable"),
    ("CONGESTION", 16, SPOKEN, Tones(), "unreachable"),
    ("CONGESTION", 18, 0.0, Tones(), "unreachable"),
    # a SIT over a congested network is the network's trouble, not the number's
    ("CONGESTION", 34, SPOKEN, SIT, "unreachable"),
    ("CONGESTION", 34, 0.0, SIT, "failed"),
    # busy by status, cause or tone, also when an announcement says so
    ("BUSY", 17, 0.0, Tones(), "busy"),
    ("BUSY", 17, SPOKEN, Tones(), "busy"),
    ("CONGESTION", 16, 0.0, BUSY_TONE, "busy"),
    ("CONGESTION", 16, 1.0, Tones(), "failed"),
])
def test_outcomes_from_the_dial_and_its_early_media(status: str, cause: int, speech_s: float, tones: Tones,
                                                    outcome: str) -> None:
    assert classify_dial(status, cause, speech_s, 3.0, 30, tones=tones) == outcome


def test_a_phone_that_rang_out_was_not_answered() -> None:
    assert classify_dial("NOANSWER", 0, 0.0, 30.0, 30, tones=RINGBACK) == "no_answer"
    assert classify_dial("NOANSWER", 19, 0.5, 29.0, 30, tones=RINGBACK) == "no_answer"
    assert classify_dial("NOANSWER", 19, SPOKEN, 29.0, 30) == "phone_off", "the carrier said so after ringing"


def test_without_tones_the_speech_alone_decides_as_before() -> None:
    assert classify_dial("CONGESTION", 16, SPOKEN, 3.0, 30) == "unreachable"
    assert classify_dial("CONGESTION", 16, 1.0, 3.0, 30) == "failed"


def test_each_outcome_is_retried_sensibly() -> None:
    every = RETRY | FINAL | {"answered"}
    delays = {o: retry_delay_s(o, None, 7200) for o in every}
    assert {o for o, d in delays.items() if d is None} == {"invalid_number"}, "空号: never again"
    assert {o for o, d in delays.items() if d == 86400} == {"suspended", "not_in_service"} == LATE, "a day on"
    assert {o for o, d in delays.items() if d == 7200} == every - LATE - FINAL, "关机 and the rest: later"
    assert retry_delay_s("suspended", "not_in_service", 7200) is None, "one late try, not two in a row"
    assert retry_delay_s("suspended", "no_answer", 7200) == 86400
    assert retry_delay_s("phone_off", "phone_off", 7200) == 7200
    with pytest.raises(ValueError, match="unknown outcome"):
        retry_delay_s("completed", None, 7200)
