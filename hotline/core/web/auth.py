"""Bearer-token authentication on every route but the public ones (health, metrics, the OpenAPI document,
signed webhooks), which the route tables mark; an address that keeps failing is throttled (429, audited)."""

from __future__ import annotations

import math

from aiohttp import web
from aiohttp.typedefs import Middleware

from hotline.core.web.audit import AUDIT
from hotline.core.web.errors import Handler, error
from hotline.core.web.throttle import FailureThrottle
from hotline.core.web.tokens import ApiTokens, Principal, Refused

TOKENS = web.AppKey("tokens", ApiTokens)
THROTTLE = web.AppKey("auth_throttle", FailureThrottle)
PRINCIPAL = web.RequestKey("principal", Principal)

_MESSAGES = {Refused.INVALID: "the token is unknown or revoked", Refused.EXPIRED: "the token has expired"}


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def _throttled(seconds: float) -> web.Response:
    response = error(429, "auth_throttled", "too many failed authentications from this address; try later")
    response.headers["Retry-After"] = str(math.ceil(seconds))
    return response


async def _failed(request: web.Request, response: web.Response) -> web.Response:
    """Count the failure against the address; the one that starts a block is audited."""
    remote = request.remote or "?"
    if request.app[THROTTLE].failed(remote):
        limits = request.app[THROTTLE].limits
        await request.app[AUDIT].record(actor="anonymous", role="none", action="auth.throttled",
                                        resource=request.path[:200], allowed=False, remote=remote,
                                        detail={"failures": limits.failures, "window_s": limits.window_s,
                                                "block_s": limits.block_s})
    return response


def authenticate(public: frozenset[str]) -> Middleware:
    """The middleware: 401 without a valid token (`auth_expired` for an expired one), except on `public`
    paths; 429 for an address throttled after failing too often."""

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = request.match_info.route.resource
        if resource is not None and resource.canonical in public:
            return await handler(request)
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return error(401, "auth_required", "send Authorization: Bearer <token>")
        if wait := request.app[THROTTLE].blocked_for(request.remote or "?"):
            return _throttled(wait)  # no token is looked up for a throttled address
        who = await request.app[TOKENS].check(token.strip())
        if isinstance(who, Refused):
            return await _failed(request, error(401, who.value, _MESSAGES[who]))
        request[PRINCIPAL] = who
        return await handler(request)

    return check
