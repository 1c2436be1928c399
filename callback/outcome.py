"""How a revisit call ended, from what Asterisk and the carrier said (R-REV-4, issue 8 §3), and when to try again.

The dial's end (DIALSTATUS) and the Originate result say answered / no answer / busy / congestion;
the hang-up cause (Q.850) says more, as far as it survives SIP: 1 unallocated number (空号, a 404) does;
20 subscriber absent (关机 / 不在服务区) mostly arrives as a 480, cause 19 like a phone that rang out,
but at once or after the carrier's announcement rather than after ringing; 21 is any refusal (403, 603,
and what a carrier that says nothing more sends). What the carrier plays before failing is recorded
(early media) and checked for speech (webrtcvad) and for the network's tones (`callback.tones`): a
special information tone (SIT) or the 空号音 says the number is not in service. So, without ASR:

- `invalid_number` 空号: cause 1 (or 3, 22, 28). Never called again.
- `suspended` 停机: a SIT (or the 空号音) and a refusal (21). One more call, late (停机 is often lifted).
- `not_in_service` 空号 or 停机, not told which: a SIT and another cause. As 停机.
- `phone_off` 关机 / 不在服务区: cause 20, or a 480 (19) at once or after an announcement. Again later.
- `unreachable` 无法接通: an announcement without a SIT, and a cause that says nothing more. Again later.

Only an answered call can hold a conversation; what happened in it is the survey's business (a recorded
greeting that answers is told apart there).
"""

from __future__ import annotations

from callback.tones import NO_TONES, Tones
from hotline.core.asterisk.ami import OriginateReason

INVALID_CAUSES = frozenset({1, 3, 22, 28})  # unallocated, no route, number changed, invalid format: 空号
ABSENT_CAUSES = frozenset({20})  # subscriber absent: 关机 / 不在服务区
REJECTED_CAUSES = frozenset({21})  # call rejected (403, 603): after a SIT, 停机
UNREACHABLE_CAUSES = frozenset({18, 27, 31})  # no user responding, out of order, unspecified
BUSY_CAUSES = frozenset({17})
NO_ANSWER_CAUSES = frozenset({19})
CONGESTION_CAUSES = frozenset({34, 38, 41, 42, 44})  # the network, not the number: try again

# try again later; `machine`: a voicemail or an announcement answered, nobody pressed a key
RETRY = frozenset({"no_answer", "busy", "unreachable", "phone_off", "suspended", "not_in_service", "failed",
                   "no_input", "hung_up", "machine"})
LATE = frozenset({"suspended", "not_in_service"})  # not in service now: one more try, a day on (see retry_delay_s)
LATE_FACTOR = 12  # a late try waits this many retry intervals: a day with the shipped two hours
FINAL = frozenset({"invalid_number"})  # never again: the number is not in service


_STATUS_OF = {OriginateReason.ANSWERED: "ANSWER", OriginateReason.BUSY: "BUSY",
              OriginateReason.RINGING_TIMEOUT: "NOANSWER", OriginateReason.NO_ANSWER: "NOANSWER"}


def classify(reason: OriginateReason, cause: int, rang_s: float | None = None,
             ring_timeout_s: float | None = None) -> str:
    """From the Originate result alone (the dial's own report did not come): no early media to check."""
    if rang_s is None or ring_timeout_s is None:
        rang_s, ring_timeout_s = 1.0, 0.0  # no timing known: a refusal at once cannot be told from no answer
    return classify_dial(_STATUS_OF.get(reason, ""), cause, 0.0, rang_s, ring_timeout_s)

ANNOUNCEMENT_SPEECH_S = 1.5  # ringback is tone, not speech; a carrier's announcement talks


def classify_dial(status: str, cause: int, early_speech_s: float, rang_s: float, ring_timeout_s: float,
                  tones: Tones = NO_TONES) -> str:
    """From how the dial ended (DIALSTATUS, the carrier's cause) and its early media: seconds of speech
    (tones not counted) and the network's tones (see the list above)."""
    if status == "ANSWER":
        return "answered"
    announced = early_speech_s >= ANNOUNCEMENT_SPEECH_S
    if cause in INVALID_CAUSES:
        return "invalid_number"
    if cause in ABSENT_CAUSES:
        return "phone_off"
    if tones.not_in_service and cause not in CONGESTION_CAUSES:
        return "suspended" if cause in REJECTED_CAUSES else "not_in_service"
    if status == "BUSY" or cause in BUSY_CAUSES or "busy" in tones.cadences:
        return "busy"
    if cause in NO_ANSWER_CAUSES and (announced or rang_s < ring_timeout_s / 2):
        return "phone_off"  # 480 at once or after an announcement: switched off, not a phone that rang out
    if announced or cause in UNREACHABLE_CAUSES:
        return "unreachable"
    if status == "NOANSWER" or cause in NO_ANSWER_CAUSES:
        return "no_answer"
    return "failed"


def retry_delay_s(outcome: str, before: str | None, retry_after_s: int) -> int | None:
    """Seconds until the task's next call after this outcome (`before`: its previous call's), or None when
    the number is not to be called again: never after 空号; once more, a day on, after a number not in
    service (停机 is often lifted when the bill is paid), but not after a second such call in a row."""
    if outcome in FINAL:
        return None
    if outcome in LATE:
        return None if before in LATE else retry_after_s * LATE_FACTOR
    if outcome in RETRY or outcome == "answered":  # answered: the survey could not say how it went
        return retry_after_s
    raise ValueError(f"unknown outcome {outcome}")
