"""AMI adapter against a scripted fake AMI server: action timeouts and EventList collection."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest

from hotline.core.asterisk.ami import AmiClient, AmiDisconnected, AmiTimeout


class FakeAmi:
    """Greets, accepts Login, answers CoreShowChannels with a list, ignores `Silent`."""

    def __init__(self) -> None:
        self.actions: list[str] = []
        self.server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        try:
            await self._serve(reader, writer)
        finally:
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        buf = b""
        while chunk := await reader.read(4096):
            buf += chunk
            while b"\r\n\r\n" in buf:
                raw, buf = buf.split(b"\r\n\r\n", 1)
                fields = dict(line.split(": ", 1) for line in raw.decode().split("\r\n") if ": " in line)
                action, aid = fields.get("Action", ""), fields.get("ActionID", "")
                self.actions.append(action)
                if action == "Login":
                    writer.write(f"Response: Success\r\nActionID: {aid}\r\nMessage: ok\r\n\r\n".encode())
                elif action == "CoreShowChannels":
                    writer.write(f"Response: Success\r\nActionID: {aid}\r\nEventList: start\r\n\r\n".encode())
                    for ch in ("PJSIP/a-1", "PJSIP/b-2"):
                        writer.write(f"Event: CoreShowChannel\r\nActionID: {aid}\r\nChannel: {ch}\r\n\r\n".encode())
                    writer.write(f"Event: CoreShowChannelsComplete\r\nActionID: {aid}\r\nEventList: Complete\r\n"
                                 "ListItems: 2\r\n\r\n".encode())
                elif action == "Drop":
                    return
                await writer.drain()


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    f = FakeAmi()
    f.server = await asyncio.start_server(f.handle, "127.0.0.1", 0)
    yield f
    f.server.close()
    await f.server.wait_closed()


async def test_an_unanswered_action_times_out(fake: FakeAmi) -> None:
    client = AmiClient("127.0.0.1", fake.port, "u", "p", action_timeout=0.2, ping_interval=60)
    await client.connect()
    try:
        with pytest.raises(AmiTimeout, match="Silent"):
            await client.action("Silent")
        channels = await client.action_list("CoreShowChannels")
        assert [c.get("Channel") for c in channels] == ["PJSIP/a-1", "PJSIP/b-2"]
        assert client.snapshot().pending_actions == 0
    finally:
        await client.close()


async def test_a_drop_fails_pending_actions_and_reconnects_without_replay(fake: FakeAmi) -> None:
    client = AmiClient("127.0.0.1", fake.port, "u", "p", action_timeout=2, ping_interval=60,
                       reconnect_backoff=(0.05, 0.1))
    await client.connect()
    try:
        silent = asyncio.create_task(client.action("Silent"))
        await asyncio.sleep(0.05)
        with pytest.raises(AmiDisconnected):
            await client.action("Drop")
        with pytest.raises(AmiDisconnected):
            await silent
        for _ in range(100):
            if client.connected:
                break
            await asyncio.sleep(0.02)
        assert client.connected and client.reconnects == 1
        assert [a for a in fake.actions if not re.match("Login", a)] == ["Silent", "Drop"]
    finally:
        await client.close()
