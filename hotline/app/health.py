"""Health checks of the core's parts for `/api/health`: Asterisk, AMI, AGI, Redis, database. The domains
bring their own (recordings, case system, world)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import redis.asyncio as aioredis
from sqlalchemy import text

from hotline.core.asterisk.nodes import NodeAmi
from hotline.core.web.health import Check, PartHealth

if TYPE_CHECKING:
    from hotline.app.stack import Stack


def core_health(stack: Stack) -> dict[str, Check]:
    """One check per core part; each answers ok/detail and is timed out by the registry."""

    async def asterisk() -> PartHealth:
        assert stack.ami is not None
        reply = await stack.ami.action("CoreStatus", timeout=2)
        return PartHealth(True, f"up {reply.get('CoreStartupTime', '?')}, calls {reply.get('CoreCurrentCalls', '?')}")

    async def ami() -> PartHealth:
        assert stack.ami is not None
        nodes = f"; nodes: {stack.ami.summary()}" if isinstance(stack.ami, NodeAmi) else ""
        return PartHealth(stack.ami.connected, f"{stack.ami.state}, reconnects {stack.ami.reconnects}{nodes}")

    async def agi() -> PartHealth:
        assert stack.agi is not None
        st = stack.agi.stats()
        return PartHealth(True, f"port {stack.agi.port}, active {st.active}, total {st.total}, failed {st.failed}, "
                                f"refused without the key {st.forbidden}")

    async def redis() -> PartHealth:
        if stack.settings.core.redis_sentinels and stack.live_state is not None:  # the primary Sentinel names now
            ok = bool(await stack.live_state.ping())
            return PartHealth(ok, "PONG (through Sentinel)" if ok else "no PONG")
        client = aioredis.from_url(stack.redis_url)
        try:
            ok = bool(await client.ping())
        finally:
            await client.aclose()
        return PartHealth(ok, "PONG" if ok else "no PONG")

    async def db() -> PartHealth:
        assert stack.sessions is not None
        async with stack.sessions() as session:
            await session.execute(text("SELECT 1"))
        return PartHealth(True, stack.settings.core.db_url.split(":", 1)[0])

    return {"asterisk": asterisk, "ami": ami, "agi": agi, "redis": redis, "db": db}
