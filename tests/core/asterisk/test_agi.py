"""FastAGI server against a fake Asterisk peer over real TCP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from hotline.core.asterisk.agi import AgiCall, AgiCommandError, AgiHangup, AgiServer, Router
from hotline.core.asterisk.agi.protocol import MalformedSession, Request, parse_env_line, parse_result, quote
from tests.core.asterisk.fake_agi_peer import KEY, agi_session

seen: dict[str, object] = {}


class FlowBug(RuntimeError):
    pass


async def echo_flow(call: AgiCall) -> None:
    seen["route"], seen["params"], seen["args"] = call.route, dict(call.params), call.args
    seen["digit"] = await call.stream_file("greeting", escape_digits="12")
    seen["var"] = await call.get_variable("FOO")


async def broken_flow(call: AgiCall) -> None:
    await call.answer()
    raise FlowBug("bug")


async def two_prompts(call: AgiCall) -> None:
    await call.stream_file("one")
    seen["after_hangup"] = True
    await call.stream_file("two")


async def short_flow(call: AgiCall) -> None:
    await call.answer()
    await call.set_variable("X", 'a "quoted" value')


@pytest.fixture
async def server() -> AsyncIterator[AgiServer]:
    router = Router()
    for route, flow in {"ivr/echo": echo_flow, "ivr/broken": broken_flow, "ivr/two": two_prompts,
                        "ivr/short": short_flow}.items():
        router.add(route, flow)
    srv = AgiServer("127.0.0.1", 0, router, key=KEY, command_timeout=2, env_timeout=0.3)
    await srv.start()
    seen.clear()
    yield srv
    await srv.close()


def test_environment_lines_allow_empty_values_and_split_on_the_first_colon() -> None:
    assert parse_env_line("agi_arg_1:") == ("agi_arg_1", "")
    assert parse_env_line("agi_request: agi://h:1/x?a=b:c") == ("agi_request", "agi://h:1/x?a=b:c")
    with pytest.raises(MalformedSession):
        parse_env_line("GET / HTTP/1.1")
    request = Request.from_env({"agi_request": "agi://127.0.0.1:4573/ivr/inbound?number=12345&empty="})
    assert request.route == "ivr/inbound"
    assert request.params == {"number": "12345", "empty": ""}


def test_results_are_parsed() -> None:
    assert parse_result("200 result=49 endpos=1234").code == 49
    timeout = parse_result("200 result=0 (timeout)")
    assert timeout.timed_out and timeout.code == 0
    value = parse_result("200 result=1 (some (nested) value)")
    assert value.data == "some (nested) value"
    assert quote('a "b" \\c') == '"a \\"b\\" \\\\c"'


async def test_a_flow_gets_route_params_and_typed_results(server: AgiServer) -> None:
    sent = await agi_session(server.port, "ivr/echo?number=12345&empty=", {
        "STREAM FILE": "200 result=49 endpos=100", "GET VARIABLE": "200 result=1 (bar)"},
        env={"agi_arg_1": "", "agi_arg_2": "x"})
    assert seen == {"route": "ivr/echo", "params": {"number": "12345", "empty": ""}, "args": ["", "x"],
                    "digit": "1", "var": "bar"}
    assert sent[0] == 'STREAM FILE "greeting" "12"'
    assert sent[-1] == 'SET VARIABLE HOTLINE_FLOW_STATUS "ok"'


async def test_a_session_without_the_deployments_key_runs_no_flow(server: AgiServer) -> None:
    """Any local process may connect to the AGI port; only our Asterisk knows the key in the AGI URLs."""
    for key in (None, "", "wrong-key-wrong-key-wrong", KEY[:-1], KEY + "x"):
        assert await agi_session(server.port, "ivr/echo?number=12345", key=key) == [], f"{key!r} let in"
    assert seen == {} and server.stats().forbidden == 5 and server.stats().total == 5
    assert await agi_session(server.port, f"ivr/echo?hotline_key={KEY}&number=1", {
        "STREAM FILE": "200 result=49 endpos=100", "GET VARIABLE": "200 result=1 (bar)"}, key=None)
    assert seen["params"] == {"number": "1"}, "the key is taken out wherever it stands"


def test_the_server_refuses_a_short_key() -> None:
    with pytest.raises(ValueError, match="16 characters"):
        AgiServer("127.0.0.1", 0, Router(), key="short")


async def test_a_raising_flow_marks_the_call_for_the_failsafe(server: AgiServer) -> None:
    sent = await agi_session(server.port, "ivr/broken", {"ANSWER": "200 result=0"})
    # the error first: the status is the session's last command, sent without waiting for its reply
    assert sent == ["ANSWER", 'SET VARIABLE HOTLINE_FLOW_ERROR "FlowBug"', 'SET VARIABLE HOTLINE_FLOW_STATUS "failed"']
    assert server.stats().failed == 1


async def test_an_unknown_route_is_sent_to_the_failsafe(server: AgiServer) -> None:
    sent = await agi_session(server.port, "ivr/nope")
    assert 'HOTLINE_FLOW_ERROR "UnknownRoute"' in sent[0]
    assert sent[1] == 'SET VARIABLE HOTLINE_FLOW_STATUS "failed"'


async def test_hangup_ends_the_flow_without_further_commands(server: AgiServer) -> None:
    sent = await agi_session(server.port, "ivr/two", {"STREAM FILE": "HANGUP"})
    assert sent == ['STREAM FILE "one" ""']
    assert "after_hangup" not in seen


async def test_eof_ends_the_session_promptly(server: AgiServer) -> None:
    start = time.monotonic()
    await agi_session(server.port, "ivr/two", {"STREAM FILE": "EOF"})
    for _ in range(100):
        if server.stats().active == 0:
            break
        await asyncio.sleep(0.01)
    assert server.stats().active == 0
    assert time.monotonic() - start < 1.5
    assert "after_hangup" not in seen


async def test_minus_one_on_a_live_channel_is_an_error_not_a_hangup(server: AgiServer) -> None:
    sent = await agi_session(server.port, "ivr/two", {"STREAM FILE": "200 result=-1 endpos=0",
                                                      "CHANNEL STATUS": "200 result=6"})
    assert 'SET VARIABLE HOTLINE_FLOW_ERROR "AgiCommandError"' in sent
    sent = await agi_session(server.port, "ivr/two", {"STREAM FILE": "200 result=-1 endpos=0",
                                                      "CHANNEL STATUS": "511 Command Not Permitted on a dead channel"})
    assert not any("FLOW_STATUS" in c for c in sent)


async def test_bad_sessions_do_not_disturb_good_ones(server: AgiServer) -> None:
    async def garbage() -> None:
        r, w = await asyncio.open_connection("127.0.0.1", server.port)
        w.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await w.drain()
        assert await r.read() == b""  # closed by the server
        w.close()

    async def silent() -> None:
        r, w = await asyncio.open_connection("127.0.0.1", server.port)
        assert await asyncio.wait_for(r.read(), 3) == b""  # closed after the environment timeout
        w.close()

    async def half_env() -> None:
        _, w = await asyncio.open_connection("127.0.0.1", server.port)
        w.write(b"agi_network: yes\nagi_req")
        w.close()

    good = [agi_session(server.port, "ivr/short", {"ANSWER": "200 result=0"}) for _ in range(50)]
    results = await asyncio.gather(garbage(), silent(), half_env(), *good)
    for sent in results[3:]:
        assert sent == ["ANSWER", 'SET VARIABLE X "a \\"quoted\\" value"', 'SET VARIABLE HOTLINE_FLOW_STATUS "ok"']
    assert server.stats().failed == 3


async def test_hundreds_of_concurrent_sessions(server: AgiServer) -> None:
    results = await asyncio.gather(*(agi_session(server.port, "ivr/short", {"ANSWER": "200 result=0"})
                                     for _ in range(300)))
    assert all(r[-1] == 'SET VARIABLE HOTLINE_FLOW_STATUS "ok"' for r in results)
    assert server.stats().total == 300


async def test_router_refuses_duplicates() -> None:
    router = Router()
    router.add("ivr/x", short_flow)
    with pytest.raises(ValueError, match="already"):
        router.add("/ivr/x/", short_flow)


async def test_command_errors_carry_asterisk_text(server: AgiServer) -> None:
    async def bad(call: AgiCall) -> None:
        try:
            await call.exec("NoSuchApp")
        except AgiCommandError as exc:
            seen["error"] = str(exc)
            raise AgiHangup("done") from exc

    server._router.add("ivr/bad", bad)
    await agi_session(server.port, "ivr/bad", {"EXEC": "200 result=-2"})
    assert "NoSuchApp" in str(seen["error"])


class _BrokenWriter:
    """A writer whose connection is gone: every write fails as a reset socket does."""

    def write(self, data: bytes) -> None:
        raise ConnectionResetError("reset by peer")

    async def drain(self) -> None:  # pragma: no cover - the write fails first
        raise AssertionError("never reached")


async def _send(call: AgiCall, *, last: bool) -> None:
    if last:
        call.send_last("SET VARIABLE X 1")
    else:
        await call.command("ANSWER")


@pytest.mark.parametrize("last", [False, True], ids=["command", "send_last"])
async def test_a_broken_connection_is_a_hangup_for_command_and_send_last(last: bool) -> None:
    call = AgiCall(asyncio.StreamReader(), _BrokenWriter(), {"agi_uniqueid": "u-1"},  # type: ignore[arg-type]
                   command_timeout=1)
    with pytest.raises(AgiHangup, match="reset by peer"):
        await _send(call, last=last)
    assert call.hungup
    with pytest.raises(AgiHangup, match="the call has ended"):  # nothing is written after it
        call.send_last("SET VARIABLE X 2")
