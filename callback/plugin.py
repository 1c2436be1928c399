"""Callbacks and the revisit robot (回访): tasks, campaigns, the dialer, the planner, the survey flow."""

from __future__ import annotations

import logging
from pathlib import Path

from acd.router import Router
from acd.settings import AcdSettings
from acd.store import AcdStore
from callback import http
from callback.callout import CallbackDialler, CalloutSettings
from callback.closure import closed_listener
from callback.commands import register
from callback.dialer import Dialer, RevisitPrompts
from callback.expiry import ExpiredTickets
from callback.figures import CallbackFigures
from callback.flow import RevisitFlow
from callback.lapses import LapsedClaims
from callback.planner import RevisitPlanner
from callback.pressure import InboundPressure
from callback.requests import CallbackRequests
from callback.settings import CallbackSettings
from callback.tasks import RevisitTasks
from callback.worklist import Worklist
from callback.worklist_http import CallbackDesk
from dialplans.dialout import DialOutGuard
from dialplans.model import Dialplan
from hotline.calls.audio import StoredAudio
from hotline.calls.records import CallRecords
from hotline.core.plugin import Brought, Deps, Plugin, Started
from hotline.core.web.health import Check
from hotline.core.workers import Worker
from tickets.service import Tickets

log = logging.getLogger(__name__)


async def load(deps: Deps) -> Brought:
    dialplan, calls, data = deps.get(Dialplan), deps.get(CallRecords), deps.data
    router, feed = deps.get(Router), deps.get(AcdStore).publish  # the work list's changes go on the ACD's feed
    deps.publish(CallbackRequests(deps.sessions, feed))
    worklist = deps.publish(Worklist(deps.sessions, publish=feed))
    figures = CallbackFigures(deps.sessions)
    router.day_reports["callbacks"] = figures.day  # beside the queue figures in /api/acd/stats
    dialler = CallbackDialler(worklist, deps.ami, calls, router, deps.get(DialOutGuard), dialplan,
                              CalloutSettings(agent_ring_s=deps.get(AcdSettings).ring_timeout_s))
    desk = CallbackDesk(worklist, dialler, lambda: deps.find(StoredAudio))  # type: ignore[type-abstract]

    async def recover(_: Started) -> None:
        """Calls followed before a restart are not followed any more: their items go back to their claimers."""
        if cut := await worklist.recover():
            log.warning("callbacks: %d call(s) no longer followed after a restart; back with their claimers", cut)

    tasks = deps.publish(RevisitTasks(deps.sessions, dialplan.revisit))
    expiry: list[Worker] = []
    if (tickets := deps.find(Tickets)) is not None:  # closed and expired tickets are revisited (timeline)
        tickets.on_closed.append(closed_listener(dialplan.revisit.tickets_sample_rate))
        tickets.revisits_of = tasks.of_ticket
        expiry.append(deps.publish(ExpiredTickets(deps.sessions, deps.get(CallbackSettings).expiry_every_s)))
    prompts = RevisitPrompts(data.host(data.inner_of("revisit-prompts")), data.inner_of("revisit-prompts"))
    flow = RevisitFlow(calls, tasks, router, deps.sounds, prompts, dialplan.rating.labels, data.host,
                       dialplan.revisit.skill)
    dialer = deps.publish(Dialer(tasks, deps.ami, calls, deps.renderer, dialplan, prompts,
                                 InboundPressure(deps.get(AcdStore), dialplan.revisit), data.host,
                                 dialout=deps.get(DialOutGuard)))
    planner = RevisitPlanner(deps.sessions, dialplan.revisit)
    dialling = deps.get(CallbackSettings).dialer
    workers: list[Worker] = [dialer, planner, *expiry] if dialling else [planner, *expiry]
    health: dict[str, Check] = {"revisit_planner": planner.check}
    if dialling:
        health["revisit_dialer"] = dialer.check
    return Brought(routes=[http.routes(http.RevisitOps(tasks, dialer), desk)], flows={"ivr/revisit": flow},
                   workers=[*workers, figures, LapsedClaims(worklist)], health=health, collectors=[figures],
                   on_asterisk=[dialler.attach, recover], closers=[dialler.close])


plugin = Plugin("callback", load, commands=[register], migrations=Path(__file__).parent / "migrations")
