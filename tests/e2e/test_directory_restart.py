"""After a restart the directory wins: an agent added over the API is in Asterisk from the start (and the world's
phone for them registers), one deactivated stays out of Asterisk and the ACD, a changed one keeps the change,
although the dialplan file still lists them as before."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from acd.directory.service import AgentDirectory
from tests.e2e.conftest import api, running_stack, stack_settings

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio]


async def test_the_directory_wins_over_the_file_after_a_restart(tmp_path: Path) -> None:
    settings = stack_settings(tmp_path / "home")
    async with running_stack(settings) as stack:
        assert stack.tokens is not None
        admin = await stack.tokens.create(name="admin", role="admin")
        assert (await api(stack, "POST", "/api/directory/agents", admin,
                          {"id": "8123", "name": "陈晨", "seat": "general", "skills": {"general": 3}}))[0] == 201
        assert (await api(stack, "POST", "/api/directory/agents/8004/deactivate", admin))[0] == 200
        assert (await api(stack, "PATCH", "/api/directory/agents/8001", admin, {"skills": {"general": 5}}))[0] == 200

    async with running_stack(settings) as stack:  # the same home: database, secrets, Redis data
        assert stack.hotline is not None and stack.acd is not None
        endpoints = await stack.hotline.cli("pjsip show endpoints")
        assert "8123/" in endpoints and "8004/" not in endpoints and "8001/" in endpoints
        agents = await stack.acd.agents()
        assert "8123" in agents and "8004" not in agents and agents["8001"]["lvl:general"] == "5"
        assert (await stack.service(AgentDirectory).agent("8001")).skills == {"general": 5}
        for _ in range(100):
            if " 8123/sip:" in await stack.hotline.cli("pjsip show contacts"):
                break
            await asyncio.sleep(0.2)
        assert " 8123/sip:" in await stack.hotline.cli("pjsip show contacts")
