"""The revisit robot over HTTP: progress, pause / resume, campaigns, task upload (JSON or CSV), results export.

Over all campaigns: `GET /api/revisits` progress and the dialer's state; `POST /api/revisits/pause` and
`/resume` (the dialer's master switch); `POST /api/revisits/tasks` an upload that becomes a campaign of
its own; `GET /api/revisits/tasks?status=` the tasks with their answers. Per campaign:
`GET /api/revisits/campaigns` (each with its progress), `POST /api/revisits/campaigns` (a named upload),
`GET /api/revisits/campaigns/{id}`, `POST …/{id}/pause` and `/resume`, `GET …/{id}/tasks` (its export).
Uploads are JSON `{"tasks": [...]}` (a campaign's also `"name"`) or CSV (header
number,salutation,topic,reason; a campaign's name in `?name=`), validated as a whole: any bad row is
reported (422) and nothing is imported. Supervisors and admins; auditors read; every access audited.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from aiohttp import web

from callback.campaigns import STATES, Campaign, CampaignFinished, RevisitCampaigns, check_name
from callback.dialer import Dialer
from callback.tasks import BadUpload, RevisitTasks, check_rows
from dialplans.calendar import CHINA
from hotline.core.web.access import gate
from hotline.core.web.auth import principal
from hotline.core.web.errors import error
from hotline.core.web.routes import RouteTable

OPERATORS = frozenset({"supervisor", "admin"})
READERS = OPERATORS | {"auditor"}
TASK_STATUSES = ("pending", "calling", "retry", "done", "failed")
UPLOAD_HELP = ('send {"tasks": [{"number": ..., "salutation": ..., "topic": ...}]} '
               "or a CSV with the header number,salutation,topic,reason")


@dataclass(frozen=True)
class RevisitOps:
    tasks: RevisitTasks
    dialer: Dialer

    @cached_property
    def campaigns(self) -> RevisitCampaigns:
        return RevisitCampaigns(self.tasks)


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


async def _upload(request: web.Request) -> tuple[object, list[Any]] | None:
    """The upload's campaign name (JSON `name`, CSV `?name=`; None when not given) and its rows."""
    if request.content_type == "text/csv":
        try:
            text = await request.text()
        except UnicodeDecodeError:
            return None
        return request.query.get("name"), list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    try:
        body = await request.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("tasks"), list):
        return None
    return body.get("name"), body["tasks"]


async def _import(request: web.Request, name: str, rows: list[Any]) -> web.Response:
    """A campaign of the upload's rows, all or nothing."""
    try:
        checked = check_rows(rows)
    except BadUpload as exc:
        return web.json_response({"error": {"id": "bad_rows", "message": str(exc), "rows": exc.rows}}, status=422)
    made, ids = await request.app[REVISITS].campaigns.create(name, checked, principal(request).name)
    return web.json_response({"campaign": made.as_json(), "imported": len(ids), "ids": ids}, status=201)


async def upload(request: web.Request) -> web.Response:
    """An upload without a name: a campaign named after its time."""
    if refused := await gate(request, OPERATORS, "revisits.upload", "revisits/tasks", "upload revisit tasks"):
        return refused
    got = await _upload(request)
    if got is None:
        return error(400, "bad_request", UPLOAD_HELP)
    return await _import(request, f"上传 {datetime.now(CHINA):%Y-%m-%d %H:%M:%S}", got[1])


async def create_campaign(request: web.Request) -> web.Response:
    if refused := await gate(request, OPERATORS, "revisits.campaigns.create", "revisits/campaigns",
                             "create revisit campaigns"):
        return refused
    got = await _upload(request)
    if got is None:
        return error(400, "bad_request", UPLOAD_HELP + ', with the campaign\'s "name" (in CSV: ?name=)')
    try:
        name = check_name(got[0])
    except ValueError as exc:
        return error(400, "bad_param", str(exc))
    return await _import(request, name, got[1])


def _limit(request: web.Request) -> int | None:
    raw = request.query.get("limit", "100")
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= 1000 else None


async def _export(request: web.Request, campaign: int | None) -> web.Response:
    status = request.query.get("status")
    if status is not None and status not in TASK_STATUSES:
        return error(400, "bad_param", f"status must be one of {', '.join(TASK_STATUSES)}")
    if (limit := _limit(request)) is None:
        return error(400, "bad_param", "limit must be 1 to 1000")
    return web.json_response({"tasks": await request.app[REVISITS].tasks.listing(status, limit, campaign)})


async def listing(request: web.Request) -> web.Response:
    if refused := await gate(request, READERS, "revisits.list", "revisits/tasks", "see revisit tasks"):
        return refused
    return await _export(request, None)


async def campaigns(request: web.Request) -> web.Response:
    if refused := await gate(request, READERS, "revisits.campaigns.list", "revisits/campaigns",
                             "see revisit campaigns"):
        return refused
    state = request.query.get("state")
    if state is not None and state not in STATES:
        return error(400, "bad_param", f"state must be one of {', '.join(STATES)}")
    ops = request.app[REVISITS].campaigns
    return web.json_response({"campaigns": await ops.with_progress(await ops.listing(state))})


def _campaign_id(request: web.Request) -> int | None:
    raw = request.match_info["campaign_id"]
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


async def _one(request: web.Request, roles: frozenset[str], action: str, refusal: str) -> web.Response | Campaign:
    """The campaign of the path, once the access is audited and allowed; else the answer to give."""
    resource = f"revisits/campaigns/{request.match_info['campaign_id']}"
    if refused := await gate(request, roles, action, resource, refusal):
        return refused
    campaign_id = _campaign_id(request)
    found = None if campaign_id is None else await request.app[REVISITS].campaigns.get(campaign_id)
    return found if found is not None else error(404, "not_found", "no such revisit campaign")


async def campaign(request: web.Request) -> web.Response:
    found = await _one(request, READERS, "revisits.campaigns.get", "see revisit campaigns")
    if isinstance(found, web.Response):
        return found
    return web.json_response((await request.app[REVISITS].campaigns.with_progress([found]))[0])


async def _set_campaign_paused(request: web.Request, paused: bool) -> web.Response:
    action = "revisits.campaigns.pause" if paused else "revisits.campaigns.resume"
    found = await _one(request, OPERATORS, action, "pause or resume revisit campaigns")
    if isinstance(found, web.Response):
        return found
    try:
        changed = await request.app[REVISITS].campaigns.set_paused(found.id, paused)
    except CampaignFinished as exc:
        return error(409, "finished", str(exc))
    return web.json_response(changed.as_json())


async def pause_campaign(request: web.Request) -> web.Response:
    return await _set_campaign_paused(request, True)


async def resume_campaign(request: web.Request) -> web.Response:
    return await _set_campaign_paused(request, False)


async def campaign_tasks(request: web.Request) -> web.Response:
    found = await _one(request, READERS, "revisits.campaigns.tasks", "see revisit tasks")
    return found if isinstance(found, web.Response) else await _export(request, found.id)


def routes(ops: RevisitOps) -> RouteTable:
    table = RouteTable("revisits")
    table.provide(REVISITS, ops)
    table.get("/api/revisits", summary="progress")(progress)
    table.post("/api/revisits/pause", summary="pause")(pause)
    table.post("/api/revisits/resume", summary="resume")(resume)
    table.post("/api/revisits/tasks", summary="upload")(upload)
    table.get("/api/revisits/tasks", summary="listing")(listing)
    table.get("/api/revisits/campaigns", summary="campaigns")(campaigns)
    table.post("/api/revisits/campaigns", summary="create_campaign")(create_campaign)
    table.get("/api/revisits/campaigns/{campaign_id}", summary="campaign")(campaign)
    table.post("/api/revisits/campaigns/{campaign_id}/pause", summary="pause_campaign")(pause_campaign)
    table.post("/api/revisits/campaigns/{campaign_id}/resume", summary="resume_campaign")(resume_campaign)
    table.get("/api/revisits/campaigns/{campaign_id}/tasks", summary="campaign_tasks")(campaign_tasks)
    return table
