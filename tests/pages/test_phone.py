"""The softphone in the page, on the real stack: agent 8005's phone is the browser (`phone: webrtc`); Debian's
chromium opens /phone/ with a speech WAV as its microphone, registers over the service's /sip websocket (relayed to
Asterisk's ws transport on loopback), and takes a citizen's call from the simulated world with audio both ways:
the citizen hears the agent (webrtcvad on the citizen's side) and the page gets the citizen's audio (WebRTC stats).
Also: the ticket rules of /sip, a phone speaking for another agent cut off, the microphone refused, the websocket
dropped and re-registered by itself. Screenshots of each step go to var/artefacts/.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
import yaml
from playwright.async_api import BrowserContext, Page

from bench.phones import answer_to_audio_ms, open_phone, wait_state
from hotline.app.phone.http import BrowserPhones
from hotline.app.settings import Settings
from hotline.app.stack import Stack
from hotline.core.accounts.users import NewUser
from hotline.core.audio.speech import speech_in_growing_wav
from hotline.core.web.audit import AuditFilter, AuditLog
from integration.world.call import WorldCaller
from tests.browser import chromium, screenshot
from tests.e2e.conftest import api, only_ready, running_stack, stack_settings

pytestmark = [pytest.mark.asterisk, pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

AGENT = "8005"
OTHERS = ("8006", "8007")  # more browser phones, for several pages in one browser
SUPERVISOR = "9005"
CITIZEN_SAYS = "/".join(["say:demo-thanks"] * 25)  # the citizen talks on (about 3 s a sentence)


def webrtc_dialplan(folder: Path) -> Path:
    """The shipped dialplan plus agents 8005-8007 and supervisor 9005, whose phones are browsers."""
    plan = yaml.safe_load(Settings().core.dialplan_file.read_text(encoding="utf-8"))
    for agent in (AGENT, *OTHERS):
        plan["agents"].append({"id": agent, "name": f"坐席{agent}", "seat": "general", "group": "一组",
                               "skills": {"general": 4}, "phone": "webrtc"})
    plan["supervisors"].append({"id": SUPERVISOR, "name": "周敏", "phone": "webrtc"})
    path = folder / "hotline.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def speech_wav(folder: Path) -> Path:
    """What the agent says into the (fake) microphone: English speech from espeak-ng, 16 kHz mono 16-bit."""
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.skip("needs espeak-ng and sox")
    raw, wav = folder / "agent-raw.wav", folder / "agent.wav"
    subprocess.run(["espeak-ng", "-w", str(raw), "Hello, this is the twelve three four five hotline, agent eight "
                    "thousand and five speaking. How can I help you today? Please tell me your problem."], check=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wav)], check=True)
    return wav


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    home = tmp_path_factory.mktemp("home")
    settings = stack_settings(home, dialplan_file=webrtc_dialplan(home))
    settings = replace(settings, acd=replace(settings.acd, wrap_up_s=30.0, ring_timeout_s=20.0))
    async with running_stack(settings) as s:
        yield s


@pytest.fixture(scope="module")
def world_caller(stack: Stack) -> WorldCaller:
    assert stack.world_ami is not None and stack.data is not None and stack.calls is not None
    return WorldCaller(stack.world_ami, stack.data.inner_of("heard"), stack.data.host, stack.calls)


def base(stack: Stack) -> str:
    return stack.settings.core.web_url


async def agent_token(stack: Stack, agent: str = AGENT) -> str:
    assert stack.tokens is not None
    return await stack.tokens.create(name=f"agent-{agent}", role="agent", agent_id=agent)


@contextlib.asynccontextmanager
async def phone_page(stack: Stack, context: BrowserContext) -> AsyncIterator[Page]:
    """/phone/ signed in as agent 8005 (a bearer token in sessionStorage, as a machine or test signs in)."""
    token = await agent_token(stack)
    await context.add_init_script(f"window.sessionStorage.setItem('hotline.token', '{token}')")
    page = await context.new_page()
    page.on("console", lambda m: print("page:", m.type, m.text) if m.type in ("error", "warning") else None)
    page.on("response", lambda r: print("page: HTTP", r.status, r.url) if r.status >= 400 else None)
    await page.goto(f"{base(stack)}/phone/")
    try:
        yield page
    finally:
        await page.close()


async def page_state(page: Page, state: str, timeout_s: float = 20.0) -> None:
    await page.wait_for_selector(f"[data-test=state][data-state={state}]", timeout=timeout_s * 1000)


async def contacts(stack: Stack) -> list[dict[str, str]]:
    """The hotline Asterisk's registered contacts, over AMI."""
    assert stack.ami is not None
    events = await stack.ami.action_list("PJSIPShowContacts")
    return [dict(e) for e in events if e.get("Event") == "ContactList"]


async def until(check: Callable[[], Awaitable[bool]], timeout_s: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"{what}: not within {timeout_s} s"
        await asyncio.sleep(0.25)


@contextlib.asynccontextmanager
async def ami_events(stack: Stack, name: str) -> AsyncIterator[list[dict[str, str]]]:
    """The hotline's AMI events of this name while the block runs."""
    assert stack.ami is not None
    seen: list[dict[str, str]] = []
    sub = stack.ami.subscribe(name, lambda e: seen.append(dict(e)))
    try:
        yield seen
    finally:
        sub.cancel()


def has(events: list[dict[str, str]], **fields: str) -> Callable[[], Awaitable[bool]]:
    """A check for `until`: an event whose fields start with these values has come."""
    async def check() -> bool:
        return any(all(str(e.get(k, "")).startswith(v) for k, v in fields.items()) for e in events)

    return check


async def registered_over_ws(stack: Stack) -> bool:
    return any(c.get("Endpoint") == AGENT and "transport=ws" in c.get("Uri", "").lower()
               and c.get("Status") == "Reachable" for c in await contacts(stack))


async def test_a_citizens_call_rings_in_the_page_and_carries_audio_both_ways(
        stack: Stack, world_caller: WorldCaller, tmp_path: Path) -> None:
    acd = stack.acd
    assert acd is not None and stack.calls is not None and stack.data is not None
    test = "phone_call"
    async with chromium(microphone_wav=speech_wav(tmp_path)) as browser:
        context = await browser.new_context(locale="zh-CN")
        async with phone_page(stack, context) as page:
            await page_state(page, "registered")
            await screenshot(page, test, "1-registered")
            await until(lambda: registered_over_ws(stack), 10, "Asterisk sees 8005's contact over the websocket")
            await only_ready(stack, AGENT)

            citizen = await world_caller.start("12345", "13800138005", script=CITIZEN_SAYS)
            sip_call_id = await citizen.answered()
            await page.wait_for_selector("[data-test=caller]:has-text('13800138005')", timeout=30_000)
            await page_state(page, "ringing")
            await screenshot(page, test, "2-ringing")
            rows = await stack.calls.list(sip_call_id=sip_call_id, limit=1)
            assert rows and await page.locator(f"text=呼叫编号 {rows[0].call_id}").count() == 1, "X-Hotline-Call"

            await page.click("[data-test=answer]")
            await page_state(page, "talking")
            heard = stack.data.host(citizen.heard_inner)
            before = await asyncio.to_thread(speech_in_growing_wav, heard)
            first = await page.evaluate("hotlinePhone.inboundAudio()")
            await asyncio.sleep(6)
            later = await page.evaluate("hotlinePhone.inboundAudio()")
            after = await asyncio.to_thread(speech_in_growing_wav, heard)
            await screenshot(page, test, "3-talking")
            print("citizen heard speech before/after answer:", before, after, "page inbound:", first, later)
            assert after - before >= 1.5, "the citizen hears the agent's speech"
            assert later["packetsReceived"] - (first or {}).get("packetsReceived", 0) >= 200  # 50/s over 6 s
            assert later["totalAudioEnergy"] > (first or {}).get("totalAudioEnergy", 0) > 0 or \
                later["totalAudioEnergy"] > 0, "the page gets the citizen's audio"

            assert await page.evaluate("hotlinePhone.mute(true)") is True
            assert await page.evaluate("hotlinePhone.mute(false)") is False
            async with ami_events(stack, "DTMFEnd") as keys:
                await page.click("[data-test='key-5']")  # in a call the keypad sends RFC 4733 DTMF
                await until(has(keys, Digit="5", Direction="Received"), 5, "Asterisk gets the key")
            microphones = await page.evaluate("hotlinePhone.devices()")
            assert microphones, "the fake microphone is listed"
            await page.evaluate(f"hotlinePhone.useMicrophone('{microphones[-1]['deviceId']}')")
            sent = await page.evaluate("hotlinePhone.inboundAudio()")
            await asyncio.sleep(1.5)
            assert (await page.evaluate("hotlinePhone.inboundAudio()"))["packetsReceived"] > sent["packetsReceived"]

            await page.click("[data-test=hangup]")
            await page_state(page, "registered")
            await screenshot(page, test, "4-ended")

            async def wrapping_up() -> bool:
                return (await acd.agents()).get(AGENT, {}).get("state") == "wrap_up"

            await until(wrapping_up, 10, "the ACD has 8005 in wrap-up")
            await citizen.outcome()
        await context.close()


async def test_hold_is_a_re_invite_and_the_call_goes_on(stack: Stack, world_caller: WorldCaller,
                                                         tmp_path: Path) -> None:
    assert stack.acd is not None
    async with chromium(microphone_wav=speech_wav(tmp_path)) as browser:
        context = await browser.new_context(locale="zh-CN")
        async with phone_page(stack, context) as page:
            await page_state(page, "registered")
            await only_ready(stack, AGENT)
            citizen = await world_caller.start("12345", "13800138006", script=CITIZEN_SAYS)
            await citizen.answered()
            await page_state(page, "ringing", 30)
            await page.click("[data-test=answer]")
            await page_state(page, "talking")
            async with ami_events(stack, "Hold") as held, ami_events(stack, "Unhold") as resumed:
                await page.click("[data-test=hold]")
                await page_state(page, "held")
                await until(has(held, Channel=f"PJSIP/{AGENT}-"), 5, "Asterisk puts the citizen on hold")
                await screenshot(page, "phone_hold", "held")
                await page.click("[data-test=hold]")
                await page_state(page, "talking")
                await until(has(resumed, Channel=f"PJSIP/{AGENT}-"), 5, "and takes them off hold")
            await page.click("[data-test=hangup]")
            await page_state(page, "registered")
            await citizen.outcome()
        await context.close()


async def ticket(stack: Stack, token: str) -> str:
    status, body = await api(stack, "GET", "/api/desk/phone", token)
    assert status == 200, body
    assert isinstance(body, dict)
    return str(body["ws_url"])


async def open_sip(stack: Stack, ws_url: str, origin: str | None = None) -> aiohttp.ClientWebSocketResponse | int:
    """The websocket, or the HTTP status it was refused with."""
    http = aiohttp.ClientSession()
    try:
        ws = await http.ws_connect(base(stack) + ws_url, protocols=("sip",), origin=origin)
    except aiohttp.WSServerHandshakeError as exc:
        await http.close()
        return exc.status
    ws._phone_http = http  # type: ignore[attr-defined]  # closed with it below
    return ws


async def close_sip(ws: aiohttp.ClientWebSocketResponse) -> None:
    await ws.close()
    await ws._phone_http.close()  # type: ignore[attr-defined]


async def test_the_sip_socket_takes_one_valid_ticket_once(stack: Stack) -> None:
    assert await open_sip(stack, "/sip?ticket=made-up") == 401
    assert await open_sip(stack, "/sip") == 401
    url = await ticket(stack, await agent_token(stack))
    ws = await open_sip(stack, url)
    assert not isinstance(ws, int) and ws.protocol == "sip"
    await close_sip(ws)
    assert await open_sip(stack, url) == 401, "a ticket is good once"
    url = await ticket(stack, await agent_token(stack))
    assert await open_sip(stack, url, origin="https://evil.example") == 403, "another site's page"
    ws = await open_sip(stack, url, origin=base(stack))  # the refusal did not spend the ticket; our own page
    assert not isinstance(ws, int)
    await close_sip(ws)


async def test_only_a_browser_phone_and_only_ones_own(stack: Stack) -> None:
    assert stack.tokens is not None
    status, body = await api(stack, "GET", "/api/desk/phone", await agent_token(stack, "8001"))
    assert status == 409 and body["error"]["id"] == "not_a_browser_phone"  # type: ignore[index]
    auditor = await stack.tokens.create(name="aud", role="auditor")
    assert (await api(stack, "GET", "/api/desk/phone", auditor))[0] == 403
    sup = await stack.tokens.create(name="sup", role="supervisor")
    assert (await api(stack, "GET", "/api/desk/phone", sup))[0] == 404  # no phone of their own
    desk_sup = await stack.tokens.create(name="sip-sup", role="supervisor", agent_id="9001")
    assert (await api(stack, "GET", "/api/desk/phone", desk_sup))[0] == 409
    web_sup = await stack.tokens.create(name="web-sup", role="supervisor", agent_id=SUPERVISOR)
    status, body = await api(stack, "GET", "/api/desk/phone", web_sup)
    assert status == 200 and body["agent"] == SUPERVISOR  # type: ignore[index]
    status, body = await api(stack, "GET", "/api/desk/phone", await agent_token(stack))
    assert status == 200 and body["agent"] == AGENT and body["username"] == AGENT  # type: ignore[index]
    assert body["uri"] == f"sip:{AGENT}@127.0.0.1" and body["password"]  # type: ignore[index]


def register_as(user: str) -> str:
    return (f"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WSS abc.invalid;branch=z9hG4bK1\r\nMax-Forwards: 70\r\n"
            f"To: <sip:{user}@127.0.0.1>\r\nFrom: <sip:{user}@127.0.0.1>;tag=1\r\nCall-ID: x1\r\nCSeq: 1 REGISTER\r\n"
            f"Contact: <sip:{user}@abc.invalid;transport=ws>\r\nExpires: 60\r\nContent-Length: 0\r\n\r\n")


async def test_a_register_for_another_agent_closes_the_socket_and_is_audited(stack: Stack) -> None:
    assert stack.sessions is not None
    ws = await open_sip(stack, await ticket(stack, await agent_token(stack)))
    assert not isinstance(ws, int)
    await ws.send_str(register_as(AGENT))  # its own: Asterisk answers (a challenge)
    answer = await ws.receive(timeout=5)
    assert answer.type is aiohttp.WSMsgType.TEXT and answer.data.startswith("SIP/2.0 401"), answer
    await ws.send_str(register_as("8001"))
    closing = await ws.receive(timeout=5)
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED) and ws.close_code == 4403
    await close_sip(ws)
    rows = await AuditLog(stack.sessions).search(AuditFilter(action="phone.sip", allowed=False), 10)
    assert any(r["detail"].get("refused") == "not_your_phone" and "8001" in r["detail"].get("reason", "")
               for r in rows), rows


async def test_a_refused_microphone_shows_in_the_page(stack: Stack) -> None:
    async with chromium(grant_media=False) as browser:
        context = await browser.new_context(locale="zh-CN", permissions=[])
        async with phone_page(stack, context) as page:
            await page.wait_for_selector("[data-test=mic-denied]", timeout=20_000)
            assert "麦克风不可用" in await page.inner_text("[data-test=mic-denied]")
            await screenshot(page, "phone_microphone", "refused")
        await context.close()


async def test_a_dropped_websocket_reconnects_and_registers_again(stack: Stack, tmp_path: Path) -> None:
    phones = stack.service(BrowserPhones)
    async with chromium() as browser:
        context = await browser.new_context(locale="zh-CN")
        async with phone_page(stack, context) as page:
            await page_state(page, "registered")
            assert await phones.drop(AGENT) == 1
            await page_state(page, "reconnecting", 5)
            await screenshot(page, "phone_reconnect", "1-reconnecting")
            await page_state(page, "registered", 20)
            await screenshot(page, "phone_reconnect", "2-registered-again")
            await until(lambda: registered_over_ws(stack), 10, "Asterisk sees the contact again")
        await context.close()


async def test_a_feature_code_dialled_in_the_page_changes_the_agents_state(stack: Stack) -> None:
    acd = stack.acd
    assert acd is not None
    await acd.set_agent_state(AGENT, "paused", reason="test")
    async with chromium() as browser:
        context = await browser.new_context(locale="zh-CN")
        async with phone_page(stack, context) as page:
            await page_state(page, "registered")
            for key in "*21":
                await page.click(f"[data-test='key-{key}']")
            assert await page.locator("input[data-test=dial], [data-test=dial] input").first.input_value() == "*21"
            await page.click("[data-test=call]")

            async def ready() -> bool:
                return (await acd.agents()).get(AGENT, {}).get("state") == "ready"

            await until(ready, 15, "*21 from the page signs 8005 in ready")
            await page_state(page, "registered", 20)  # the prompt played, Asterisk hung up
            await screenshot(page, "phone_feature_code", "ready")
        await context.close()


async def test_several_phone_pages_in_one_browser_and_the_answer_to_audio_time(
        stack: Stack, world_caller: WorldCaller, tmp_path: Path) -> None:
    """Three agents' pages in one browser all register; the one that is ready takes the call, and the page hears
    the citizen soon after the click (what `python -m bench desk` measures as answer_to_audio_ms)."""
    async with chromium(microphone_wav=speech_wav(tmp_path)) as browser:
        pages = {agent: await open_phone(browser, base(stack), await agent_token(stack, agent))
                 for agent in (AGENT, *OTHERS)}
        for page in pages.values():
            await wait_state(page, "registered")
        await only_ready(stack, OTHERS[0])
        citizen = await world_caller.start("12345", "13800138007", script=CITIZEN_SAYS)
        await citizen.answered()
        await wait_state(pages[OTHERS[0]], "ringing", 30)
        ms = await answer_to_audio_ms(pages[OTHERS[0]])
        print(f"answer to the citizen's audio in the page: {ms:.0f} ms")
        assert 0 < ms < 5000
        assert await pages[AGENT].get_attribute("[data-test=state]", "data-state") == "registered"
        await screenshot(pages[OTHERS[0]], "phone_several", "talking")
        await pages[OTHERS[0]].click("[data-test=hangup]")
        await wait_state(pages[OTHERS[0]], "registered")
        await citizen.outcome()
        for page in pages.values():
            await page.context.close()


async def test_a_revoked_sign_in_closes_the_phone_and_the_page_says_so(stack: Stack) -> None:
    assert stack.tokens is not None
    issued = await stack.tokens.issue(name="agent-8005-revoked", role="agent", agent_id=AGENT)
    async with chromium() as browser:
        page = await open_phone(browser, base(stack), issued.token)
        await wait_state(page, "registered")
        await stack.tokens.revoke(issued.id)
        await wait_state(page, "failed", 15)  # the socket closed (4401), no new ticket for a revoked token
        assert "登录已失效" in await page.inner_text("[data-test=failed]")
        await screenshot(page, "phone_revoked", "failed")
        await page.context.close()


SIGN_IN = """async ([username, password]) => {
  const r = await fetch("/api/session", {method: "POST", headers: {"Content-Type": "application/json"},
                                         body: JSON.stringify({username, password})});
  return [r.status, await r.json()];
}"""
SIGN_OUT_EVERYWHERE = """async (csrf) => (await fetch("/api/session/everywhere",
  {method: "POST", headers: {"X-CSRF-Token": csrf}})).status"""


async def test_an_agent_signed_in_with_a_session_gets_the_phone_and_signing_out_everywhere_ends_it(
        stack: Stack) -> None:
    assert stack.users is not None
    password = "长城-correct-horse-8005"
    await stack.users.create(NewUser("chenjing", "agent", name="陈静", agent_id=AGENT, password=password))
    async with chromium() as browser:
        context = await browser.new_context(locale="zh-CN")
        page = await context.new_page()
        await page.goto(f"{base(stack)}/phone/")
        await page.wait_for_selector("[data-test=sign-in]")  # no session yet: 请先登录
        status, session = await page.evaluate(SIGN_IN, ["chenjing", password])
        assert status == 200 and session["user"]["agent_id"] == AGENT, session
        await page.reload()
        await wait_state(page, "registered")  # the cookie alone: no token anywhere in the page
        await screenshot(page, "phone_session", "1-registered")
        assert await page.evaluate(SIGN_OUT_EVERYWHERE, session["csrf_token"]) == 204
        await wait_state(page, "failed", 15)
        await screenshot(page, "phone_session", "2-signed-out")
        await context.close()


async def test_closing_the_page_pauses_a_ready_agent_and_opening_it_again_makes_them_ready(stack: Stack) -> None:
    """The tab closed: the websocket goes, Asterisk drops the contact, the ACD pauses the agent (nobody is offered
    to a seat without a phone); the page back: registered again, ready again."""
    acd = stack.acd
    assert acd is not None

    def state_is(wanted: str) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            return (await acd.agents()).get(AGENT, {}).get("state") == wanted

        return check

    async with chromium() as browser:
        token = await agent_token(stack)
        page = await open_phone(browser, base(stack), token)
        await wait_state(page, "registered")
        await only_ready(stack, AGENT)
        await page.context.close()
        await until(state_is("paused"), 45, "the agent whose page closed is paused")
        page = await open_phone(browser, base(stack), token)
        await wait_state(page, "registered")
        await until(state_is("ready"), 15, "the agent is ready again once the page registered")
        await page.context.close()


async def test_an_oversized_message_closes_the_phone_socket(stack: Stack) -> None:
    ws = await open_sip(stack, await ticket(stack, await agent_token(stack)))
    assert not isinstance(ws, int)
    padded = register_as(AGENT).replace("Content-Length: 0", "X-Pad: " + "a" * 40_000 + "\r\nContent-Length: 0")
    await ws.send_str(padded)  # over the relay's 32 KiB cap
    closing = await ws.receive(timeout=5)
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED) and ws.close_code == 1009
    await close_sip(ws)


async def test_an_agent_added_in_the_directory_with_a_browser_phone_registers_from_the_page(stack: Stack) -> None:
    """No file edit, no restart: the admin adds 8010 with phone webrtc (and later switches 8001 to the browser);
    the phones are rendered and reloaded, the world stops playing 8001's phone, and each page registers."""
    assert stack.tokens is not None
    admin = await stack.tokens.create(name="admin", role="admin")
    status, body = await api(stack, "POST", "/api/directory/agents", admin, {
        "id": "8010", "name": "孙丽", "seat": "general", "team": "一组", "skills": {"general": 3}, "phone": "webrtc"})
    assert status == 201, body
    status, body = await api(stack, "PATCH", "/api/directory/agents/8001", admin, {"phone": "webrtc"})
    assert status == 200, body
    async with chromium() as browser:
        for agent in ("8010", "8001"):
            async def phone_ready(agent: str = agent) -> bool:  # the directory's burst rendered and reloaded
                token = await agent_token(stack, agent)
                return (await api(stack, "GET", "/api/desk/phone", token))[0] == 200

            await until(phone_ready, 15, f"{agent}'s phone is a browser phone")

            async def in_asterisk(agent: str = agent) -> bool:  # the render reloaded: the endpoint has WebRTC media
                assert stack.hotline is not None
                shown = await stack.hotline.cli(f"pjsip show endpoint {agent}")
                return re.search(r"use_avpf\s*:\s*true", shown) is not None

            await until(in_asterisk, 30, f"Asterisk has {agent}'s browser endpoint")
            page = await open_phone(browser, base(stack), await agent_token(stack, agent))
            await wait_state(page, "registered")
            await screenshot(page, "phone_directory", f"registered-{agent}")

            async def over_ws(agent: str = agent) -> bool:
                uris = [c.get("Uri", "").lower() for c in await contacts(stack) if c.get("Endpoint") == agent]
                return bool(uris) and all("transport=ws" in uri for uri in uris)

            await until(over_ws, 10, f"Asterisk has {agent}'s contact from the browser only")
            await page.context.close()
    status, body = await api(stack, "PATCH", "/api/directory/agents/8001", admin, {"phone": "sip"})
    assert status == 200, body  # (8001's desk phone again, for the other tests)
