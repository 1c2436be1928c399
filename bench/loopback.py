"""A whole stack for a bench: hotline + world Asterisk, Redis, SQLite, the recording worker, on loopback
with free ports and a temporary home; closed, and its folder in the Asterisk root removed, afterwards."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from acd.settings import AcdSettings
from bench.common import progress
from callback.settings import CallbackSettings
from hotline.app.settings import Ports, Settings
from hotline.app.stack import Stack
from hotline.core.settings import CoreSettings
from integration.casesystem.settings import CaseSystemSettings


@contextlib.asynccontextmanager
async def loopback_stack(name: str, dialplan: Callable[[Path], Path] | None = None,
                         acd: AcdSettings | None = None, revisit_dialer: bool = False) -> AsyncIterator[Stack]:
    """A started stack; `dialplan(home)` writes the bench's dialplan file; `acd` and `revisit_dialer` as asked."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-", ignore_cleanup_errors=True) as folder:
        home = Path(folder)
        ports = Ports.free()
        base = CoreSettings()
        core = CoreSettings(home=home, dialplan_file=dialplan(home) if dialplan else base.dialplan_file,
                            bind_host="127.0.0.1", ports=ports, database_url="", redis_url="",
                            asterisk_root=base.asterisk_root, with_world=True)
        stack = Stack(Settings(core=core, acd=acd or AcdSettings(),
                               case_system=CaseSystemSettings(refcase_advance_s=0.0),
                               callback=CallbackSettings(dialer=revisit_dialer)))
        progress("starting the stack (hotline + world Asterisk, Redis, SQLite, recording worker)")
        await stack.start()
        try:
            yield stack
        finally:
            await stack.close()
            if stack.data is not None:  # this home's prompts, recordings and heard audio inside the root
                shutil.rmtree(stack.data.host(stack.data.inner), ignore_errors=True)
