"""The access table is complete and readable: every route but the public ones names an action of the table,
every action is used by a route, and the README shows the table as it is."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from acd.directory import http as directory_http
from console.reports import http as reports_http
from hotline.app.access import POLICY
from hotline.app.plugins import PLUGINS
from hotline.app.web import service_tables
from hotline.core.web.routes import Route
from ivr.announcements import http as announcements_http
from recordings.quality import http as quality_http

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = re.compile(r"(<!-- access-table -->\n).*?(<!-- /access-table -->)", re.S)


def all_routes() -> list[Route]:
    """The routes of every domain in the plugin list (their `http.table`) and the service's own."""
    routes = [r for t in service_tables() for r in t.routes]
    for plugin in PLUGINS:
        package = {"calls": "hotline.calls", "world": "integration.world",
                   "phone": "hotline.app.phone"}.get(plugin.name, plugin.name)
        try:
            module = importlib.import_module(f"{package}.http")
        except ModuleNotFoundError:
            continue
        routes += module.table.routes
    routes += directory_http.table.routes  # the ACD's second table: the agent directory
    routes += reports_http.table.routes  # the console's KPI reports
    routes += quality_http.table.routes  # the recordings' second table: quality review
    routes += announcements_http.table.routes  # the IVR's: hot-issue announcements
    return routes


def test_every_route_is_guarded_by_an_action_of_the_table() -> None:
    unguarded = [f"{r.method} {r.path}" for r in all_routes() if not r.public and r.action is None]
    assert unguarded == [], "routes without @guarded"
    unknown = [f"{r.method} {r.path}: {r.action}" for r in all_routes() if r.action and r.action not in POLICY]
    assert unknown == [], "actions missing from hotline/app/access.py"


def test_every_action_of_the_table_is_used() -> None:
    """By a route, or by a handler asking about another action (`grant.may("tickets.confidential")`)."""
    used = {r.action for r in all_routes()}
    for package in ("hotline", "acd", "ivr", "tickets", "recordings", "callback", "integration"):
        for source in (README.parent / package).rglob("*.py"):
            used |= set(re.findall(r"\.may\(\"([\w.]+)\"\)", source.read_text(encoding="utf-8")))
    assert [a for a in POLICY.actions() if a not in used] == []


def test_the_readme_shows_the_table() -> None:
    text = README.read_text(encoding="utf-8")
    fresh = SECTION.sub(lambda m: m.group(1) + POLICY.markdown() + m.group(2), text)
    if fresh != text:
        README.write_text(fresh, encoding="utf-8")
    assert fresh == text, "README.md's access table was stale and has been rewritten: commit it"
