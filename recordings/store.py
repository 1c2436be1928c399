"""Where stored recordings live: a local dated tree by default, S3-compatible object storage as an option.

A store writes a file under its final name only when it is complete: the worker writes into
`scratch(key)`, then `put` moves it into place (local: fsync and rename, read-only; S3: one upload
with its SHA-256 checked by the server). Leftover scratch files (a worker killed mid-write) are
removed at start-up. A stored file is found again by its *location*: an absolute path for the local
store, `s3://bucket/key` for object storage.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Store(Protocol):
    kind: str  # local | s3

    def scratch(self, key: str) -> Path:
        """A local path to write the file for `key` into before `put` (its directory exists)."""

    async def put(self, scratch: Path, key: str, content_type: str) -> str:
        """Store the finished scratch file under `key` (the scratch file is consumed); its location."""

    async def sha256(self, location: str) -> str | None:
        """Hash of the stored bytes, read back from the store; None when the file is missing."""

    async def size(self, location: str) -> int | None:
        """Stored size in bytes; None when missing."""

    def read(self, location: str, first: int = 0, last: int | None = None) -> AsyncIterator[bytes]:
        """The stored bytes first..last (inclusive), in chunks."""

    async def delete(self, location: str) -> None:
        """Remove a stored file (retention); missing is fine."""

    async def clean_scratch(self) -> int:
        """Remove half-written files left by a killed worker; how many."""


class LocalStore:
    """A YYYY/MM/DD tree on a local (or mounted) filesystem; files read-only once stored."""

    kind = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def final(self, key: str) -> Path:
        return self.root / key

    def scratch(self, key: str) -> Path:
        final = self.final(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        return final.with_name(final.name + ".part")

    async def put(self, scratch: Path, key: str, content_type: str) -> str:
        final = self.final(key)
        await asyncio.to_thread(self._commit, scratch, final)
        return str(final)

    @staticmethod
    def _commit(part: Path, final: Path) -> None:
        """fsync the part file, rename it to its final name, make it read-only, fsync the directory."""
        with part.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(part, final)
        final.chmod(0o400)  # read-only, and the service's user's only
        dir_fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    async def sha256(self, location: str) -> str | None:
        path = Path(location)
        return await asyncio.to_thread(sha256_of, path) if path.exists() else None

    async def size(self, location: str) -> int | None:
        path = Path(location)
        return path.stat().st_size if path.exists() else None

    async def read(self, location: str, first: int = 0, last: int | None = None) -> AsyncIterator[bytes]:
        with Path(location).open("rb") as f:
            f.seek(first)
            left = None if last is None else last - first + 1
            while left is None or left > 0:
                block = f.read(1 << 16 if left is None else min(1 << 16, left))
                if not block:
                    return
                if left is not None:
                    left -= len(block)
                yield block

    async def delete(self, location: str) -> None:
        path = Path(location)
        if path.exists():
            path.chmod(0o600)
            path.unlink(missing_ok=True)

    async def clean_scratch(self) -> int:
        def clean() -> int:
            if not self.root.exists():
                return 0
            parts = list(self.root.rglob("*.part"))
            for part in parts:
                part.unlink(missing_ok=True)
            return len(parts)
        return await asyncio.to_thread(clean)
