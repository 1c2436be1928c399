"""Browser (WebRTC) phones in the multi-node layout (issue 18): an agent signs in to the desk in a real Chromium,
the page's phone registers through Kamailio's websocket (opened by the service's `/sip` relay, the only address
Kamailio accepts it from), a citizen's call lands on one node and rings in the page; the agent answers there, the
page gets the citizen's audio and the citizen hears the agent (media straight between Chromium and the node);
then a call landing on the other node rings in the same page, and *21 dialled in the page reaches a node.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from acd.directory.sync import PhoneSync
from dialplans.kamailio import MODULES_DIR
from hotline.core.asterisk.ami import AmiError
from hotline.core.audio.speech import speech_in_growing_wav
from integration.cluster.topology import WORLD, WS_PORT
from integration.world.call import WorldCall
from tests.browser import chromium, screenshot
from tests.cluster.common import Cluster, call_id, running_cluster, until
from tests.e2e.conftest import only_ready
from tests.pages.desk_steps import NEW_PASSWORD, person, sign_in

pytestmark = [pytest.mark.asterisk, pytest.mark.cluster, pytest.mark.browser, pytest.mark.asyncio(loop_scope="module"),
              pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
              pytest.mark.skipif(not Path(MODULES_DIR, "websocket.so").exists(),
                                 reason="kamailio-websocket-modules (scripts/setup-system.sh)")]
phone = pytest.importorskip("tests.pages.test_phone", reason="the softphone in the page (hotline.app.phone)")
AGENT, CITIZEN_SAYS = phone.AGENT, phone.CITIZEN_SAYS
TEST = "cluster-browser-phone"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    def browser_agent(plan: dict[str, Any]) -> None:
        plan["agents"].append({"id": AGENT, "name": "陈静", "seat": "general", "group": "一组",
                               "skills": {"general": 4}, "phone": "webrtc"})

    async with running_cluster(tmp_path_factory.mktemp("home"), browser_agent, ring_timeout_s=20.0,
                               websocket=True) as c:
        yield c


async def inbound(page: Page) -> dict[str, float]:
    return dict(await page.evaluate("() => window.hotlineDesk.phone.inboundAudio()") or {})


MEDIA_PEER = """async () => {
  const stats = await window.hotlineDesk.phone._peer().getStats();
  const pair = [...stats.values()].find((r) => r.type === "candidate-pair" && r.nominated && r.state === "succeeded");
  return pair ? stats.get(pair.remoteCandidateId).address : null;
}"""  # where the page's media goes: the remote ICE candidate of the pair in use


async def answered_in_the_page(c: Cluster, page: Page, citizen: WorldCall, step: str) -> str:
    """The citizen's call rings in the page; the agent answers there; audio both ways. The node it used (the call
    goes on)."""
    assert c.stack.data is not None
    await expect(page.locator("[data-test=ringing]")).to_contain_text("网页话机振铃中", timeout=30_000)
    node = (await call_id(c, citizen)).split("-", 1)[0]
    await screenshot(page, TEST, f"{step}-ringing-from-node-{node}")
    heard = c.stack.data.host(citizen.heard_inner)
    before = await asyncio.to_thread(speech_in_growing_wav, heard)
    clicked = time.monotonic()
    await page.click("[data-test=answer]")
    while not (await inbound(page)).get("packetsReceived"):
        assert time.monotonic() - clicked < 10, f"no audio from the citizen within 10 s of the answer (node {node})"
        await asyncio.sleep(0.05)
    answer_to_audio_ms = (time.monotonic() - clicked) * 1000
    await expect(page.locator("[data-test=call-state]")).to_have_text("通话中")
    first = await inbound(page)
    await asyncio.sleep(4)
    later = await inbound(page)
    after = await asyncio.to_thread(speech_in_growing_wav, heard)
    await screenshot(page, TEST, f"{step}-talking-via-node-{node}")
    media_peer = await page.evaluate(MEDIA_PEER)
    print(f"\ncall on node {node}: media with {media_peer}; answer → audio {answer_to_audio_ms:.0f} ms; page got "
          f"{later['packetsReceived'] - first['packetsReceived']:.0f} packets in 4 s; "
          f"citizen heard {before:.1f}→{after:.1f} s")
    assert later["packetsReceived"] - first["packetsReceived"] >= 150, "the citizen's audio reaches the page"
    assert later["totalAudioEnergy"] > first["totalAudioEnergy"], "and it carries sound"
    assert after - before >= 1.0, "the citizen hears the agent's speech"
    assert media_peer == c.topology.nets.address(node), "media straight between the page and the node (ICE)"
    return node


async def feature_code_from_the_page(c: Cluster, page: Page) -> None:
    """The page's own call (*21, ready) goes through Kamailio to a node, which authenticates it."""
    acd = c.stack.acd
    assert acd is not None
    await expect(page.locator("[data-test=agent-state]")).to_have_text("状态：就绪", timeout=15_000)
    await acd.set_agent_state(AGENT, "paused", reason="test")
    await expect(page.locator("[data-test=agent-state]")).not_to_have_text("状态：就绪", timeout=10_000)
    await page.evaluate("() => window.hotlineDesk.phone.call('*21')")

    async def ready() -> bool:
        return (await acd.agents()).get(AGENT, {}).get("state") == "ready"

    await until(ready, 15, "*21 dialled in the page signs the agent in ready")
    await expect(page.locator("[data-test=agent-state]")).to_have_text("状态：就绪", timeout=10_000)
    print(f"the page's *21: {c.edge.front_door.log_lines('browser phone')[-1].split('}')[-1].strip()}")


async def test_the_page_registers_through_kamailio_and_calls_from_both_nodes_ring_in_it(
        cluster: Cluster, tmp_path: Path) -> None:
    c = cluster
    assert c.stack.acd is not None
    password = await person(c.stack, "chenjing", "陈静", agent_id=AGENT, team="一组")
    await only_ready(c.stack)
    calls: list[WorldCall] = []
    try:
        async with chromium(microphone_wav=phone.speech_wav(tmp_path)) as browser:
            page = await browser.new_page(viewport={"width": 1440, "height": 960}, locale="zh-CN")
            await sign_in(page, f"http://127.0.0.1:{c.stack.settings.core.ports.http}", "chenjing", password,
                          change_to=NEW_PASSWORD)
            await expect(page.locator("[data-test=phone-state]")).to_contain_text("已注册", timeout=20_000)
            assert c.edge.front_door.log_lines("websocket refused") == []
            await page.click("[data-test=ready]")
            await expect(page.locator("[data-test=agent-state]")).to_have_text("状态：就绪")
            await screenshot(page, TEST, "01-registered-through-kamailio")
            nodes: list[str] = []
            calls.append(await c.caller.start("12345", "13800138500", script=CITIZEN_SAYS))
            for i in range(3):  # Kamailio deals calls round robin: the second (at most the third) on the other node
                started = time.monotonic()
                nodes.append(await answered_in_the_page(c, page, calls[-1], f"{i + 2:02d}"))
                if set(nodes) != {"a", "b"}:  # the next caller goes through the greeting meanwhile
                    calls.append(await c.caller.start("12345", f"1380013850{i + 1}", script=CITIZEN_SAYS))
                await page.click("[data-test=hangup]")  # (the citizen goes on to rate the call)
                print(f"(call {i + 1}: {time.monotonic() - started:.0f} s from placed or waiting to hung up)")
                if set(nodes) == {"a", "b"}:
                    break
            print(f"calls answered in the page came from nodes {nodes}")
            assert set(nodes) == {"a", "b"}, nodes  # both nodes reach the browser through Kamailio
            await feature_code_from_the_page(c, page)
    finally:
        for call in calls:
            with contextlib.suppress(AmiError, TimeoutError):
                await call.hangup()
        for call in calls:
            with contextlib.suppress(AmiError, TimeoutError):
                await call.outcome()


async def websocket_upgrade(c: Cluster, netns: str | None) -> str:
    """The status line Kamailio answers a SIP websocket upgrade with, asked from `netns` (None: the service's)."""
    door = f"http://{c.topology.front_door_address}:{WS_PORT}/ws"
    ask = ["curl", "-s", "-i", "-m", "2", "-H", "Connection: Upgrade", "-H", "Upgrade: websocket",
           "-H", "Sec-WebSocket-Version: 13", "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
           "-H", "Sec-WebSocket-Protocol: sip", door]
    proc = await asyncio.create_subprocess_exec(*(["ip", "netns", "exec", netns] if netns else []), *ask,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    out, _ = await proc.communicate()
    return out.decode(errors="replace").split("\r\n", 1)[0]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl")
async def test_the_websocket_opens_for_the_service_only(cluster: Cluster) -> None:
    c = cluster
    from_service = await websocket_upgrade(c, None)
    from_world = await websocket_upgrade(c, c.topology.nets.name(WORLD))
    print(f"\nwebsocket upgrade from the service: {from_service!r}; from the world: {from_world!r}")
    assert " 101 " in from_service  # the handshake itself works …
    assert " 403 " in from_world  # … but not from an address that is not a service instance
    assert c.edge.front_door.log_lines(f"websocket refused from {c.topology.world_address}")


async def register_over_the_websocket(c: Cluster, phone: str) -> str:
    """The status line Kamailio answers an unauthenticated REGISTER for `phone` with, sent over its websocket
    from the service's address (as the `/sip` relay does)."""
    door = c.topology.front_door_address
    register = (f"REGISTER sip:{door} SIP/2.0\r\nVia: SIP/2.0/WS probe.invalid;branch=z9hG4bK{uuid.uuid4().hex}\r\n"
                f"Max-Forwards: 70\r\nFrom: <sip:{phone}@{door}>;tag=t1\r\nTo: <sip:{phone}@{door}>\r\n"
                f"Call-ID: {uuid.uuid4().hex}\r\nCSeq: 1 REGISTER\r\n"
                f"Contact: <sip:{phone}@probe.invalid;transport=ws>\r\nExpires: 60\r\nContent-Length: 0\r\n\r\n")
    async with aiohttp.ClientSession() as http, http.ws_connect(f"ws://{door}:{WS_PORT}/ws", protocols=("sip",)) as ws:
        await ws.send_str(register)
        while True:
            line = str((await ws.receive(timeout=5)).data).split("\r\n", 1)[0]
            if not line.startswith("SIP/2.0 1"):
                return line


async def test_a_registration_over_the_websocket_needs_the_phones_password(cluster: Cluster) -> None:
    assert (await register_over_the_websocket(cluster, AGENT)).startswith("SIP/2.0 401")  # challenged
    assert (await register_over_the_websocket(cluster, "8999")).startswith("SIP/2.0 403")  # no such phone


STRANGER_HOST = 77  # an address of the run's /24 beside the service's: on this machine, neither a service nor the world
FLOOD = 200  # connections a stranger opens and drops at once
HELD = 50  # connections a stranger opens and leaves silent


async def stranger_address(c: Cluster) -> str:
    """A second local address on the service's side of the bridge (added once per run)."""
    address = str(c.topology.nets.subnet.network_address + STRANGER_HOST)
    if address not in await asyncio.to_thread(_local_addresses):
        c.topology.nets.add_service_address(STRANGER_HOST)
    return address


def _local_addresses() -> str:
    return subprocess.run(["ip", "-o", "-4", "addr"], capture_output=True, text=True, check=True).stdout


async def from_stranger(c: Cluster, stranger: str, data: bytes, *, read: bool = True) -> bytes:
    """Open a TCP connection from `stranger` to the websocket port, send `data`; what comes back within 2 s (or
    until Kamailio closes)."""
    reader, writer = await asyncio.open_connection(c.topology.front_door_address, WS_PORT, local_addr=(stranger, 0))
    try:
        writer.write(data)
        await writer.drain()
        if not read:
            return b""
        with contextlib.suppress(TimeoutError, ConnectionError):
            return await asyncio.wait_for(reader.read(4096), 2)
        return b""
    finally:
        writer.transport.abort()


def _upgrade(door: str) -> bytes:
    return (f"GET /ws HTTP/1.1\r\nHost: {door}:{WS_PORT}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Protocol: sip\r\n\r\n").encode()


def _options_over_tcp(door: str, stranger: str) -> bytes:
    return (f"OPTIONS sip:{door}:{WS_PORT};transport=tcp SIP/2.0\r\n"
            f"Via: SIP/2.0/TCP {stranger};branch=z9hG4bK{uuid.uuid4().hex}\r\nMax-Forwards: 70\r\n"
            f"From: <sip:probe@{stranger}>;tag=s1\r\nTo: <sip:{door}>\r\nCall-ID: {uuid.uuid4().hex}\r\n"
            "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode()


async def established_on_the_ws_port(c: Cluster, peer: str) -> int:
    """TCP connections Kamailio holds on its websocket port with `peer`."""
    proc = await asyncio.create_subprocess_exec(
        "ip", "netns", "exec", c.edge.front_door.netns, "ss", "-Htn", "state", "established",
        f"( sport = :{WS_PORT} and dst {peer} )", stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    return len([line for line in out.decode().splitlines() if line.strip()])


def _digest(phone: str, password: str, challenge: str, uri: str) -> str:
    fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    ha1 = hashlib.md5(f"{phone}:{fields['realm']}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"REGISTER:{uri}".encode()).hexdigest()
    answer = hashlib.md5(f"{ha1}:{fields['nonce']}:{ha2}".encode()).hexdigest()
    return (f'Digest username="{phone}", realm="{fields["realm"]}", nonce="{fields["nonce"]}", uri="{uri}", '
            f'response="{answer}", algorithm=MD5')


async def phone_registers(c: Cluster, phone: str, password: str) -> str:
    """A phone's whole REGISTER over the websocket from the service's address (challenged, then answered with its
    password), as the page's phone does it through the `/sip` relay: the final status line."""
    door = c.topology.front_door_address
    uri, call = f"sip:{door}", uuid.uuid4().hex

    def register(cseq: int, auth: str = "") -> str:
        return (f"REGISTER {uri} SIP/2.0\r\nVia: SIP/2.0/WS probe.invalid;branch=z9hG4bK{uuid.uuid4().hex}\r\n"
                f"Max-Forwards: 70\r\nFrom: <sip:{phone}@{door}>;tag=t1\r\nTo: <sip:{phone}@{door}>\r\n"
                f"Call-ID: {call}\r\nCSeq: {cseq} REGISTER\r\n{auth}"
                f"Contact: <sip:{phone}@probe.invalid;transport=ws>\r\nExpires: 60\r\nContent-Length: 0\r\n\r\n")

    async def final(ws: aiohttp.ClientWebSocketResponse) -> str:
        while True:
            text = str((await ws.receive(timeout=5)).data)
            if not text.startswith("SIP/2.0 1"):
                return text

    async with aiohttp.ClientSession() as http, http.ws_connect(f"ws://{door}:{WS_PORT}/ws", protocols=("sip",)) as ws:
        await ws.send_str(register(1))
        challenged = await final(ws)
        assert challenged.startswith("SIP/2.0 401"), challenged.split("\r\n", 1)[0]
        challenge = next(h for h in challenged.split("\r\n") if h.lower().startswith("www-authenticate:"))
        await ws.send_str(register(2, f"Authorization: {_digest(phone, password, challenge, uri)}\r\n"))
        answered = await final(ws)
        with contextlib.suppress(Exception):  # unregister: the probe's contact is not left behind
            await ws.send_str(register(3).replace("Expires: 60", "Expires: 0"))
        return answered.split("\r\n", 1)[0]


@pytest.mark.skipif(shutil.which("ss") is None, reason="ss (iproute2)")
async def test_a_stranger_on_another_local_address_is_refused_and_wears_nothing_down(cluster: Cluster) -> None:
    """From an address that is neither a service instance nor the world: the websocket upgrade is refused (403),
    SIP over plain TCP on the websocket's port is refused too, and 200 connections opened and dropped at once, then
    50 left silent, leave Kamailio registering a phone over the service's websocket."""
    c = cluster
    door = c.topology.front_door_address
    stranger = await stranger_address(c)
    password = c.stack.service(PhoneSync).phones[AGENT]

    refused = (await from_stranger(c, stranger, _upgrade(door))).decode(errors="replace").split("\r\n", 1)[0]
    over_tcp = (await from_stranger(c, stranger, _options_over_tcp(door, stranger))).decode(errors="replace")
    print(f"\nfrom {stranger}: websocket upgrade → {refused!r}; SIP OPTIONS over plain TCP → "
          f"{over_tcp.split(chr(13), 1)[0]!r}")
    assert " 403 " in refused
    assert c.edge.front_door.log_lines(f"websocket refused from {stranger}")
    assert not over_tcp.startswith("SIP/2.0 200"), "SIP over plain TCP on the websocket port is not served"

    started = time.monotonic()
    for start in range(0, FLOOD, 50):  # opened and dropped at once, 50 at a time
        batch = [from_stranger(c, stranger, _upgrade(door)[:40], read=False) for _ in range(min(50, FLOOD - start))]
        results = await asyncio.gather(*batch, return_exceptions=True)
        assert not [r for r in results if isinstance(r, OSError)], "every connection was accepted and dropped"
    print(f"{FLOOD} connections opened and dropped in {time.monotonic() - started:.1f} s")
    held: list[asyncio.StreamWriter] = []
    try:
        for _ in range(HELD):
            _, writer = await asyncio.open_connection(door, WS_PORT, local_addr=(stranger, 0))
            held.append(writer)
        started = time.monotonic()
        status = await phone_registers(c, AGENT, password)
        print(f"with {HELD} silent connections held: the phone's REGISTER → {status!r} in "
              f"{(time.monotonic() - started) * 1000:.0f} ms; Kamailio holds "
              f"{await established_on_the_ws_port(c, stranger)} connection(s) from {stranger}")
        assert status.startswith("SIP/2.0 200"), status
    finally:
        for writer in held:
            writer.transport.abort()
    await until(lambda: _none_held(c, stranger), 10, "Kamailio lets go of the stranger's connections")
    assert await c.edge.front_door.answers(), "and still answers SIP"


async def _none_held(c: Cluster, stranger: str) -> bool:
    return await established_on_the_ws_port(c, stranger) == 0
