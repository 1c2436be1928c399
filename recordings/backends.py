"""Choosing the recording store from settings (or the worker's command line)."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

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

    @classmethod
    def of(cls, settings: RecordingSettings, home: Path) -> StoreConfig:
        return cls(settings.backend, settings.store_dir(home), settings.s3_endpoint, settings.s3_bucket,
                   settings.s3_region, settings.s3_prefix)

    def open(self) -> Store:
        if self.backend == "local":
            return LocalStore(self.root)
        if self.backend == "s3":
            from recordings.s3store import S3Settings, S3Store  # boto3 only when asked for

            return S3Store(S3Settings(endpoint_url=self.s3_endpoint or None, bucket=self.s3_bucket,
                                      region=self.s3_region, access_key=os.environ.get("HOTLINE_S3_ACCESS_KEY"),
                                      secret_key=os.environ.get("HOTLINE_S3_SECRET_KEY"), prefix=self.s3_prefix,
                                      scratch_dir=self.root / ".upload"))
        raise ValueError(f"unknown recordings backend {self.backend!r} (local or s3)")

    async def open_ready(self) -> Store:
        """The store, with its bucket created when it is object storage (the worker, at start-up)."""
        if self.backend != "s3":
            return self.open()
        from recordings.s3store import S3Store

        store = self.open()
        assert isinstance(store, S3Store)
        await store.ensure_bucket()
        return store

    def args(self) -> list[str]:
        """The worker's command line for this store (credentials stay in the environment)."""
        return ["--store", str(self.root), "--backend", self.backend, "--s3-endpoint", self.s3_endpoint,
                "--s3-bucket", self.s3_bucket, "--s3-region", self.s3_region, "--s3-prefix", self.s3_prefix]

    @staticmethod
    def add_args(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--store", type=Path, required=True, help="stored recordings (local) or upload scratch")
        parser.add_argument("--backend", choices=("local", "s3"), default="local")
        parser.add_argument("--s3-endpoint", default="")
        parser.add_argument("--s3-bucket", default="hotline-recordings")
        parser.add_argument("--s3-region", default="us-east-1")
        parser.add_argument("--s3-prefix", default="")

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> StoreConfig:
        return cls(args.backend, args.store, args.s3_endpoint, args.s3_bucket, args.s3_region, args.s3_prefix)
