"""Recordings over HTTP: search, listen / download with range requests, the waveform (R-REC-1, R-SEC-1).

`GET /api/recordings?call_id=&number=&agent=&ticket=&date=&review=1` lists what the principal may
hear; `GET /api/recordings/{id}/audio` streams it from whichever store holds it (HTTP Range for the
web player; `?download=1` as an attachment); `GET /api/recordings/{id}/waveform` is its PNG. The access
table decides: agents hear the calls they took, supervisors their team's, auditors and admins all; a call
of a confidential ticket only roles that may read confidential tickets. Every access is audited, a
refusal (403) too, under `recordings/{id}` as `recordings.listen`, `.download` or `.waveform`.
"""

from __future__ import annotations

from datetime import date
from pathlib import PurePosixPath
from typing import Annotated, Any

from aiohttp import web
from aiohttp.payload import AsyncIterablePayload
from pydantic import BaseModel, Field

from hotline.calls.audio import MEDIA_TYPES
from hotline.core.errors import BadRequest, DomainError, NotFound
from hotline.core.web.bodies import Query, path_id, read_query
from hotline.core.web.policy import Grant, guarded
from hotline.core.web.routes import RouteTable
from recordings.catalog import Found, RecordingCatalog
from recordings.sealing import KeyUnknown, SealBroken

RECORDINGS = web.AppKey("recordings", RecordingCatalog)


class SearchQuery(Query):
    call_id: str | None = None
    number: Annotated[str | None, Field(description="the caller's number")] = None
    agent: str | None = None
    ticket: Annotated[str | None, Field(description="a ticket's number")] = None
    day: Annotated[date | None, Field(alias="date", description="the day in China, YYYY-MM-DD")] = None
    review: Annotated[bool, Field(description="only those flagged for quality review")] = False
    limit: Annotated[int, Field(ge=1, le=500)] = 50


class AudioQuery(Query):
    download: Annotated[bool, Field(description="as an attachment named after the call")] = False


class RecordingOut(BaseModel):
    """A call's recording, with the call's agent (and their team), caller and tickets."""

    id: int
    call_id: str
    status: str
    format: str
    size_bytes: int | None
    sha256: str | None
    duration_s: float | None
    started_at: str
    stored_at: str | None
    channels: int
    review: bool
    analysis: dict[str, Any] | None
    waveform: bool
    expired_at: str | None
    agent: str | None
    caller: str
    group: str | None
    tickets: list[str]
    confidential: bool


class RecordingList(BaseModel):
    recordings: list[RecordingOut]


def _may_hear(grant: Grant, found: Found) -> bool:
    """Within the grant's scope, and a confidential ticket's call only for those who may read such tickets."""
    return grant.covers_agent(found.agent) and (not found.confidential or grant.may("tickets.confidential"))


def _shown(grant: Grant, found: Found) -> dict[str, Any]:
    return found.to_json(grant.teams.of(found.agent) if found.agent else None)


table = RouteTable("recordings")


@table.get("/api/recordings", summary="recordings the principal may hear, newest first (agents: their own calls; "
           "supervisors: their team's)", query=SearchQuery, response=RecordingList)
@guarded("recordings.search")
async def search(request: web.Request, grant: Grant) -> web.Response:
    q = read_query(request.query, SearchQuery)
    found = await request.app[RECORDINGS].search(call_id=q.call_id, number=q.number, agent=q.agent,
                                                 agents=grant.agents_in_reach(), ticket=q.ticket, day=q.day,
                                                 limit=q.limit, review=q.review)
    heard = [f for f in found if _may_hear(grant, f)]  # confidential tickets' calls: per row
    grant.note(returned=len(heard))
    return web.json_response({"recordings": [_shown(grant, f) for f in heard]})


async def _playable(request: web.Request, grant: Grant, action: str) -> Found:
    """The recording of the path if the principal may hear it; audited as `action` either way."""
    grant.action = action
    found = await request.app[RECORDINGS].get(path_id(request, "recording_id", "recording"))
    grant.note(range=request.headers.get("Range", ""), call_id=found.recording.call_id if found else None)
    if found is None:
        raise NotFound(f"no recording {request.match_info['recording_id']}")
    grant.require(_may_hear(grant, found), "you may not listen to this recording")
    if found.recording.expired_at is not None:  # gone for good: 410
        raise NotFound("the audio was deleted at the end of its retention period", error_id="expired", status=410)
    return found


def _span(request: web.Request, size: int) -> tuple[int, int, int] | None:
    """The first and last byte to send and the status: the whole file (200) without a Range, else the range
    asked for (206); None when none of it can be had."""
    try:
        wanted = request.http_range
    except ValueError:
        raise BadRequest("one byte range, like bytes=0-99", error_id="bad_range", status=416) from None
    if wanted.start is None and wanted.stop is None:
        return 0, size - 1, 200
    start, stop = wanted.start or 0, wanted.stop
    first = max(0, size + start) if start < 0 else start
    last = min(size - 1, stop - 1) if stop is not None and start >= 0 else size - 1
    return None if first >= size or first > last else (first, last, 206)


async def _serve(request: web.Request, location: str, content_type: str,
                 attachment: str | None = None) -> web.Response:
    """A stored file streamed from the store, honouring a single HTTP byte range."""
    store = request.app[RECORDINGS].store
    try:
        size = await store.size(location)
    except KeyUnknown as exc:  # sealed with a key this service was not given: say so, send nothing
        raise DomainError(str(exc), error_id="recording_key_missing", status=503) from exc
    except SealBroken as exc:
        raise DomainError(f"the stored file does not authenticate ({exc}); run `hotline recordings verify`",
                          error_id="audio_altered", status=503) from exc
    if size is None:
        raise NotFound("the stored file is missing; run `hotline recordings verify`", error_id="audio_missing")
    span = _span(request, size)
    if span is None:
        return web.Response(status=416, headers={"Content-Range": f"bytes */{size}"})
    first, last, status = span
    headers = {"Content-Type": content_type, "Accept-Ranges": "bytes", "Cache-Control": "private, no-store",
               "Content-Length": str(last - first + 1)}
    if status == 206:
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    if attachment:
        headers["Content-Disposition"] = f'attachment; filename="{attachment}"'
    # sent once the handler has returned, so the access is audited before the first byte goes out
    return web.Response(status=status, headers=headers, body=AsyncIterablePayload(store.read(location, first, last)))


ONE = "/api/recordings/{recording_id:[0-9]+}"
AUDITED = "recordings/{recording_id}"


@table.get(ONE + "/audio", summary="the recording's audio, streamed with HTTP range requests (206) for the web "
           "player; ?download=1 as an attachment; 410 once retention deleted it", query=AudioQuery,
           produces="audio/*", errors=(410, 416, 503))
@guarded("recordings.play", resource=AUDITED)
async def audio(request: web.Request, grant: Grant) -> web.Response:
    download = read_query(request.query, AudioQuery).download
    found = await _playable(request, grant, "recordings.download" if download else "recordings.listen")
    r = found.recording
    name = f"{r.call_id}{PurePosixPath(r.path).suffix}" if download else None
    return await _serve(request, r.path, MEDIA_TYPES.get(r.format, "application/octet-stream"), name)


@table.get(ONE + "/waveform", summary="the recording's waveform image", produces="image/png", errors=(503,))
@guarded("recordings.play", resource=AUDITED)
async def waveform(request: web.Request, grant: Grant) -> web.Response:
    found = await _playable(request, grant, "recordings.waveform")
    if found.recording.waveform_path is None:
        raise NotFound("this recording has no waveform image (yet)", error_id="no_waveform")
    return await _serve(request, found.recording.waveform_path, "image/png")


def routes(catalog: RecordingCatalog) -> RouteTable:
    """The recordings' routes, bound to their catalogue and store."""
    bound = RouteTable(table.tag, table.routes)
    bound.provide(RECORDINGS, catalog)
    return bound
