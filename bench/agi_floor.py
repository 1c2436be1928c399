"""The floor any FastAGI server pays: a bare asyncio responder for the AGI bench, no framework.

Per session it reads Asterisk's environment block up to the blank line, sends the bench's commands one by one,
reads each `200 result=…` reply, and closes the connection (which ends the AGI() step). No routing, no key check,
no timeouts, no status variable, no logging: what is left is the socket work every FastAGI server must do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence


class FloorResponder:
    """A minimal FastAGI server sending `commands` to every session; counts sessions served to the end."""

    def __init__(self, commands: Sequence[str]) -> None:
        self._script = [c.encode() + b"\n" for c in commands]
        self._server: asyncio.Server | None = None
        self.sessions = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self._server = await asyncio.start_server(self._session, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (await reader.readline()).strip():  # the agi_* environment, up to its blank line
                pass
            for command in self._script:
                writer.write(command)
                if not (await reader.readline()).startswith(b"200"):
                    return  # HANGUP, an error reply or EOF: nothing more to send
            self.sessions += 1
        finally:
            writer.close()
