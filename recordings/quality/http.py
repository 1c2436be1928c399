"""Quality review over HTTP (质检, issue 17): the flagged calls, the score sheet, scoring, comments, scores.

`GET /api/quality/calls?from=&to=&flag=&agent=&team=&scored=&limit=&before=` lists recorded calls newest first
with their flags (silence, talk_over, short, bad_rating); `GET /api/quality/sheet` is the score sheet;
`GET /api/quality/calls/{call_id}` one call's review (score, history, comments); `PUT …/score` scores it
(one current score, every change kept); `POST …/comments` adds to its thread; `GET /api/quality/scores` gives
per-agent averages and the scores. The access table decides: agents their own calls (read-only, they may reply),
supervisors their team's, auditors read all, admins all; a confidential ticket's call only for roles that may
read confidential tickets (as its recording). Every access is audited, refusals too. The audio and waveform are
the recordings' routes (`/api/recordings/{id}/audio`, `/waveform`), audited there.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field, StrictInt

from hotline.core.clock import china_today
from hotline.core.errors import BadRequest, NotFound
from hotline.core.web.bodies import Body, Query, read_body, read_query
from hotline.core.web.policy import Grant, guarded
from hotline.core.web.routes import RouteTable
from recordings.quality.service import QualityReview, Reviewed, Wanted, read_cursor

QUALITY = web.AppKey("quality_review", QualityReview)
ONE = "/api/quality/calls/{call_id}"
AUDITED = "quality/calls/{call_id}"
LONGEST_RANGE_DAYS = 366


class Period(Query):
    day_from: Annotated[date | None, Field(alias="from", description="first day in China, YYYY-MM-DD (default: "
                                                                      "six days before `to`)")] = None
    day_to: Annotated[date | None, Field(alias="to", description="last day in China (default: today)")] = None
    agent: Annotated[str | None, Field(max_length=32)] = None

    def span(self) -> tuple[date, date]:
        """The days asked for; 400 when backwards or longer than a year."""
        end = self.day_to or china_today()
        start = self.day_from or end - timedelta(days=6)
        if start > end or (end - start).days >= LONGEST_RANGE_DAYS:
            raise BadRequest(f"from must be on or before to, at most {LONGEST_RANGE_DAYS} days",
                             error_id="bad_param")
        return start, end


class CallsQuery(Period):
    flag: Annotated[Literal["silence", "talk_over", "short", "bad_rating", "review", "any", "all"], Field(
        description="any (default): at least one flag; all: every recorded call; review: the recording's own "
                    "review mark")] = "any"
    team: Annotated[str | None, Field(max_length=32)] = None
    scored: Annotated[Literal["0", "1"] | None, Field(description="1: scored only; 0: not yet scored")] = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    before: Annotated[str | None, Field(max_length=120, description="the `next` of the previous page")] = None


class ScoreBody(Body):
    items: dict[str, StrictInt] = Field(description="points per sheet item key, every item, 0 to its points")
    comment: Annotated[str, Field(max_length=2000)] = ""


class CommentBody(Body):
    text: Annotated[str, Field(min_length=1, max_length=2000)]


class ScoreBrief(BaseModel):
    total: int
    max: int
    scored_by: str = Field(description="the reviewer's account")
    scored_by_name: str = Field(description="the reviewer's name (the account's, when a token scored)")
    scored_at: str


class ScoreOut(ScoreBrief):
    items: dict[str, int]
    comment: str
    version: int


class FlaggedCall(BaseModel):
    call_id: str
    recording_id: int
    started_at: str
    agent: str | None
    agent_name: str | None
    team: str | None
    line: str = Field(description="the number the citizen dialled")
    caller: str
    duration_s: float | None = Field(description="the recording's length")
    talk_s: float | None = Field(description="the agent's part of the call")
    flags: list[Literal["silence", "talk_over", "short", "bad_rating"]]
    review: bool
    analysis: dict[str, Any] | None
    rating: int | None
    rating_label: str | None
    score: ScoreBrief | None


class FlaggedList(BaseModel):
    calls: list[FlaggedCall]
    next: str | None = Field(description="give as `before` for the next page; null: no more")


class SheetItemOut(BaseModel):
    key: str
    name: str
    points: int
    guide: str
    clause: str = Field(description="the standard's clause the item comes from")


class SheetOut(BaseModel):
    items: list[SheetItemOut]
    max: int


class CommentOut(BaseModel):
    id: int
    author: str
    author_name: str
    role: str
    text: str
    at: str


class CallReview(FlaggedCall):
    score: ScoreOut | None
    recordings: list[dict[str, Any]]
    recording_ids: list[int]
    confidential: bool
    answered_at: str | None
    ended_at: str | None
    history: list[ScoreOut]
    comments: list[CommentOut]


class StoredScore(ScoreOut):
    call_id: str
    agent: str | None


class Thread(BaseModel):
    comments: list[CommentOut]


class AgentFigures(BaseModel):
    agent: str | None
    agent_name: str | None
    team: str | None
    scored: int
    average: float
    average_max: float
    average_pct: float = Field(description="average of the totals as a percentage of the sheet's maximum")
    lowest: int
    highest: int


class ScoreListed(ScoreOut):
    call_id: str
    agent: str | None
    started_at: str
    line: str


class Scores(BaseModel):
    agents: list[AgentFigures]
    scores: list[ScoreListed]


table = RouteTable("quality")


@table.get("/api/quality/calls", summary="recorded calls for quality review, newest first, with their flags "
           "(agents: their own; supervisors: their team's)", query=CallsQuery, response=FlaggedList)
@guarded("quality.list")
async def flagged(request: web.Request, grant: Grant) -> web.Response:
    q = read_query(request.query, CallsQuery)
    start, end = q.span()
    wanted = Wanted(start, end, q.flag, q.agent, q.team, None if q.scored is None else q.scored == "1", q.limit,
                    read_cursor(q.before) if q.before else None)
    calls, more = await request.app[QUALITY].flagged(wanted, grant.agents_in_reach(), grant.may("tickets.confidential"))
    grant.note(returned=len(calls))
    return web.json_response({"calls": calls, "next": more})


@table.get("/api/quality/sheet", summary="the score sheet: items, their points, guides and the standard's clauses",
           response=SheetOut)
@guarded("quality.sheet")
async def sheet(request: web.Request, grant: Grant) -> web.Response:
    return web.json_response(request.app[QUALITY].sheet.to_json())


async def _reviewed(request: web.Request, grant: Grant) -> Reviewed:
    """The call of the path if within the principal's reach (403 otherwise, as for an unknown call to those who
    see only some calls); a confidential ticket's call only for those who may read such tickets."""
    call_id = request.match_info["call_id"]
    try:
        reviewed = await request.app[QUALITY].reviewed(call_id)
    except NotFound:
        grant.require(grant.agents_in_reach() is None, "you may not review this call")
        raise
    grant.note(agent=reviewed.call.agent)
    grant.require(grant.covers_agent(reviewed.call.agent), "not a call you may review")
    grant.require(not reviewed.confidential or grant.may("tickets.confidential"),
                  "a confidential ticket's call: only those who may read confidential tickets")
    return reviewed


@table.get(ONE, summary="one call's review: recordings, analysis, rating, the current score with its items, the "
           "history of scorings and the comments", response=CallReview)
@guarded("quality.read", resource=AUDITED)
async def one(request: web.Request, grant: Grant) -> web.Response:
    return web.json_response(await request.app[QUALITY].detail(await _reviewed(request, grant)))


@table.put(ONE + "/score", summary="score the call on the sheet (replaces the current score; every scoring is "
           "kept); 422 naming each bad item", body=ScoreBody, response=StoredScore)
@guarded("quality.score", resource=AUDITED)
async def score(request: web.Request, grant: Grant) -> web.Response:
    reviewed = await _reviewed(request, grant)
    said = await read_body(request, ScoreBody, error_id="bad_score")
    stored = await request.app[QUALITY].score(reviewed, dict(said.items), said.comment, grant.who.name)
    grant.note(total=stored["total"], version=stored["version"])
    return web.json_response(stored)


@table.post(ONE + "/comments", summary="add a comment to the call's thread (reviewers; the agent on their own "
            "call); the whole thread", body=CommentBody, response=Thread, status=201)
@guarded("quality.comment", resource=AUDITED)
async def comment(request: web.Request, grant: Grant) -> web.Response:
    reviewed = await _reviewed(request, grant)
    said = await read_body(request, CommentBody, error_id="bad_comment")
    thread = await request.app[QUALITY].comment(reviewed, said.text, grant.who.name, grant.role)
    return web.json_response({"comments": thread}, status=201)


@table.get("/api/quality/scores", summary="quality scores of calls in the period with per-agent averages (agents: "
           "their own; supervisors: their team's)", query=Period, response=Scores)
@guarded("quality.scores")
async def scores(request: web.Request, grant: Grant) -> web.Response:
    q = read_query(request.query, Period)
    start, end = q.span()
    found = await request.app[QUALITY].scores(grant.agents_in_reach(), q.agent, start, end)
    grant.note(returned=len(found["scores"]))
    return web.json_response(found)


def routes(review: QualityReview) -> RouteTable:
    """The quality routes, bound to the review service."""
    bound = RouteTable(table.tag, table.routes)
    bound.provide(QUALITY, review)
    return bound
