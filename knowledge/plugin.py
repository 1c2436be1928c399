"""The knowledge base's tables, routes, workers and pages."""

from __future__ import annotations

from pathlib import Path

from dialplans.model import Dialplan
from hotline.calls.records import CallRecords
from hotline.core.plugin import Brought, Deps, Plugin
from knowledge import http
from knowledge.calls import CallKnowledge
from knowledge.expiry import ExpiringEntries
from knowledge.figures import Figures
from knowledge.search import Search
from knowledge.service import Entries
from knowledge.suggest import Suggestions
from tickets.catalogue import Catalogue
from tickets.service import Tickets


def parts(deps: Deps) -> http.KnowledgeParts:
    tickets = deps.find(Tickets)
    entries = deps.publish(Entries(deps.sessions, tickets.catalogue if tickets else Catalogue.shipped()))
    search = deps.publish(Search(entries))
    return http.KnowledgeParts(entries, search, deps.publish(Suggestions(search, deps.find(Dialplan))),
                               CallKnowledge(deps.sessions), CallRecords(deps.sessions), Figures(deps.sessions))


PAGES = Path(__file__).parent / "pages"


async def load(deps: Deps) -> Brought:
    knowledge = parts(deps)
    return Brought(routes=[http.routes(knowledge)], workers=[ExpiringEntries(knowledge.entries)],
                   pages={"knowledge": PAGES / "knowledge"})  # 知识库管理


plugin = Plugin("knowledge", load, migrations=Path(__file__).parent / "migrations")
