"""How a revisit call ended, from what Asterisk and the carrier said (R-REV-4, issue 8 §3).

The dial's end (DIALSTATUS) and the Originate result say answered / no answer / busy / congestion;
the hang-up cause (Q.850) the carrier sent says more: 1 unallocated number (空号), 20 subscriber
absent (关机 / 不在服务区), 27 destination out of order (停机). Over SIP a switched-off phone usually
comes back as 480 (cause 19, the same as "no answer"), but at once rather than after ringing: a 19
well before our ring timeout is counted as unreachable. What the carrier plays before failing is
recorded (early media) and checked for speech with webrtcvad: an announcement is a phone that cannot
be reached. Only an answered call can hold a conversation; what happened in it is the survey's
business (a recorded greeting that answers is told apart there).
"""

from __future__ import annotations

from hotline.asterisk.ami import OriginateReason

INVALID_CAUSES = frozenset({1, 3, 22, 28})  # unallocated, no route, number changed, invalid format: 空号
UNREACHABLE_CAUSES = frozenset({18, 20, 27, 31})  # no user responding, absent, out of order: 关机 / 停机
BUSY_CAUSES = frozenset({17})
NO_ANSWER_CAUSES = frozenset({19})

# try again later; `machine`: a voicemail or an announcement answered, nobody pressed a key
RETRY = frozenset({"no_answer", "busy", "unreachable", "failed", "no_input", "hung_up", "machine"})
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


def classify_dial(status: str, cause: int, early_speech_s: float, rang_s: float, ring_timeout_s: float) -> str:
    """From how the dial ended (DIALSTATUS, the carrier's cause) and the speech in its early media:
    an announcement before a failure means the phone could not be reached (关机 / 停机 / 无法接通), or the
    number is not in service when the cause says so (空号)."""
    if status == "ANSWER":
        return "answered"
    if cause in INVALID_CAUSES:
        return "invalid_number"
    if early_speech_s >= ANNOUNCEMENT_SPEECH_S or cause in UNREACHABLE_CAUSES:
        return "unreachable"
    if status == "BUSY" or cause in BUSY_CAUSES:
        return "busy"
    if cause in NO_ANSWER_CAUSES and rang_s < ring_timeout_s / 2:
        return "unreachable"  # refused at once (480): switched off, not a phone that rang out
    if status == "NOANSWER" or cause in NO_ANSWER_CAUSES:
        return "no_answer"
    return "failed"
