"""What every route module shares: the audit log of each access, and reading a JSON object body."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from hotline.core.web.auth import principal
from hotline.core.web.errors import error
from hotline.core.web.policy import AUDIT


async def audited(request: web.Request, action: str, resource: str, allowed: bool, **detail: object) -> None:
    """Write who did what to which resource, from where, and whether it was allowed."""
    who = principal(request)
    await request.app[AUDIT].record(actor=who.name, role=who.role, action=action[:64], resource=resource,
                                    allowed=allowed, remote=request.remote, detail=dict(detail))


async def gate(request: web.Request, roles: frozenset[str], action: str, resource: str,
               refusal: str) -> web.Response | None:
    """Audit the access and answer 403 (`refusal`) unless the principal's role is one of `roles`."""
    who = principal(request)
    allowed = who.role in roles
    await audited(request, action, resource, allowed)
    return None if allowed else error(403, "forbidden", f"role {who.role} may not {refusal}")


async def json_object(request: web.Request) -> dict[str, Any] | None:
    """The request body if it is a JSON object, else None."""
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None
