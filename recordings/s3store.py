"""Stored recordings in S3-compatible object storage (AWS S3, MinIO, Ceph RGW, ...).

`S3Store` implements the `Store` protocol of `recordings.store`: the worker writes a finished file into a
local scratch path, then `put` uploads it in one `PutObject` that carries the file's SHA-256 so the server
rejects damaged bytes, and deletes the scratch file only once the upload succeeded. A stored file's location
is `s3://<bucket>/<prefix><key>`.

boto3 is synchronous: every call runs in a worker thread (`asyncio.to_thread`), and downloads are read in
64 KiB chunks, each chunk read in a thread, so the event loop never blocks on the network. Failures of the
store itself (unreachable endpoint, refused credentials, missing bucket) are raised as `StorageUnavailable`,
which the recording worker catches and retries; a missing object is `None` (or `FileNotFoundError` from
`read`), like the local store.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

CHUNK = 1 << 16
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})


class StorageUnavailable(RuntimeError):
    """The object store could not be used (unreachable, refused, misconfigured); the operation may be retried."""


@dataclass(frozen=True, kw_only=True)
class S3Settings:
    """Where and how to reach the bucket (keyword arguments only).

    `endpoint_url` None means AWS itself; `access_key`/`secret_key` None means boto3's usual credential
    chain (environment, config files, instance role). Objects are stored as `<prefix><key>`; files are
    staged under `scratch_dir` before upload. `sse` is the server-side encryption asked for on every upload
    and checked on the stored object: `AES256` (SSE-S3, the default), `aws:kms` (with `kms_key_id`, or the
    bucket's default key) or `none`."""

    endpoint_url: str | None
    bucket: str
    region: str = "us-east-1"
    access_key: str | None
    secret_key: str | None
    prefix: str = ""
    scratch_dir: Path
    sse: str = "AES256"
    kms_key_id: str | None = None

    def __post_init__(self) -> None:
        if self.sse not in ("AES256", "aws:kms", "none"):
            raise ValueError(f"HOTLINE_S3_SSE must be AES256, aws:kms or none, not {self.sse!r}")

    def sse_args(self) -> dict[str, str]:
        """The PutObject arguments asking for server-side encryption."""
        if self.sse == "none":
            return {}
        args = {"ServerSideEncryption": self.sse}
        if self.sse == "aws:kms" and self.kms_key_id:
            args["SSEKMSKeyId"] = self.kms_key_id
        return args


def _b64_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return base64.b64encode(digest.digest()).decode("ascii")


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _is_missing(exc: ClientError) -> bool:
    return _error_code(exc) in _MISSING


def _checked_key(key: str) -> str:
    """A relative key without `..` or empty parts (it names both an object and a scratch path)."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"bad storage key {key!r}")
    return key


class S3Store:
    """Recordings as objects in one bucket (under an optional key prefix), staged in a local scratch dir."""

    kind = "s3"

    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        self.bucket = settings.bucket
        config = Config(
            connect_timeout=5,
            read_timeout=60,
            retries={"max_attempts": 3, "mode": "standard"},
            s3={"addressing_style": "path" if settings.endpoint_url else "auto"},
        )
        # a client (unlike a session) is thread-safe, so one client serves every to_thread call
        self._client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.endpoint_url,
            region_name=settings.region,
            aws_access_key_id=settings.access_key,
            aws_secret_access_key=settings.secret_key,
            config=config,
        )

    def close(self) -> None:
        """Close the client's HTTP connections."""
        self._client.close()

    # locations

    def location(self, key: str) -> str:
        """The location of the object stored under `key` (prefix included)."""
        return f"s3://{self.bucket}/{self.settings.prefix}{_checked_key(key)}"

    def object_key(self, location: str) -> str:
        """The object key of a location of this store; ValueError for anything else."""
        scheme, sep, rest = location.partition("://")
        bucket, slash, key = rest.partition("/")
        if scheme != "s3" or not sep or not slash or not bucket or not key or key.startswith("/"):
            raise ValueError(f"not an s3://bucket/key location: {location!r}")
        if bucket != self.bucket:
            raise ValueError(f"{location!r} is not in bucket {self.bucket!r}")
        return key

    # the Store protocol

    def scratch(self, key: str) -> Path:
        path = self.settings.scratch_dir.joinpath(*PurePosixPath(_checked_key(key)).parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.with_name(path.name + ".part")

    async def put(self, scratch: Path, key: str, content_type: str) -> str:
        location = self.location(key)
        object_key = self.object_key(location)
        await asyncio.to_thread(self._upload, scratch, object_key, content_type)
        scratch.unlink(missing_ok=True)
        return location

    def _upload(self, scratch: Path, object_key: str, content_type: str) -> None:
        checksum = _b64_sha256(scratch)
        try:
            with scratch.open("rb") as body:
                response = self._client.put_object(
                    Bucket=self.bucket,
                    Key=object_key,
                    Body=body,
                    ContentType=content_type,
                    ChecksumAlgorithm="SHA256",
                    ChecksumSHA256=checksum,
                    **self.settings.sse_args(),
                )
            head = self._client.head_object(Bucket=self.bucket, Key=object_key)
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"could not store s3://{self.bucket}/{object_key}: {exc}") from exc
        echoed = response.get("ChecksumSHA256")
        if echoed is not None and echoed != checksum:
            raise StorageUnavailable(
                f"s3://{self.bucket}/{object_key}: the server reports SHA-256 {echoed}, the upload was {checksum}")
        self._check_sse(object_key, head)

    def _check_sse(self, object_key: str, head: dict[str, Any]) -> None:
        """The stored object is encrypted as asked (a store that ignores the request is refused)."""
        wanted = self.settings.sse
        if wanted == "none":
            return
        found = head.get("ServerSideEncryption")
        kms = head.get("SSEKMSKeyId")
        if found != wanted or (wanted == "aws:kms" and self.settings.kms_key_id
                               and not str(kms or "").endswith(self.settings.kms_key_id)):
            raise StorageUnavailable(f"s3://{self.bucket}/{object_key} is stored with server-side encryption "
                                     f"{found!r} (key {kms!r}), not {wanted!r} as asked")

    async def sha256(self, location: str) -> str | None:
        object_key = self.object_key(location)

        def download() -> str | None:
            try:
                body = self._client.get_object(Bucket=self.bucket, Key=object_key)["Body"]
                try:
                    digest = hashlib.sha256()
                    for block in iter(lambda: body.read(1 << 20), b""):
                        digest.update(block)
                    return digest.hexdigest()
                finally:
                    body.close()
            except ClientError as exc:
                if _is_missing(exc):
                    return None
                raise self._unavailable("read", object_key, exc) from exc
            except BotoCoreError as exc:
                raise self._unavailable("read", object_key, exc) from exc

        return await asyncio.to_thread(download)

    async def size(self, location: str) -> int | None:
        object_key = self.object_key(location)
        try:
            head = await asyncio.to_thread(self._client.head_object, Bucket=self.bucket, Key=object_key)
        except ClientError as exc:
            if _is_missing(exc):
                return None
            raise self._unavailable("inspect", object_key, exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable("inspect", object_key, exc) from exc
        return int(head["ContentLength"])

    async def read(self, location: str, first: int = 0, last: int | None = None) -> AsyncGenerator[bytes, None]:
        """The bytes first..last (inclusive; to the end when last is None) in 64 KiB chunks.

        Reading past the end yields nothing; a missing object raises FileNotFoundError."""
        object_key = self.object_key(location)
        if first < 0 or (last is not None and last < first):
            raise ValueError(f"bad byte range {first}-{last}")
        byte_range = f"bytes={first}-{'' if last is None else last}"
        try:
            response = await asyncio.to_thread(
                self._client.get_object, Bucket=self.bucket, Key=object_key, Range=byte_range)
        except ClientError as exc:
            if _is_missing(exc):
                raise FileNotFoundError(location) from exc
            if _error_code(exc) == "InvalidRange":
                return
            raise self._unavailable("read", object_key, exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable("read", object_key, exc) from exc
        body = response["Body"]
        try:
            while True:
                try:
                    block: bytes = await asyncio.to_thread(body.read, CHUNK)
                except BotoCoreError as exc:
                    raise self._unavailable("read", object_key, exc) from exc
                if not block:
                    return
                yield block
        finally:
            body.close()

    async def delete(self, location: str) -> None:
        object_key = self.object_key(location)
        try:
            await asyncio.to_thread(self._client.delete_object, Bucket=self.bucket, Key=object_key)
        except ClientError as exc:
            if not _is_missing(exc):
                raise self._unavailable("delete", object_key, exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable("delete", object_key, exc) from exc

    async def clean_scratch(self) -> int:
        def clean() -> int:
            root = self.settings.scratch_dir
            if not root.exists():
                return 0
            parts = [p for p in root.rglob("*.part") if p.is_file()]
            for part in parts:
                part.unlink(missing_ok=True)
            return len(parts)

        return await asyncio.to_thread(clean)

    # setup

    async def ensure_bucket(self) -> None:
        """Create the bucket unless it exists (in our region)."""

        def ensure() -> None:
            try:
                self._client.head_bucket(Bucket=self.bucket)
                return
            except ClientError as exc:
                if _error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
                    raise self._unavailable("inspect", "", exc) from exc
            except BotoCoreError as exc:
                raise self._unavailable("inspect", "", exc) from exc
            args: dict[str, Any] = {"Bucket": self.bucket}
            if self.settings.region != "us-east-1":
                args["CreateBucketConfiguration"] = {"LocationConstraint": self.settings.region}
            try:
                self._client.create_bucket(**args)
            except ClientError as exc:
                if _error_code(exc) not in ("BucketAlreadyOwnedByYou",):
                    raise self._unavailable("create", "", exc) from exc
            except BotoCoreError as exc:
                raise self._unavailable("create", "", exc) from exc

        await asyncio.to_thread(ensure)

    def _unavailable(self, action: str, object_key: str, exc: Exception) -> StorageUnavailable:
        return StorageUnavailable(f"could not {action} s3://{self.bucket}/{object_key}: {exc}")
