"""Recordings sealed at rest: AES-256-GCM in independently authenticated chunks (R-SEC, issue 15).

A sealed file is a 24-byte header and then records of `nonce (12) | ciphertext | tag (16)`, one per
`chunk` bytes of plaintext (the last record may be shorter, and there is always one, even for an
empty file). Each record is authenticated together with the header, its index and whether it is the
last one, so a changed byte, swapped or dropped records and a file cut short are all detected; a
chunk can be decrypted on its own, so a range request or a hash never holds the whole file.

Header: magic `HLSEAL`, version 1, 1 byte reserved, the key id (8 bytes, the first bytes of the
key's SHA-256: it names the key without revealing it) and the chunk size (u32). Keys come from
the environment (`recordings.keyring`); older keys stay readable under their ids (rotation).
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"HLSEAL"
VERSION = 1
CHUNK = 1 << 16
NONCE, TAG = 12, 16
OVERHEAD = NONCE + TAG
_HEADER = struct.Struct(">6sBx8sI")
HEADER_SIZE = _HEADER.size  # 24


class SealBroken(ValueError):
    """A sealed file was altered, cut short, or is not a sealed file at all."""


class KeyUnknown(LookupError):
    """A sealed file names a key that is not configured (rotated away, or encryption is off here)."""


def key_id_of(key: bytes) -> str:
    """The public name of a key: 16 hex digits of its SHA-256."""
    return hashlib.sha256(key).hexdigest()[:16]


@dataclass(frozen=True)
class Header:
    key_id: str
    chunk: int

    def pack(self) -> bytes:
        return _HEADER.pack(MAGIC, VERSION, bytes.fromhex(self.key_id), self.chunk)

    @staticmethod
    def parse(raw: bytes) -> Header | None:
        """The header at the start of a file; None when the file is not sealed (plain, from before)."""
        if len(raw) < HEADER_SIZE or not raw.startswith(MAGIC):
            return None
        _, version, kid, chunk = _HEADER.unpack(raw[:HEADER_SIZE])
        if version != VERSION or not 0 < chunk <= 1 << 24:
            raise SealBroken(f"sealed file of unknown version {version} or chunk size {chunk}")
        return Header(kid.hex(), chunk)


def _aad(header: bytes, index: int, last: bool) -> bytes:
    return header + struct.pack(">QB", index, last)


def plain_size(header: Header, sealed_size: int) -> int:
    """The plaintext size of a sealed file of `sealed_size` bytes (every record but the last is full)."""
    body = sealed_size - HEADER_SIZE
    records = -(-body // (header.chunk + OVERHEAD))
    if records < 1 or body - records * OVERHEAD < 0:
        raise SealBroken("sealed file cut short")
    return body - records * OVERHEAD


def seal(src: BinaryIO, dst: BinaryIO, key: bytes, chunk: int = CHUNK) -> None:
    """Encrypt `src` into `dst` one chunk at a time."""
    header = Header(key_id_of(key), chunk).pack()
    aes = AESGCM(key)
    dst.write(header)
    index, block = 0, src.read(chunk)
    while True:
        following = src.read(chunk) if len(block) == chunk else b""
        last = not following
        nonce = os.urandom(NONCE)
        dst.write(nonce + aes.encrypt(nonce, block, _aad(header, index, last)))
        if last:
            return
        index, block = index + 1, following


class Opener:
    """Decrypts the records of one sealed file, given its header, its size and the key it names."""

    def __init__(self, header: Header, key: bytes, sealed_size: int) -> None:
        self.header, self._aes, self._raw_header = header, AESGCM(key), header.pack()
        self.size = plain_size(header, sealed_size)
        self.records = max(1, -(-self.size // header.chunk))

    def record_offset(self, index: int) -> int:
        """Where record `index` starts in the sealed file."""
        return HEADER_SIZE + index * (self.header.chunk + OVERHEAD)

    def record_length(self, index: int) -> int:
        if index < self.records - 1:
            return self.header.chunk + OVERHEAD
        return self.size - index * self.header.chunk + OVERHEAD

    def open_record(self, index: int, record: bytes) -> bytes:
        if len(record) != self.record_length(index):
            raise SealBroken(f"record {index} is {len(record)} bytes, expected {self.record_length(index)}")
        try:
            return self._aes.decrypt(record[:NONCE], record[NONCE:],
                                     _aad(self._raw_header, index, index == self.records - 1))
        except InvalidTag:
            raise SealBroken(f"record {index} does not authenticate (altered, reordered or cut short)") from None

    def span(self, first: int, last: int) -> tuple[int, int]:
        """The records holding plaintext bytes first..last (inclusive)."""
        return first // self.header.chunk, last // self.header.chunk


def unseal_records(opener: Opener, records: Iterator[bytes], first_index: int, first: int,
                   last: int) -> Iterator[bytes]:
    """Plaintext bytes first..last from the records that start at `first_index`."""
    chunk = opener.header.chunk
    for index, record in enumerate(records, first_index):
        plain = opener.open_record(index, record)
        start = index * chunk
        lo, hi = max(first, start) - start, min(last, start + len(plain) - 1) - start + 1
        if lo < hi:
            yield plain[lo:hi]
