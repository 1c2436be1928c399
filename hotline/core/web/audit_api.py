"""The audit log over the API: `GET /api/audit`, for auditors and admins, filtered and paged newest first.

Reading the log is audited like every other access (its query string is the entry's resource). Pages follow
each other by cursor: `next` is the id to pass as `before` for the page after, null after the last one.
"""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, Field

from hotline.core.web.audit import AUDIT, AuditFilter
from hotline.core.web.bodies import Query, read_query
from hotline.core.web.policy import Grant, guarded
from hotline.core.web.routes import RouteTable

PAGE_MAX = 500


class AuditQuery(Query):
    actor: Annotated[str | None, Field(max_length=64, description="the token's name")] = None
    role: Annotated[str | None, Field(max_length=16)] = None
    action: Annotated[str | None, Field(max_length=64, description="e.g. recordings.listen")] = None
    resource: Annotated[str | None, Field(max_length=200, description="resources starting with this, e.g. "
                                                                      "tickets/7")] = None
    allowed: Annotated[bool | None, Field(description="only allowed (true) or refused (false) accesses")] = None
    since: Annotated[AwareDatetime | None, Field(alias="from", description="at or after, ISO 8601 with offset")] \
        = None
    until: Annotated[AwareDatetime | None, Field(description="before, ISO 8601 with offset")] = None
    before: Annotated[int | None, Field(ge=1, le=2**31 - 1, description="the cursor: entries older than this id "
                                                                        "(the previous page's `next`)")] = None
    limit: Annotated[int, Field(ge=1, le=PAGE_MAX)] = 100


class AuditEntryOut(BaseModel):
    id: int
    at: str
    actor: str
    role: str
    action: str
    resource: str
    allowed: bool
    remote: str | None
    detail: dict[str, Any]


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    next: Annotated[int | None, Field(description="pass as `before` for the next page; null: no more")]


table = RouteTable("audit")


@table.get("/api/audit", summary="the audit log, newest first: who accessed what, when, from where, allowed "
           "or not (auditors and admins; reading it is audited too)", query=AuditQuery, response=AuditPage)
@guarded("audit.read")
async def read_audit(request: web.Request, grant: Grant) -> web.Response:
    q = read_query(request.query, AuditQuery)
    where = AuditFilter(q.actor, q.role, q.action, q.resource, q.allowed, q.since, q.until, q.before)
    entries = await request.app[AUDIT].search(where, q.limit + 1)
    page = entries[:q.limit]
    grant.note(returned=len(page))
    return web.json_response({"entries": page, "next": page[-1]["id"] if len(entries) > q.limit else None})
