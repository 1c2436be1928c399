"""The aiohttp application: the domains' route tables behind authentication, the access table, JSON errors
and request metrics; health, metrics and the OpenAPI document generated from the routes."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import BaseModel
from pydantic import Field as PydField

from hotline.app.access import POLICY
from hotline.core.accounts import http as accounts_http
from hotline.core.accounts.signin import SignIn
from hotline.core.errors import NotFound
from hotline.core.web import audit_api
from hotline.core.web.audit import AuditLog
from hotline.core.web.auth import SESSIONS, THROTTLE, TOKENS, authenticate
from hotline.core.web.bodies import Query, path_id, read_query
from hotline.core.web.errors import Handler, json_errors
from hotline.core.web.health import HEALTH, HealthRegistry
from hotline.core.web.pages import Pages
from hotline.core.web.pages import routes as page_routes
from hotline.core.web.policy import AUDIT, TEAMS, Grant, Policy, Teams, guarded
from hotline.core.web.policy import POLICY as POLICY_KEY
from hotline.core.web.proxy import forwarded
from hotline.core.web.routes import RouteTable, openapi_document
from hotline.core.web.sockets import SOCKETS, OpenSockets, SocketLimits
from hotline.core.web.throttle import FailureThrottle, ThrottleLimits
from hotline.core.web.tokens import Actor, ApiTokens

REGISTRY = web.AppKey("registry", CollectorRegistry)
DOCUMENT = web.AppKey("openapi_document", bytes)  # generated once, when the app is built
TITLE, VERSION = "12345 hotline (voice side)", "0.2.0"


@dataclass(frozen=True)
class RequestLimits:
    """What one request may bring: a bigger body is 413, a longer line or header field or more headers 400
    (answered by aiohttp's parser, before any handler)."""

    body_bytes: int = 1024 * 1024  # a route may read more itself (bodies.text_body's `limit`: CSV uploads)
    line_bytes: int = 8190  # the request line and each header line
    field_bytes: int = 8190  # one header's value
    headers: int = 64


LIMITS = web.AppKey("request_limits", RequestLimits)


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
    limits: RequestLimits = field(default_factory=RequestLimits)
    sockets: SocketLimits = field(default_factory=SocketLimits.from_env)
    throttle: ThrottleLimits = field(default_factory=ThrottleLimits)
    pages: Pages = field(default_factory=Pages)
    accounts: SignIn | None = None  # people's sign-in (sessions need Redis); None: bearer tokens only
    trust_proxy: bool = False  # believe X-Forwarded-For / -Proto / -Host (HOTLINE_TRUST_PROXY)


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


class RotateQuery(Query):
    grace_s: float = PydField(0.0, ge=0, le=30 * 86400, description="seconds the old token still works")


class Rotated(BaseModel):
    id: int
    token: str
    replaces: int


@shell.post("/api/tokens/{token_id:[0-9]+}/rotate", summary="a new token for the same principal; the old one is "
            "revoked, or expires after ?grace_s=", query=RotateQuery, response=Rotated, status=201)
@guarded("tokens.rotate", resource="tokens/{token_id}")
async def rotate_token(request: web.Request, grant: Grant) -> web.Response:
    grace = read_query(request.query, RotateQuery).grace_s
    old = path_id(request, "token_id", "token")
    issued = await request.app[TOKENS].rotate(old, grace=timedelta(seconds=grace),
                                              by=Actor(grant.who.name, grant.role, request.remote))
    if issued is None:
        raise NotFound(f"no live token {old}")
    grant.note(new=issued.id, grace_s=grace)
    return web.json_response({"id": issued.id, "token": issued.token, "replaces": old}, status=201)


def service_tables(*, accounts: bool = True) -> list[RouteTable]:
    """The service's own routes: health, metrics, the document, the audit log, people's accounts."""
    return [shell, audit_api.table, *([accounts_http.table] if accounts else [])]


def public_paths(tables: Sequence[RouteTable]) -> frozenset[tuple[str, str]]:
    """The public routes, by method and path (signing in is public, reading the session is not)."""
    return frozenset((r.method, r.path) for t in tables for r in t.routes if r.public)


def build_app(parts: WebParts) -> web.Application:
    tables = [*service_tables(accounts=parts.accounts is not None), *parts.tables]
    pages = page_routes(parts.pages)
    # the middleware compares a route's canonical form, without the parameters' patterns (`{path:.+}` → `{path}`)
    public = public_paths(tables) | {("GET", re.sub(r"\{(\w+):[^}]*\}", r"{\1}", path)) for path, _ in pages}
    proxied = [forwarded()] if parts.trust_proxy else []
    app = web.Application(middlewares=[*proxied, _metrics_middleware(parts.registry), json_errors,
                                       authenticate(public)], client_max_size=parts.limits.body_bytes,
                          handler_args={"max_line_size": parts.limits.line_bytes,
                                        "max_field_size": parts.limits.field_bytes,
                                        "max_headers": parts.limits.headers})
    app[TOKENS] = parts.tokens
    app[LIMITS] = parts.limits
    app[THROTTLE] = FailureThrottle(parts.throttle)
    app[SOCKETS] = sockets = OpenSockets(_live_check(parts), parts.sockets)
    if parts.accounts is not None:
        app[SESSIONS] = app[accounts_http.SIGN_IN] = parts.accounts
    app.cleanup_ctx.append(sockets.running)
    app[HEALTH] = parts.health
    app[REGISTRY] = parts.registry
    app[AUDIT] = parts.audit
    app[POLICY_KEY] = parts.policy
    app[TEAMS] = parts.teams
    app[DOCUMENT] = json.dumps(openapi_document(tables, title=TITLE, version=VERSION)).encode()
    for table in tables:
        table.install(app)
    for path, handler in pages:
        app.router.add_get(path, handler)
    return app


def _live_check(parts: WebParts) -> Callable[[Collection[str]], Awaitable[set[str]]]:
    """Which principal keys of open sockets still hold: live tokens, live sessions."""

    async def live(keys: Collection[str]) -> set[str]:
        tokens = [int(k.removeprefix("token:")) for k in keys if k.startswith("token:")]
        alive = {f"token:{t}" for t in await parts.tokens.live(tokens)}
        sessions = [k.removeprefix("session:") for k in keys if k.startswith("session:")]
        if parts.accounts is not None and sessions:
            alive |= {f"session:{k}" for k in await parts.accounts.live(sessions)}
        return alive

    return live


def api_document(tables: Sequence[RouteTable]) -> dict[str, object]:
    """The OpenAPI document of these route tables and the service's own routes."""
    return openapi_document([*service_tables(), *tables], title=TITLE, version=VERSION)
