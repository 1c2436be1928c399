"""The web app of a test: the given route tables on a real database, with the service's own routes."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web
from prometheus_client import CollectorRegistry

from hotline.app.web import WebParts, build_app
from hotline.calls import http as calls_http
from hotline.calls.records import CallRecords
from hotline.core.db.engine import SessionFactory
from hotline.core.web.audit import AuditLog
from hotline.core.web.health import HealthRegistry
from hotline.core.web.policy import Teams
from hotline.core.web.routes import RouteTable
from hotline.core.web.tokens import ApiTokens


def web_app(sessions: SessionFactory, tokens: ApiTokens, *tables: RouteTable, health: HealthRegistry | None = None,
            teams: Mapping[str, str] | None = None, audit: AuditLog | None = None) -> web.Application:
    """The app with the calls routes and `tables`; teams as the dialplan file would group the agents."""
    return build_app(WebParts([calls_http.routes(CallRecords(sessions)), *tables], tokens,
                              audit or AuditLog(sessions), health or HealthRegistry(), CollectorRegistry(),
                              Teams(dict(teams or {}))))
