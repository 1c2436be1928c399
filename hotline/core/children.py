"""Stopping child processes the project started (servers for the stack and the tests)."""

from __future__ import annotations

import asyncio
import ctypes
import signal


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


_LIBC = ctypes.CDLL(None, use_errno=True)  # loaded before any fork: the pre-exec hook must not load libraries
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """`preexec_fn` for the service's own helpers (case system, recording worker): they get SIGTERM when
    the service dies, even by SIGKILL, so a restarted service finds their ports free. Asterisk and Redis
    are not started with it: they outlive the service and are adopted on restart."""
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
