"""Where a request came from and over what: HTTPS (for the cookie's Secure flag) and its own origin (for the
Origin checks), believing a reverse proxy's X-Forwarded-* headers only when told to."""

from __future__ import annotations

from aiohttp import web

from hotline.core.accounts.settings import AccountSettings


def _forwarded(request: web.Request, header: str) -> str:
    return request.headers.get(header, "").split(",")[0].strip().lower()


def over_https(request: web.Request, settings: AccountSettings) -> bool:
    if request.scheme == "https":
        return True
    return settings.trust_proxy and _forwarded(request, "X-Forwarded-Proto") == "https"


def own_origin(request: web.Request, settings: AccountSettings) -> str:
    host = (_forwarded(request, "X-Forwarded-Host") if settings.trust_proxy else "") or request.host.lower()
    return f"{'https' if over_https(request, settings) else 'http'}://{host}"


def trusted_origin(request: web.Request, settings: AccountSettings) -> bool:
    """Whether the request's Origin header is the service's own (or a configured public origin)."""
    origin = request.headers.get("Origin", "").strip().lower().rstrip("/")
    return origin in {own_origin(request, settings), *(o.lower() for o in settings.public_origins)}
