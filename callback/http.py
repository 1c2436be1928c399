"""The revisit robot over HTTP: progress, pause / resume, campaigns, task upload (JSON or CSV), results export
(the domain's table also carries the callback work list's routes, `callback.worklist_http`).

Over all campaigns: `GET /api/revisits` progress and the dialer's state; `POST /api/revisits/pause` and
`/resume` (the dialer's master switch); `POST /api/revisits/tasks` an upload that becomes a campaign of
its own; `GET /api/revisits/tasks?status=` the tasks with their answers. Per campaign:
`GET /api/revisits/campaigns` (each with its progress), `POST /api/revisits/campaigns` (a named upload),
`GET /api/revisits/campaigns/{id}`, `POST …/{id}/pause` and `/resume`, `GET …/{id}/tasks` (its export).
Uploads are JSON `{"tasks": [...]}` (a campaign's also `"name"`) or CSV (header
number,salutation,topic,reason; a campaign's name in `?name=`), checked as a whole by `check_rows`: every
bad row is named (422 `bad_rows`) and nothing is imported. Supervisors and admins operate the robot,
auditors follow it; the access table decides and every access is audited.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, ClassVar, Literal

from aiohttp import web
from pydantic import AfterValidator, BaseModel, Field, WithJsonSchema

from callback import worklist_http
from callback.campaigns import NAME_LIMIT, STATES, Campaign, CampaignFinished, RevisitCampaigns, check_name
from callback.dialer import Dialer
from callback.tasks import MAX_UPLOAD, BadUpload, RevisitTasks, check_rows
from callback.worklist_http import DESK, CallbackDesk
from hotline.core.clock import china_now
from hotline.core.errors import BadRequest, Conflict, Invalid, NotFound
from hotline.core.web.bodies import Body, Query, path_id, read_body, read_query, text_body
from hotline.core.web.policy import Grant, guarded
from hotline.core.web.routes import RouteTable


@dataclass(frozen=True)
class RevisitOps:
    tasks: RevisitTasks
    dialer: Dialer

    @cached_property
    def campaigns(self) -> RevisitCampaigns:
        return RevisitCampaigns(self.tasks)


REVISITS = web.AppKey("revisits", RevisitOps)
TaskStatus = Literal["pending", "calling", "retry", "done", "failed"]
CampaignState = Literal["active", "paused", "finished"]
assert set(STATES) == set(CampaignState.__args__)  # type: ignore[attr-defined]
CampaignName = Annotated[str, Field(min_length=1, max_length=NAME_LIMIT, pattern=r"\S"),
                         AfterValidator(check_name)]
UPLOAD_HELP = ('send {"tasks": [{"number": ..., "salutation": ..., "topic": ...}]} '
               "or a UTF-8 CSV with the header number,salutation,topic,reason")


class TaskRow(BaseModel):
    """One petitioner to call back (documented here; `check_rows` checks the upload's rows as a whole)."""

    number: Annotated[str, Field(pattern=r"^[0-9]{5,20}$")]
    salutation: Annotated[str, Field(max_length=64, description="whom the robot asks for: 李女士")] = ""
    topic: Annotated[str, Field(max_length=100, description="the issue, as the petitioner put it")] = ""
    reason: Annotated[str, Field(max_length=32)] = ""


_ROWS = {"type": "array", "minItems": 1, "maxItems": MAX_UPLOAD, "items": TaskRow.model_json_schema()}


class TaskUpload(Body):
    """Revisit tasks to call; a bad row is reported with all the others and nothing is imported."""

    tasks: Annotated[list[Any], WithJsonSchema(_ROWS)]


class CampaignUpload(TaskUpload):
    name: CampaignName


class CampaignQuery(Query):
    name: Annotated[CampaignName | None, Field(description="the campaign's name, for a CSV upload")] = None


class CampaignsQuery(Query):
    state: CampaignState | None = None


class ExportQuery(Query):
    status: TaskStatus | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 100


class RevisitProgress(BaseModel):
    total: int
    done: int
    pending: int
    by_status: dict[str, int]
    by_result: dict[str, int]
    reached: int
    reached_rate: Annotated[float, Field(ge=0, le=1)]


class PressureOut(BaseModel):
    """Inbound callers the dialer yields to."""

    waiting: int
    offered: int
    service_level: float | None


class DialerState(BaseModel):
    state: str
    paused: bool
    active_calls: int
    yielding_to: Literal["callers_waiting", "service_level", "pressure_unknown"] | None
    pressure: PressureOut


class RevisitOverview(RevisitProgress):
    dialer: DialerState


class CampaignOut(BaseModel):
    id: int
    name: str
    source: Literal["rules", "upload"]
    state: CampaignState
    created_at: str
    created_by: str


class CampaignWithProgress(CampaignOut):
    progress: RevisitProgress


class CampaignList(BaseModel):
    campaigns: list[CampaignWithProgress]


class RevisitTaskOut(BaseModel):
    id: int
    campaign_id: int
    number: str
    ticket_id: int | None
    call_id: str | None
    reason: str
    mode: Literal["robot", "human"]
    status: TaskStatus
    result: str | None
    attempts: int
    last_outcome: str | None
    answers: dict[str, Any]
    next_attempt_at: str | None
    finished_at: str | None


class RevisitTaskList(BaseModel):
    tasks: list[RevisitTaskOut]


class Imported(BaseModel):
    campaign: CampaignOut
    imported: int
    ids: list[int]


class BadRows(Invalid):
    """An upload with bad rows, each named in `rows` with what is wrong; nothing was imported."""

    error_id: ClassVar[str] = "bad_rows"

    def __init__(self, bad: BadUpload) -> None:
        super().__init__(str(bad))
        self.rows = bad.rows

    def body(self) -> dict[str, Any]:
        body = super().body()
        body["error"]["rows"] = self.rows
        return body


table = RouteTable("revisits")


@table.get("/api/revisits", summary="revisit progress over all campaigns (tasks total / done / pending, reached "
           "rate, results) and the dialer's state, with the inbound pressure it yields to", response=RevisitOverview)
@guarded("revisits.progress", resource="revisits")
async def progress(request: web.Request, grant: Grant) -> web.Response:
    ops = request.app[REVISITS]
    return web.json_response({**await ops.tasks.progress(), "dialer": ops.dialer.status()})


def _switch(request: web.Request, paused: bool) -> web.Response:
    request.app[REVISITS].dialer.paused = paused
    return web.json_response(request.app[REVISITS].dialer.status())


@table.post("/api/revisits/pause", summary="stop placing new revisit calls in every campaign (the master switch; "
            "calls in progress go on)", response=DialerState)
@guarded("revisits.pause", resource="revisits")
async def pause(request: web.Request, grant: Grant) -> web.Response:
    return _switch(request, True)


@table.post("/api/revisits/resume", summary="place revisit calls again (campaigns paused on their own stay paused)",
            response=DialerState)
@guarded("revisits.resume", resource="revisits")
async def resume(request: web.Request, grant: Grant) -> web.Response:
    return _switch(request, False)


CSV_MAX_BYTES = 8 * 1024 * 1024  # a CSV upload may be larger than other bodies (the app's client_max_size)


def _is_csv(request: web.Request) -> bool:
    return request.content_type == "text/csv"


async def _csv_rows(request: web.Request) -> list[Any]:
    """The records of a CSV upload (a UTF-8 byte order mark is dropped)."""
    text = await text_body(request, UPLOAD_HELP, limit=CSV_MAX_BYTES)
    try:
        return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    except csv.Error as exc:  # a field over the csv module's limit
        raise BadRequest(f"not a CSV this service reads ({exc}); {UPLOAD_HELP}") from None


async def _import(request: web.Request, grant: Grant, name: str, rows: list[Any]) -> web.Response:
    """A campaign of the upload's rows, all or nothing."""
    try:
        checked = check_rows(rows, request.app[REVISITS].dialer.dialable)
    except BadUpload as exc:
        raise BadRows(exc) from None
    made, ids = await request.app[REVISITS].campaigns.create(name, checked, grant.who.name)
    grant.note(campaign=made.id, imported=len(ids))
    return web.json_response({"campaign": made.as_json(), "imported": len(ids), "ids": ids}, status=201)


@table.post("/api/revisits/tasks", summary="upload revisit tasks as a campaign named after the time: JSON "
            "{tasks: [...]} or CSV (text/csv: number,salutation,topic,reason); all or nothing",
            body=TaskUpload, response=Imported, status=201, consumes=("text/csv",))
@guarded("revisits.upload", resource="revisits/tasks")
async def upload(request: web.Request, grant: Grant) -> web.Response:
    if _is_csv(request):
        rows = await _csv_rows(request)
    else:
        rows = (await read_body(request, TaskUpload, error_id="bad_request", status=400)).tasks
    return await _import(request, grant, f"上传 {china_now():%Y-%m-%d %H:%M:%S}", rows)


@table.post("/api/revisits/campaigns", summary="a named campaign from an upload: JSON {name, tasks: [...]} or CSV "
            "(text/csv: number,salutation,topic,reason) with ?name=; all or nothing",
            body=CampaignUpload, query=CampaignQuery, response=Imported, status=201, consumes=("text/csv",))
@guarded("revisits.campaigns.create", resource="revisits/campaigns")
async def create_campaign(request: web.Request, grant: Grant) -> web.Response:
    if not _is_csv(request):
        body = await read_body(request, CampaignUpload, error_id="bad_request", status=400)
        return await _import(request, grant, body.name, body.tasks)
    name = read_query(request.query, CampaignQuery).name
    if name is None:
        raise BadRequest("a CSV upload names its campaign in ?name=", error_id="bad_param")
    return await _import(request, grant, name, await _csv_rows(request))


@table.get("/api/revisits/tasks", summary="revisit tasks of every campaign with their results and answers, newest "
           "first (the export)", query=ExportQuery, response=RevisitTaskList)
@guarded("revisits.list", resource="revisits/tasks")
async def listing(request: web.Request, grant: Grant) -> web.Response:
    return await _export(request, None)


async def _export(request: web.Request, campaign: int | None) -> web.Response:
    q = read_query(request.query, ExportQuery)
    return web.json_response({"tasks": await request.app[REVISITS].tasks.listing(q.status, q.limit, campaign)})


@table.get("/api/revisits/campaigns", summary="revisit campaigns, newest first, each with its progress (the rules' "
           "standing campaign too)", query=CampaignsQuery, response=CampaignList)
@guarded("revisits.campaigns.list", resource="revisits/campaigns")
async def campaigns(request: web.Request, grant: Grant) -> web.Response:
    q = read_query(request.query, CampaignsQuery)
    ops = request.app[REVISITS].campaigns
    return web.json_response({"campaigns": await ops.with_progress(await ops.listing(q.state))})


async def _campaign(request: web.Request) -> Campaign:
    """The campaign of the path; 404 when there is none."""
    campaign_id = path_id(request, "campaign_id", "revisit campaign")
    found = await request.app[REVISITS].campaigns.get(campaign_id)
    if found is None:
        raise NotFound(f"no revisit campaign {campaign_id}")
    return found


ONE = "/api/revisits/campaigns/{campaign_id:[0-9]+}"
ONE_AUDITED = "revisits/campaigns/{campaign_id}"


@table.get(ONE, summary="one campaign with its progress", response=CampaignWithProgress)
@guarded("revisits.campaigns.get", resource=ONE_AUDITED)
async def campaign(request: web.Request, grant: Grant) -> web.Response:
    found = await _campaign(request)
    return web.json_response((await request.app[REVISITS].campaigns.with_progress([found]))[0])


async def _set_campaign_paused(request: web.Request, paused: bool) -> web.Response:
    found = await _campaign(request)
    try:
        changed = await request.app[REVISITS].campaigns.set_paused(found.id, paused)
    except CampaignFinished as exc:
        raise Conflict(str(exc), error_id="finished") from None
    return web.json_response(changed.as_json())


@table.post(ONE + "/pause", summary="stop calling this campaign's petitioners (calls in progress go on); "
            "409 `finished` once it is over", response=CampaignOut, errors=(409,))
@guarded("revisits.campaigns.pause", resource=ONE_AUDITED)
async def pause_campaign(request: web.Request, grant: Grant) -> web.Response:
    return await _set_campaign_paused(request, True)


@table.post(ONE + "/resume", summary="call this campaign's petitioners again; 409 `finished` once it is over",
            response=CampaignOut, errors=(409,))
@guarded("revisits.campaigns.resume", resource=ONE_AUDITED)
async def resume_campaign(request: web.Request, grant: Grant) -> web.Response:
    return await _set_campaign_paused(request, False)


@table.get(ONE + "/tasks", summary="this campaign's tasks with their results and answers, newest first (its export)",
           query=ExportQuery, response=RevisitTaskList)
@guarded("revisits.campaigns.tasks", resource=ONE_AUDITED)
async def campaign_tasks(request: web.Request, grant: Grant) -> web.Response:
    return await _export(request, (await _campaign(request)).id)


table.routes.extend(worklist_http.table.routes)  # the domain's other routes: people calling back


def routes(ops: RevisitOps, desk: CallbackDesk) -> RouteTable:
    """The domain's routes: the revisit robot's, bound to its tasks and dialer, and the callback work list's."""
    bound = RouteTable(table.tag, table.routes)
    bound.provide(REVISITS, ops)
    bound.provide(DESK, desk)
    return bound
