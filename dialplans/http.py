"""The dialplan file over HTTP, for the engineer page (拨号计划): read it, check a text as typed, compare it with
what runs, apply it (with rollback) and list the kept versions.

`GET /api/dialplan`; `POST /api/dialplan/check {text}` (never writes); `POST /api/dialplan/diff {text}`;
`POST /api/dialplan/apply {text, sha256}` (409 `dialplan_changed` when the file changed since `sha256`, 422
`dialplan_invalid` with the problems, `{"applied": false, "rolled_back": true}` when Asterisk refused the reload);
`GET /api/dialplan/history` and `/api/dialplan/history/{sha256}`. Engineers and admins; auditors read.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, ClassVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from dialplans.editor import DialplanEditor, FileChanged, NoAsterisk, Problem, TextInvalid
from hotline.core.errors import Conflict, Invalid, NotFound
from hotline.core.web.bodies import Body, read_body
from hotline.core.web.policy import Grant, guarded
from hotline.core.web.routes import RouteTable

EDITOR = web.AppKey("dialplan_editor", DialplanEditor)
TEXT_LIMIT = 512 * 1024
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]

table = RouteTable("dialplan")


class DialplanText(Body):
    """The file's text as typed (kept exactly: spaces and the last line break are part of YAML)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)
    text: Annotated[str, Field(max_length=TEXT_LIMIT)]


class ApplyBody(DialplanText):
    sha256: Annotated[Sha256, Field(description="the sha256 of the file the engineer started from")]


class DialplanOut(BaseModel):
    path: str
    text: str
    sha256: str
    running_sha256: str | None
    applied_at: str | None
    applied_by: str | None


class ProblemOut(BaseModel):
    line: int
    column: int | None
    level: str
    message: str
    fix: str


class CheckOut(BaseModel):
    ok: bool
    problems: list[ProblemOut]


class FileDiff(BaseModel):
    name: str
    diff: str


class DiffOut(BaseModel):
    files: list[FileDiff]
    changed: int


class ApplyOut(BaseModel):
    applied: bool
    sha256: str
    rolled_back: bool = False
    error: str | None = None
    previous_sha256: str | None = None
    diff: str | None = None
    changed: list[str] | None = None
    prompts: list[str] | None = None
    at_next_start: Annotated[list[str] | None, Field(
        description="sections the service reads when it starts: Asterisk's configs changed now, the rest follows "
                    "at its next start")] = None
    listener_errors: list[str] | None = None
    nodes: Annotated[list[str] | None, Field(
        description="with media nodes: each node reloaded, in order (the diff is the first node's)")] = None
    node: Annotated[str | None, Field(
        description="with media nodes: the node that refused the reload (every node is back on the previous "
                    "configs)")] = None


class VersionOut(BaseModel):
    sha256: str
    saved_at: str
    saved_by: str
    note: str
    size: int
    running: bool


class HistoryOut(BaseModel):
    versions: list[VersionOut]


class VersionText(BaseModel):
    sha256: str
    text: str


class DialplanInvalidError(Invalid):
    """The text has problems (each with its line and fix); nothing was changed."""

    error_id: ClassVar[str] = "dialplan_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"the dialplan has {len(problems)} problem(s); nothing was changed")
        self.problems = problems

    def body(self) -> dict[str, Any]:
        body = super().body()
        body["error"]["problems"] = [p.as_json() for p in self.problems]
        return body


def _not_running() -> Conflict:
    return Conflict("the hotline's Asterisk is not running yet: try again in a moment", error_id="asterisk_not_running")


@table.get("/api/dialplan", summary="the dialplan file, its sha256 and the version the running Asterisk was last "
           "applied from (when, by whom)", response=DialplanOut)
@guarded("dialplan.read", resource="dialplan")
async def read(request: web.Request, grant: Grant) -> web.Response:
    found = request.app[EDITOR].current()
    grant.note(sha256=found["sha256"])
    return web.json_response(found)


@table.post("/api/dialplan/check", summary="the problems of a dialplan text as typed, each with its line and fix "
            "(the checks of `hotline dialplan check`; nothing is written)", body=DialplanText, response=CheckOut)
@guarded("dialplan.check", resource="dialplan")
async def check(request: web.Request, grant: Grant) -> web.Response:
    body = await read_body(request, DialplanText)
    problems = await asyncio.to_thread(request.app[EDITOR].check, body.text)
    return web.json_response({"ok": not any(p.level == "error" for p in problems),
                              "problems": [p.as_json() for p in problems]})


@table.post("/api/dialplan/diff", summary="the dialplan text and the Asterisk configs it renders against what runs "
            "now (unified diffs; passwords masked); 422 `dialplan_invalid` with the problems", body=DialplanText,
            response=DiffOut, errors=(409,))
@guarded("dialplan.check", resource="dialplan")
async def diff(request: web.Request, grant: Grant) -> web.Response:
    body = await read_body(request, DialplanText)
    try:
        files = await asyncio.to_thread(request.app[EDITOR].diff, body.text)
    except TextInvalid as exc:
        raise DialplanInvalidError(exc.problems) from None
    except NoAsterisk:
        raise _not_running() from None
    return web.json_response({"files": [{"name": n, "diff": d} for n, d in files], "changed": len(files)})


@table.post("/api/dialplan/apply", summary="apply a dialplan text: render, reload the running Asterisk, roll back "
            "when it refuses; 409 `dialplan_changed` when the file changed since `sha256`, 422 `dialplan_invalid`",
            body=ApplyBody, response=ApplyOut, errors=(409,))
@guarded("dialplan.apply", resource="dialplan")
async def apply(request: web.Request, grant: Grant) -> web.Response:
    body = await read_body(request, ApplyBody)
    grant.note(from_sha256=body.sha256)
    try:
        result = await request.app[EDITOR].apply(body.text, body.sha256, grant.who.name)
    except FileChanged as exc:
        raise Conflict(str(exc), error_id="dialplan_changed") from None
    except TextInvalid as exc:
        raise DialplanInvalidError(exc.problems) from None
    except NoAsterisk:
        raise _not_running() from None
    grant.note(applied=result["applied"], sha256=result["sha256"], rolled_back=result.get("rolled_back", False),
               changed=result.get("changed"), **({"node": result["node"]} if "node" in result else {}))
    return web.json_response(result)


@table.get("/api/dialplan/history", summary="the kept versions of the dialplan file, newest first, with who and when",
           response=HistoryOut)
@guarded("dialplan.read", resource="dialplan/history")
async def history(request: web.Request, grant: Grant) -> web.Response:
    editor = request.app[EDITOR]
    running = editor.history.running()
    return web.json_response({"versions": [{**v.as_json(), "running": running is not None and
                                            v.sha256 == running.sha256} for v in editor.history.versions()]})


@table.get("/api/dialplan/history/{sha256:[0-9a-f]+}", summary="the text of one kept version",
           response=VersionText)
@guarded("dialplan.read", resource="dialplan/history/{sha256}")
async def version(request: web.Request, grant: Grant) -> web.Response:
    sha = request.match_info["sha256"]
    text = request.app[EDITOR].history.text_of(sha) if len(sha) == 64 else None
    if text is None:
        raise NotFound(f"no kept version {sha}")
    return web.json_response({"sha256": sha, "text": text})


def routes(editor: DialplanEditor) -> RouteTable:
    bound = RouteTable(table.tag, table.routes)
    bound.provide(EDITOR, editor)
    return bound
