"""Control characters (issue 15, injection): a CR or LF in a value would end an AMI action, an AGI command
or a dialplan line early and smuggle in another (an Originate to anywhere, `EXEC System`, a `Dial` line).
None reaches Asterisk: the AMI adapter sends nothing with one, AGI values are cleaned and a raw command
with one is refused, and the dialplan loader refuses them in every text it renders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dialplans.loader import check_dialplan
from hotline.core.asterisk.agi import AgiCall, AgiServer, Router
from hotline.core.asterisk.ami import AmiClient, AmiUnsafeField
from tests.core.asterisk.fake_agi_peer import KEY, agi_session
from tests.core.asterisk.test_ami_unit import FakeAmi

SHIPPED = Path(__file__).resolve().parents[2] / "dialplans" / "hotline.yaml"
SMUGGLED = ["x\r\nAction: Originate", "x\nEXEC System rm", "x\rHANGUP", "a\x00b", "a\x1bb", "a\u2028b", "a\x85b"]


@pytest.fixture
async def ami() -> AsyncIterator[tuple[AmiClient, FakeAmi]]:
    fake = FakeAmi()
    fake.server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    client = AmiClient("127.0.0.1", fake.port, "u", "p", action_timeout=0.5, ping_interval=60)
    await client.connect()
    try:
        yield client, fake
    finally:
        await client.close()
        fake.server.close()
        await fake.server.wait_closed()


async def test_the_ami_adapter_sends_no_action_with_a_control_character(ami: tuple[AmiClient, FakeAmi]) -> None:
    client, fake = ami
    for bad in SMUGGLED:
        with pytest.raises(AmiUnsafeField, match="control character in Data"):
            await client.originate("PJSIP/8001", application="Playback", data=bad)
        with pytest.raises(AmiUnsafeField, match="Variable"):
            await client.originate("PJSIP/8001", application="Wait", data="1", variables={"HOTLINE_CALL_ID": bad})
        with pytest.raises(AmiUnsafeField, match="Value"):
            await client.action("Setvar", {"Channel": "PJSIP/8001-1", "Variable": "X", "Value": bad})
        with pytest.raises(AmiUnsafeField):
            await client.action("Setvar", {f"Channel{bad}": "PJSIP/8001-1"})  # in a field's name too
    assert [a for a in fake.actions if a != "Login"] == [], "nothing reached the wire"
    assert client.snapshot().pending_actions == 0
    assert [c.get("Channel") for c in await client.action_list("CoreShowChannels")] == ["PJSIP/a-1", "PJSIP/b-2"]


injected: dict[str, object] = {}


async def data_from_outside(call: AgiCall) -> None:
    """A flow passing data it did not make (a caller's ticket title, a name) into AGI commands."""
    for i, bad in enumerate(SMUGGLED):
        await call.set_variable(f"V{i}", bad)
    await call.exec("Playback", "x\nEXEC System rm -rf /")
    try:
        await call.set_variable("NAME\nEXEC System rm", "v")  # a name is not quoted: refused, not sent
    except Exception as exc:
        injected["refused"] = exc


@pytest.fixture
async def agi() -> AsyncIterator[AgiServer]:
    router = Router()
    router.add("ivr/data", data_from_outside)
    server = AgiServer("127.0.0.1", 0, router, key=KEY, command_timeout=2, env_timeout=0.3)
    await server.start()
    injected.clear()
    yield server
    await server.close()


async def test_agi_commands_carry_no_line_break_from_data(agi: AgiServer) -> None:
    sent = await agi_session(agi.port, "ivr/data", {"EXEC": "200 result=0"})
    assert len(sent) == len(SMUGGLED) + 1 + 1, sent  # each value, the EXEC, the status; nothing smuggled
    assert not any(line.startswith(("EXEC System", "HANGUP", "Action")) for line in sent)
    assert sent[len(SMUGGLED)] == 'EXEC Playback "x EXEC System rm -rf /"'
    assert sent[-1] == 'SET VARIABLE HOTLINE_FLOW_STATUS "ok"'
    assert "control character in the SET command" in str(injected["refused"])


# YAML escapes: LF, CR, tab, ESC, NUL, U+2028
@pytest.mark.parametrize("escape", ["\\n", "\\r", "\\t", "\\x1b", "\\0", "\\L"])
@pytest.mark.parametrize(("line", "value"), [
    ("  greeting: 您好，12345热线，通话将被录音。", "您好，12345热线，通话将被录音。"),  # a prompt
    ('  - {name: 市供水集团, duty_number: "01062345601"}', '"01062345601"'),  # a number dialled out
    ('  - {id: "8001", name: 王芳, seat: general, group: 一组, skills: {general: 4}}', "王芳"),  # a name
    ("    match: [127.0.0.1]", "127.0.0.1"),  # a trunk's address
])
def test_the_dialplan_loader_refuses_control_characters_in_rendered_texts(tmp_path: Path, line: str, value: str,
                                                                          escape: str) -> None:
    text = SHIPPED.read_text()
    lineno = next(i for i, ln in enumerate(text.splitlines(), 1) if ln.startswith(line))
    poisoned = f'"{value.strip(chr(34))[:4]}{escape}{value.strip(chr(34))[4:]}"'
    target = tmp_path / "hotline.yaml"
    target.write_text(text.replace(line, line.replace(value, poisoned), 1))
    errors = check_dialplan(target)
    assert [e.line for e in errors if "control character" in e.message] == [lineno], [str(e) for e in errors]
