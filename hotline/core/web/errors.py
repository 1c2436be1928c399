"""JSON errors with stable ids: one body shape, one middleware for domain errors and unknown routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from hotline.core.errors import DomainError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error(status: int, error_id: str, message: str) -> web.Response:
    return web.json_response({"error": {"id": error_id, "message": message}}, status=status)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Domain errors → their status and id; unknown routes and methods → JSON, not HTML."""
    try:
        return await handler(request)
    except DomainError as exc:
        return web.json_response(exc.body(), status=exc.code)
    except web.HTTPRequestEntityTooLarge as exc:  # a body read past the app's client_max_size
        return error(413, "body_too_large", exc.text or "the body is too large")
    except web.HTTPNotFound:
        return error(404, "not_found", f"no route {request.path}")
    except web.HTTPMethodNotAllowed as exc:
        response = error(405, "method_not_allowed", f"{request.method} is not allowed on {request.path}")
        response.headers["Allow"] = ", ".join(sorted(exc.allowed_methods))
        return response
