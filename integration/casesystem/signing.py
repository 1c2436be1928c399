"""HMAC-SHA256 signatures over timestamp and body, shared by both directions of the case-system link.

A request carries `X-Signature-Timestamp` (Unix seconds) and `X-Signature` (hex HMAC of
"<timestamp>.<body>"). The receiver refuses a bad signature, and a timestamp outside the allowed skew
(replays of old requests); replays inside the window are caught by the event or idempotency key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping

TIMESTAMP = "X-Signature-Timestamp"
SIGNATURE = "X-Signature"
MAX_SKEW_S = 300
_STAMP = re.compile(r"[0-9]{1,12}")  # ASCII only: str.isdigit() also takes '１' and '²' (int() fails on the latter)
_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


class BadSignature(ValueError):
    """Missing, wrong or stale signature."""


def sign(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """Headers that sign `body`."""
    stamp = str(int(now if now is not None else time.time()))
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {TIMESTAMP: stamp, SIGNATURE: digest}


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float | None = None) -> None:
    """Raise BadSignature unless the headers sign `body` within the allowed clock skew."""
    stamp, given = headers.get(TIMESTAMP, "").strip(), headers.get(SIGNATURE, "").strip()
    if not _STAMP.fullmatch(stamp) or not _DIGEST.fullmatch(given):
        raise BadSignature(f"send {TIMESTAMP} (Unix seconds) and {SIGNATURE} (64 hex digits)")
    skew = abs((now if now is not None else time.time()) - int(stamp))
    if skew > MAX_SKEW_S:
        raise BadSignature(f"timestamp is {int(skew)} s away from now (at most {MAX_SKEW_S} s)")
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given.lower()):
        raise BadSignature("signature does not match")
