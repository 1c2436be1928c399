"""Where the Debian root with Asterisk lives; built once by scripts/build-asterisk-root.sh."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hotline.core.settings import default_cache_dir

_BUILD_SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "build-asterisk-root.sh"


class AsteriskRootMissing(RuntimeError):
    """No usable root and it could not be built."""


@dataclass(frozen=True)
class AsteriskRoot:
    """A directory tree with /usr/sbin/asterisk that instances chroot into."""

    path: Path

    def version(self) -> str:
        out = subprocess.run(["chroot", str(self.path), "/usr/sbin/asterisk", "-V"], capture_output=True,
                             text=True, check=True, timeout=20)
        return out.stdout.strip()


def _usable(path: Path) -> bool:
    return (path / "usr/sbin/asterisk").exists() and (path / ".hotline-stamp").exists()


def find_root(explicit: str = "") -> AsteriskRoot:
    """The configured root, else the cached forky/sid root, else build one (about a minute)."""
    chosen = explicit or os.environ.get("HOTLINE_ASTERISK_ROOT", "")
    if chosen:
        path = Path(chosen)
        if not (path / "usr/sbin/asterisk").exists():
            raise AsteriskRootMissing(f"{path} has no usr/sbin/asterisk (HOTLINE_ASTERISK_ROOT)")
        return AsteriskRoot(path)
    for suite in ("forky", "sid"):
        path = default_cache_dir() / f"asterisk-root-{suite}"
        if _usable(path):
            return AsteriskRoot(path)
    proc = subprocess.run(["bash", str(_BUILD_SCRIPT)], capture_output=True, text=True, check=False)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise AsteriskRootMissing(f"could not build the Asterisk root: {proc.stderr[-1500:]}")
    return AsteriskRoot(Path(lines[-1]))
