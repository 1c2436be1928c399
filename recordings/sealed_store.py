"""A store that seals what it stores and opens it again on the way out (`recordings.sealing`).

`SealedStore` wraps a local or S3 store and keeps the `Store` protocol in plaintext terms: `put` takes
a plaintext scratch file and stores it sealed with the current key; `size`, `read` (ranges too) and
`sha256` answer for the plaintext, so the worker's read-back check, `hotline recordings verify` and the
player work unchanged. Files stored before encryption was turned on are recognised (no header) and
passed through. A sealed file whose key is not configured raises `KeyUnknown`; one that does not
authenticate raises `SealBroken` while read, and has no plaintext hash (`sha256` says `broken`).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from recordings.keyring import Keyring
from recordings.sealing import HEADER_SIZE, Header, Opener, SealBroken, plain_size, seal, unseal_records
from recordings.store import Store

BROKEN = "broken"


def _seal_file(plain: Path, sealed: Path, key: bytes) -> None:
    with plain.open("rb") as src, sealed.open("wb") as dst:
        seal(src, dst, key)


async def _records(stream: AsyncIterator[bytes], lengths: Iterator[int]) -> AsyncIterator[bytes]:
    """The byte stream cut into records of the given lengths; a short tail is yielded as it is."""
    buffer, want = b"", next(lengths, None)
    async for block in stream:
        buffer += block
        while want is not None and len(buffer) >= want:
            yield buffer[:want]
            buffer, want = buffer[want:], next(lengths, None)
    if buffer or want is not None:
        yield buffer  # too short: the record will not authenticate


class SealedStore:
    """The inner store's files, sealed with the keyring's current key (plain when it has none)."""

    def __init__(self, inner: Store, keyring: Keyring) -> None:
        self.inner, self.keyring, self.kind = inner, keyring, inner.kind

    @property
    def key_id(self) -> str | None:
        """The key new files are sealed with; None when they are stored plain."""
        return self.keyring.current

    def scratch(self, key: str) -> Path:
        part = self.inner.scratch(key)
        if self.keyring.current is None:
            return part
        return part.with_name(part.name.removesuffix(".part") + ".plain.part")

    async def put(self, scratch: Path, key: str, content_type: str) -> str:
        sealing_key = self.keyring.sealing_key
        if sealing_key is None:
            return await self.inner.put(scratch, key, content_type)
        sealed = self.inner.scratch(key)
        try:
            await asyncio.to_thread(_seal_file, scratch, sealed, sealing_key)
        finally:
            scratch.unlink(missing_ok=True)
        return await self.inner.put(sealed, key, content_type)

    async def _header(self, location: str) -> Header | None:
        raw = b"".join([block async for block in self.inner.read(location, 0, HEADER_SIZE - 1)])
        return Header.parse(raw)

    async def _opener(self, location: str) -> Opener | None:
        """How to open the file; None when it is plain. FileNotFoundError when it is missing."""
        sealed_size = await self.inner.size(location)
        if sealed_size is None:
            raise FileNotFoundError(location)
        header = await self._header(location) if sealed_size >= HEADER_SIZE else None
        if header is None:
            return None
        plain_size(header, sealed_size)  # a file cut short is broken, whatever the keys
        return Opener(header, self.keyring.key(header.key_id), sealed_size)

    async def size(self, location: str) -> int | None:
        try:
            opener = await self._opener(location)
        except FileNotFoundError:
            return None
        return opener.size if opener is not None else await self.inner.size(location)

    async def read(self, location: str, first: int = 0, last: int | None = None) -> AsyncIterator[bytes]:
        opener = await self._opener(location)
        if opener is None:
            async for block in self.inner.read(location, first, last):
                yield block
            return
        if opener.size == 0:  # nothing to send, but the one (empty) record must still authenticate
            record = b"".join([b async for b in self.inner.read(location, HEADER_SIZE, None)])
            opener.open_record(0, record)
            return
        last = opener.size - 1 if last is None else min(last, opener.size - 1)
        if first > last:
            return
        lo, hi = opener.span(first, last)
        end = opener.record_offset(hi) + opener.record_length(hi) - 1
        raw = self.inner.read(location, opener.record_offset(lo), end)
        records = _records(raw, (opener.record_length(i) for i in range(lo, hi + 1)))
        async for record in records:
            for plain in unseal_records(opener, iter([record]), lo, first, last):
                yield plain
            lo += 1

    async def sha256(self, location: str) -> str | None:
        try:
            opener = await self._opener(location)
        except FileNotFoundError:
            return None
        except SealBroken:
            return BROKEN
        if opener is None:
            return await self.inner.sha256(location)
        digest = hashlib.sha256()
        try:
            async for block in self.read(location):
                digest.update(block)
        except SealBroken:
            return BROKEN
        return digest.hexdigest()

    async def delete(self, location: str) -> None:
        await self.inner.delete(location)

    async def clean_scratch(self) -> int:
        return await self.inner.clean_scratch()
