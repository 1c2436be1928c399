"""The SIP guard's decisions on a real redis-server, with a small fake AMI and Asterisk config folder:
what counts as a failure, who is never banned, when the ACL is rewritten and res_pjsip reloaded.
(The whole path on real Asterisk: tests/security/test_sip_edge.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from hotline.core.asterisk.ami import AmiMessage, EventHandler
from hotline.core.asterisk.sipbans import BANS_FILE, BanPolicy, SipBans
from hotline.core.asterisk.sipguard import FAILURE_EVENTS, MAX_REST_S, GuardStats, SipGuard
from hotline.core.embedded.redis_server import RedisServer
from hotline.core.netutil import free_port
from hotline.core.redis_client import redis_client


class FakeAmi:
    def __init__(self) -> None:
        self.handlers: dict[str, EventHandler] = {}
        self.commands: list[str] = []

    def subscribe(self, event: str, handler: EventHandler) -> FakeAmi:
        self.handlers[event] = handler
        return self

    def cancel(self) -> None:
        self.handlers.clear()

    async def action(self, action: str, fields: Mapping[str, str | list[str]] | None = None, *,
                     timeout: float | None = None) -> AmiMessage:
        self.commands.append(str((fields or {}).get("Command")))
        return {"Response": "Success"}


class FakeEtc:
    def __init__(self) -> None:
        self.written: list[str] = []

    def write_configs(self, configs: Mapping[str, str]) -> None:
        self.written.append(configs[BANS_FILE])


class Clock:
    now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def guard(tmp_path: Path) -> AsyncIterator[tuple[SipGuard, FakeAmi, FakeEtc, Clock]]:
    server = RedisServer(tmp_path / "redis", free_port())
    await server.start()
    client = redis_client(server.url)
    clock, ami, etc = Clock(), FakeAmi(), FakeEtc()
    g = SipGuard(SipBans(client, BanPolicy(after=3, window_s=60, ban_s=900), clock), ami, etc,
                 never_ban=["203.0.113.0/28", "sip.carrier.example"])
    try:
        yield g, ami, etc, clock
    finally:
        await g.close()
        await client.aclose()
        await server.stop()


def failure(address: str, event: str = "ChallengeResponseFailed", service: str = "PJSIP") -> dict[str, Any]:
    return {"Event": event, "Service": service, "RemoteAddress": f"IPV4/UDP/{address}/5060", "AccountID": "8001"}


async def test_the_failure_reaching_the_count_bans_and_reloads_once(guard: tuple[SipGuard, FakeAmi, FakeEtc,
                                                                                 Clock]) -> None:
    g, ami, etc, _ = guard
    for event in FAILURE_EVENTS[:2]:
        await g.on_failure(failure("192.0.2.7", event))
    assert etc.written == [] and ami.commands == []
    await g.on_failure(failure("192.0.2.7", FAILURE_EVENTS[2]))
    await g.on_failure(failure("192.0.2.7"))  # late in the same burst
    assert etc.written == [], "the worker applies the bans"
    await g.step()
    assert len(etc.written) == 1 and "deny=192.0.2.7/32" in etc.written[0]
    assert ami.commands == ["module reload res_pjsip.so"]
    assert g.stats() == GuardStats(failures=4, bans=1, banned=1)
    await g.step()
    assert len(ami.commands) == 1, "no change, no reload"


async def test_carriers_other_services_and_odd_events_never_ban(guard: tuple[SipGuard, FakeAmi, FakeEtc,
                                                                             Clock]) -> None:
    g, ami, etc, _ = guard
    for _ in range(5):
        await g.on_failure(failure("203.0.113.9"))  # inside a carrier's match
        await g.on_failure(failure("192.0.2.8", service="AMI"))  # AMI logins are not the SIP guard's
        await g.on_failure({"Event": "InvalidPassword", "Service": "PJSIP", "RemoteAddress": "garbage"})
    assert etc.written == [] and ami.commands == [] and g.stats().banned == 0
    assert g.stats().failures == 5, "the carrier's failures are still counted in the metrics"


async def test_a_ban_is_lifted_when_it_ends(guard: tuple[SipGuard, FakeAmi, FakeEtc, Clock]) -> None:
    g, ami, etc, clock = guard
    for _ in range(3):
        await g.on_failure(failure("192.0.2.7"))
    await g.step()
    clock.now += 890
    assert await g.step() == pytest.approx(10.1), "the next step comes when the ban ends"
    clock.now += 11
    assert await g.step() == MAX_REST_S
    assert g.stats().banned == 0 and "deny=" not in etc.written[-1]
    assert ami.commands == ["module reload res_pjsip.so"] * 2


async def test_the_services_own_websocket_relay_on_loopback_is_never_banned(
        guard: tuple[SipGuard, FakeAmi, FakeEtc, Clock]) -> None:
    g, _, etc, _ = guard
    for _ in range(5):
        await g.on_failure({**failure("127.0.0.1"), "RemoteAddress": "IPV4/WS/127.0.0.1/41234"})
    assert await g.bans.current() == {} and etc.written == []
    for _ in range(3):  # a websocket from elsewhere, or UDP from loopback, counts as ever
        await g.on_failure({**failure("192.0.2.9"), "RemoteAddress": "IPV4/WS/192.0.2.9/41234"})
    assert list(await g.bans.current()) == ["192.0.2.9"]


class DownAmi(FakeAmi):
    async def action(self, action: str, fields: Mapping[str, str | list[str]] | None = None, *,
                     timeout: float | None = None) -> AmiMessage:
        raise ConnectionError("node's AMI away")


async def test_with_media_nodes_every_node_gets_the_acl_and_a_reload(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis", free_port())
    await server.start()
    client = redis_client(server.url)
    events, nodes = FakeAmi(), [(FakeEtc(), FakeAmi()), (FakeEtc(), DownAmi()), (FakeEtc(), FakeAmi())]
    g = SipGuard(SipBans(client, BanPolicy(after=1, window_s=60, ban_s=900), Clock()), events, FakeEtc(),
                 never_ban=["10.77.9.3"], nodes=nodes)
    try:
        await g.on_failure(failure("10.77.9.3"))  # the front door's address, as the nodes see it: never banned
        await g.on_failure(failure("192.0.2.9"))
        await g.step()
        assert all(len(etc.written) == 1 and "deny=192.0.2.9/32" in etc.written[0] for etc, _ in nodes)
        assert [ami.commands for _, ami in nodes] == [["module reload res_pjsip.so"], [],
                                                      ["module reload res_pjsip.so"]]  # node b away: a and c on
        assert events.commands == [] and g.stats().banned == 1
    finally:
        await g.close()
        await client.aclose()
        await server.stop()
