"""The S3 store over the real S3 protocol: moto's standalone server runs as a subprocess on a local port.

Note: moto stores the `ChecksumSHA256` the client sends without checking it against the body, so these tests
show that the upload carries the right checksum, not that a server rejects a wrong one (AWS and MinIO do)."""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from recordings.keyring import Keyring
from recordings.s3store import S3Settings, S3Store, StorageUnavailable
from recordings.sealed_store import BROKEN, SealedStore
from recordings.store import Store, sha256_of
from tests.recordings.moto import Moto, start_moto

CONTENT = bytes(range(256)) * 700 + b"tail"  # 179204 bytes: several 64 KiB chunks and a short last one


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Moto]:
    server = start_moto(tmp_path_factory.mktemp("moto") / "moto.log")
    yield server
    server.stop()


def make_store(url: str, scratch: Path, bucket: str | None = None, prefix: str = "") -> S3Store:
    return S3Store(S3Settings(endpoint_url=url, bucket=bucket or f"rec-{uuid.uuid4().hex[:12]}",
                              access_key="testing", secret_key="testing", prefix=prefix, scratch_dir=scratch))


@pytest.fixture
async def store(moto: Moto, tmp_path: Path) -> AsyncIterator[S3Store]:
    s3 = make_store(moto.url, tmp_path / "scratch", prefix="recordings/")
    await s3.ensure_bucket()
    await s3.ensure_bucket()  # idempotent
    yield s3
    s3.close()


def write_scratch(store: S3Store, key: str, content: bytes = CONTENT) -> Path:
    scratch = store.scratch(key)
    scratch.write_bytes(content)
    return scratch


async def read_all(store: S3Store, location: str, first: int = 0, last: int | None = None) -> tuple[bytes, int]:
    chunks = [chunk async for chunk in store.read(location, first, last)]
    assert all(len(chunk) <= 1 << 16 for chunk in chunks)
    return b"".join(chunks), len(chunks)


def test_is_a_store(tmp_path: Path) -> None:
    s3 = make_store("http://127.0.0.1:9", tmp_path)
    store: Store = s3  # mypy checks that S3Store implements the protocol
    assert store.kind == "s3"
    s3.close()


def test_scratch_mirrors_the_key(tmp_path: Path) -> None:
    s3 = make_store("http://127.0.0.1:9", tmp_path / "scratch")
    path = s3.scratch("2026/11/23/call-1.opus")
    assert path == tmp_path / "scratch/2026/11/23/call-1.opus.part"
    assert path.parent.is_dir()
    for bad in ("", "/abs/x", "a/../../x", "a//b"):
        with pytest.raises(ValueError, match="bad storage key"):
            s3.scratch(bad)
    s3.close()


async def test_put_then_hash_and_size_match(store: S3Store) -> None:
    scratch = write_scratch(store, "2026/11/23/call-1.opus")
    local_hash = sha256_of(scratch)
    location = await store.put(scratch, "2026/11/23/call-1.opus", "audio/ogg")
    assert location == f"s3://{store.bucket}/recordings/2026/11/23/call-1.opus"
    assert not scratch.exists()
    assert await store.sha256(location) == local_hash == hashlib.sha256(CONTENT).hexdigest()
    assert await store.size(location) == len(CONTENT)
    head = store._client.head_object(Bucket=store.bucket, Key="recordings/2026/11/23/call-1.opus",
                                      ChecksumMode="ENABLED")
    assert head["ContentType"] == "audio/ogg"
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(CONTENT).digest()).decode()


async def test_ranged_reads(store: S3Store) -> None:
    location = await store.put(write_scratch(store, "r/call.opus"), "r/call.opus", "audio/ogg")
    assert await read_all(store, location) == (CONTENT, 3)
    assert (await read_all(store, location, 0, 99))[0] == CONTENT[:100]
    assert (await read_all(store, location, 0, 0))[0] == CONTENT[:1]
    assert (await read_all(store, location, 70_000, 140_000))[0] == CONTENT[70_000:140_001]
    assert (await read_all(store, location, len(CONTENT) - 4))[0] == b"tail"
    assert (await read_all(store, location, 1000))[0] == CONTENT[1000:]
    assert (await read_all(store, location, len(CONTENT) - 10, len(CONTENT) + 50))[0] == CONTENT[-10:]
    assert await read_all(store, location, len(CONTENT) + 10) == (b"", 0)
    # a reader that stops early closes its response
    reader = store.read(location)
    assert len(await anext(reader)) == 1 << 16
    await reader.aclose()


async def test_missing_and_delete(store: S3Store) -> None:
    missing = f"s3://{store.bucket}/recordings/nope.opus"
    assert await store.sha256(missing) is None
    assert await store.size(missing) is None
    with pytest.raises(FileNotFoundError):
        await read_all(store, missing)
    location = await store.put(write_scratch(store, "d/call.opus"), "d/call.opus", "audio/ogg")
    assert await store.size(location) == len(CONTENT)
    await store.delete(location)
    assert await store.size(location) is None
    assert await store.sha256(location) is None
    await store.delete(location)  # already gone: fine
    await store.delete(missing)


async def test_locations_are_parsed_strictly(store: S3Store) -> None:
    for foreign in ("s3://other-bucket/recordings/x.opus", f"s3:/{store.bucket}/x", f"https://{store.bucket}/x",
                    f"s3://{store.bucket}", f"s3://{store.bucket}/", "/var/spool/x.opus"):
        with pytest.raises(ValueError):  # noqa: PT011 - the messages differ; any ValueError is right
            await store.sha256(foreign)
    with pytest.raises(ValueError, match="not in bucket"):
        await store.size("s3://other-bucket/recordings/x.opus")
    with pytest.raises(ValueError, match="not in bucket"):
        await store.delete("s3://other-bucket/recordings/x.opus")
    with pytest.raises(ValueError, match="not in bucket"):
        await read_all(store, "s3://other-bucket/recordings/x.opus")


async def test_clean_scratch(store: S3Store) -> None:
    assert await store.clean_scratch() == 0
    write_scratch(store, "2026/11/23/a.opus", b"half")
    write_scratch(store, "2026/11/24/b.png", b"half")
    keep = store.settings.scratch_dir / "notes.txt"
    keep.write_text("not a part file")
    assert await store.clean_scratch() == 2
    assert list(store.settings.scratch_dir.rglob("*.part")) == []
    assert keep.exists()


async def test_put_with_the_server_down_keeps_the_scratch_file(tmp_path: Path) -> None:
    moto = start_moto(tmp_path / "moto.log")
    s3 = make_store(moto.url, tmp_path / "scratch")
    try:
        await s3.ensure_bucket()
        first = await s3.put(write_scratch(s3, "u/one.opus"), "u/one.opus", "audio/ogg")
        assert await s3.size(first) == len(CONTENT)
        moto.stop()
        scratch = write_scratch(s3, "u/two.opus")
        with pytest.raises(StorageUnavailable, match=rf"s3://{s3.bucket}/u/two\.opus"):
            await s3.put(scratch, "u/two.opus", "audio/ogg")
        assert scratch.read_bytes() == CONTENT  # nothing lost: the worker retries from here
        with pytest.raises(StorageUnavailable):
            await s3.size(first)
    finally:
        moto.stop()
        s3.close()


async def test_uploads_ask_for_server_side_encryption_and_check_it(store: S3Store) -> None:
    location = await store.put(write_scratch(store, "2026/11/27/sse.opus"), "2026/11/27/sse.opus", "audio/ogg")
    head = store._client.head_object(Bucket=store.bucket, Key=store.object_key(location))
    assert head["ServerSideEncryption"] == "AES256", "SSE-S3 by default"
    kms = S3Settings(endpoint_url=None, bucket="b", access_key=None, secret_key=None, scratch_dir=Path("/tmp"),
                     sse="aws:kms", kms_key_id="hotline-recordings-key")
    assert kms.sse_args() == {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "hotline-recordings-key"}
    ignored = {**head, "ServerSideEncryption": None}  # a store that quietly ignores the request
    with pytest.raises(StorageUnavailable, match="not 'AES256' as asked"):
        store._check_sse("k", ignored)
    with pytest.raises(ValueError, match="AES256, aws:kms or none"):
        S3Settings(endpoint_url=None, bucket="b", access_key=None, secret_key=None, scratch_dir=Path("/tmp"),
                   sse="yes")


async def test_sealed_over_object_storage_reads_ranges_and_finds_tampering(store: S3Store) -> None:
    sealed = SealedStore(store, Keyring.from_env({"HOTLINE_RECORDINGS_KEY": os.urandom(32).hex()}))
    scratch = sealed.scratch("2026/11/27/sealed.opus")
    scratch.write_bytes(CONTENT)
    location = await sealed.put(scratch, "2026/11/27/sealed.opus", "audio/ogg")
    raw, _ = await read_all(store, location)
    assert not raw.startswith(CONTENT[:100]) and await sealed.size(location) == len(CONTENT)
    assert await sealed.sha256(location) == hashlib.sha256(CONTENT).hexdigest()
    assert b"".join([b async for b in sealed.read(location, 65000, 140000)]) == CONTENT[65000:140001]
    tampered = store.scratch("2026/11/27/sealed.opus")
    tampered.write_bytes(raw[:-1] + bytes([raw[-1] ^ 1]))
    await store.put(tampered, "2026/11/27/sealed.opus", "audio/ogg")
    assert await sealed.sha256(location) == BROKEN
