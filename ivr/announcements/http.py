"""Hot-issue announcements over HTTP (热点播报, issue 17), for the /announcements/ page.

`GET /api/announcements?state=scheduled|playing|ended` lists them newest first with the dialplan's inbound
lines; `POST /api/announcements {"title", "text", "lines", "starts_at", "ends_at"}` publishes one (the words
are synthesised at once; 422 naming each bad field); `PUT …/{id}/recording` (audio/webm, audio/ogg or
audio/wav, ≤ 2 MiB, ≤ 60 s) replaces its audio with a recording; `GET …/{id}/audio` plays it (WAV);
`POST …/{id}/end` stops it at once; `POST /api/announcements/preview {"text"}` synthesises words to listen to
before publishing. Supervisors and admins publish; auditors read the log. Every request is audited.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, Field

from hotline.core.web.bodies import Body, Query, path_id, raw_body, read_body, read_query
from hotline.core.web.policy import Grant, guarded
from hotline.core.web.routes import RouteTable
from ivr.announcements.audio import MAX_BYTES
from ivr.announcements.service import MAX_CHARS, Announcements, Draft

SERVICE = web.AppKey("announcements", Announcements)
ONE = "/api/announcements/{announcement_id:[0-9]+}"
AUDITED = "announcements/{announcement_id}"
State = Literal["scheduled", "playing", "ended"]


class ListQuery(Query):
    state: State | None = None


class NewAnnouncement(Body):
    title: Annotated[str, Field(max_length=40, description="shown in the list; the text's start if empty")] = ""
    text: Annotated[str, Field(min_length=1, max_length=MAX_CHARS, description="what callers hear")]
    lines: Annotated[list[Annotated[str, Field(max_length=16)]], Field(
        max_length=100, description="inbound numbers of the dialplan; empty: every line")] = Field(default_factory=list)
    starts_at: AwareDatetime | None = Field(default=None, description="now if not given")
    ends_at: AwareDatetime = Field(description="at most 30 days after starts_at")
    entry_id: int | None = Field(default=None, ge=1, description="a published knowledge entry it points to: "
                                 "waiting callers of its lines hear it first after key 3")


class PreviewBody(Body):
    text: Annotated[str, Field(min_length=1, max_length=MAX_CHARS)]


class Change(BaseModel):
    at: str
    by: str
    change: Literal["published", "recorded", "ended"]
    sound: str | None = None


class AnnouncementOut(BaseModel):
    id: int
    title: str
    text: str
    audio: Literal["synthesised", "recorded"]
    seconds: float = Field(description="how long callers hear it (part of the greeting)")
    lines: list[str]
    line_names: list[str]
    starts_at: str
    ends_at: str
    created_by: str
    created_at: str
    ended_by: str | None
    ended_at: str | None
    state: State
    changes: list[Change]
    entry_id: int | None = None


class LineOut(BaseModel):
    number: str
    name: str


class AnnouncementList(BaseModel):
    announcements: list[AnnouncementOut]
    lines: list[LineOut] = Field(description="the dialplan's inbound numbers an announcement may name")


def _noted(grant: Grant, item: dict[str, Any]) -> dict[str, Any]:
    grant.note(id=item["id"], state=item["state"], lines=item["lines"], audio=item["audio"])
    return item


table = RouteTable("announcements")


@table.get("/api/announcements", summary="hot-issue announcements, newest first (the log), with the lines",
           query=ListQuery, response=AnnouncementList)
@guarded("announcements.list")
async def listing(request: web.Request, grant: Grant) -> web.Response:
    q = read_query(request.query, ListQuery)
    service = request.app[SERVICE]
    items = await service.listing(q.state)
    grant.note(returned=len(items))
    return web.json_response({"announcements": items,
                              "lines": [{"number": n, "name": name} for n, name in service.lines.items()]})


@table.post("/api/announcements", summary="publish an announcement: callers of its lines hear it after the "
            "greeting for its hours (synthesised at once; 422 naming each bad field)", body=NewAnnouncement,
            response=AnnouncementOut, status=201, errors=(503,))
@guarded("announcements.create")
async def publish(request: web.Request, grant: Grant) -> web.Response:
    said = await read_body(request, NewAnnouncement)
    draft = Draft(said.text, said.title, tuple(said.lines), said.starts_at or datetime.now(UTC), said.ends_at,
                  said.entry_id)
    item = await request.app[SERVICE].publish(draft, grant.who.name)
    grant.note(starts_at=item["starts_at"], ends_at=item["ends_at"])
    return web.json_response(_noted(grant, item), status=201)


@table.post("/api/announcements/preview", summary="synthesise words to listen to before publishing (WAV)",
            body=PreviewBody, produces="audio/wav", errors=(503,))
@guarded("announcements.audio")
async def preview(request: web.Request, grant: Grant) -> web.StreamResponse:
    said = await read_body(request, PreviewBody)
    service = request.app[SERVICE]
    sound = await service.audio.synthesise(said.text)
    grant.note(preview=sound.name, seconds=sound.seconds)
    return _wav(service.audio.existing(sound.name))


@table.put(ONE + "/recording", summary="replace the announcement's audio by a recording (audio/webm, audio/ogg "
           "or audio/wav, at most 2 MiB and 60 s); 409 once ended, 415 another type, 422 unreadable or too long",
           response=AnnouncementOut, errors=(409, 413, 415, 422), consumes=("audio/webm", "audio/ogg", "audio/wav"))
@guarded("announcements.audio", resource=AUDITED)
async def recording(request: web.Request, grant: Grant) -> web.Response:
    announcement_id = path_id(request, "announcement_id", "announcement")
    data = await raw_body(request, MAX_BYTES)
    grant.note(bytes=len(data), content_type=request.content_type)
    item = await request.app[SERVICE].record(announcement_id, data, request.headers.get("Content-Type", ""),
                                             grant.who.name)
    grant.note(seconds=item["seconds"])
    return web.json_response(_noted(grant, item))


@table.get(ONE + "/audio", summary="what callers hear (WAV, 8 kHz)", produces="audio/wav")
@guarded("announcements.audio", resource=AUDITED)
async def audio(request: web.Request, grant: Grant) -> web.StreamResponse:
    announcement_id = path_id(request, "announcement_id", "announcement")
    return _wav(await request.app[SERVICE].sound_file(announcement_id))


@table.post(ONE + "/end", summary="stop the announcement at once (the next call does not hear it); 409 if it "
            "has ended", response=AnnouncementOut, errors=(409,))
@guarded("announcements.end", resource=AUDITED)
async def end(request: web.Request, grant: Grant) -> web.Response:
    announcement_id = path_id(request, "announcement_id", "announcement")
    return web.json_response(_noted(grant, await request.app[SERVICE].end(announcement_id, grant.who.name)))


def _wav(path: Path) -> web.StreamResponse:
    return web.FileResponse(path, headers={"Content-Type": "audio/wav", "Cache-Control": "private, no-store"})


def routes(service: Announcements) -> RouteTable:
    bound = RouteTable(table.tag, table.routes)
    bound.provide(SERVICE, service)
    return bound
