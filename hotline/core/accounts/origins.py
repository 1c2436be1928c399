"""Where a request came from and over what: HTTPS (for the cookie's Secure flag) and its own origin (for the
Origin checks). Behind a trusted reverse proxy the request already carries the browser's scheme and host
(hotline/core/web/proxy.py)."""

from __future__ import annotations

from aiohttp import web

from hotline.core.accounts.settings import AccountSettings


def over_https(request: web.Request) -> bool:
    return request.scheme == "https"


def own_origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host.lower()}"


def trusted_origin(request: web.Request, settings: AccountSettings) -> bool:
    """Whether the request's Origin header is the service's own (or a configured public origin)."""
    origin = request.headers.get("Origin", "").strip().lower().rstrip("/")
    return origin in {own_origin(request), *(o.lower() for o in settings.public_origins)}
