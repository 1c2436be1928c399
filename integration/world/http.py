"""Test calls over HTTP, for the engineer page: `POST /api/test-calls` places the call `hotline call` places (202,
then it runs on); `GET /api/test-calls/{id}` its state and result; `GET /api/test-calls/{id}/audio` the WAV its
caller heard. One at a time per engineer (409 `test_call_running`); 409 `no_test_world` when the stack runs
without the simulated world. Engineers and admins; every access audited."""

from __future__ import annotations

import re
from typing import Annotated, Any

from aiohttp import web
from pydantic import AfterValidator, BaseModel, Field

from hotline.core.errors import Conflict, NotFound
from hotline.core.web.bodies import Body, read_body
from hotline.core.web.policy import Grant, guarded
from hotline.core.web.routes import RouteTable
from integration.world.testcalls import NoTestWorld, TestCall, TestCallRunner, TestCallRunning

RUNNER = web.AppKey("test_calls", TestCallRunner)
ONE = "/api/test-calls/{call_id:[0-9a-f]+}"
STEP = re.compile(r"^(noise|silence|hangup|wait:[0-9]{1,3}|dtmf:[0-9*#]{1,20})$")
MAX_WAIT_S = 120

table = RouteTable("test-calls")


def _script(value: str) -> str:
    """The citizen's script, '/'-separated steps the world knows, at most two minutes of waiting."""
    if not value:
        return value
    steps = value.split("/")
    if not all(STEP.match(s) for s in steps):
        raise ValueError("steps are noise, silence, hangup, wait:<seconds>, dtmf:<keys>, separated by '/'")
    if sum(int(s[5:]) for s in steps if s.startswith("wait:")) > MAX_WAIT_S:
        raise ValueError(f"a test call waits {MAX_WAIT_S} s at most")
    return value


class NewTestCall(Body):
    number: Annotated[str, Field(pattern=r"^[0-9]{3,20}$", description="the number dialled, e.g. 12345")] = "12345"
    from_: Annotated[str, Field(alias="from", pattern=r"^[0-9]{3,20}$", description="the caller's number")] = \
        "13800138000"
    dtmf: Annotated[str, Field(pattern=r"^[0-9*#]{0,20}$", description="keys pressed a second into the greeting")] = ""
    script: Annotated[str, Field(max_length=200, description="what the citizen does, as `hotline call --script`; "
                                 "overrides dtmf"), AfterValidator(_script)] = ""


class Placed(BaseModel):
    id: str
    state: str


class TestCallOut(BaseModel):
    id: str
    state: str
    number: str
    from_: Annotated[str, Field(alias="from")]
    dtmf: str
    script: str
    placed_by: str
    placed_at: str
    ended_at: str | None
    result: dict[str, Any] | None
    error: str | None
    audio_url: str | None


@table.post("/api/test-calls", summary="place a test call from the simulated world (as `hotline call`); it runs on "
            "after the answer. 409 `test_call_running` while one's own is going on, `no_test_world` without a world",
            body=NewTestCall, response=Placed, status=202, errors=(409,))
@guarded("test_calls.place", resource="test-calls")
async def place(request: web.Request, grant: Grant) -> web.Response:
    body = await read_body(request, NewTestCall)
    try:
        call = request.app[RUNNER].place(body.number, body.from_, body.dtmf, body.script, grant.who.name)
    except TestCallRunning as exc:
        raise Conflict(str(exc), error_id="test_call_running") from None
    except NoTestWorld as exc:
        raise Conflict(str(exc), error_id="no_test_world") from None
    grant.note(test_call=call.id, number=call.number, caller=call.caller, dtmf=call.dtmf, script=call.script)
    return web.json_response({"id": call.id, "state": call.state}, status=202)


def _call(request: web.Request) -> TestCall:
    found = request.app[RUNNER].get(request.match_info["call_id"])
    if found is None:
        raise NotFound("no such test call (results are kept for a day)")
    return found


@table.get(ONE, summary="a test call: running, done or failed; once done, the result of `hotline call --json` "
           "(answered, what was heard, the path with times, route, agent, rating)", response=TestCallOut)
@guarded("test_calls.read", resource="test-calls/{call_id}")
async def get(request: web.Request, grant: Grant) -> web.Response:
    return web.json_response(_call(request).as_json())


@table.get(ONE + "/audio", summary="the WAV the test call's caller heard", produces="audio/wav")
@guarded("test_calls.read", resource="test-calls/{call_id}/audio")
async def audio(request: web.Request, grant: Grant) -> web.StreamResponse:
    call = _call(request)
    path = request.app[RUNNER].audio_of(call.id)
    if not call.audio or not path.is_file():
        raise NotFound("this test call has no audio (yet)")
    grant.note(listened=True)
    return web.FileResponse(path, headers={"Content-Type": "audio/wav", "Cache-Control": "no-store"})


def routes(runner: TestCallRunner) -> RouteTable:
    bound = RouteTable(table.tag, table.routes)
    bound.provide(RUNNER, runner)
    return bound
