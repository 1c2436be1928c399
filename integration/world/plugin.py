"""The simulated outside world under `make run` and the tests: a second Asterisk playing the carrier,
citizens, agents' phones and petitioners; `hotline call` and the engineer page (`/api/test-calls`) place test
calls from it."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from acd.directory.sync import PhoneSync
from acd.router import Router
from dialplans.model import Dialplan
from dialplans.secrets import Secrets
from dialplans.siptls import SipTls
from hotline.calls.records import CallRecords
from hotline.core.asterisk.ami import AmiClient
from hotline.core.asterisk.sandbox import AsteriskInstance
from hotline.core.netutil import free_port
from hotline.core.plugin import Brought, Deps, Plugin, Started
from hotline.core.web.health import PartHealth
from integration.world import http
from integration.world.call import WorldCaller
from integration.world.commands import register
from integration.world.render import CARRIER_ANNOUNCEMENTS, WorldContext, render_world
from integration.world.testcalls import TestCallRunner

log = logging.getLogger(__name__)


@dataclass
class World:
    """The running world: its Asterisk, its AMI session and how `hotline call` reaches it."""

    asterisk: AsteriskInstance
    ami: AmiClient
    creds: dict[str, Any]


async def _demo_agents_ready(hotline: AsteriskInstance, acd: Router, dialplan: Dialplan,
                             timeout: float = 20.0) -> None:
    """Once the world's phones have registered, their signed-out agents sign in ready (after a restart the
    others keep the state they are in)."""
    states = await acd.agents()
    waiting = {a.id for a in dialplan.agents  # (active ones); a browser phone is the agent's page, not the world's
               if states.get(a.id, {}).get("state") == "signed_out" and a.phone == "sip"}
    deadline = asyncio.get_running_loop().time() + timeout
    while waiting and asyncio.get_running_loop().time() < deadline:
        contacts = await hotline.cli("pjsip show contacts")
        for agent in list(waiting):
            if f"{agent}/sip:" in contacts:
                waiting.discard(agent)
                await acd.set_agent_state(agent, "ready", reason="demo phone registered")
        if waiting:
            await asyncio.sleep(0.2)
    if waiting:
        log.warning("demo agents' phones not registered: %s", ", ".join(sorted(waiting)))


async def _follow_phones(world: AsteriskInstance, ami: AmiClient, ctx: WorldContext, phones: Mapping[str, str]) -> None:
    """The world's phones follow the agent directory: one registered phone per active agent, with its password."""
    world.write_configs({"pjsip.conf": render_world(dataclasses.replace(ctx, agent_secrets=phones))["pjsip.conf"]})
    await ami.action("Command", {"Command": "module reload res_pjsip.so"}, timeout=15)


def _test_calls(deps: Deps) -> TestCallRunner:
    """The engineer page's test calls, placed through the world once it runs."""
    heard, calls = deps.data.inner_of("heard"), deps.get(CallRecords)

    def caller() -> WorldCaller | None:
        world = deps.find(World)
        return WorldCaller(world.ami, heard, deps.data.host, calls) if world is not None else None

    return TestCallRunner(deps.core.home / "test-calls", caller)


async def load(deps: Deps) -> Brought:
    runner = _test_calls(deps)
    runner.sweep()
    brought = Brought(routes=[http.routes(runner)], closers=[runner.close])
    if not deps.core.with_world:
        return brought
    core, data, secrets = deps.core, deps.data, deps.get(Secrets)

    async def start(started: Started) -> None:
        announcements = data.inner_of("world-announcements")  # the carrier's 空号 / 关机 … in Chinese
        await deps.renderer.render_all(CARRIER_ANNOUNCEMENTS, data.host(announcements))
        phones = deps.find(PhoneSync)  # the world plays the directory's SIP phones, and follows it
        ctx = WorldContext(bind_host=core.bind_host, sip_port=core.ports.world_sip, ami_port=core.ports.world_ami,
                           ami_user="world", ami_secret=secrets.world_ami_secret, hotline_host=core.bind_host,
                           hotline_sip_port=core.ports.hotline_sip,
                           agent_secrets=phones.sip_phones if phones is not None else secrets.agent_secrets,
                           announcements=announcements, hotline_tls=started.services.find(SipTls),
                           tls_port=free_port() if started.services.find(SipTls) else 0)
        world = AsteriskInstance(deps.root, "world", render_world(ctx), inner_dir=data.instance("world"))
        await world.start_or_adopt()
        brought.closers.append(world.stop)
        ami = AmiClient(core.bind_host, ctx.ami_port, ctx.ami_user, ctx.ami_secret, name="world")
        await ami.connect()
        brought.closers.append(ami.close)
        started.services.publish(World(world, ami, {"host": core.bind_host, "port": ctx.ami_port,
                                                    "username": ctx.ami_user, "secret": ctx.ami_secret}))
        if phones is not None:
            phones.followers.append(functools.partial(_follow_phones, world, ami, ctx))
        await _demo_agents_ready(started.hotline, deps.get(Router), deps.get(Dialplan))

    async def health() -> PartHealth:
        world = deps.find(World)
        if world is None:
            return PartHealth(False, "simulated outside world: not started")
        return PartHealth(world.ami.connected, f"simulated outside world: {world.ami.state}")

    brought.on_asterisk.append(start)
    brought.health["world"] = health
    return brought


plugin = Plugin("world", load, commands=[register])
