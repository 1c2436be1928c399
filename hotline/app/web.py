"""The aiohttp application: routes, authentication, request metrics."""

from __future__ import annotations

import time
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from acd import http as acd_routes
from acd.http import AgentControl
from callback import http as revisit_routes
from callback.http import RevisitOps
from hotline.app.openapi import openapi_document
from hotline.calls import caller_lists_http as lists_routes
from hotline.calls import http as calls_routes
from hotline.calls.caller_lists import CallerLists
from hotline.calls.records import CallRecords
from hotline.core.web.access import AUDIT
from hotline.core.web.audit import AuditLog
from hotline.core.web.auth import TOKENS, Handler, authenticate
from hotline.core.web.errors import error
from hotline.core.web.health import HealthRegistry
from hotline.core.web.tokens import ApiTokens
from recordings import http as recording_routes
from recordings.access import RecordingCatalog
from tickets import http as ticket_routes
from tickets.duty_call import DutyCaller
from tickets.http import CaseLink
from tickets.service import Tickets


@dataclass(frozen=True)
class WebDeps:
    calls: CallRecords
    tokens: ApiTokens
    audit: AuditLog
    health: HealthRegistry
    metrics_registry: CollectorRegistry
    acd: AgentControl | None = None
    caller_lists: CallerLists | None = None
    tickets: Tickets | None = None
    case_link: CaseLink | None = None
    duty_caller: DutyCaller | None = None
    recordings: RecordingCatalog | None = None
    revisits: RevisitOps | None = None


HEALTH = web.AppKey("health", HealthRegistry)
REGISTRY = web.AppKey("registry", CollectorRegistry)


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


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return error(404, "not_found", f"no route {request.path}")
    except web.HTTPMethodNotAllowed as exc:
        response = error(405, "method_not_allowed", f"{request.method} is not allowed on {request.path}")
        response.headers["Allow"] = ", ".join(sorted(exc.allowed_methods))
        return response


async def health(request: web.Request) -> web.Response:
    parts = await request.app[HEALTH].report()
    ok = all(p.ok for p in parts.values())
    body = {"status": "ok" if ok else "degraded",
            "parts": {name: {"ok": p.ok, "detail": p.detail} for name, p in parts.items()}}
    return web.json_response(body, status=200 if ok else 503)


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[REGISTRY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def openapi(_: web.Request) -> web.Response:
    return web.json_response(openapi_document())


def build_app(deps: WebDeps) -> web.Application:
    app = web.Application(middlewares=[_metrics_middleware(deps.metrics_registry), json_errors, authenticate])
    app[TOKENS] = deps.tokens
    app[HEALTH] = deps.health
    app[REGISTRY] = deps.metrics_registry
    app[calls_routes.CALLS] = deps.calls
    app[AUDIT] = deps.audit
    app.router.add_get("/api/health", health)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/openapi.json", openapi)
    app.router.add_get("/api/calls", calls_routes.list_calls)
    app.router.add_get("/api/calls/{call_id}", calls_routes.get_call)
    if deps.caller_lists is not None:
        app[lists_routes.LISTS] = deps.caller_lists
        app.router.add_get("/api/caller-lists", lists_routes.list_entries)
        app.router.add_post("/api/caller-lists", lists_routes.add_entry)
        app.router.add_delete("/api/caller-lists/{kind}/{number}", lists_routes.remove_entry)
    if deps.recordings is not None:
        recording_routes.add_routes(app, deps.recordings)
    if deps.revisits is not None:
        revisit_routes.add_routes(app, deps.revisits)
    if deps.tickets is not None:
        ticket_routes.add_routes(app, deps.tickets, deps.case_link, deps.duty_caller)
    if deps.acd is not None:
        app[acd_routes.ACD] = deps.acd
        app.router.add_get("/api/agents", acd_routes.list_agents)
        app.router.add_post("/api/agents/{agent}/state", acd_routes.set_state)
        app.router.add_post("/api/agents/{agent}/wrap-up", acd_routes.wrap_up)
        app.router.add_get("/api/acd/queue", acd_routes.queue)
        app.router.add_get("/api/acd/stats", acd_routes.stats)
        app.router.add_post("/api/agents/{agent}/spy", acd_routes.spy)
        app.router.add_get("/api/acd/events", acd_routes.live_events)
        app.router.add_post("/api/calls/{call_id}/silent", acd_routes.silent_check)
        app.router.add_post("/api/calls/{call_id}/transfer", acd_routes.transfer)
        app.router.add_post("/api/calls/{call_id}/three-way", acd_routes.three_way)
        app.router.add_post("/api/calls/{call_id}/leave", acd_routes.leave)
        app.router.add_post("/api/calls/{call_id}/consult", acd_routes.consult)
        app.router.add_post("/api/calls/{call_id}/consult/{how:complete|cancel}", acd_routes.consult_end)
    return app
