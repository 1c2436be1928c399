"""The dialplan file's versions (var/dialplan-history/): every version applied from the engineer page, the one
before the first apply, who and when; and which version the running Asterisk was last applied from."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

RUNNING = "running.json"


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Version:
    """One kept version of the file."""

    sha256: str
    saved_at: str  # ISO time, China time as the service keeps it
    saved_by: str
    note: str  # "applied", "before the first apply", "running at start"
    size: int

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Running:
    """The version the running Asterisk was last applied from."""

    sha256: str
    applied_at: str
    applied_by: str


class DialplanHistory:
    """Versions as `<time>-<sha12>.yaml` with a `.json` of who and when beside each (files 0600)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, text: str, by: str, at: datetime, note: str) -> Version:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        version = Version(sha256_of(text), at.isoformat(timespec="seconds"), by, note, len(text.encode("utf-8")))
        stem = f"{at:%Y%m%dT%H%M%S%f}-{version.sha256[:12]}"
        _write(self.folder / f"{stem}.yaml", text)
        _write(self.folder / f"{stem}.json", json.dumps(version.as_json(), ensure_ascii=False))
        return version

    def keep(self, text: str, by: str, at: datetime, note: str) -> None:
        """Save `text` unless a version with its sha256 is kept already."""
        if self.text_of(sha256_of(text)) is None:
            self.save(text, by, at, note)

    def versions(self, limit: int = 200) -> list[Version]:
        """Newest first."""
        if not self.folder.is_dir():
            return []
        metas = sorted((p for p in self.folder.glob("*.json") if p.name != RUNNING), reverse=True)[:limit]
        return [Version(**json.loads(p.read_text(encoding="utf-8"))) for p in metas]

    def text_of(self, sha256: str) -> str | None:
        """The text of the newest version with this sha256."""
        if not self.folder.is_dir():
            return None
        found = sorted(self.folder.glob(f"*-{sha256[:12]}.yaml"), reverse=True)
        for path in found:
            text = path.read_text(encoding="utf-8")
            if sha256_of(text) == sha256:
                return text
        return None

    def running(self) -> Running | None:
        path = self.folder / RUNNING
        if not path.exists():
            return None
        return Running(**json.loads(path.read_text(encoding="utf-8")))

    def set_running(self, text: str, by: str, at: datetime, note: str) -> Running:
        """Record (and keep) the version the running Asterisk now runs."""
        self.keep(text, by, at, note)
        running = Running(sha256_of(text), at.isoformat(timespec="seconds"), by)
        _write(self.folder / RUNNING, json.dumps(asdict(running), ensure_ascii=False))
        return running


def _write(path: Path, text: str) -> None:
    """Whole or not at all, readable by the service's user only."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    tmp.replace(path)


def write_atomically(path: Path, text: str) -> None:
    """The dialplan file replaced in one step, keeping its mode."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    tmp = path.with_name(f".{path.name}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, mode)
    tmp.replace(path)
