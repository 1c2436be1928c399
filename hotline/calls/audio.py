"""Stored audio for domains that serve a recording of their own (a voice message on the callback work list)
without importing the recordings domain: it publishes its store under this type once loaded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

MEDIA_TYPES = {"opus": "audio/ogg", "mp3": "audio/mpeg", "wav": "audio/wav"}


class StoredAudio(Protocol):
    async def size(self, location: str) -> int | None:
        """The stored file's size in bytes; None when it is missing."""

    def read(self, location: str, first: int = 0, last: int | None = None) -> AsyncIterator[bytes]:
        """The stored file's bytes `first`..`last` (inclusive; None: to the end)."""
