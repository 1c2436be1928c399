"""Caller lists over HTTP (R-ACC-7): `GET/POST /api/caller-lists`, `DELETE /api/caller-lists/{kind}/{number}`.

Supervisors and admins change the lists, auditors read them; every read and change is audited.
"""

from __future__ import annotations

import json

from aiohttp import web

from hotline.calls.caller_lists import KINDS, BadListEntry, CallerLists
from hotline.core.web.access import audited
from hotline.core.web.auth import principal
from hotline.core.web.errors import error

LISTS = web.AppKey("caller_lists", CallerLists)
EDITORS = frozenset({"supervisor", "admin"})
READERS = EDITORS | {"auditor"}


async def list_entries(request: web.Request) -> web.Response:
    who = principal(request)
    kind = request.query.get("kind") or None
    allowed = who.role in READERS
    await audited(request, "caller_lists.read", f"caller-lists?kind={kind or ''}", allowed)
    if not allowed:
        return error(403, "forbidden", f"role {who.role} may not read caller lists")
    if kind is not None and kind not in KINDS:
        return error(400, "bad_param", f"kind must be one of {', '.join(KINDS)}")
    return web.json_response({"entries": await request.app[LISTS].entries(kind)})


async def add_entry(request: web.Request) -> web.Response:
    who = principal(request)
    if who.role not in EDITORS:
        await audited(request, "caller_lists.add", "caller-lists", False)
        return error(403, "forbidden", f"role {who.role} may not change caller lists")
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return error(400, "bad_json", 'send a JSON object like {"number": "13800138000", "kind": "watch"}')
    if not isinstance(body, dict):
        return error(400, "bad_json", "send a JSON object")
    try:
        number, kind, note = CallerLists.validate(body.get("number"), body.get("kind"), body.get("note", ""))
    except BadListEntry as exc:
        return error(400, "bad_entry", str(exc))
    added = await request.app[LISTS].add(number, kind, note, who.name)
    await audited(request, "caller_lists.add", f"caller-lists/{kind}/{number}", True, added=added, note=note)
    if not added:
        return error(409, "already_listed", f"{number} is already on the {kind} list")
    return web.json_response({"number": number, "kind": kind, "note": note}, status=201)


async def remove_entry(request: web.Request) -> web.Response:
    who = principal(request)
    kind, number = request.match_info["kind"], request.match_info["number"]
    allowed = who.role in EDITORS
    removed = allowed and await request.app[LISTS].remove(number, kind)
    await audited(request, "caller_lists.remove", f"caller-lists/{kind}/{number}", allowed, removed=removed)
    if not allowed:
        return error(403, "forbidden", f"role {who.role} may not change caller lists")
    if not removed:
        return error(404, "not_listed", f"{number} is not on the {kind} list")
    return web.json_response({"number": number, "kind": kind, "removed": True})
