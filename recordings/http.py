"""Recordings over HTTP: search, listen / download with range requests, the waveform; every access audited.

`GET /api/recordings?call_id=&number=&agent=&ticket=&date=&review=1` lists what the principal may
hear; `GET /api/recordings/{id}/audio` streams it from whichever store holds it (HTTP Range for the
web player; `?download=1` as an attachment); `GET /api/recordings/{id}/waveform` is its PNG. A
refusal is 403 and audited like a success, with who, what, when and from where.
"""

from __future__ import annotations

from datetime import date
from pathlib import PurePosixPath

from aiohttp import web

from hotline.core.web.access import audited, gate
from hotline.core.web.auth import principal
from hotline.core.web.errors import error
from hotline.core.web.routes import RouteTable
from recordings.access import LISTENERS, Found, RecordingCatalog

RECORDINGS = web.AppKey("recordings", RecordingCatalog)
MEDIA_TYPES = {"opus": "audio/ogg", "mp3": "audio/mpeg", "wav": "audio/wav"}


async def search(request: web.Request) -> web.Response:
    who, q = principal(request), request.query
    if refused := await gate(request, LISTENERS, "recordings.search", f"recordings?{request.query_string}",
                             "search recordings"):
        return refused
    try:
        day = date.fromisoformat(q["date"]) if q.get("date") else None
        limit = int(q.get("limit", "50"))
    except ValueError:
        return error(400, "bad_param", "date is YYYY-MM-DD, limit a whole number")
    if not 1 <= limit <= 500:
        return error(400, "bad_param", "limit must be 1 to 500")
    agent = who.agent_id if who.role == "agent" else q.get("agent")
    found = await request.app[RECORDINGS].search(call_id=q.get("call_id"), number=q.get("number"), agent=agent,
                                                 ticket=q.get("ticket"), day=day, limit=limit,
                                                 review=q.get("review") == "1")
    return web.json_response({"recordings": [f.to_json() for f in found if f.may_listen(who)]})


async def _allowed(request: web.Request, action: str) -> Found | web.Response:
    """The recording, if the principal may have it; the refusal otherwise (audited either way)."""
    who, raw = principal(request), request.match_info["recording_id"]
    found = await request.app[RECORDINGS].get(int(raw)) if raw.isdigit() and len(raw) < 12 else None
    allowed = found is not None and found.may_listen(who)
    await audited(request, action, f"recordings/{raw}", allowed, range=request.headers.get("Range", ""),
                  call_id=found.recording.call_id if found else None)
    if found is None:
        return error(404, "not_found", f"no recording {raw}")
    if not allowed:
        return error(403, "forbidden", "you may not listen to this recording")
    if found.recording.expired_at is not None:
        return error(410, "expired", "the audio was deleted at the end of its retention period")
    return found


async def _serve(request: web.Request, location: str, content_type: str,
                 attachment: str | None = None) -> web.StreamResponse:
    """Stream a stored file, honouring a single HTTP byte range."""
    store = request.app[RECORDINGS].store
    size = await store.size(location)
    if size is None:
        return error(404, "audio_missing", "the stored file is missing; run `hotline recordings verify`")
    try:
        wanted = request.http_range
    except ValueError:
        return error(416, "bad_range", "one byte range, like bytes=0-99")
    first, last, status = 0, size - 1, 200
    if wanted.start is not None or wanted.stop is not None:
        start, stop = wanted.start or 0, wanted.stop
        first = max(0, size + start) if start < 0 else start
        last = min(size - 1, stop - 1) if stop is not None and start >= 0 else size - 1
        if first >= size or first > last:
            return web.Response(status=416, headers={"Content-Range": f"bytes */{size}"})
        status = 206
    headers = {"Content-Type": content_type, "Accept-Ranges": "bytes", "Cache-Control": "private, no-store",
               "Content-Length": str(last - first + 1)}
    if status == 206:
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    if attachment:
        headers["Content-Disposition"] = f'attachment; filename="{attachment}"'
    response = web.StreamResponse(status=status, headers=headers)
    await response.prepare(request)
    async for chunk in store.read(location, first, last):
        await response.write(chunk)
    await response.write_eof()
    return response


async def audio(request: web.Request) -> web.StreamResponse:
    download = request.query.get("download") == "1"
    found = await _allowed(request, "recordings.download" if download else "recordings.listen")
    if not isinstance(found, Found):
        return found
    r = found.recording
    name = f"{r.call_id}{PurePosixPath(r.path).suffix}" if download else None
    return await _serve(request, r.path, MEDIA_TYPES.get(r.format, "application/octet-stream"), name)


async def waveform(request: web.Request) -> web.StreamResponse:
    found = await _allowed(request, "recordings.waveform")
    if not isinstance(found, Found):
        return found
    if found.recording.waveform_path is None:
        return error(404, "no_waveform", "this recording has no waveform image (yet)")
    return await _serve(request, found.recording.waveform_path, "image/png")


def routes(catalog: RecordingCatalog) -> RouteTable:
    table = RouteTable("recordings")
    table.provide(RECORDINGS, catalog)
    table.get("/api/recordings", summary="search")(search)
    table.get("/api/recordings/{recording_id}/audio", summary="audio")(audio)
    table.get("/api/recordings/{recording_id}/waveform", summary="waveform")(waveform)
    return table
