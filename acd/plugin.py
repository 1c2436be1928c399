"""The ACD: one queue per skill in Redis, our own router, agents' phones watched, the agent directory, its routes."""

from __future__ import annotations

from pathlib import Path

from acd import http
from acd.connection import ConnectionFigures
from acd.directory import commands as directory_commands
from acd.directory import http as directory_http
from acd.directory.follow import AcdFollows, TeamsFollow
from acd.directory.secrets import PhoneSecrets
from acd.directory.service import AgentDirectory, Rules
from acd.directory.sync import PhoneSync
from acd.emergency import EmergencyFlags
from acd.phones import PhoneWatch
from acd.policy import RoutingPolicy
from acd.router import Router, RouterSettings
from acd.settings import AcdSettings
from acd.statelog import AgentStateFollower, AgentStateLog
from acd.store import AcdStore
from dialplans.dialout import DialOutGuard
from dialplans.model import Dialplan
from dialplans.secrets import Secrets
from hotline.calls.plugin import LiveChannels
from hotline.calls.records import CallRecords
from hotline.core.asterisk.reload import AmiReloader
from hotline.core.lease import Lease
from hotline.core.plugin import Brought, Deps, Plugin, Started
from hotline.core.web.policy import Teams


async def load(deps: Deps) -> Brought:
    dialplan, settings = deps.get(Dialplan), deps.get(AcdSettings)
    store = deps.publish(AcdStore(deps.redis))
    if not deps.asterisk_running:  # the calls in Redis are alive only if the Asterisk holding them still runs
        await store.reset_calls()
    secrets = PhoneSecrets(deps.core.home / "secrets.json", deps.get(Secrets).agent_secrets)
    directory = deps.publish(AgentDirectory(deps.sessions, Rules.of(dialplan), secrets))
    await directory.seed(dialplan.agents)  # the file's agents seed the directory; after that the directory wins
    everyone = await directory.agents()
    members = {a.id: a.team for a in everyone if a.team}
    deps.publish(Teams(members))  # the access checks' teams: the map follows the directory
    acd = deps.publish(Router(store, deps.ami, deps.get(CallRecords),
                              RouterSettings(ring_timeout_s=settings.ring_timeout_s, wrap_up_s=settings.wrap_up_s),
                              RoutingPolicy(dialplan.skills), deps.get(DialOutGuard),
                              Lease(deps.redis, "acd-router", deps.core.instance) if deps.core.instances else None))
    follows = AcdFollows(store, acd.poke)
    await follows.align(everyone)
    phones = deps.publish(PhoneSync(directory, dialplan.supervisors))
    directory.listeners += [TeamsFollow(members), follows, phones.changed]

    async def route(started: Started) -> None:
        acd.start()
        PhoneWatch(store, deps.ami, acd.poke).attach()
        phones.attach([(asterisk, AmiReloader(ami, dialplan.centre.main_number))
                       for asterisk, ami in started.nodes or ((started.hotline, deps.ami),)])

    async def resync(started: Started) -> None:
        """After a restart: waiting callers keep their place, talking agents are followed to wrap-up."""
        if started.adopted and not deps.core.instances:  # several: the lease holder resyncs when it takes over
            report = await acd.resync()
            started.services.publish(LiveChannels(frozenset(report.alive)))

    spies = frozenset(sup.id for sup in dialplan.supervisors)  # the phones listening in may ring
    figures = ConnectionFigures(deps.sessions, store.stats)
    flags = deps.publish(EmergencyFlags(deps.redis, deps.get(CallRecords), dialplan.priorities.emergency_flag_h))
    states = AgentStateFollower(AgentStateLog(deps.sessions, deps.get(CallRecords)), store.events)
    return Brought(routes=[http.routes(acd, spies, flags), directory_http.routes(directory)],
                   on_asterisk=[route, resync], closers=[acd.close], workers=[figures, phones, states],
                   collectors=[figures],
                   health={"acd_router": acd.check, "directory_phones": phones.check},
                   pages={"agents": Path(__file__).parent / "pages" / "agents"})  # 坐席管理


plugin = Plugin("acd", load, commands=[directory_commands.register],
                migrations=Path(__file__).parent / "migrations")
