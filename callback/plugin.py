"""Callbacks and the revisit robot (回访): tasks, campaigns, the dialer, the planner, the survey flow."""

from __future__ import annotations

from pathlib import Path

from acd.router import Router
from acd.store import AcdStore
from callback import http
from callback.closure import closed_listener
from callback.commands import register
from callback.dialer import Dialer, RevisitPrompts
from callback.expiry import ExpiredTickets
from callback.flow import RevisitFlow
from callback.planner import RevisitPlanner
from callback.pressure import InboundPressure
from callback.requests import CallbackRequests
from callback.settings import CallbackSettings
from callback.tasks import RevisitTasks
from dialplans.dialout import DialOutGuard
from dialplans.model import Dialplan
from hotline.calls.records import CallRecords
from hotline.core.plugin import Brought, Deps, Plugin
from hotline.core.web.health import Check
from hotline.core.workers import Worker
from tickets.service import Tickets


async def load(deps: Deps) -> Brought:
    dialplan, calls, data = deps.get(Dialplan), deps.get(CallRecords), deps.data
    deps.publish(CallbackRequests(deps.sessions))
    tasks = deps.publish(RevisitTasks(deps.sessions, dialplan.revisit))
    expiry: list[Worker] = []
    if (tickets := deps.find(Tickets)) is not None:  # closed and expired tickets are revisited (timeline)
        tickets.on_closed.append(closed_listener(dialplan.revisit.tickets_sample_rate))
        tickets.revisits_of = tasks.of_ticket
        expiry.append(deps.publish(ExpiredTickets(deps.sessions, deps.get(CallbackSettings).expiry_every_s)))
    prompts = RevisitPrompts(data.host(data.inner_of("revisit-prompts")), data.inner_of("revisit-prompts"))
    flow = RevisitFlow(calls, tasks, deps.get(Router), deps.sounds, prompts, dialplan.rating.labels, data.host,
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
    return Brought(routes=[http.routes(http.RevisitOps(tasks, dialer))], flows={"ivr/revisit": flow},
                   workers=workers, health=health)


plugin = Plugin("callback", load, commands=[register], migrations=Path(__file__).parent / "migrations")
