"""Where stored recordings live: a local dated tree, files read-only once written.

Writes go to `<name>.part`, are flushed to disk, then renamed: a file under its final name is always
complete. Leftover `.part` files (a worker killed mid-write) are removed at start-up.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def place(self, when: datetime, name: str) -> Path:
        """The final path of a recording made at `when` (a YYYY/MM/DD tree)."""
        return self.root / f"{when:%Y/%m/%d}" / name

    def part_of(self, final: Path) -> Path:
        final.parent.mkdir(parents=True, exist_ok=True)
        return final.with_name(final.name + ".part")

    def commit(self, part: Path, final: Path) -> None:
        """fsync the part file, rename it to its final name, make it read-only."""
        with part.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(part, final)
        final.chmod(0o444)
        dir_fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def clean_parts(self) -> int:
        """Remove half-written files left by a killed worker."""
        if not self.root.exists():
            return 0
        parts = list(self.root.rglob("*.part"))
        for part in parts:
            part.unlink(missing_ok=True)
        return len(parts)
