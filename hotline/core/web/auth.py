"""Authentication on every route but the public ones (health, metrics, the OpenAPI document, sign-in, signed
webhooks), which the route tables mark: a bearer token (machines, scripts), or a person's session cookie
(pages), checked by the app's `SessionAuth` with its CSRF and origin rules. Both give handlers a `Principal`.
An address that keeps failing is throttled (429, audited)."""

from __future__ import annotations

import math
from typing import Protocol

from aiohttp import web
from aiohttp.typedefs import Middleware

from hotline.core.web.audit import AUDIT
from hotline.core.web.errors import Handler, error
from hotline.core.web.throttle import FailureThrottle
from hotline.core.web.tokens import ApiTokens, Principal, Refused

SESSION_COOKIE = "hotline_session"


class SessionAuth(Protocol):
    """Who a session cookie signs in: the principal, or the response refusing the request (401 when the
    session is unknown or over; 403 for CSRF or origin). An ended session is not counted against the address
    (session ids are 256 random bits, not guessed; a page left open after a shift must not block the centre's
    shared address), a wrong password is."""

    async def principal(self, request: web.Request, session_id: str) -> Principal | web.Response: ...


TOKENS = web.AppKey("tokens", ApiTokens)
SESSIONS = web.AppKey("session_auth", SessionAuth)
THROTTLE = web.AppKey("auth_throttle", FailureThrottle)
PRINCIPAL = web.RequestKey("principal", Principal)

_MESSAGES = {Refused.INVALID: "the token is unknown or revoked", Refused.EXPIRED: "the token has expired"}


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def throttled(seconds: float) -> web.Response:
    response = error(429, "auth_throttled", "too many failed authentications from this address; try later")
    response.headers["Retry-After"] = str(math.ceil(seconds))
    return response


async def failed(request: web.Request, response: web.Response) -> web.Response:
    """Count the failure against the address; the one that starts a block is audited."""
    remote = request.remote or "?"
    if request.app[THROTTLE].failed(remote):
        limits = request.app[THROTTLE].limits
        await request.app[AUDIT].record(actor="anonymous", role="none", action="auth.throttled",
                                        resource=request.path[:200], allowed=False, remote=remote,
                                        detail={"failures": limits.failures, "window_s": limits.window_s,
                                                "block_s": limits.block_s})
    return response


def authenticate(public: frozenset[tuple[str, str]]) -> Middleware:
    """The middleware: 401 without a valid token (`auth_expired` for an expired one) or session, except on
    `public` routes (method, path); 429 for an address throttled after failing too often. A bearer token wins
    over a cookie."""

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = request.match_info.route.resource
        method = "GET" if request.method == "HEAD" else request.method
        if resource is not None and (method, resource.canonical) in public:
            return await handler(request)
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        cookie = request.cookies.get(SESSION_COOKIE) if not header else None
        sessions = request.app.get(SESSIONS)
        if cookie and sessions is not None:
            if wait := request.app[THROTTLE].blocked_for(request.remote or "?"):
                return throttled(wait)
            found = await sessions.principal(request, cookie)
            if isinstance(found, web.Response):
                return found
            request[PRINCIPAL] = found
            return await handler(request)
        if scheme.lower() != "bearer" or not token:
            return error(401, "auth_required", "send Authorization: Bearer <token>, or sign in")
        if wait := request.app[THROTTLE].blocked_for(request.remote or "?"):
            return throttled(wait)  # no token is looked up for a throttled address
        who = await request.app[TOKENS].check(token.strip())
        if isinstance(who, Refused):
            return await failed(request, error(401, who.value, _MESSAGES[who]))
        request[PRINCIPAL] = who
        return await handler(request)

    return check
