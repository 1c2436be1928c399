"""The knowledge base over HTTP (issue 20).

Search and suggestions for everyone who answers citizens; entries with their life cycle for the departments'
editors (their own department) and the hotline's knowledge staff (supervisors, admins: check and publish);
what agents report from a call (answered from entry N, a gap); the figures; and a read-only search for the
government website behind a machine token. The access table decides; every request is audited; searches
are also logged in the knowledge domain's own table (for the "searches without results" figure).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field, model_validator

from hotline.calls.records import CallRecords, CallView
from hotline.core.errors import NotFound
from hotline.core.web.bodies import Body, Query, path_id, read_body, read_query, too_large
from hotline.core.web.policy import Grant, Scope, guarded
from hotline.core.web.routes import RouteTable
from knowledge.calls import CallKnowledge
from knowledge.fields import EntryFields, EntryPatch
from knowledge.figures import Figures
from knowledge.importer import XLSX, parse, read_csv, read_xlsx
from knowledge.search import Search
from knowledge.service import Entries, Reach
from knowledge.suggest import Suggestions


@dataclass(frozen=True)
class KnowledgeParts:
    entries: Entries
    search: Search
    suggestions: Suggestions
    calls: CallKnowledge
    records: CallRecords
    figures: Figures


PARTS = web.AppKey("knowledge", KnowledgeParts)
ONE = "/api/knowledge/entries/{entry_id:[0-9]+}"
AUDITED = "knowledge/entries/{entry_id}"
IMPORT_MAX_BYTES = 10 * 1024 * 1024


def reach(grant: Grant) -> Reach:
    """A department's editor (team scope) reaches their department only; an editor with none, nothing."""
    if grant.scope is Scope.ALL:
        return Reach()
    grant.require(grant.who.group is not None, "an editor's account names their department (team)")
    return Reach(grant.who.group)


class SearchQuery(Query):
    q: Annotated[str, Field(min_length=1, max_length=200)]
    line: Annotated[str | None, Field(max_length=32)] = None
    category: Annotated[str | None, Field(max_length=16)] = None
    limit: Annotated[int, Field(ge=1, le=50)] = 10


class SuggestQuery(Query):
    line: Annotated[str, Field(min_length=1, max_length=32)]
    limit: Annotated[int, Field(ge=1, le=50)] = 10


class ListQuery(Query):
    state: Literal["draft", "checked", "published", "expired", "withdrawn"] | None = None
    department: Annotated[str | None, Field(max_length=64)] = None
    q: Annotated[str | None, Field(max_length=200)] = None
    expiring: Literal["0", "1"] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 50
    before: Annotated[int | None, Field(ge=1, le=2**31 - 1)] = None


class WithdrawBody(Body):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class UseBody(Body):
    call_id: Annotated[str, Field(min_length=1, max_length=64)]
    entry_id: Annotated[int, Field(ge=1, le=2**31 - 1)]


class GapBody(Body):
    call_id: Annotated[str, Field(min_length=1, max_length=64)]
    question: Annotated[str, Field(min_length=1, max_length=500)]


class GapQuery(Query):
    state: Literal["open", "closed"] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class CloseBody(Body):
    entry_id: Annotated[int | None, Field(ge=1, le=2**31 - 1)] = None
    note: Annotated[str | None, Field(min_length=1, max_length=500)] = None

    @model_validator(mode="after")
    def _one(self) -> CloseBody:
        if self.entry_id is None and self.note is None:
            raise ValueError("give entry_id (the entry that answers it) or a note")
        return self


class FiguresQuery(Query):
    from_: Annotated[date | None, Field(alias="from")] = None
    to: date | None = None


class PublicQuery(Query):
    q: Annotated[str, Field(min_length=1, max_length=200)]
    limit: Annotated[int, Field(ge=1, le=20)] = 10


class EntryShown(BaseModel):
    """What every view of an entry shows (a search hit, the entry itself)."""

    id: int
    title: str
    answer: str
    department: str
    category: str
    category_label: str
    region: str
    keywords: list[str]
    valid_until: str | None
    phone: bool


class SearchResult(EntryShown):
    question: str = Field(description="the entry's question closest to the query")
    score: float
    uses: int


class SearchOut(BaseModel):
    q: str
    took_ms: float
    results: list[SearchResult]


class SuggestOut(BaseModel):
    department: str | None
    results: list[SearchResult]


class Entry(EntryShown):
    questions: list[str]
    valid_from: str
    review_by: str
    source: str
    source_date: str | None
    state: str
    version: int
    author: str
    edited_by: str
    checked_by: str | None
    published_at: str | None
    withdrawn_reason: str | None
    uses: int
    pending: dict[str, Any] | None = Field(description="the edit of a published entry, not yet published: "
                                                       "{content, state draft|checked, edited_by, checked_by}")


class EntryList(BaseModel):
    entries: list[Entry]
    next: int | None = Field(description="pass as before= for the next page")


class Version(BaseModel):
    version: int
    at: str
    by: str
    action: str
    changes: dict[str, Any]


class EntryDetail(Entry):
    versions: list[Version]


class Imported(BaseModel):
    imported: int
    ids: list[int]


class Used(BaseModel):
    call_id: str
    entry_id: int
    uses: int
    tickets: list[int] = Field(description="the call's tickets, which got a line on their timeline")


class Gap(BaseModel):
    id: int
    call_id: str
    question: str
    agent: str | None
    line: str | None
    reported_by: str
    at: str
    state: str
    entry_id: int | None
    note: str | None


class GapList(BaseModel):
    gaps: list[Gap]


class PublicEntry(BaseModel):
    id: int
    title: str
    question: str
    answer: str
    category_label: str
    region: str
    valid_until: str | None


class PublicOut(BaseModel):
    q: str
    results: list[PublicEntry]


table = RouteTable("knowledge")


@table.get("/api/knowledge/search", summary="search the published, valid entries as citizens ask (segmented "
           "words, synonyms, pinyin initials, typos); ranked by match, freshness and use; logged",
           query=SearchQuery, response=SearchOut)
@guarded("knowledge.search")
async def search(request: web.Request, grant: Grant) -> web.Response:
    q = read_query(request.query, SearchQuery)
    found = await request.app[PARTS].search.search(q.q, by=grant.who.name, line=q.line, limit=q.limit,
                                                  category=q.category)
    grant.note(results=len(found.results))
    return web.json_response({"q": found.q, "took_ms": found.took_ms, "results": found.results})


@table.get("/api/knowledge/suggest", summary="the caller's line's department's most used published entries",
           query=SuggestQuery, response=SuggestOut)
@guarded("knowledge.search")
async def suggest(request: web.Request, grant: Grant) -> web.Response:
    q = read_query(request.query, SuggestQuery)
    department, results = await request.app[PARTS].suggestions.for_line(q.line, q.limit)
    return web.json_response({"department": department, "results": results})


@table.get("/api/knowledge/entries", summary="entries in every state, newest first (an editor: their "
           "department's); expiring=1: review or validity ending within 14 days", query=ListQuery,
           response=EntryList)
@guarded("knowledge.list")
async def listing(request: web.Request, grant: Grant) -> web.Response:
    q = read_query(request.query, ListQuery)
    entries, more = await request.app[PARTS].entries.listing(
        reach(grant), state=q.state, department=q.department, q=q.q, expiring=q.expiring == "1", limit=q.limit,
        before=q.before)
    grant.note(returned=len(entries))
    return web.json_response({"entries": entries, "next": more})


@table.get(ONE, summary="an entry with its versions (who changed what, when)", response=EntryDetail)
@guarded("knowledge.read", resource=AUDITED)
async def one(request: web.Request, grant: Grant) -> web.Response:
    entry_id = path_id(request, "entry_id", "knowledge entry")
    return web.json_response(await request.app[PARTS].entries.get(entry_id, reach(grant)))


@table.post("/api/knowledge/entries", summary="a new entry, as a draft (an editor: of their department)",
            body=EntryFields, response=Entry, status=201)
@guarded("knowledge.edit", resource="knowledge/entries")
async def create(request: web.Request, grant: Grant) -> web.Response:
    fields = await read_body(request, EntryFields, error_id="bad_entry")
    entry = await request.app[PARTS].entries.create(fields, grant.who.name, reach(grant))
    grant.note(entry=entry["id"], department=entry["department"])
    return web.json_response(entry, status=201)


@table.patch(ONE, summary="change an entry: a draft again; a published entry keeps being found and the change "
             "waits as its pending content until checked and published", body=EntryPatch, response=Entry)
@guarded("knowledge.edit", resource=AUDITED)
async def update(request: web.Request, grant: Grant) -> web.Response:
    entry_id = path_id(request, "entry_id", "knowledge entry")
    patch = await read_body(request, EntryPatch, error_id="bad_entry")
    entry = await request.app[PARTS].entries.update(entry_id, patch, grant.who.name, reach(grant))
    return web.json_response(entry)


@table.post(ONE + "/check", summary="多方校核: confirm a draft (not one's own: 409 own_entry)", response=Entry,
            errors=(409,))
@guarded("knowledge.check", resource=AUDITED)
async def check(request: web.Request, grant: Grant) -> web.Response:
    entry_id = path_id(request, "entry_id", "knowledge entry")
    return web.json_response(await request.app[PARTS].entries.check(entry_id, grant.who.name))


@table.post(ONE + "/publish", summary="publish a checked entry (409 not_checked)", response=Entry, errors=(409,))
@guarded("knowledge.publish", resource=AUDITED)
async def publish(request: web.Request, grant: Grant) -> web.Response:
    entry_id = path_id(request, "entry_id", "knowledge entry")
    return web.json_response(await request.app[PARTS].entries.publish(entry_id, grant.who.name))


@table.post(ONE + "/withdraw", summary="withdraw an entry, with the reason; no longer found", body=WithdrawBody,
            response=Entry, errors=(409,))
@guarded("knowledge.withdraw", resource=AUDITED)
async def withdraw(request: web.Request, grant: Grant) -> web.Response:
    entry_id = path_id(request, "entry_id", "knowledge entry")
    said = await read_body(request, WithdrawBody)
    entry = await request.app[PARTS].entries.withdraw(entry_id, said.reason, grant.who.name, reach(grant))
    grant.note(reason=said.reason)
    return web.json_response(entry)


@table.post("/api/knowledge/import", summary="import entries as drafts from a CSV (text/csv, UTF-8) or XLSX sheet "
            "(headers 标题, 问题, 答复口径, 部门, 分类, 区域, 关键词, 生效日期, 失效日期, 来源); checked as a whole: "
            "422 with every bad row and nothing imported", response=Imported, status=201,
            consumes=("text/csv", XLSX))
@guarded("knowledge.import", resource="knowledge/import")
async def bulk(request: web.Request, grant: Grant) -> web.Response:
    if request.content_length is not None and request.content_length > IMPORT_MAX_BYTES:
        raise too_large(IMPORT_MAX_BYTES)
    raw = await request.content.read(IMPORT_MAX_BYTES + 1)
    if len(raw) > IMPORT_MAX_BYTES:
        raise too_large(IMPORT_MAX_BYTES)
    table_ = read_xlsx(raw) if request.content_type == XLSX or raw[:2] == b"PK" else read_csv(raw)
    parts, who = request.app[PARTS], reach(grant)
    ids = await parts.entries.create_many(parse(table_, parts.entries.catalogue, who), grant.who.name, who)
    grant.note(imported=len(ids))
    return web.json_response({"imported": len(ids), "ids": ids}, status=201)


async def _call(request: web.Request, grant: Grant, call_id: str) -> CallView:
    """The call, if the principal reaches it (as GET /api/calls/{id} decides: an agent's own, a supervisor's
    team's); a call out of reach looks like none (404, noted on the audit row)."""
    grant.resource = f"calls/{call_id}"
    call = await request.app[PARTS].records.get(call_id)
    if call is None or not grant.covers_agent(call.agent):
        grant.note(out_of_reach=call is not None)
        raise NotFound(f"no call {call_id}", error_id="call_not_found")
    return call


@table.post("/api/knowledge/uses", summary="the call was answered from this entry (direct answer); a line on "
            "the call's tickets", body=UseBody, response=Used, status=201, errors=(409,))
@guarded("knowledge.use")
async def use(request: web.Request, grant: Grant) -> web.Response:
    said = await read_body(request, UseBody)
    call = await _call(request, grant, said.call_id)
    grant.note(entry=said.entry_id)
    return web.json_response(await request.app[PARTS].calls.used(call, said.entry_id, grant.who.name), status=201)


@table.post("/api/knowledge/gaps", summary="not in the knowledge base (知识库查无): a gap for the knowledge staff",
            body=GapBody, response=Gap, status=201)
@guarded("knowledge.use")
async def gap(request: web.Request, grant: Grant) -> web.Response:
    said = await read_body(request, GapBody)
    call = await _call(request, grant, said.call_id)
    return web.json_response(await request.app[PARTS].calls.gap(call, said.question, grant.who.name), status=201)


@table.get("/api/knowledge/gaps", summary="questions agents found no entry for", query=GapQuery,
           response=GapList)
@guarded("knowledge.list")
async def gaps(request: web.Request, grant: Grant) -> web.Response:
    q = read_query(request.query, GapQuery)
    return web.json_response({"gaps": await request.app[PARTS].calls.gaps(q.state, q.limit)})


@table.post("/api/knowledge/gaps/{gap_id:[0-9]+}/close", summary="close a gap with the entry that answers it or "
            "a note", body=CloseBody, response=Gap, errors=(409,))
@guarded("knowledge.check", resource="knowledge/gaps/{gap_id}")
async def close_gap(request: web.Request, grant: Grant) -> web.Response:
    gap_id = path_id(request, "gap_id", "gap")
    said = await read_body(request, CloseBody)
    closed = await request.app[PARTS].calls.close_gap(gap_id, grant.who.name, said.entry_id, said.note)
    return web.json_response(closed)


@table.get("/api/knowledge/figures", summary="entries by department and state, past review, update time, "
           "searches without results, most used entries, the direct-answer rate by agent and line",
           query=FiguresQuery)
@guarded("knowledge.figures")
async def figures(request: web.Request, grant: Grant) -> web.Response:
    q = read_query(request.query, FiguresQuery)
    return web.json_response(await request.app[PARTS].figures.figures(reach(grant), q.from_, q.to))


@table.get("/api/public/knowledge", summary="for the government website: published entries' questions and "
           "answers, read only (a machine token)", query=PublicQuery, response=PublicOut)
@guarded("knowledge.public")
async def public(request: web.Request, grant: Grant) -> web.Response:
    q = read_query(request.query, PublicQuery)
    found = await request.app[PARTS].search.search(q.q, by=grant.who.name, line="web", limit=q.limit)
    return web.json_response({"q": found.q, "results": [
        {k: r[k] for k in ("id", "title", "question", "answer", "category_label", "region", "valid_until")}
        for r in found.results]})


class CategoriesOut(BaseModel):
    categories: list[dict[str, Any]] = Field(description="the ticket catalogue as a tree: {value: code, label, "
                                                         "children?}")


@table.get("/api/knowledge/categories", summary="the ticket catalogue's categories, for an entry's category picker",
           response=CategoriesOut)
@guarded("knowledge.list")
async def categories(request: web.Request, grant: Grant) -> web.Response:
    return web.json_response({"categories": request.app[PARTS].entries.catalogue.tree()})


def routes(parts: KnowledgeParts) -> RouteTable:
    table.provide(PARTS, parts)
    return table


