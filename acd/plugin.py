"""The ACD: one queue per skill in Redis, our own router, agents' phones watched, its routes."""

from __future__ import annotations

from acd import http
from acd.connection import ConnectionFigures
from acd.emergency import EmergencyFlags
from acd.phones import PhoneWatch
from acd.policy import RoutingPolicy
from acd.router import Router, RouterSettings
from acd.settings import AcdSettings
from acd.store import AcdStore
from dialplans.dialout import DialOutGuard
from dialplans.model import Dialplan
from hotline.calls.plugin import LiveChannels
from hotline.calls.records import CallRecords
from hotline.core.plugin import Brought, Deps, Plugin, Started


async def load(deps: Deps) -> Brought:
    dialplan, settings = deps.get(Dialplan), deps.get(AcdSettings)
    store = deps.publish(AcdStore(deps.redis))
    if not deps.asterisk_running:  # the calls in Redis are alive only if the Asterisk holding them still runs
        await store.reset_calls()
    for agent in dialplan.agents:
        await store.add_agent(agent.id, dict(agent.skills))
    acd = deps.publish(Router(store, deps.ami, deps.get(CallRecords),
                              RouterSettings(ring_timeout_s=settings.ring_timeout_s, wrap_up_s=settings.wrap_up_s),
                              RoutingPolicy(dialplan.skills), deps.get(DialOutGuard)))

    async def route(_: Started) -> None:
        acd.start()
        PhoneWatch(store, deps.ami, acd.poke).attach()

    async def resync(started: Started) -> None:
        """After a restart: waiting callers keep their place, talking agents are followed to wrap-up."""
        if started.adopted:
            report = await acd.resync()
            started.services.publish(LiveChannels(frozenset(report.alive)))

    spies = frozenset(sup.id for sup in dialplan.supervisors)  # the phones listening in may ring
    figures = ConnectionFigures(deps.sessions, store.stats)
    flags = deps.publish(EmergencyFlags(deps.redis, deps.get(CallRecords), dialplan.priorities.emergency_flag_h))
    return Brought(routes=[http.routes(acd, spies, flags)], on_asterisk=[route, resync], closers=[acd.close],
                   workers=[figures], collectors=[figures], health={"acd_router": acd.check})


plugin = Plugin("acd", load)
