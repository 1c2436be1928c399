"""The AMI adapter against a real Asterisk: originate correlation, and a cut that replays nothing."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from hotline.core.asterisk.ami import AmiActionError, AmiClient, AmiDisconnected, AmiLoginError, OriginateReason
from hotline.core.asterisk.root import AsteriskRoot
from hotline.core.asterisk.sandbox import AsteriskInstance
from hotline.core.netutil import free_port
from tests.core.asterisk.tcp_proxy import CuttableProxy

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]

EXTENSIONS = """[general]
static=yes
[test]
exten => 100,1,Set(GLOBAL(ORIGINATED)=$[0${ORIGINATED} + 1])
 same => n,Answer()
 same => n,Wait(1)
 same => n,Hangup()
exten => 200,1,Set(GLOBAL(ORIGINATED)=$[0${ORIGINATED} + 1])
 same => n,Busy(2)
"""


class Ami:
    def __init__(self, inst: AsteriskInstance, port: int, secret: str) -> None:
        self.inst, self.port, self.secret = inst, port, secret

    async def originated(self) -> int:
        out = await self.inst.cli("dialplan show globals")
        m = re.search(r"ORIGINATED=(\d+)", out)
        return int(m.group(1)) if m else 0


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ami(asterisk_root: AsteriskRoot) -> AsyncIterator[Ami]:
    port, secret = free_port(), secrets.token_urlsafe(12)
    manager = (f"[general]\nenabled=yes\nbindaddr=127.0.0.1\nport={port}\n\n[test]\nsecret={secret}\n"
               "deny=0.0.0.0/0.0.0.0\npermit=127.0.0.0/255.0.0.0\nread=all\nwrite=all\n")
    inst = AsteriskInstance(asterisk_root, "amitest", {"manager.conf": manager, "extensions.conf": EXTENSIONS})
    await inst.start()
    try:
        yield Ami(inst, port, secret)
    finally:
        await inst.stop()


async def test_originate_is_correlated_by_our_channel_id(ami: Ami) -> None:
    client = AmiClient("127.0.0.1", ami.port, "test", ami.secret)
    await client.connect()
    try:
        answered = await client.originate("Local/100@test", application="Wait", data="1")
        result = await answered.result(timeout=10)
        assert result.reason is OriginateReason.ANSWERED
        assert result.uniqueid == answered.channel_id
        await answered.hangup(timeout=10)  # correlated by our id (a Local channel reports cause 0)
        busy = await client.originate("Local/200@test", application="Wait", data="1")
        assert (await busy.result(timeout=10)).reason is not OriginateReason.ANSWERED
        with pytest.raises(AmiActionError):
            await client.action("NoSuchAction")
    finally:
        await client.close()
        await client.close()  # safe twice


async def test_bad_credentials_are_refused_clearly(ami: Ami) -> None:
    client = AmiClient("127.0.0.1", ami.port, "test", "wrong")
    with pytest.raises(AmiLoginError):
        await client.connect()
    await client.close()


async def test_a_cut_fails_the_pending_originate_and_never_replays_it(ami: Ami) -> None:
    proxy = CuttableProxy(ami.port)
    await proxy.start()
    client = AmiClient("127.0.0.1", proxy.port, "test", ami.secret, reconnect_backoff=(0.1, 0.5), ping_interval=1)
    resyncs = 0

    async def resync() -> None:
        nonlocal resyncs
        resyncs += 1
        await client.action_list("CoreShowChannels")

    client.on_connected(resync)
    await client.connect()
    try:
        assert resyncs == 1
        before = await ami.originated()
        proxy.hold_replies = True  # Asterisk gets the Originate; its reply never reaches us
        pending = asyncio.create_task(client.originate("Local/100@test", application="Wait", data="1"))
        for _ in range(100):
            if await ami.originated() == before + 1:
                break
            await asyncio.sleep(0.05)
        assert await ami.originated() == before + 1
        proxy.cut()
        proxy.hold_replies = False
        with pytest.raises(AmiDisconnected):
            await pending
        for _ in range(100):
            if client.connected and resyncs == 2:
                break
            await asyncio.sleep(0.05)
        assert client.connected and client.reconnects == 1 and resyncs == 2
        await asyncio.sleep(1.5)
        assert await ami.originated() == before + 1, "the Originate was sent again after the reconnect"
        assert (await client.action("Ping")).get("Ping") == "Pong"
    finally:
        await client.close()
        await proxy.close()


async def test_a_silent_connection_is_detected_by_ping(ami: Ami) -> None:
    proxy = CuttableProxy(ami.port)
    await proxy.start()
    client = AmiClient("127.0.0.1", proxy.port, "test", ami.secret, action_timeout=0.5, ping_interval=0.3,
                       reconnect_backoff=(0.1, 0.3))
    await client.connect()
    try:
        proxy.hold_replies = True  # the link stays open but Asterisk "stops answering"
        for _ in range(100):
            if proxy.connections >= 2:
                break
            await asyncio.sleep(0.05)
        proxy.hold_replies = False
        for _ in range(100):
            if client.connected and client.reconnects >= 1:
                break
            await asyncio.sleep(0.05)
        assert proxy.connections >= 2 and client.reconnects >= 1
    finally:
        await client.close()
        await proxy.close()
