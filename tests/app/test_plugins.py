"""A new domain is a folder with `plugin.py` and one line in the plugin list: the example domain brings a
route and a worker into a real stack (Asterisk, Redis, SQLite) with nothing else changed."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from dialplans.plugin import plugin as dialplans
from hotline.app.access import RULES
from hotline.app.stack import Stack
from hotline.calls.plugin import plugin as calls
from hotline.core.web.policy import Policy
from tests.app.example_domain import plugin as example
from tests.e2e.conftest import stack_settings

pytestmark = pytest.mark.asterisk


async def test_a_plugin_brings_its_route_and_its_worker(tmp_path: Path) -> None:
    settings = stack_settings(tmp_path)
    settings = replace(settings, core=replace(settings.core, with_world=False))
    stack = Stack(settings, plugins=(dialplans, calls, example.plugin), policy=Policy([*RULES, *example.RULES]))
    await stack.start()
    try:
        assert stack.tokens is not None
        base = f"http://127.0.0.1:{settings.core.ports.http}"
        admin = {"Authorization": f"Bearer {await stack.tokens.create(name='a', role='admin')}"}
        agent = {"Authorization": f"Bearer {await stack.tokens.create(name='g', role='agent', agent_id='8001')}"}
        await asyncio.sleep(0.5)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/api/example/ticks", headers=admin) as r:
                assert r.status == 200 and (await r.json())["ticks"] >= 2, "the worker runs"
            async with http.get(f"{base}/api/example/ticks", headers=agent) as r:
                assert r.status == 403, "the access table decides"
            async with http.get(f"{base}/api/health") as r:
                assert (await r.json())["parts"]["example"] == {"ok": True, "detail": "running"}
            async with http.get(f"{base}/api/openapi.json") as r:
                operation = (await r.json())["paths"]["/api/example/ticks"]["get"]
                assert operation["x-access-action"] == "example.read"
    finally:
        await stack.close()
