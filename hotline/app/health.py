"""Health checks of a stack's parts for `/api/health`: Asterisk, AMI, AGI, Redis, database."""

from __future__ import annotations

from typing import TYPE_CHECKING

import redis.asyncio as aioredis
from sqlalchemy import text

from hotline.core.web.health import HealthRegistry, PartHealth
from recordings.worker import recording_backlog

if TYPE_CHECKING:
    from hotline.app.stack import Stack


def register_health(registry: HealthRegistry, stack: Stack) -> None:
    """Register one check per part; each answers ok/detail and is timed out by the registry."""

    async def asterisk() -> PartHealth:
        assert stack.ami is not None
        reply = await stack.ami.action("CoreStatus", timeout=2)
        return PartHealth(True, f"up {reply.get('CoreStartupTime', '?')}, calls {reply.get('CoreCurrentCalls', '?')}")

    async def ami() -> PartHealth:
        assert stack.ami is not None
        return PartHealth(stack.ami.connected, f"{stack.ami.state}, reconnects {stack.ami.reconnects}")

    async def agi() -> PartHealth:
        assert stack.agi is not None
        st = stack.agi.stats()
        return PartHealth(True, f"port {stack.agi.port}, active {st.active}, total {st.total}, failed {st.failed}")

    async def redis() -> PartHealth:
        client = aioredis.from_url(stack.redis_url)
        try:
            ok = bool(await client.ping())
        finally:
            await client.aclose()
        return PartHealth(ok, "PONG" if ok else "no PONG")

    async def db() -> PartHealth:
        assert stack.calls is not None
        async with stack.calls.sessions() as session:
            await session.execute(text("SELECT 1"))
        return PartHealth(True, stack.settings.db_url.split(":", 1)[0])

    registry.register("asterisk", asterisk)
    registry.register("ami", ami)
    registry.register("agi", agi)
    registry.register("redis", redis)
    registry.register("db", db)
    if stack.calls is not None:
        sessions = stack.calls.sessions

        async def recordings() -> PartHealth:
            backlog = await recording_backlog(sessions)
            return PartHealth(backlog["failing"] == 0,
                              f"waiting {backlog['waiting']}, failing {backlog['failing']} (see recordings.log)")

        registry.register("recordings", recordings)
    if stack.outbox is not None:
        outbox = stack.outbox

        async def case_system() -> PartHealth:
            backlog = await outbox.backlog()
            return PartHealth(backlog["dead"] == 0, f"pending {backlog['pending']}, dead letters {backlog['dead']}")

        registry.register("case_system", case_system)
    if stack.world_ami is not None:
        world_ami = stack.world_ami

        async def world() -> PartHealth:
            return PartHealth(world_ami.connected, f"simulated outside world: {world_ami.state}")

        registry.register("world", world)
