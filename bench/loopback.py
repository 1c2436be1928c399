"""A whole stack for a bench: hotline + world Asterisk, Redis, SQLite, the recording worker, on loopback
with free ports and a temporary home; closed, and its folder in the Asterisk root removed, afterwards."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from bench.common import progress
from hotline.app.settings import Ports, Settings
from hotline.app.stack import Stack


@contextlib.asynccontextmanager
async def loopback_stack(name: str, dialplan: Callable[[Path], Path] | None = None,
                         **settings: Any) -> AsyncIterator[Stack]:
    """A started stack; `dialplan(home)` writes the bench's dialplan file, `settings` override the rest."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-", ignore_cleanup_errors=True) as folder:
        home = Path(folder)
        ports = Ports.free()
        base = Settings()
        stack = Stack(Settings(**{
            "home": home, "dialplan_file": dialplan(home) if dialplan else base.dialplan_file,
            "bind_host": "127.0.0.1", "ports": ports, "database_url": "", "redis_url": "",
            "asterisk_root": base.asterisk_root, "with_world": True, "refcase_advance_s": 0.0,
            "revisit_dialer": False, **settings}))
        progress("starting the stack (hotline + world Asterisk, Redis, SQLite, recording worker)")
        await stack.start()
        try:
            yield stack
        finally:
            await stack.close()
            if stack.data is not None:  # this home's prompts, recordings and heard audio inside the root
                shutil.rmtree(stack.data.host(stack.data.inner), ignore_errors=True)
