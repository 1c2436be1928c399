"""A whole stack (hotline + world Asterisk, AGI, Redis, database, web) per test module."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import yaml

from acd.settings import AcdSettings
from callback.settings import CallbackSettings
from hotline.app.settings import Ports, Settings
from hotline.app.stack import Stack
from hotline.calls.records import CallView
from hotline.core.settings import CoreSettings
from integration.casesystem.settings import CaseSystemSettings
from integration.world.call import WorldCaller
from recordings.settings import RecordingSettings
from tests.postgres_server import BOTH_DATABASES


def edited_dialplan(folder: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """The shipped dialplan changed by `edit` (on its parsed YAML), written to `folder/hotline.yaml`."""
    plan = yaml.safe_load(Settings().core.dialplan_file.read_text(encoding="utf-8"))
    edit(plan)
    path = folder / "hotline.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def stack_settings(home: Path, database_url: str = "", dialplan_file: Path | None = None,
                   revisit_dialer: bool = False) -> Settings:
    """Settings for a test stack: its own home and free loopback ports, so it runs beside `make run`.
    The revisit dialer is off unless asked for: its calls would change other tests' queues and tasks."""
    base = CoreSettings()
    core = CoreSettings(home=home, dialplan_file=dialplan_file or base.dialplan_file, bind_host="127.0.0.1",
                        ports=Ports.free(), database_url=database_url, redis_url="",
                        asterisk_root=base.asterisk_root, with_world=True)
    return Settings(core=core, acd=AcdSettings(wrap_up_s=1.0, ring_timeout_s=4.0),
                    case_system=CaseSystemSettings(refcase_advance_s=0.0, max_backoff_s=1.0, timeout_s=2.0),
                    recordings=RecordingSettings(max_backoff_s=2.0), callback=CallbackSettings(dialer=revisit_dialer))


@pytest.fixture(scope="module", params=BOTH_DATABASES)
def database_url(request: pytest.FixtureRequest) -> str:
    """The modules that take this fixture run on SQLite and on PostgreSQL (first call, tickets: where the database
    does more than store rows); the others start their own stack on SQLite."""
    if request.param == "sqlite":
        return ""
    return str(request.getfixturevalue("postgres_url"))


@contextlib.asynccontextmanager
async def running_stack(settings: Settings) -> AsyncIterator[Stack]:
    """A started stack, closed on the way out."""
    s = Stack(settings)
    await s.start()
    try:
        yield s
    finally:
        await s.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"), database_url)) as s:
        yield s


@pytest.fixture(scope="module")
def world_caller(stack: Stack) -> WorldCaller:
    assert stack.world_ami is not None and stack.data is not None and stack.calls is not None
    heard = stack.data.inner_of("heard")
    return WorldCaller(stack.world_ami, heard, stack.data.host, stack.calls)


async def only_ready(stack: Stack, *agents: str) -> None:
    """Exactly these agents are ready, longest idle first in the order given; everyone else is paused."""
    assert stack.acd is not None
    for agent in await stack.acd.agents():
        await stack.acd.set_agent_state(agent, "paused", reason="test")
    for agent in agents:
        await stack.acd.set_agent_state(agent, "ready")
        await asyncio.sleep(0.01)


async def wait_for_step(stack: Stack, sip_call_id: str, step: str, timeout: float = 30.0) -> CallView:
    """Poll the call record (found by SIP Call-ID) until the flow wrote `step`."""
    assert stack.calls is not None
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        rows = await stack.calls.list(sip_call_id=sip_call_id, limit=1)
        if rows and any(s["step"] == step for s in rows[0].steps):
            return rows[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no step {step!r} on call {sip_call_id} within {timeout}s")


def steps(record: CallView | None) -> list[str]:
    return [s["step"] for s in record.steps] if record else []


ANNOUNCEMENTS = frozenset({"position", "self_service_offer"})


def routing_steps(record: CallView) -> list[str]:
    """The call's path without the queue announcements, which play whenever the caller waits long enough."""
    return [s for s in steps(record) if s not in ANNOUNCEMENTS]


async def api(stack: Stack, method: str, path: str, token: str, body: object = None) -> tuple[int, object]:
    """One authenticated request to the stack's HTTP API: (status, JSON body)."""
    async with aiohttp.ClientSession() as http:
        async with http.request(method, f"http://127.0.0.1:{stack.settings.core.ports.http}{path}", json=body,
                                headers={"Authorization": f"Bearer {token}"}) as r:
            return r.status, await r.json()
