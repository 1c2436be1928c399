"""The KPI reports over HTTP (R-KPI-1): `/api/reports/kpis`, `/volumes`, `/agents`, `/teams`, `/monthly` and
`/export` (CSV or XLSX). Supervisors see the centre's line and skill figures, but agents' and teams' rows and
the `team` / `agent` filters only for their own team (a supervisor without a team: all); every access and
every export is audited with its parameters."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from console.reports.exports import export_file
from console.reports.schemas import ExportQuery, KpiQuery, MonthQuery, TeamQuery, VolumeQuery
from console.reports.service import Reports, Slice
from hotline.core.web.bodies import read_query
from hotline.core.web.policy import Grant, Scope, guarded
from hotline.core.web.routes import RouteTable

REPORTS = web.AppKey("reports", Reports)


def _team(grant: Grant, team: str | None) -> str | None:
    """The team a request may look at: a team supervisor only their own (their team when none is asked)."""
    own = grant.who.group if grant.scope is Scope.TEAM else None
    grant.require(own is None or team in (None, own), "reports: another team")
    return team or own


def _slice(grant: Grant, q: KpiQuery) -> Slice:
    agents: list[str] | None = None
    if q.team is not None:
        agents = sorted(grant.teams.agents_of(_team(grant, q.team) or ""))
    if q.agent is not None:
        grant.require(grant.covers_agent(q.agent), "reports: an agent of another team")
        agents = [q.agent] if agents is None or q.agent in agents else []
    return Slice(line=q.line, skill=q.skill, agents=agents, short_abandon_s=q.short_abandon_s)


async def kpis_of(request: web.Request, grant: Grant, query: dict[str, str]) -> dict[str, Any]:
    q = read_query(query, KpiQuery)
    which = _slice(grant, q)
    report = await request.app[REPORTS].kpis(q.span, q.by, which)
    filters = {"line": q.line, "skill": q.skill, "team": q.team, "agent": q.agent,
               "short_abandon_s": q.short_abandon_s}
    return {**report, "filters": filters}


async def volumes_of(request: web.Request, grant: Grant, query: dict[str, str]) -> dict[str, Any]:
    q = read_query(query, VolumeQuery)
    team = _team(grant, q.team) if q.team is not None else None
    agents = sorted(grant.teams.agents_of(team)) if team else None
    return await request.app[REPORTS].volumes(q.span, q.dimension, agents)


async def agents_of(request: web.Request, grant: Grant, query: dict[str, str]) -> dict[str, Any]:
    q = read_query(query, TeamQuery)
    return await request.app[REPORTS].agents(q.span, grant.teams.members, _team(grant, q.team))


async def teams_of(request: web.Request, grant: Grant, query: dict[str, str]) -> dict[str, Any]:
    q = read_query(query, TeamQuery)
    return await request.app[REPORTS].teams(q.span, grant.teams.members, _team(grant, q.team))


async def monthly_of(request: web.Request, grant: Grant, query: dict[str, str]) -> dict[str, Any]:
    q = read_query(query, MonthQuery)
    return await request.app[REPORTS].monthly(q.month, grant.teams.members, _team(grant, None))


BUILDERS = {"kpis": kpis_of, "volumes": volumes_of, "agents": agents_of, "teams": teams_of, "monthly": monthly_of}


table = RouteTable("reports")


def _report_route(name: str, summary: str, query: type[Any]) -> None:
    @table.get(f"/api/reports/{name}", summary=summary, query=query)
    @guarded("reports.read")
    async def handler(request: web.Request, grant: Grant) -> web.Response:
        grant.note(report=name, params=dict(request.query))
        return web.json_response(await BUILDERS[name](request, grant, dict(request.query)))


_report_route("kpis", "the KPIs of a range by day / week / month / total, with the previous period and the same "
              "period last year, and every formula (R-KPI-1; docs/kpis.md)", KpiQuery)
_report_route("volumes", "calls and tickets by line, skill, request type, category, region or hour", VolumeQuery)
_report_route("agents", "per agent: answered, talk and wrap-up, signed-in time, occupancy, ratings", TeamQuery)
_report_route("teams", "per team: the same figures summed over its agents", TeamQuery)
_report_route("monthly", "the monthly report to the city government: totals, comparisons, daily figures, lines, "
              "request types, top categories, teams", MonthQuery)


@table.get("/api/reports/export", summary="a report as a file: CSV (UTF-8 with BOM) or XLSX (one sheet per part); "
           "the same parameters as the report", query=ExportQuery,
           produces="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
@guarded("reports.export")
async def export(request: web.Request, grant: Grant) -> web.Response:
    q = read_query(request.query, ExportQuery)
    params = {k: v for k, v in request.query.items() if k not in ("report", "format")}
    grant.note(report=q.report, format=q.format, params=params)
    report = await BUILDERS[q.report](request, grant, params)
    name, content_type, body = export_file(q.report, q.format, report)
    return web.Response(body=body, content_type=content_type,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


def routes(reports: Reports) -> RouteTable:
    """The reports' routes, bound to the reports."""
    bound = RouteTable(table.tag, list(table.routes))
    bound.provide(REPORTS, reports)
    return bound
