"""The SIP and AMI edge of the hotline's Asterisk (issue 15, telephony edge → SIP), against the real stack.

The carrier is known by its source address only (127.0.0.1 here): a stranger elsewhere on the host claiming
to be the carrier, a citizen or an agent gets a challenge and no call. An address that keeps failing SIP
authentication is refused for a while, a correct password too; other addresses go on. AMI takes logins
from the service's own address only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from prometheus_client import generate_latest

from hotline.app.stack import Stack
from hotline.core.asterisk.sipbans import BANS_FILE, PREFIX
from tests.e2e.conftest import running_stack, stack_settings
from tests.security.sip_probe import sip_request

pytestmark = pytest.mark.asterisk
HOTLINE = "127.0.0.1"  # the hotline's address and, in the tests, the carrier's (trunk match)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        yield s


def sip_port(stack: Stack) -> int:
    return stack.settings.core.ports.hotline_sip


def secret(stack: Stack, phone: str) -> str:
    assert stack.render_context is not None
    return stack.render_context.agent_secrets[phone]


async def call_record(stack: Stack, sip_call_id: str, timeout: float) -> Any:
    """The call record of a SIP Call-ID, waiting up to `timeout` seconds for it (None if there is none)."""
    assert stack.calls is not None
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        rows = await stack.calls.list(sip_call_id=sip_call_id, limit=1)
        if rows or asyncio.get_running_loop().time() >= deadline:
            return rows[0] if rows else None
        await asyncio.sleep(0.2)


@pytest.mark.asyncio(loop_scope="module")
async def test_a_stranger_claiming_to_be_the_carrier_a_citizen_or_an_agent_starts_no_call(stack: Stack) -> None:
    assert stack.ami is not None
    channels: list[str] = []
    sub = stack.ami.subscribe("Newchannel", lambda e: channels.append(str(e.get("Channel"))))
    try:
        for user in ("13912345678", "carrier", "8001"):  # a random caller, the trunk's name, an agent's id
            probe = await sip_request("INVITE", source="127.0.0.3", host=HOTLINE, port=sip_port(stack), user=user,
                                      to_user="12345")
            assert probe.statuses and probe.final in (401, 403, 407), (user, probe.statuses)
            assert await call_record(stack, probe.call_id, 1.0) is None
        assert channels == [], "Asterisk opened no channel for a stranger"
        # the same INVITE from the carrier's address is a call: the probe can tell
        probe = await sip_request("INVITE", source=HOTLINE, host=HOTLINE, port=sip_port(stack), user="13912345678",
                                  to_user="12345")
        assert probe.final == 200, probe.statuses
        record = await call_record(stack, probe.call_id, 10.0)
        assert record is not None and record.caller == "13912345678"
        assert channels, "the carrier's call opened a channel"
    finally:
        sub.cancel()


async def ami_login(stack: Stack, source: str) -> str:
    """A raw AMI login with the service's own credentials, from `source`; Asterisk's answer."""
    assert stack.ami is not None
    reader, writer = await asyncio.open_connection(HOTLINE, stack.settings.core.ports.hotline_ami,
                                                   local_addr=(source, 0))
    try:
        await reader.readline()  # the banner
        writer.write(f"Action: Login\r\nUsername: {stack.ami.username}\r\nSecret: {stack.ami.secret}\r\n"
                     "Events: off\r\n\r\n".encode())
        await writer.drain()
        answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        return answer.decode()
    except (asyncio.IncompleteReadError, ConnectionError):
        return "closed"
    finally:
        writer.close()


@pytest.mark.asyncio(loop_scope="module")
async def test_ami_takes_the_right_secret_only_from_the_services_own_address(stack: Stack) -> None:
    assert "Response: Success" in await ami_login(stack, HOTLINE)
    refused = await ami_login(stack, "127.0.0.2")
    assert "Response: Success" not in refused and ("Response: Error" in refused or refused == "closed")
    assert stack.hotline is not None
    manager = (stack.hotline.etc_dir / "manager.conf").read_text()
    assert f"bindaddr={HOTLINE}\n" in manager and "deny=0.0.0.0/0.0.0.0\npermit=127.0.0.1/32\n" in manager
    http = (stack.hotline.etc_dir / "http.conf").read_text()  # the browser phones' websocket, relayed by the service
    assert "bindaddr=127.0.0.1\n" in http and "enable_status=no\n" in http, "Asterisk's own HTTP: loopback only"


async def register(stack: Stack, source: str, phone: str, password: str) -> int:
    probe = await sip_request("REGISTER", source=source, host=HOTLINE, port=sip_port(stack), user=phone,
                              password=password)
    return probe.final


async def until(condition: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


@pytest.mark.asyncio(loop_scope="module")
async def test_a_failed_authentication_storm_bans_its_address_and_no_other(stack: Stack,
                                                                           caplog: pytest.LogCaptureFixture) -> None:
    guard = stack.sip_guard
    assert guard is not None and stack.hotline is not None
    policy = guard.bans.policy
    assert (policy.after, policy.window_s, policy.ban_s) == (10, 60, 900), "the defaults"
    assert await register(stack, "127.0.0.2", "9001", secret(stack, "9001")) == 200, "before the storm"
    with caplog.at_level(logging.WARNING, logger="hotline.core.asterisk.sipguard"):
        for attempt in range(policy.after):
            assert await register(stack, "127.0.0.2", "9001", f"guess-{attempt}") in (401, 403)
        await until(lambda: guard.stats().banned == 1)
    assert "SIP address 127.0.0.2 refused for 900 s" in caplog.text
    assert "deny=127.0.0.2/32" in (stack.hotline.etc_dir / BANS_FILE).read_text()
    assert guard.stats().bans == 1 and guard.stats().failures >= policy.after
    metrics = generate_latest(stack.registry).decode()
    assert "hotline_sip_bans_total 1.0" in metrics and "hotline_sip_banned 1.0" in metrics

    assert await register(stack, "127.0.0.2", "9001", secret(stack, "9001")) == 403, "the right password too"
    assert await register(stack, HOTLINE, "9001", secret(stack, "9001")) == 200, "the carrier's address"
    assert await register(stack, "127.0.0.4", "9001", secret(stack, "9001")) == 200, "any other address"

    # the ban ends (moved up from 15 minutes to now): the address is heard again
    await guard.bans.redis.hset(f"{PREFIX}bans", "127.0.0.2", f"{time.time() + 0.5:.3f}")
    guard.wake()
    await until(lambda: guard.stats().banned == 0)
    assert "deny=" not in (stack.hotline.etc_dir / BANS_FILE).read_text()
    assert await register(stack, "127.0.0.2", "9001", secret(stack, "9001")) == 200


@pytest.mark.asyncio(loop_scope="module")
async def test_a_scanner_guessing_user_names_is_banned_too(stack: Stack) -> None:
    guard = stack.sip_guard
    assert guard is not None and stack.hotline is not None
    bans_before, banned_before = guard.stats().bans, guard.stats().banned
    for attempt in range(guard.bans.policy.after):
        assert await register(stack, "127.0.0.5", f"{1000 + attempt}", "123456") in (401, 403)
    await until(lambda: guard.stats().bans == bans_before + 1)
    await until(lambda: guard.stats().banned == banned_before + 1)  # the worker wrote the ACL and reloaded
    assert "deny=127.0.0.5/32" in (stack.hotline.etc_dir / BANS_FILE).read_text()
    assert await register(stack, "127.0.0.5", "9001", secret(stack, "9001")) == 403
