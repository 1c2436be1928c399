"""`GET /api/calls` and `GET /api/calls/{call_id}`: call records, by role, every access audited."""

from __future__ import annotations

from aiohttp import web

from hotline.calls.records import CallRecords, CallView
from hotline.core.web.access import audited
from hotline.core.web.auth import principal
from hotline.core.web.errors import error
from hotline.core.web.tokens import Principal

CALLS = web.AppKey("calls", CallRecords)
READERS = frozenset({"supervisor", "auditor", "admin", "agent"})


def _may_see(who: Principal, call: CallView) -> bool:
    return who.role != "agent" or (who.agent_id is not None and call.agent == who.agent_id)


async def list_calls(request: web.Request) -> web.Response:
    who = principal(request)
    query = request.query
    resource = f"calls?{query_string(request)}"
    if who.role not in READERS:
        await audited(request, "calls.list", resource, False)
        return error(403, "forbidden", f"role {who.role} may not read call records")
    try:
        limit = int(query.get("limit", "50"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 500:
        return error(400, "bad_param", "limit must be a whole number from 1 to 500")
    caller = query.get("caller") or None
    if caller is not None and not (caller.isdigit() and len(caller) <= 32):
        return error(400, "bad_param", "caller must be digits")
    agent = who.agent_id if who.role == "agent" else (query.get("agent") or None)
    calls = await request.app[CALLS].list(caller=caller, sip_call_id=query.get("sip_call_id") or None,
                                          agent=agent, limit=limit)
    await audited(request, "calls.list", resource, True, returned=len(calls))
    return web.json_response({"calls": [c.to_json() for c in calls]})


async def get_call(request: web.Request) -> web.Response:
    who = principal(request)
    call_id = request.match_info["call_id"]
    resource = f"calls/{call_id}"
    call = await request.app[CALLS].get(call_id)
    if who.role not in READERS or (call is not None and not _may_see(who, call)):
        await audited(request, "calls.get", resource, False)
        return error(403, "forbidden", "you may not read this call record")
    await audited(request, "calls.get", resource, call is not None)
    if call is None:
        return error(404, "call_not_found", f"no call {call_id}")
    return web.json_response(call.to_json())


def query_string(request: web.Request) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted(request.query.items()))
