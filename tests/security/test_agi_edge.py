"""The FastAGI port from outside the hotline's own Asterisk (issue 15, telephony edge): any local process
can connect, but a session without the deployment's key runs no flow — here, a stranger's `*23` would
sign agent 8001 out — and is counted and logged. Real calls carry the key: every other e2e test shows it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from hotline.app.stack import Stack
from tests.core.asterisk.fake_agi_peer import agi_session
from tests.e2e.conftest import running_stack, stack_settings

pytestmark = pytest.mark.asterisk


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        yield s


async def stranger(port: int, route: str, key: str | None, source: str) -> list[str]:
    """A FastAGI session from a process that is not our Asterisk, from `source`."""
    return await agi_session(port, route, {"ANSWER": "200 result=0", "STREAM FILE": "200 result=0 endpos=0",
                                           "EXEC": "200 result=0"}, key=key, source=source)


@pytest.mark.asyncio(loop_scope="module")
async def test_a_stranger_on_the_agi_port_cannot_sign_an_agent_out(stack: Stack,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    assert stack.acd is not None and stack.agi is not None
    await stack.acd.set_agent_state("8001", "ready")
    before = stack.agi.stats().forbidden
    with caplog.at_level(logging.WARNING, logger="hotline.core.asterisk.agi.server"):
        for key in (None, "guessed-guessed-guessed-guessed"):
            for source in ("127.0.0.1", "127.0.0.2"):
                sent = await stranger(stack.agi.port, "agent/code?code=23&agent=8001", key, source)
                assert sent == [], "no command: the session was closed before any flow ran"
    assert (await stack.acd.agents())["8001"]["state"] == "ready"
    assert stack.agi.stats().forbidden - before == 4
    assert sum("FastAGI session refused" in r.getMessage() for r in caplog.records) == 4
    assert "guessed" not in caplog.text, "what a stranger sent is not logged"


@pytest.mark.asyncio(loop_scope="module")
async def test_the_agi_port_listens_on_loopback_and_the_key_stays_out_of_the_state_file(stack: Stack) -> None:
    assert stack.agi is not None and stack.settings.core.agi_bind == "127.0.0.1"
    assert stack.render_context is not None and len(stack.render_context.agi_key) >= 24
    state = Path(stack.settings.core.state_file).read_text()
    assert stack.render_context.agi_key not in state
    extensions = (stack.hotline.etc_dir / "extensions.conf").read_text() if stack.hotline else ""
    assert f"hotline_key={stack.render_context.agi_key}" in extensions, "our dialplan carries the key"


@pytest.mark.asyncio(loop_scope="module")
async def test_personal_data_and_secrets_on_disk_are_readable_by_the_service_only(stack: Stack) -> None:
    assert stack.hotline is not None and stack.data is not None
    assert stack.hotline.dir.stat().st_mode & 0o077 == 0
    assert stack.settings.core.home.stat().st_mode & 0o077 == 0, "database, secrets, Redis data, logs"
    assert stack.data.host(stack.data.inner).stat().st_mode & 0o077 == 0, "recordings as Asterisk writes them"
    for name in ("manager.conf", "pjsip.conf", "extensions.conf"):
        assert (stack.hotline.etc_dir / name).stat().st_mode & 0o077 == 0, name
