"""Bearer-token authentication on every route but the public ones (health, metrics, the OpenAPI document,
signed webhooks), which the route tables mark."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Middleware

from hotline.core.web.errors import Handler, error
from hotline.core.web.tokens import ApiTokens, Principal

TOKENS = web.AppKey("tokens", ApiTokens)
PRINCIPAL = web.RequestKey("principal", Principal)


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def authenticate(public: frozenset[str]) -> Middleware:
    """The middleware: 401 without a valid token, except on `public` paths."""

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = request.match_info.route.resource
        if resource is not None and resource.canonical in public:
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

    return check
