"""The desk: the sign-in page (/login/), the agent desk (/desk/, where `/` leads), and its API routes."""

from __future__ import annotations

from pathlib import Path

from acd.directory.service import AgentDirectory
from acd.store import AcdStore
from desk import http
from desk.form import ticket_form
from desk.lines import Lines
from desk.pop import PopWords, ScreenPop
from dialplans.model import Dialplan
from hotline.core.plugin import Brought, Deps, Plugin
from tickets.catalogue import Catalogue
from tickets.service import Tickets

PAGES = Path(__file__).parent / "pages"


async def load(deps: Deps) -> Brought:
    plan = deps.get(Dialplan)
    tickets = deps.find(Tickets)
    words = PopWords(tuple(plan.rating.labels), plan.prompts.get("watch_warning", ""))
    pop = ScreenPop(deps.sessions, deps.get(AcdStore), Lines(plan), words)
    form = ticket_form(plan, tickets.catalogue if tickets is not None else Catalogue.shipped())
    return Brought(routes=[http.routes(http.DeskParts(pop, plan, form, deps.get(AgentDirectory)))],
                   pages={"desk": PAGES / "desk", "login": PAGES / "login", "common": PAGES / "common"})


plugin = Plugin("desk", load)
