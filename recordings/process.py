"""The recording worker as a child process of the stack (a crash or SIGKILL there never touches calls)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from hotline.core.children import die_with_parent, stop_child
from recordings.backends import StoreConfig


class RecordingWorkerProcess:
    def __init__(self, db_url: str, wavs: Path, store: StoreConfig, log_dir: Path, *, fmt: str = "opus",
                 max_backoff_s: float = 60.0, keep_years: int = 0, max_attempts: int = 30) -> None:
        self.db_url, self.wavs, self.store, self.log_dir = db_url, wavs, store, log_dir
        self.fmt, self.max_backoff_s, self.keep_years, self.max_attempts = fmt, max_backoff_s, keep_years, max_attempts
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    async def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.store.root.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / "recordings.log", "ab")  # noqa: SIM115 - the child owns it
        try:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "recordings.worker", "--db", self.db_url, "--wavs", str(self.wavs),
                *self.store.args(), "--format", self.fmt, "--max-backoff", str(self.max_backoff_s),
                "--keep-years", str(self.keep_years), "--max-attempts", str(self.max_attempts),
                stdout=log, stderr=log, start_new_session=True, env=dict(os.environ), preexec_fn=die_with_parent)
        finally:
            log.close()
        await asyncio.sleep(0.3)
        if self._proc.returncode is not None:
            raise RuntimeError(f"recording worker exited at once ({self._proc.returncode}); see {self.log_dir}")

    def kill(self) -> None:
        """SIGKILL the worker and its ffmpeg (tests: a crash mid-transcode)."""
        if self._proc is not None and self._proc.returncode is None:
            os.killpg(self._proc.pid, 9)

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        await stop_child(proc)
