"""Recordings over HTTP: search, and listen / download with range requests; every access audited.

`GET /api/recordings?call_id=&number=&agent=&ticket=&date=` lists what the principal may hear;
`GET /api/recordings/{id}/audio` streams it (HTTP Range for the web player; `?download=1` as an
attachment). A refusal is 403 and audited like a success, with who, what, when and from where.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from aiohttp import web

from hotline.web.access import audited, gate
from hotline.web.auth import principal
from hotline.web.errors import error
from recordings.access import LISTENERS, RecordingCatalog

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
                                                 ticket=q.get("ticket"), day=day, limit=limit)
    return web.json_response({"recordings": [f.to_json() for f in found if f.may_listen(who)]})


async def audio(request: web.Request) -> web.StreamResponse:
    who, raw = principal(request), request.match_info["recording_id"]
    download = request.query.get("download") == "1"
    action = "recordings.download" if download else "recordings.listen"
    found = await request.app[RECORDINGS].get(int(raw)) if raw.isdigit() and len(raw) < 12 else None
    allowed = found is not None and found.may_listen(who)
    await audited(request, action, f"recordings/{raw}", allowed, range=request.headers.get("Range", ""),
                  call_id=found.recording.call_id if found else None)
    if found is None:
        return error(404, "not_found", f"no recording {raw}")
    if not allowed:
        return error(403, "forbidden", "you may not listen to this recording")
    path = Path(found.recording.path)
    if not path.exists():
        return error(404, "audio_missing", "the audio file is missing; run `hotline recordings verify`")
    response = web.FileResponse(path, headers={"Content-Type": MEDIA_TYPES.get(found.recording.format,
                                                                               "application/octet-stream"),
                                               "Cache-Control": "private, no-store"})
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="{found.recording.call_id}.{path.suffix[1:]}"'
    return response


def add_routes(app: web.Application, catalog: RecordingCatalog) -> None:
    app[RECORDINGS] = catalog
    app.router.add_get("/api/recordings", search)
    app.router.add_get("/api/recordings/{recording_id}/audio", audio)
