"""Failure counts and bans of the SIP edge on a real redis-server, with a clock the test moves."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hotline.core.asterisk.sipbans import BanPolicy, SipBans, ban_file
from hotline.core.asterisk.sipguard import source_address
from hotline.core.embedded.redis_server import RedisServer
from hotline.core.netutil import free_port
from hotline.core.redis_client import redis_client
from hotline.core.settings import SipEdgeSettings


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def bans(tmp_path: Path) -> AsyncIterator[tuple[SipBans, Clock]]:
    server = RedisServer(tmp_path / "redis", free_port())
    await server.start()
    client = redis_client(server.url)
    clock = Clock()
    try:
        yield SipBans(client, BanPolicy(after=3, window_s=60, ban_s=900), clock), clock
    finally:
        await client.aclose()
        await server.stop()


async def test_failures_count_over_a_sliding_window_per_address(bans: tuple[SipBans, Clock]) -> None:
    state, clock = bans
    assert [await state.failed("192.0.2.7") for _ in range(2)] == [1, 2]
    assert await state.failed("192.0.2.8") == 1, "each address on its own"
    clock.now += 61
    assert await state.failed("192.0.2.7") == 1, "older failures left the window"


async def test_a_ban_lasts_its_period_and_clears_the_count(bans: tuple[SipBans, Clock]) -> None:
    state, clock = bans
    for _ in range(3):
        await state.failed("192.0.2.7")
    until = await state.ban("192.0.2.7")
    assert until == clock.now + 900
    assert await state.ban("192.0.2.7") is None, "banned once, however many failures come late"
    assert await state.current() == {"192.0.2.7": until}
    assert await state.failed("192.0.2.7") == 1, "the count starts again"
    clock.now += 900
    assert await state.current() == {}
    assert await state.redis.hlen("sipguard:bans") == 0, "an ended ban is removed"
    assert await state.ban("192.0.2.7") == clock.now + 900, "and may come again"


def test_the_ban_file_is_a_pjsip_acl_denying_each_banned_address() -> None:
    assert "type=acl" not in ban_file({})
    text = ban_file({"2001:db8::7": 1.0, "192.0.2.7": 2.0})
    assert "[hotline-bans]\ntype=acl\ndeny=192.0.2.7/32\ndeny=2001:db8::7/128\n" in text


@pytest.mark.parametrize(("remote", "address"), [("IPV4/UDP/192.0.2.7/5060", "192.0.2.7"),
                                                  ("IPV6/UDP/2001:db8::7/5060", "2001:db8::7"),
                                                  ("IPV6/UDP/[2001:db8::7]/5060", "2001:db8::7"),
                                                  ("IPV4/TLS/127.0.0.2/40122", "127.0.0.2"),
                                                  ("", None), ("IPV4/UDP/not-an-address/5060", None)])
def test_the_source_address_of_a_security_event(remote: str, address: str | None) -> None:
    assert source_address(remote) == (ipaddress.ip_address(address) if address else None)


def test_the_policy_and_exempt_networks_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert SipEdgeSettings().ban_exempt == () and SipEdgeSettings().ban_after == 10
    monkeypatch.setenv("HOTLINE_SIP_BAN_EXEMPT", "10.20.0.0/16,192.0.2.5")
    monkeypatch.setenv("HOTLINE_SIP_BAN_AFTER", "5")
    edge = SipEdgeSettings()
    assert edge.ban_exempt == ("10.20.0.0/16", "192.0.2.5") and edge.ban_after == 5 and not edge.tls
