"""Test calls placed from the engineer page: the same call as `hotline call`, run in the background, one at a time
per engineer; each result and the audio its caller heard kept under var/test-calls/ (0600) for a day.

The audio is free of personal data (a simulated citizen on a test number calls), but it is still kept with
the service's other files and swept after a day."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hotline.core.clock import china_now
from integration.world.call import WorldCaller

log = logging.getLogger(__name__)

KEEP_S = 24 * 3600


class TestCallRunning(Exception):
    """This engineer's previous test call has not ended yet."""

    __test__ = False


class NoTestWorld(Exception):
    """The stack runs without the simulated world: there is no one to place a test call."""


@dataclass
class TestCall:
    """One test call and, once it ended, what came of it (`result`: the JSON of `hotline call --json`)."""

    __test__ = False

    id: str
    number: str
    caller: str
    dtmf: str
    script: str
    placed_by: str
    placed_at: str
    state: str = "running"  # running | done | failed
    result: dict[str, Any] | None = None
    error: str | None = None
    ended_at: str | None = None
    audio: bool = False

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["from"] = data.pop("caller")
        data["audio_url"] = f"/api/test-calls/{self.id}/audio" if self.audio else None
        return data


@dataclass
class TestCallRunner:
    """Places test calls through the world's caller (None when the stack has no world) and keeps their results."""

    __test__ = False

    folder: Path
    caller: Callable[[], WorldCaller | None]
    keep_s: float = KEEP_S
    _calls: dict[str, TestCall] = field(default_factory=dict, init=False)
    _running: dict[str, str] = field(default_factory=dict, init=False)  # engineer → their running call
    _tasks: set[asyncio.Task[None]] = field(default_factory=set, init=False)

    def place(self, number: str, caller: str, dtmf: str, script: str, by: str) -> TestCall:
        """Start a test call now; it runs on in the background."""
        self.sweep()
        if by in self._running:
            raise TestCallRunning(f"your test call {self._running[by]} is still going on: wait for it to end")
        world = self.caller()
        if world is None:
            raise NoTestWorld("this hotline runs without the simulated world (started with --no-world), so there is "
                              "no test caller: place the call from a real phone")
        call = TestCall(uuid.uuid4().hex, number, caller, dtmf, script, by, china_now().isoformat(timespec="seconds"))
        self._calls[call.id] = call
        self._running[by] = call.id
        task = asyncio.create_task(self._run(world, call), name=f"test-call-{call.id[:8]}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return call

    async def _run(self, world: WorldCaller, call: TestCall) -> None:
        try:
            outcome = await world.call(call.number, call.caller, dtmf=call.dtmf, script=call.script or None)
            call.result = outcome.to_json()
            if outcome.heard_audio.exists():
                self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
                kept = self.audio_of(call.id)
                shutil.copyfile(outcome.heard_audio, kept)
                os.chmod(kept, 0o600)
                outcome.heard_audio.unlink(missing_ok=True)
                call.result["heard_audio"] = str(kept)
                call.audio = True
            call.state = "done"
        except Exception as exc:  # the world's Asterisk gone, no answer in time …: the page shows why
            log.exception("test call %s failed", call.id)
            call.state, call.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            call.ended_at = china_now().isoformat(timespec="seconds")
            self._running.pop(call.placed_by, None)
            self._save(call)

    def get(self, call_id: str) -> TestCall | None:
        """A call of this service's run, or one kept on disk within the day."""
        if call_id in self._calls:
            return self._calls[call_id]
        path = self.folder / f"{call_id}.json"
        if not path.is_file():
            return None
        return TestCall(**json.loads(path.read_text(encoding="utf-8")))

    def audio_of(self, call_id: str) -> Path:
        return self.folder / f"{call_id}.wav"

    def _save(self, call: TestCall) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.folder / f".{call.id}.json"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(asdict(call), f, ensure_ascii=False)
        tmp.replace(self.folder / f"{call.id}.json")

    def sweep(self) -> int:
        """Delete the results and audio older than a day; how many files went."""
        if not self.folder.is_dir():
            return 0
        old = time.time() - self.keep_s
        gone = 0
        for path in self.folder.iterdir():
            if path.is_file() and path.stat().st_mtime < old:
                path.unlink(missing_ok=True)
                self._calls.pop(path.stem, None)
                gone += 1
        return gone

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
