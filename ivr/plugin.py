"""The IVR: what a citizen hears from the greeting to the agent and after (AGI flows), and its prompts."""

from __future__ import annotations

from pathlib import Path

from acd.emergency import EmergencyFlags
from acd.router import Router
from callback.requests import CallbackRequests
from dialplans.dialout import DialOutGuard
from dialplans.editor import DialplanEditor
from dialplans.model import Dialplan
from hotline.calls.caller_lists import CallerLists
from hotline.calls.records import CallRecords
from hotline.core.asterisk.agi.server import Flow
from hotline.core.plugin import Brought, Deps, Plugin
from ivr.announcements import http as announcements_http
from ivr.announcements.audio import AnnouncementAudio
from ivr.announcements.service import Announcements
from ivr.catalogue import register as register_prompts
from ivr.flows.agent_codes import AgentCodeFlow
from ivr.flows.inbound import InboundFlow
from ivr.flows.knowledge import PhoneKnowledge
from ivr.flows.position import PositionFlow, expand_position_prompts
from ivr.flows.rating import RatingFlow
from ivr.flows.requeue import RequeueFlow
from ivr.flows.self_service import SelfService
from ivr.flows.silent import SilentCallerFlow
from ivr.flows.voice_message import VoiceMessages
from knowledge.suggest import Suggestions
from tickets.service import Tickets

PAGES = Path(__file__).parent / "pages"


def inbound_lines(plan: Dialplan) -> dict[str, str]:
    """The dialplan's inbound numbers with the names a supervisor knows them by."""
    return {n.number: n.department or plan.centre.name for n in plan.numbers}


def phone_knowledge(deps: Deps, sounds: str, announcements: Announcements) -> PhoneKnowledge | None:
    """Key 3 while waiting: the knowledge base's phone entries (those announcements point to first),
    synthesised into their own folder."""
    entries = deps.find(Suggestions)
    if entries is None:
        return None
    folder = deps.data.inner_of("knowledge")
    return PhoneKnowledge(deps.get(CallRecords), sounds, entries,
                          AnnouncementAudio(deps.renderer, deps.data.host(folder), folder), announcements.active)


async def load(deps: Deps) -> Brought:
    dialplan, calls, acd, data, sounds = deps.get(Dialplan), deps.get(CallRecords), deps.get(Router), deps.data, \
        deps.sounds

    async def render_prompts(plan: Dialplan) -> None:
        """The fixed prompts as the plan words them (at start, and when the engineer page applies a new one)."""
        fixed = {k: v for k, v in expand_position_prompts(plan.prompts).items() if "{" not in v}
        await deps.renderer.render_all(fixed, data.host(sounds))

    await render_prompts(dialplan)
    if (editor := deps.find(DialplanEditor)) is not None:
        editor.on_applied.append(render_prompts)
    requests = deps.get(CallbackRequests)
    messages = VoiceMessages(calls, sounds, acd, requests, dialplan.queue,
                             data.inner_of("recordings") + "/messages", data.host)
    folder = data.inner_of("announcements")
    announcements = deps.publish(Announcements(deps.sessions, AnnouncementAudio(deps.renderer, data.host(folder),
                                                                                folder), inbound_lines(dialplan),
                                               entries=deps.find(Suggestions)))
    offer = SelfService(calls, sounds, deps.get(Tickets), requests, acd, deps.get(DialOutGuard).policy,
                        phone_knowledge(deps, sounds, announcements),
                        frozenset(n.number for n in dialplan.numbers if n.knowledge)) \
        if dialplan.queue.self_service else None
    flows: dict[str, Flow] = {
        "ivr/inbound": InboundFlow(calls, sounds, dialplan, acd, deps.get(CallerLists), messages,
                                     deps.get(EmergencyFlags), announcements.active),
        "ivr/rating": RatingFlow(calls, sounds, dialplan.rating.labels),
        "ivr/position": PositionFlow(calls, sounds, acd, offer),
        "ivr/requeue": RequeueFlow(calls, acd),
        "agent/code": AgentCodeFlow(acd, sounds),
        "ivr/silent": SilentCallerFlow(calls, sounds, data.inner_of("listen"), data.host, acd),
    }
    return Brought(routes=[announcements_http.routes(announcements)], flows=flows,
                   pages={"announcements": PAGES / "announcements"})  # 热点播报


plugin = Plugin("ivr", load, commands=[register_prompts], migrations=Path(__file__).parent / "migrations")
