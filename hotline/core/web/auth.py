"""Bearer-token authentication and role checks; every route but health, metrics, the OpenAPI document
and the signed case-system webhook."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from hotline.core.web.errors import error
from hotline.core.web.tokens import ApiTokens, Principal

# the case system's webhook is signed instead (tickets/http.py)
PUBLIC = frozenset({"/api/health", "/metrics", "/api/openapi.json", "/api/case-system/events"})
TOKENS = web.AppKey("tokens", ApiTokens)
PRINCIPAL = web.RequestKey("principal", Principal)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in PUBLIC:
        return await handler(request)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return error(401, "auth_required", "send Authorization: Bearer <token>")
    who = await request.app[TOKENS].verify(token.strip())
    if who is None:
        return error(401, "auth_invalid", "the token is unknown or revoked")
    request[PRINCIPAL] = who
    return await handler(request)
