"""People's accounts on the real stack: the first run's admin signs in with the password from its 0600 file,
must change it first, opens the live feed over its session; an agent account made over the API signs in;
`hotline user disable`, run as another process against the same home, ends that agent's session and closes
their live socket in the running service."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from hotline.app.cli import _first_admin
from hotline.app.stack import Stack
from hotline.core.web.sockets import REVOKED
from tests.e2e.conftest import running_stack, stack_settings

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        yield s


class Browser:
    """A page's HTTP client: the cookie jar keeps the session, unsafe requests send the CSRF token."""

    def __init__(self, stack: Stack) -> None:
        self.base = f"http://127.0.0.1:{stack.settings.core.ports.http}"
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with self.http.request(method, self.base + path, json=body,
                                     headers={"X-CSRF-Token": self.csrf, "Origin": self.base}) as r:
            answer: Any = await r.json() if r.status != 204 else None
            if path == "/api/session" and method == "POST" and r.status == 200:
                self.csrf = answer["csrf_token"]
            return r.status, answer


async def hotline(stack: Stack, *args: str) -> None:
    env = {**os.environ, "HOTLINE_HOME_DIR": str(stack.settings.core.home)}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "hotline.app.cli", *args, env=env,
                                                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()


async def test_people_sign_in_to_the_running_service_and_the_command_line_ends_a_session(stack: Stack) -> None:
    path = stack.settings.core.home / "first-admin-password"
    note = await _first_admin(stack, path)
    assert str(path) in note and oct(path.stat().st_mode & 0o777) == "0o600"
    admin, agent = Browser(stack), Browser(stack)
    try:
        status, body = await admin.call("POST", "/api/session", {"username": "admin",
                                                                 "password": path.read_text().strip()})
        assert status == 200 and body["must_change_password"] and body["user"]["role"] == "admin"
        assert (await admin.call("GET", "/api/users"))[0] == 403
        new = "centre-chief-2026!"
        assert (await admin.call("POST", "/api/session/password", {"old": path.read_text().strip(),
                                                                   "new": new}))[0] == 204
        status, made = await admin.call("POST", "/api/users", {"username": "wang.fang", "role": "agent",
                                                               "agent_id": "8001", "name": "王芳"})
        assert status == 201
        status, body = await agent.call("POST", "/api/session", {"username": "wang.fang",
                                                                 "password": made["password"]})
        assert status == 200 and body["must_change_password"]
        assert (await agent.call("POST", "/api/session/password", {"old": made["password"],
                                                                   "new": "wang-fang-desk-01"}))[0] == 204
        assert (await agent.call("GET", "/api/calls"))[0] == 200
        ws = await agent.http.ws_connect(agent.base + "/api/acd/events", headers={"Origin": agent.base})
        await hotline(stack, "user", "disable", "wang.fang")
        message = await ws.receive(timeout=10)  # the running service's sweep, within seconds
        assert message.data == REVOKED
        assert (await agent.call("GET", "/api/session"))[0] == 401
        await _first_admin(stack, path)
        assert not path.exists(), "the first run's password file goes once the admin has changed it"
    finally:
        await admin.http.close()
        await agent.http.close()
