"""Choosing the recording store (and its backup) from settings (or the worker's command line).

Every store is opened sealed (`recordings.sealed_store`) with the keys of the environment, so the
worker, the player and the CLI all seal and open files the same way; malformed keys raise
`KeyringError` when a store is opened (the service refuses to start). The backup target
(`HOTLINE_RECORDINGS_BACKUP`) is a folder, or `s3://bucket/prefix` on the main store's endpoint.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

from recordings.keyring import Keyring
from recordings.sealed_store import SealedStore
from recordings.settings import RecordingSettings
from recordings.store import LocalStore, Store


@dataclass(frozen=True)
class StoreConfig:
    backend: str  # local | s3
    root: Path  # the local tree; with s3, where files wait before upload
    s3_endpoint: str = ""
    s3_bucket: str = "hotline-recordings"
    s3_region: str = "us-east-1"
    s3_prefix: str = ""
    backup: str = ""  # the second copy: a folder, s3://bucket/prefix, or "" for none

    @classmethod
    def of(cls, settings: RecordingSettings, home: Path) -> StoreConfig:
        return cls(settings.backend, settings.store_dir(home), settings.s3_endpoint, settings.s3_bucket,
                   settings.s3_region, settings.s3_prefix, settings.backup)

    def open(self) -> SealedStore:
        """The store, sealing with the environment's keys (KeyringError when they are malformed)."""
        return SealedStore(self._open_plain(), Keyring.from_env(os.environ))

    def _open_plain(self) -> Store:
        if self.backend == "local":
            return LocalStore(self.root)
        if self.backend == "s3":
            return self._s3(self.s3_bucket, self.s3_prefix, self.root / ".upload")
        raise ValueError(f"unknown recordings backend {self.backend!r} (local or s3)")

    def _s3(self, bucket: str, prefix: str, scratch: Path) -> Store:
        from recordings.s3store import S3Settings, S3Store  # boto3 only when asked for

        return S3Store(S3Settings(endpoint_url=self.s3_endpoint or None, bucket=bucket, region=self.s3_region,
                                  access_key=os.environ.get("HOTLINE_S3_ACCESS_KEY"),
                                  secret_key=os.environ.get("HOTLINE_S3_SECRET_KEY"), prefix=prefix,
                                  scratch_dir=scratch, sse=os.environ.get("HOTLINE_S3_SSE", "AES256"),
                                  kms_key_id=os.environ.get("HOTLINE_S3_KMS_KEY_ID") or None))

    def open_backup(self) -> SealedStore | None:
        """The backup store, sealed like the main one; None when no backup is configured."""
        if not self.backup:
            return None
        if self.backup.startswith("s3://"):
            bucket, _, prefix = self.backup.removeprefix("s3://").partition("/")
            if not bucket:
                raise ValueError(f"HOTLINE_RECORDINGS_BACKUP {self.backup!r}: name a bucket, s3://bucket/prefix")
            inner = self._s3(bucket, prefix.strip("/") + "/" if prefix.strip("/") else "", self.root / ".backup-upload")
        else:
            inner = LocalStore(Path(self.backup))
        return SealedStore(inner, Keyring.from_env(os.environ))

    async def open_ready(self) -> SealedStore:
        """The store, with its bucket created when it is object storage (the worker, at start-up)."""
        store = self.open()
        await _ensure_bucket(store)
        return store

    async def open_backup_ready(self) -> SealedStore | None:
        store = self.open_backup()
        if store is not None:
            await _ensure_bucket(store)
        return store

    def args(self) -> list[str]:
        """The worker's command line for this store (credentials stay in the environment)."""
        return ["--store", str(self.root), "--backend", self.backend, "--s3-endpoint", self.s3_endpoint,
                "--s3-bucket", self.s3_bucket, "--s3-region", self.s3_region, "--s3-prefix", self.s3_prefix,
                "--backup", self.backup]

    @staticmethod
    def add_args(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--store", type=Path, required=True, help="stored recordings (local) or upload scratch")
        parser.add_argument("--backend", choices=("local", "s3"), default="local")
        parser.add_argument("--s3-endpoint", default="")
        parser.add_argument("--s3-bucket", default="hotline-recordings")
        parser.add_argument("--s3-region", default="us-east-1")
        parser.add_argument("--s3-prefix", default="")
        parser.add_argument("--backup", default="", help="the second copy: a folder or s3://bucket/prefix")

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> StoreConfig:
        return cls(args.backend, args.store, args.s3_endpoint, args.s3_bucket, args.s3_region, args.s3_prefix,
                   args.backup)


async def _ensure_bucket(store: SealedStore) -> None:
    from recordings.s3store import S3Store

    if isinstance(store.inner, S3Store):
        await store.inner.ensure_bucket()
