"""The knowledge routes' parts on a database, for the route tests and the route walk."""

from __future__ import annotations

from dialplans.loader import load_dialplan
from hotline.app.settings import Settings
from hotline.calls.records import CallRecords
from hotline.core.db.engine import SessionFactory
from knowledge.calls import CallKnowledge
from knowledge.figures import Figures
from knowledge.http import KnowledgeParts
from knowledge.search import Search
from knowledge.service import Entries
from knowledge.suggest import Suggestions
from tickets.catalogue import Catalogue


def knowledge_parts(sessions: SessionFactory) -> KnowledgeParts:
    entries = Entries(sessions, Catalogue.shipped())
    search = Search(entries)
    return KnowledgeParts(entries, search, Suggestions(search, load_dialplan(Settings().core.dialplan_file)),
                          CallKnowledge(sessions), CallRecords(sessions), Figures(sessions))
