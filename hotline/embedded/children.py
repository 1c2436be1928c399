"""Stopping child processes the project started (servers for the stack and the tests)."""

from __future__ import annotations

import asyncio


async def stop_child(proc: asyncio.subprocess.Process | None, grace_s: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after `grace_s`; nothing if it has already exited."""
    if proc is None or proc.returncode is not None:
        return
    proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), grace_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
