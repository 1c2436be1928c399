"""Recordings sealed at rest: chunked AES-256-GCM round trips, range reads, tampering and truncation found,
key rotation, and keys from the environment checked before anything is written."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from recordings.keyring import Keyring, KeyringError
from recordings.sealed_store import BROKEN, SealedStore
from recordings.sealing import HEADER_SIZE, MAGIC, KeyUnknown, SealBroken, key_id_of
from recordings.store import LocalStore

KEY, OLD = os.urandom(32), os.urandom(32)


def ring(current: bytes | None = KEY, *old: bytes) -> Keyring:
    env = {"HOTLINE_RECORDINGS_OLD_KEYS": ",".join(k.hex() for k in old)}
    if current is not None:
        env["HOTLINE_RECORDINGS_KEY"] = current.hex()
    return Keyring.from_env(env)


async def stored(store: SealedStore, key: str, data: bytes) -> str:
    scratch = store.scratch(key)
    scratch.write_bytes(data)
    return await store.put(scratch, key, "audio/ogg")


async def read_all(store: SealedStore, location: str, first: int = 0, last: int | None = None) -> bytes:
    return b"".join([b async for b in store.read(location, first, last)])


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, 3 * 65536 + 17])
async def test_round_trip_hash_and_size_are_of_the_plaintext(tmp_path: Path, size: int) -> None:
    store, data = SealedStore(LocalStore(tmp_path), ring()), os.urandom(size)
    location = await stored(store, f"2026/11/27/c-{size}.opus", data)
    raw = Path(location).read_bytes()
    assert raw.startswith(MAGIC)
    assert size < 64 or data[:64] not in raw
    assert await read_all(store, location) == data
    assert await store.size(location) == size
    assert await store.sha256(location) == hashlib.sha256(data).hexdigest()
    assert not list(tmp_path.rglob("*.part")), "no plaintext scratch is left behind"


async def test_ranges_across_chunks(tmp_path: Path) -> None:
    store, data = SealedStore(LocalStore(tmp_path), ring()), os.urandom(200_000)
    location = await stored(store, "a/b/c/x.opus", data)
    for first, last in [(0, 0), (65530, 65545), (100, 199_999), (131_072, 131_072), (199_999, 250_000)]:
        assert await read_all(store, location, first, last) == data[first:last + 1]
    assert await read_all(store, location, 300_000, None) == b""


async def test_an_empty_recording_is_sealed_and_checked_too(tmp_path: Path) -> None:
    store = SealedStore(LocalStore(tmp_path), ring())
    location = Path(await stored(store, "a/b/c/empty.opus", b""))
    assert await store.sha256(str(location)) == hashlib.sha256(b"").hexdigest()
    location.chmod(0o644)
    raw = bytearray(location.read_bytes())
    raw[-1] ^= 1
    location.write_bytes(bytes(raw))
    assert await store.sha256(str(location)) == BROKEN


@pytest.mark.parametrize("damage", ["flip", "cut_in_record", "cut_at_record", "append", "swap", "header_only"])
async def test_tampering_and_truncation_are_detected(tmp_path: Path, damage: str) -> None:
    store, data = SealedStore(LocalStore(tmp_path), ring()), os.urandom(3 * 65536 + 100)
    location = Path(await stored(store, "a/b/c/x.opus", data))
    raw = bytearray(location.read_bytes())
    record = 65536 + 28
    if damage == "flip":
        raw[HEADER_SIZE + record + 500] ^= 1
    elif damage == "cut_in_record":
        raw = raw[:-50]
    elif damage == "cut_at_record":
        raw = raw[:HEADER_SIZE + 2 * record]
    elif damage == "append":
        raw += os.urandom(100)
    elif damage == "header_only":
        raw = raw[:HEADER_SIZE + 5]
    else:
        raw[HEADER_SIZE:HEADER_SIZE + 2 * record] = raw[HEADER_SIZE + record:HEADER_SIZE + 2 * record] + \
            raw[HEADER_SIZE:HEADER_SIZE + record]
    location.chmod(0o644)
    location.write_bytes(bytes(raw))
    assert await store.sha256(str(location)) == BROKEN
    with pytest.raises(SealBroken):
        await read_all(store, str(location))


async def test_rotation_reads_old_keys_and_seals_with_the_current_one(tmp_path: Path) -> None:
    before = SealedStore(LocalStore(tmp_path), ring(OLD))
    old_file = await stored(before, "a/b/c/old.opus", b"old call" * 1000)
    after = SealedStore(LocalStore(tmp_path), ring(KEY, OLD))
    new_file = await stored(after, "a/b/c/new.opus", b"new call" * 1000)
    assert after.key_id == key_id_of(KEY)
    assert await read_all(after, old_file) == b"old call" * 1000
    assert await read_all(after, new_file) == b"new call" * 1000
    forgotten = SealedStore(LocalStore(tmp_path), ring(KEY))
    with pytest.raises(KeyUnknown, match=key_id_of(OLD)):
        await forgotten.size(old_file)


async def test_plain_files_from_before_still_play_and_no_key_writes_plain(tmp_path: Path) -> None:
    plain = SealedStore(LocalStore(tmp_path), Keyring.plain())
    location = await stored(plain, "a/b/c/p.opus", b"OggS plain")
    assert Path(location).read_bytes() == b"OggS plain"
    sealed_now = SealedStore(LocalStore(tmp_path), ring())
    assert await read_all(sealed_now, location) == b"OggS plain"
    assert await sealed_now.sha256(location) == hashlib.sha256(b"OggS plain").hexdigest()


def test_keys_from_the_environment() -> None:
    import base64

    assert ring().current == key_id_of(KEY)
    assert Keyring.from_env({"HOTLINE_RECORDINGS_KEY": base64.b64encode(KEY).decode()}).current == key_id_of(KEY)
    assert Keyring.from_env({}).current is None
    assert Keyring.from_env({"HOTLINE_RECORDINGS_KEY": KEY.hex(), "HOTLINE_RECORDINGS_ENCRYPT": "0"}).current is None
    with pytest.raises(KeyringError, match="HOTLINE_RECORDINGS_KEY is not set"):
        Keyring.from_env({"HOTLINE_RECORDINGS_ENCRYPT": "1"})
    for bad in ("short", KEY.hex()[:-2], base64.b64encode(os.urandom(16)).decode(), "zz" * 32):
        with pytest.raises(KeyringError, match="HOTLINE_RECORDINGS_KEY must be a 32-byte key"):
            Keyring.from_env({"HOTLINE_RECORDINGS_KEY": bad})
    with pytest.raises(KeyringError, match="OLD_KEYS"):
        Keyring.from_env({"HOTLINE_RECORDINGS_KEY": KEY.hex(), "HOTLINE_RECORDINGS_OLD_KEYS": "nope"})
    with pytest.raises(KeyringError, match="auto, 1 or 0"):
        Keyring.from_env({"HOTLINE_RECORDINGS_ENCRYPT": "yes"})
