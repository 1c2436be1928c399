"""The callback work list over HTTP (issue 16): people calling citizens back.

`GET /api/callbacks?status=open|claimed|done&kind=callback_request|voice_message` lists the items, oldest due
first (no status: open and claimed); `GET /api/callbacks/{id}` one with its attempts. `POST …/{id}/claim`
(one agent at a time, 409 `already_claimed`; lapses after 15 min without a call), `POST …/{id}/release`,
`GET …/{id}/message` (the voice message's audio: the claimer, supervisors, admins), `POST …/{id}/dial`
(202 with the new call id: the agent's phone rings, then the citizen), `POST …/{id}/outcome`. Agents see the
open items and their own; supervisors also their team's; auditors and admins all (auditors see numbers
masked). The access table decides; every access is audited; each change is on the live feed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from aiohttp import web
from aiohttp.payload import AsyncIterablePayload
from pydantic import BaseModel, Field

from callback.callout import CallbackDialler
from callback.worklist import NotClaimed, Outcome, Viewer, Worklist
from hotline.calls.audio import MEDIA_TYPES, StoredAudio
from hotline.core.errors import DomainError, NotFound
from hotline.core.privacy import mask_number
from hotline.core.web.bodies import Body, Query, path_id, read_body, read_query
from hotline.core.web.policy import Grant, Scope, guarded
from hotline.core.web.routes import RouteTable


@dataclass(frozen=True)
class CallbackDesk:
    worklist: Worklist
    dialler: CallbackDialler
    audio: Callable[[], StoredAudio | None]  # the recordings' store, once that domain is loaded


DESK = web.AppKey("callback_desk", CallbackDesk)
ONE = "/api/callbacks/{callback_id:[0-9]+}"
AUDITED = "callbacks/{callback_id}"


class ListQuery(Query):
    status: Literal["open", "claimed", "done"] | None = None
    kind: Literal["callback_request", "voice_message"] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 200


class OutcomeBody(Body):
    outcome: Outcome
    note: Annotated[str | None, Field(max_length=500)] = None


class FromCall(BaseModel):
    """The call the item came from."""

    call_id: str
    started_at: str
    dialled: str = Field(description="the line the citizen dialled")
    skill: str | None
    mode: str | None
    waited_s: float | None = Field(description="in the queue before choosing a callback or leaving a message")


class CallbackOut(BaseModel):
    id: int
    kind: Literal["callback_request", "voice_message"]
    number: str
    status: Literal["open", "claimed", "calling", "done", "failed"]
    created_at: str
    due_at: str | None
    attempts: int
    max_attempts: int
    claimed_by: str | None
    claimed_until: str | None
    outcome: str | None = Field(description="the last outcome; when closed: reached, wrong_number or exhausted")
    has_message: bool
    call: FromCall | None


class AttemptOut(BaseModel):
    call_id: str
    agent: str | None
    started_at: str
    ended_at: str | None
    dial_status: str | None = Field(description="how the dial ended: ANSWER, NOANSWER, BUSY…; AGENT_… when "
                                                 "the agent's own phone did not answer")
    outcome: str | None
    note: str | None


class CallbackDetail(CallbackOut):
    attempt_list: list[AttemptOut]


class CallbackList(BaseModel):
    callbacks: list[CallbackOut]


class Claimed(BaseModel):
    id: int
    claimed_by: str
    claimed_until: str


class Released(BaseModel):
    id: int
    released: bool


class Dialling(BaseModel):
    call_id: str = Field(description="the callback call's id: its call record, recording and tickets use it")
    callback: int
    status: Literal["ringing_agent"]


class OutcomeOut(BaseModel):
    id: int
    status: Literal["retry", "done", "failed"]
    attempts: int
    outcome: Outcome
    due_at: str | None
    call_id: str


def _viewer(grant: Grant) -> Viewer:
    if grant.scope is Scope.OWN:
        return Viewer(grant.who.agent_id or "", grant.agents_in_reach())
    return Viewer(None, grant.agents_in_reach())


def _agent(grant: Grant) -> str:
    """The agent taking the action (an agent token names its agent)."""
    grant.require(grant.who.agent_id is not None, "only an agent (with a phone) works callbacks")
    return str(grant.who.agent_id)


def _shown(grant: Grant, item: dict[str, Any]) -> dict[str, Any]:
    return item if grant.role != "auditor" else {**item, "number": mask_number(item["number"])}


table = RouteTable("callbacks")


@table.get("/api/callbacks", summary="the callback work list: callback requests and voice messages, oldest due "
           "first (agents: open ones and their own; supervisors: and their team's)", query=ListQuery,
           response=CallbackList)
@guarded("callbacks.list")
async def listing(request: web.Request, grant: Grant) -> web.Response:
    q = read_query(request.query, ListQuery)
    items = await request.app[DESK].worklist.listing(_viewer(grant), q.status, q.kind, q.limit)
    grant.note(returned=len(items))
    return web.json_response({"callbacks": [_shown(grant, i) for i in items]})


@table.get(ONE, summary="one callback item with its attempts", response=CallbackDetail)
@guarded("callbacks.read", resource=AUDITED)
async def one(request: web.Request, grant: Grant) -> web.Response:
    item = await request.app[DESK].worklist.get(path_id(request, "callback_id", "callback"), _viewer(grant))
    return web.json_response(_shown(grant, item))


@table.post(ONE + "/claim", summary="claim the item (one agent at a time; 409 already_claimed; the claim lapses "
            "after 15 minutes without a call)", response=Claimed, errors=(409,))
@guarded("callbacks.claim", resource=AUDITED)
async def claim(request: web.Request, grant: Grant) -> web.Response:
    claimed = await request.app[DESK].worklist.claim(path_id(request, "callback_id", "callback"), _agent(grant))
    return web.json_response(claimed)


@table.post(ONE + "/release", summary="give the item back to the list (its claimer, or a supervisor of the "
            "claimer's team)", response=Released, errors=(409,))
@guarded("callbacks.release", resource=AUDITED)
async def release(request: web.Request, grant: Grant) -> web.Response:
    item_id = path_id(request, "callback_id", "callback")
    worklist = request.app[DESK].worklist
    if grant.scope is Scope.OWN:
        await worklist.release(item_id, _agent(grant))
    else:
        claimer, _, _ = await worklist.claimer(item_id)
        grant.require(claimer is None or grant.covers_agent(claimer), "only the claimer's supervisor may release it")
        await worklist.release(item_id, None)
    return web.json_response({"id": item_id, "released": True})


@table.get(ONE + "/message", summary="the voice message's audio (the claimer, supervisors, admins); 404 for a "
           "callback request", produces="audio/*", errors=(503,))
@guarded("callbacks.message", resource=AUDITED)
async def message(request: web.Request, grant: Grant) -> web.StreamResponse:
    item_id = path_id(request, "callback_id", "callback")
    desk = request.app[DESK]
    claimer, live, _ = await desk.worklist.claimer(item_id)
    grant.note(claimed_by=claimer)
    if grant.scope is Scope.OWN:
        grant.require(live and claimer == grant.who.agent_id, "claim the item to hear its message")
    else:
        grant.require(claimer is None or grant.covers_agent(claimer), "not a callback of your team")
    recording = await desk.worklist.message(item_id)
    if recording is None:
        raise NotFound(f"callback {item_id} has no voice message", error_id="no_message")
    grant.note(recording=recording.id)
    if recording.status != "stored":  # not yet through the recording worker: the WAV Asterisk wrote
        wav = Path(recording.wav_path or recording.path)
        if not wav.is_file():
            raise NotFound("the message's audio is missing", error_id="audio_missing")
        return web.FileResponse(wav, headers={"Content-Type": "audio/wav", "Cache-Control": "private, no-store"})
    store = desk.audio()
    if store is None:
        raise DomainError("recordings are not served by this service", error_id="no_recordings", status=503)
    size = await store.size(recording.path)
    if size is None:
        raise NotFound("the message's stored file is missing; run `hotline recordings verify`",
                       error_id="audio_missing")
    return web.Response(headers={"Content-Type": MEDIA_TYPES.get(recording.format, "application/octet-stream"),
                                 "Content-Length": str(size), "Cache-Control": "private, no-store"},
                        body=AsyncIterablePayload(store.read(recording.path)))


@table.post(ONE + "/dial", summary="call the citizen back: the agent's own phone rings, then the citizen's with "
            "the centre's display number; recorded; 202 with the call id (409 not_claimed / agent_busy; 403 "
            "number_not_allowed, 429 dial_rate_exceeded)", response=Dialling, status=202, errors=(409,))
@guarded("callbacks.dial", resource=AUDITED)
async def dial(request: web.Request, grant: Grant) -> web.Response:
    started = await request.app[DESK].dialler.dial(path_id(request, "callback_id", "callback"), _agent(grant))
    grant.note(call_id=started["call_id"])
    return web.json_response(started, status=202)


@table.post(ONE + "/outcome", summary="how the agent's last call went: reached (done; write the ticket for the "
            "call id), no_answer / busy (due again after 10 min, 30 min, 2 h; failed after 3), wrong_number "
            "(failed)", body=OutcomeBody, response=OutcomeOut, errors=(409,))
@guarded("callbacks.outcome", resource=AUDITED)
async def outcome(request: web.Request, grant: Grant) -> web.Response:
    item_id = path_id(request, "callback_id", "callback")
    said = await read_body(request, OutcomeBody)
    agent = _agent(grant)
    worklist = request.app[DESK].worklist
    claimer, _, _ = await worklist.claimer(item_id)
    if claimer != agent:
        raise NotClaimed(f"callback {item_id} is not yours: only its claimer gives the outcome")
    result = await worklist.outcome(item_id, agent, said.outcome, said.note)
    grant.note(outcome=said.outcome, call_id=result["call_id"])
    return web.json_response(result)
