"""A fake Asterisk for FastAGI tests: sends an environment, answers commands from a script, fails loudly."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class UnexpectedCommand(AssertionError):
    pass


Reply = str | Callable[[str], str]


KEY = "test-fastagi-key-0123456789"  # what the dialplan would render into every AGI URL


async def agi_session(port: int, route: str, replies: dict[str, Reply] | None = None, *,
                      env: dict[str, str] | None = None, timeout: float = 5.0, key: str | None = KEY,
                      source: str = "127.0.0.1") -> list[str]:
    """Run one session from `source`; return every command the server sent. `replies` maps a command prefix
    to a reply. The request carries `key` as our dialplan renders it (None: none, as a stranger would)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    request = f"agi://127.0.0.1:{port}/{route}"
    if key is not None:
        request += f"{'&' if '?' in route else '?'}hotline_key={key}"
    lines = {"agi_network": "yes", "agi_request": request, "agi_channel": "PJSIP/x-1",
             "agi_uniqueid": "1700000000.1", "agi_callerid": "13800138000", **(env or {})}
    writer.write("".join(f"{k}: {v}\n" for k, v in lines.items()).encode() + b"\n")
    await writer.drain()
    sent: list[str] = []
    table = {"SET VARIABLE": "200 result=1", **(replies or {})}
    try:
        while True:
            raw = await asyncio.wait_for(reader.readline(), timeout)
            if not raw:
                return sent
            command = raw.decode().strip()
            sent.append(command)
            match = next((p for p in sorted(table, key=len, reverse=True) if command.startswith(p)), None)
            if match is None:
                raise UnexpectedCommand(command)
            reply = table[match]
            text = reply(command) if callable(reply) else reply
            if text == "EOF":
                return sent
            writer.write(text.encode() + b"\n")
            await writer.drain()
    finally:
        writer.close()
