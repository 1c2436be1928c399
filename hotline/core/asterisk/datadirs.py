"""Folders inside the Asterisk root that outlive instances (prompts, recordings, heard audio)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from hotline.core.asterisk.root import AsteriskRoot


@dataclass(frozen=True)
class DataDirs:
    """A home's folders inside the Asterisk root, as Asterisk (inner) and the host see them."""

    root: AsteriskRoot
    inner: str

    @classmethod
    def for_home(cls, root: AsteriskRoot, home: Path) -> DataDirs:
        key = hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:12]
        return cls(root, f"/srv/hotline-data/{key}")

    def host(self, inner: str) -> Path:
        return self.root.path / inner.lstrip("/")

    def instance(self, name: str) -> str:
        """The folder of this home's Asterisk `name`: stable, so a restarted service finds it running."""
        return f"/srv/hotline/{name}-{self.inner.rsplit('/', 1)[1]}"

    def inner_of(self, sub: str) -> str:
        path = f"{self.inner}/{sub}"
        self.host(path).mkdir(parents=True, exist_ok=True)
        return path
