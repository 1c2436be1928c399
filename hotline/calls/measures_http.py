"""Measures on nuisance callers over HTTP (R-ACC-7): `/api/caller-measures`.

Supervisors and admins decide (a warning, then a pause / stop / suspension for a set period) and lift;
auditors read the history. Each decision names who took it (the token) and why (`reason`); every access
is audited by `@guarded`, the decision's id and reason noted on the audit row.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from aiohttp import web
from pydantic import AwareDatetime, Field, model_validator

from hotline.calls.caller_lists import NUMBER
from hotline.calls.measures import CallerMeasures, MeasureRefused
from hotline.core.errors import BadRequest, Conflict, Invalid
from hotline.core.web.bodies import Body, read_body
from hotline.core.web.policy import Grant, guarded
from hotline.core.web.routes import RouteTable

MEASURES = web.AppKey("caller_measures", CallerMeasures)
Number = Annotated[str, Field(pattern=NUMBER.pattern, description="3-20 digits, an optional leading +")]
Reason = Annotated[str, Field(min_length=1, max_length=500, description="why: what the caller did")]


class MeasureDecision(Body):
    """A decision on a caller: `warning` (heard on every call, flagged to the agent; until lifted, or `until`),
    or `pause` / `stop` / `suspend` (refused) for `hours` or `until` a time, within a year."""

    number: Number
    measure: Literal["warning", "pause", "stop", "suspend"]
    reason: Reason
    hours: Annotated[float | None, Field(gt=0, le=366 * 24)] = None
    until: AwareDatetime | None = None

    @model_validator(mode="after")
    def one_period(self) -> MeasureDecision:
        if self.hours is not None and self.until is not None:
            raise ValueError("give hours or until, not both")
        return self

    def ends_at(self, now: datetime) -> datetime | None:
        return now + timedelta(hours=self.hours) if self.hours is not None else self.until


class Lift(Body):
    reason: Reason


def _number(request: web.Request) -> str:
    number = request.match_info["number"]
    if not NUMBER.match(number):
        raise BadRequest("number must be 3-20 digits (an optional leading +)", error_id="bad_number")
    return number


table = RouteTable("calls")


@table.get("/api/caller-measures", summary="the measures in force now on nuisance callers")
@guarded("caller_measures.read")
async def in_force(request: web.Request, grant: Grant) -> web.Response:
    decisions = await request.app[MEASURES].all_in_force(datetime.now(UTC))
    grant.note(returned=len(decisions))
    return web.json_response({"measures": [d.to_json() for d in decisions]})


@table.get("/api/caller-measures/{number}", summary="a number's measures: the one in force and every decision")
@guarded("caller_measures.read", resource="caller-measures/{number}")
async def history(request: web.Request, grant: Grant) -> web.Response:
    number, measures = _number(request), request.app[MEASURES]
    decisions = await measures.history(number)
    now = datetime.now(UTC)
    current = await measures.in_force(number, now)
    return web.json_response({"number": number, "in_force": current.to_json() if current else None,
                              "history": [d.to_json() for d in decisions]})


@table.post("/api/caller-measures", summary="decide a measure on a caller: warning first, then pause / stop / "
            "suspend for a set period", body=MeasureDecision, status=201)
@guarded("caller_measures.decide", resource="caller-measures")
async def decide(request: web.Request, grant: Grant) -> web.Response:
    body = await read_body(request, MeasureDecision, error_id="bad_measure")
    grant.resource = f"caller-measures/{body.number}"
    now = datetime.now(UTC)
    try:
        decision = await request.app[MEASURES].decide(body.number, body.measure, body.reason, grant.who.name,
                                                      ends_at=body.ends_at(now), now=now)
    except MeasureRefused as exc:
        grant.note(refused=exc.error_id, reason=body.reason)
        if exc.error_id == "warning_first":
            raise Conflict(str(exc), error_id=exc.error_id) from None
        raise Invalid(str(exc), error_id=exc.error_id) from None
    grant.note(decision=decision.id, measure=decision.measure, reason=decision.reason)
    return web.json_response(decision.to_json(), status=201)


@table.post("/api/caller-measures/{number}/lift", summary="lift the measure in force on a number", body=Lift,
            status=201)
@guarded("caller_measures.lift", resource="caller-measures/{number}")
async def lift(request: web.Request, grant: Grant) -> web.Response:
    number = _number(request)
    body = await read_body(request, Lift, error_id="bad_lift")
    try:
        decision = await request.app[MEASURES].lift(number, body.reason, grant.who.name)
    except MeasureRefused as exc:
        grant.note(refused=exc.error_id, reason=body.reason)
        raise Conflict(str(exc), error_id=exc.error_id) from None
    grant.note(decision=decision.id, reason=decision.reason)
    return web.json_response(decision.to_json(), status=201)
