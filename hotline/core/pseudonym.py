"""Callers' numbers past their retention period become keyed pseudonyms: the same number always gives the
same pseudonym (repeat-caller counts and statistics still work) but without the key nobody can tell which
number it was. The key is made once per deployment and kept 0600 in the home folder."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

PREFIX = "h:"  # "h:" and 20 hex digits: fits every number column (the narrowest is 32)


class Pseudonyms:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the pseudonym key is too short")
        self._key = key

    @classmethod
    def load_or_create(cls, path: Path) -> Pseudonyms:
        """The deployment's key from `path`, made (0600) on first use."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
        return cls(bytes.fromhex(path.read_text().strip()))

    def of(self, number: str) -> str:
        """The pseudonym of `number`; a pseudonym stays as it is."""
        if is_pseudonym(number):
            return number
        return PREFIX + hmac.new(self._key, number.encode(), hashlib.sha256).hexdigest()[:20]


def is_pseudonym(value: str | None) -> bool:
    return value is not None and value.startswith(PREFIX)
