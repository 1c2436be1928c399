"""The revisit robot over HTTP: progress, pause / resume, task upload (JSON or CSV), results export.

`GET /api/revisits` progress and the dialer's state; `POST /api/revisits/pause` and `/resume`;
`POST /api/revisits/tasks` a JSON `{"tasks": [...]}` or a CSV (header: number,salutation,topic,reason)
upload, validated as a whole: any bad row is reported (422) and nothing is imported;
`GET /api/revisits/tasks?status=` the tasks with their answers. Supervisors and admins; auditors read.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from callback.dialer import Dialer
from callback.tasks import BadUpload, RevisitTasks, check_rows
from hotline.web.access import gate
from hotline.web.errors import error

OPERATORS = frozenset({"supervisor", "admin"})
READERS = OPERATORS | {"auditor"}
STATUSES = ("pending", "calling", "retry", "done", "failed")


@dataclass(frozen=True)
class RevisitOps:
    tasks: RevisitTasks
    dialer: Dialer


REVISITS = web.AppKey("revisits", RevisitOps)


async def progress(request: web.Request) -> web.Response:
    if refused := await gate(request, READERS, "revisits.progress", "revisits", "see revisit progress"):
        return refused
    ops = request.app[REVISITS]
    return web.json_response({**await ops.tasks.progress(), "dialer": ops.dialer.status()})


async def _set_paused(request: web.Request, paused: bool) -> web.Response:
    action = "revisits.pause" if paused else "revisits.resume"
    if refused := await gate(request, OPERATORS, action, "revisits", "pause or resume the revisit dialer"):
        return refused
    request.app[REVISITS].dialer.paused = paused
    return web.json_response(request.app[REVISITS].dialer.status())


async def pause(request: web.Request) -> web.Response:
    return await _set_paused(request, True)


async def resume(request: web.Request) -> web.Response:
    return await _set_paused(request, False)


async def _rows(request: web.Request) -> list[Any] | None:
    if request.content_type == "text/csv":
        try:
            text = await request.text()
        except UnicodeDecodeError:
            return None
        return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    try:
        body = await request.json()
    except ValueError:
        return None
    return body.get("tasks") if isinstance(body, dict) and isinstance(body.get("tasks"), list) else None


async def upload(request: web.Request) -> web.Response:
    if refused := await gate(request, OPERATORS, "revisits.upload", "revisits/tasks", "upload revisit tasks"):
        return refused
    rows = await _rows(request)
    if rows is None:
        return error(400, "bad_request", 'send {"tasks": [{"number": ..., "salutation": ..., "topic": ...}]} '
                     "or a CSV with the header number,salutation,topic,reason")
    try:
        ids = await request.app[REVISITS].tasks.add(check_rows(rows))
    except BadUpload as exc:
        return web.json_response({"error": {"id": "bad_rows", "message": str(exc), "rows": exc.rows}}, status=422)
    return web.json_response({"imported": len(ids), "ids": ids}, status=201)


async def listing(request: web.Request) -> web.Response:
    if refused := await gate(request, READERS, "revisits.list", "revisits/tasks", "see revisit tasks"):
        return refused
    status = request.query.get("status")
    if status is not None and status not in STATUSES:
        return error(400, "bad_param", f"status must be one of {', '.join(STATUSES)}")
    raw = request.query.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        return error(400, "bad_param", "limit must be 1 to 1000")
    return web.json_response({"tasks": await request.app[REVISITS].tasks.listing(status, int(raw))})


def add_routes(app: web.Application, ops: RevisitOps) -> None:
    app[REVISITS] = ops
    app.router.add_get("/api/revisits", progress)
    app.router.add_post("/api/revisits/pause", pause)
    app.router.add_post("/api/revisits/resume", resume)
    app.router.add_post("/api/revisits/tasks", upload)
    app.router.add_get("/api/revisits/tasks", listing)
