"""The recordings' keys, from the environment: the current one seals new files, older ones still open theirs.

`HOTLINE_RECORDINGS_KEY` is the current key and `HOTLINE_RECORDINGS_OLD_KEYS` a comma-separated list of
keys taken out of use (each 32 bytes, as 64 hex digits or base64). `HOTLINE_RECORDINGS_ENCRYPT`:
`auto` (the default) seals when a key is set; `1` requires a key and the service refuses to start
without one, so nothing is ever written in plain by mistake; `0` writes plain files (the keys still
open sealed ones). A malformed key stops the service with a message naming the variable.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass

from recordings.sealing import KeyUnknown, key_id_of

KEY_VAR, OLD_KEYS_VAR = "HOTLINE_RECORDINGS_KEY", "HOTLINE_RECORDINGS_OLD_KEYS"
ENCRYPT_VAR = "HOTLINE_RECORDINGS_ENCRYPT"


class KeyringError(ValueError):
    """The keys in the environment cannot be used; the message says which variable and why."""


def parse_key(text: str, where: str) -> bytes:
    """32 bytes from 64 hex digits or base64 (standard or URL-safe, padded or not)."""
    text = text.strip()
    raw: bytes | None = None
    if len(text) == 64:
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raw = None
    if raw is None:
        try:
            raw = base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4),
                                   validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) != 32:
        raise KeyringError(f"{where} must be a 32-byte key as 64 hex digits or base64 "
                           f"(make one with: python3 -c 'import os; print(os.urandom(32).hex())')")
    return raw


@dataclass(frozen=True)
class Keyring:
    """Keys by id; `current` seals new files (None: files are written plain)."""

    keys: Mapping[str, bytes]
    current: str | None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Keyring:
        mode = environ.get(ENCRYPT_VAR, "auto").strip().lower() or "auto"
        if mode not in ("auto", "1", "0"):
            raise KeyringError(f"{ENCRYPT_VAR} must be auto, 1 or 0, not {mode!r}")
        current = parse_key(environ[KEY_VAR], KEY_VAR) if environ.get(KEY_VAR, "").strip() else None
        old = [parse_key(part, f"{OLD_KEYS_VAR} (key {n})")
               for n, part in enumerate(environ.get(OLD_KEYS_VAR, "").split(","), 1) if part.strip()]
        if mode == "1" and current is None:
            raise KeyringError(f"{ENCRYPT_VAR}=1 but {KEY_VAR} is not set: refusing to write recordings in plain")
        keys = {key_id_of(k): k for k in old}
        if current is not None:
            keys[key_id_of(current)] = current
        return cls(keys, key_id_of(current) if current is not None and mode != "0" else None)

    @classmethod
    def plain(cls) -> Keyring:
        return cls({}, None)

    def key(self, key_id: str) -> bytes:
        try:
            return self.keys[key_id]
        except KeyError:
            raise KeyUnknown(f"this recording is sealed with key {key_id}, which is not configured "
                             f"(set it in {KEY_VAR} or {OLD_KEYS_VAR})") from None

    @property
    def sealing_key(self) -> bytes | None:
        return self.keys[self.current] if self.current is not None else None
