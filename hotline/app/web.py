"""The aiohttp application: the domains' route tables behind authentication, the access table, JSON errors
and request metrics; health, metrics and the OpenAPI document generated from the routes."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from hotline.app.access import POLICY
from hotline.core.web import audit_api
from hotline.core.web.audit import AuditLog
from hotline.core.web.auth import TOKENS, authenticate
from hotline.core.web.errors import Handler, json_errors
from hotline.core.web.health import HealthRegistry
from hotline.core.web.policy import AUDIT, TEAMS, Policy, Teams
from hotline.core.web.policy import POLICY as POLICY_KEY
from hotline.core.web.routes import RouteTable, openapi_document
from hotline.core.web.tokens import ApiTokens

HEALTH = web.AppKey("health", HealthRegistry)
REGISTRY = web.AppKey("registry", CollectorRegistry)
DOCUMENT = web.AppKey("openapi_document", bytes)  # generated once, when the app is built
TITLE, VERSION = "12345 hotline (voice side)", "0.2.0"


@dataclass(frozen=True)
class WebParts:
    """What the web app is made of: the domains' routes and the core's tokens, audit log, health, metrics."""

    tables: Sequence[RouteTable]
    tokens: ApiTokens
    audit: AuditLog
    health: HealthRegistry = field(default_factory=HealthRegistry)
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    teams: Teams = field(default_factory=Teams)
    policy: Policy = POLICY


def _metrics_middleware(registry: CollectorRegistry) -> web.middleware:  # type: ignore[valid-type]
    requests = Counter("hotline_http_requests", "HTTP requests", ["route", "method", "status"], registry=registry)
    latency = Histogram("hotline_http_request_seconds", "HTTP request latency", ["route"], registry=registry)

    @web.middleware
    async def measure(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route.resource.canonical if request.match_info.route.resource else "unmatched"
        start = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            requests.labels(route, request.method, str(status)).inc()
            latency.labels(route).observe(time.perf_counter() - start)

    return measure


shell = RouteTable("service")


@shell.get("/api/health", summary="state of Asterisk, AMI, AGI, Redis, the database and the workers", public=True)
async def health(request: web.Request) -> web.Response:
    parts = await request.app[HEALTH].report()
    ok = all(p.ok for p in parts.values())
    body = {"status": "ok" if ok else "degraded",
            "parts": {name: {"ok": p.ok, "detail": p.detail} for name, p in parts.items()}}
    return web.json_response(body, status=200 if ok else 503)


@shell.get("/metrics", summary="Prometheus metrics", public=True, produces=CONTENT_TYPE_LATEST)
async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[REGISTRY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


@shell.get("/api/openapi.json", summary="this document, generated from the routes", public=True)
async def openapi(request: web.Request) -> web.Response:
    return web.Response(body=request.app[DOCUMENT], content_type="application/json")


def service_tables() -> list[RouteTable]:
    """The service's own routes: health, metrics, the document, the audit log."""
    return [shell, audit_api.table]


def public_paths(tables: Sequence[RouteTable]) -> frozenset[str]:
    return frozenset(r.path for t in tables for r in t.routes if r.public)


def build_app(parts: WebParts) -> web.Application:
    tables = [*service_tables(), *parts.tables]
    app = web.Application(middlewares=[_metrics_middleware(parts.registry), json_errors,
                                       authenticate(public_paths(tables))])
    app[TOKENS] = parts.tokens
    app[HEALTH] = parts.health
    app[REGISTRY] = parts.registry
    app[AUDIT] = parts.audit
    app[POLICY_KEY] = parts.policy
    app[TEAMS] = parts.teams
    app[DOCUMENT] = json.dumps(openapi_document(tables, title=TITLE, version=VERSION)).encode()
    for table in tables:
        table.install(app)
    return app


def api_document(tables: Sequence[RouteTable]) -> dict[str, object]:
    """The OpenAPI document of these route tables and the service's own routes."""
    return openapi_document([*service_tables(), *tables], title=TITLE, version=VERSION)
