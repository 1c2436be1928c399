"""Log files hold callers' numbers now and then (a SIP error, a traceback): they rotate, and rotated files
older than the logs' period are deleted. Asterisk rotates its own (`logger rotate`, timestamp strategy:
`messages.1764270000`); the service's own logs (recordings.log, refcase.log, redis.log, Asterisk's
console.log) are opened for appending by their processes, so they are rotated by copy and truncate."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from hotline.core.retention import KindReport, cutoff

ROTATED = re.compile(r"(messages|full|security|[\w-]+\.log)\.\d{9,}")  # messages.1764270000, redis.log.1764270000
OWN_LOGS = ("recordings.log", "refcase.log", "redis.log", "console.log")


def is_rotated(path: Path) -> bool:
    return path.is_file() and ROTATED.fullmatch(path.name) is not None


def rotate_own(dirs: Iterable[Path], *, now: float | None = None) -> list[Path]:
    """Copy each non-empty own log to `<name>.<epoch>` and truncate it (its writer appends: no hole)."""
    stamp, made = int(now or time.time()), []
    for folder in dirs:
        for name in OWN_LOGS:
            live = folder / name
            if not live.is_file() or live.stat().st_size == 0:
                continue
            rotated = live.with_name(f"{name}.{stamp}")
            shutil.copy2(live, rotated)
            rotated.chmod(0o600)
            with live.open("r+b") as f:
                f.truncate(0)
            made.append(rotated)
    return made


def expire_logs(dirs: Iterable[Path], days: int, *, now: datetime | None = None,
                dry_run: bool = False) -> KindReport:
    """Delete the rotated log files in `dirs` (not below) last written more than `days` ago (0: keep for ever)."""
    if days <= 0:
        return KindReport("logs", 0, 0, 0, dry_run=dry_run)
    limit = cutoff(days, now).timestamp()
    old = [p for folder in dirs if folder.is_dir() for p in folder.iterdir()
           if is_rotated(p) and p.stat().st_mtime < limit]
    if not dry_run:
        for path in old:
            path.unlink(missing_ok=True)
    return KindReport("logs", days, len(old), 0, dry_run=dry_run)
