"""Behind a trusted reverse proxy (`HOTLINE_TRUST_PROXY`): the request as the browser made it. The client's
address is the last one the proxy appended to X-Forwarded-For (what the address throttle and the audit log
see), the scheme and host those of X-Forwarded-Proto / -Host (the session cookie's Secure flag, the Origin
checks). Without the setting these headers are ignored: anyone can send them."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Middleware

from hotline.core.web.errors import Handler


def _last(request: web.Request, header: str) -> str:
    hops = [h.strip() for h in request.headers.get(header, "").split(",") if h.strip()]
    return hops[-1] if hops else ""


def forwarded() -> Middleware:
    @web.middleware
    async def as_the_browser_sent_it(request: web.Request, handler: Handler) -> web.StreamResponse:
        remote, host = _last(request, "X-Forwarded-For"), _last(request, "X-Forwarded-Host")
        scheme = _last(request, "X-Forwarded-Proto").lower()
        changes: dict[str, str] = {}
        if remote:
            changes["remote"] = remote
        if host:
            changes["host"] = host
        if scheme in ("http", "https"):
            changes["scheme"] = scheme
        return await handler(request.clone(**changes) if changes else request)  # type: ignore[arg-type]

    return as_the_browser_sent_it
