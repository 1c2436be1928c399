"""`python -m bench reports`: the KPI reports over one month at 100,000 calls a day on PostgreSQL.

3 million call rows (answered and rated, abandoned, self-served, hung up in the greeting, the hotline's own calls
out), 30 % of them with a ticket, revisits of a third of the tickets and 200 agents' state intervals are generated
straight into a throw-away PostgreSQL with generate_series, then the daily rollups are built
(console.reports.rollup) and timed. Keys:
- `rows`: call rows; `tickets`, `revisits`, `agent_intervals`: the rows around them;
- `month_report_p95_ms`: `GET /api/reports/monthly`'s report (totals, the previous month and last year's, daily
  figures, lines, request types, categories, teams) from the rollups (target ≤ 2,000);
- `day_report_p95_ms`: the KPIs of one closed day by day, with its comparisons (target ≤ 300);
  `open_day_report_p95_ms`: the same for a day not rolled up yet (today: counted live);
- `baseline`: the same month and day reports counted directly from the call records in the same run;
- `rollup_build_s`: building the month's rollups; `equal`: the rolled-up month report equals the direct one.
`BENCH_REPORTS_PER_DAY` (default 100000) and `BENCH_REPORTS_DAYS` (30) scale it down for a quick look.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from datetime import time as datetime_time
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Integer, TextClause, bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.common import percentile, progress, publish
from bench.headlines import Headline
from console.reports.periods import EPOCH, Span
from console.reports.rollup import RolledFigures, Rollups
from console.reports.service import Reports, Slice
from hotline.app.plugins import upgrade_database
from hotline.core.clock import CHINA
from hotline.core.db.engine import SessionFactory, create_engine, session_factory
from hotline.core.netutil import free_port
from tests.postgres_server import PostgresServer

PER_DAY = int(os.environ.get("BENCH_REPORTS_PER_DAY", "100000"))
DAYS = int(os.environ.get("BENCH_REPORTS_DAYS", "30"))

HEADLINES = (
    Headline("month_report_p95_ms", baseline="baseline.month_report_p95_ms", target="<= 2000"),
    Headline("day_report_p95_ms", baseline="baseline.day_report_p95_ms", target="<= 300"),
    Headline("equal", target="== true"),
)
ALL_ENV = {"BENCH_REPORTS_PER_DAY": "50000"}  # 1.5 M calls: the full 3 M take 3-8 min to load and roll up here
BUDGET_S = 600
FIRST = date(2026, 10, 1)
AGENTS = 200
TEAMS = {f"8{i:03d}": f"{i // 20 + 1}组" for i in range(AGENTS)}

CALLS = """
INSERT INTO calls (call_id, caller, dialled, started_at, answered_at, ended_at, route_mode, route_skill, agent,
                   rating, rating_status, outcome, steps, queued_at, connected_at, wait_s, talk_s, wrap_up_s,
                   self_service)
SELECT 'b' || g, '138' || lpad((g % 100000000)::text, 8, '0'),
       CASE WHEN r4 < 0.7 THEN '12345' WHEN r4 < 0.8 THEN '12315' WHEN r4 < 0.9 THEN '12366' ELSE '12329' END,
       st, st, st + make_interval(secs => 5 + w + t),
       CASE WHEN kind = 'ours' THEN 'revisit' ELSE 'skill' END,
       CASE WHEN r4 < 0.8 THEN 'general' WHEN r4 < 0.9 THEN 'tax' ELSE 'housing_fund' END,
       CASE WHEN kind IN ('answered', 'ours') THEN '8' || lpad((g % 200)::text, 3, '0') END,
       CASE WHEN kind = 'answered' AND g % 7 < 5 THEN g % 7 + 1 END,
       CASE WHEN kind = 'answered' THEN CASE WHEN g % 7 < 5 THEN 'rated' ELSE 'not_rated' END END,
       CASE kind WHEN 'answered' THEN 'connected' WHEN 'ours' THEN 'connected'
                 WHEN 'abandoned' THEN 'abandoned_in_queue' WHEN 'self' THEN 'callback_requested'
                 ELSE 'abandoned' END,
       '[]',
       CASE WHEN kind IN ('answered', 'abandoned', 'self') THEN st + interval '5 seconds' END,
       CASE WHEN kind IN ('answered', 'ours') THEN st + make_interval(secs => 5 + w) END,
       CASE WHEN kind IN ('answered', 'abandoned', 'self') THEN w END,
       CASE WHEN kind IN ('answered', 'ours') THEN t END,
       CASE WHEN kind = 'answered' THEN round((5 + r3 * 40)::numeric, 1)::float END,
       CASE WHEN kind = 'self' THEN 'callback' END
FROM (SELECT g, r3, r4, round((r2 * r2 * 60)::numeric, 2)::float AS w, round((20 + r3 * 400)::numeric, 1)::float AS t,
             :first + make_interval(days => g / :per_day, secs => r1 * 86400) AS st,
             CASE WHEN r5 < 0.80 THEN 'answered' WHEN r5 < 0.88 THEN 'abandoned' WHEN r5 < 0.92 THEN 'self'
                  WHEN r5 < 0.95 THEN 'greeting' ELSE 'ours' END AS kind
      FROM (SELECT g, random() r1, random() r2, random() r3, random() r4, random() r5
            FROM generate_series(:lo, :hi) g) raw) c
"""
TICKETS = """
INSERT INTO tickets (number, status, channel, request_type, category, urgency, content, petitioner_phone,
                     created_by, created_at, updated_at, submitted_at, deadlines)
SELECT 'BT' || g, CASE WHEN g % 3 = 0 THEN 'closed' ELSE 'received' END, '电话',
       (ARRAY['咨询', '投诉', '求助', '建议', '举报'])[g % 5 + 1], lpad((g % 40 + 1)::text, 2, '0') || '01',
       '一般', '{}', '13800138000', '8' || lpad((g % 200)::text, 3, '0'), st, st, st, '{}'
FROM (SELECT g, :first + make_interval(days => g / :per_day, secs => random() * 86400) AS st
      FROM generate_series(:lo, :hi) g) t
"""
REVISITS = """
INSERT INTO revisit_tasks (ticket_id, number, reason, status, mode, created_at, attempts, result, answers)
SELECT id, '13800138000', 'closed', CASE WHEN id % 4 = 0 THEN 'pending' ELSE 'done' END, 'robot',
       submitted_at + interval '1 hour', 1,
       CASE WHEN id % 4 = 0 THEN NULL WHEN id % 4 = 1 THEN 'completed' WHEN id % 4 = 2 THEN 'refused'
            ELSE 'no_input' END, '{}'
FROM tickets WHERE status = 'closed'
"""
STATES = """
INSERT INTO agent_states (agent, state, reason, started_at, ended_at)
SELECT '8' || lpad(a::text, 3, '0'), (ARRAY['ready', 'on_call', 'wrap_up', 'paused'])[k % 4 + 1], '',
       :first + make_interval(days => d, hours => 8, mins => k * 24),
       :first + make_interval(days => d, hours => 8, mins => k * 24 + 24)
FROM generate_series(0, :agents - 1) a, generate_series(0, :days - 1) d, generate_series(0, 19) k
"""


async def timed(label: str, runs: int, call: Callable[[], Awaitable[Any]]) -> tuple[list[float], Any]:
    times, result = [], None
    for i in range(runs):
        start = time.perf_counter()
        result = await call()
        times.append((time.perf_counter() - start) * 1000)
        progress(f"{label} {i + 1}/{runs}: {times[-1]:.0f} ms")
    return times, result


def typed(sql: str) -> TextClause:
    """The statement with its parameters typed for asyncpg (PostgreSQL cannot infer them inside functions)."""
    return text(sql).bindparams(bindparam("first", type_=DateTime(timezone=True)), *(
        bindparam(name, type_=Integer) for name in ("per_day", "lo", "hi", "agents", "days") if f":{name}" in sql))


async def load(engine: AsyncEngine, sessions: SessionFactory) -> dict[str, int]:
    total = PER_DAY * DAYS
    chunk = PER_DAY * 5
    params: dict[str, Any] = {"first": datetime.combine(FIRST, datetime_time(0), CHINA), "per_day": PER_DAY}
    for lo in range(0, total, chunk):
        started = time.perf_counter()
        async with sessions.begin() as s:
            await s.execute(text("SELECT setseed(:seed)"), {"seed": lo / total})
            await s.execute(typed(CALLS), {**params, "lo": lo, "hi": min(total, lo + chunk) - 1})
        progress(f"calls {min(total, lo + chunk):,}/{total:,} ({time.perf_counter() - started:.1f} s)")
    tickets = total * 3 // 10
    async with sessions.begin() as s:
        await s.execute(typed(TICKETS), {"first": params["first"], "per_day": PER_DAY * 3 // 10, "lo": 0,
                                        "hi": tickets - 1})
        await s.execute(text(REVISITS))
        await s.execute(typed(STATES), {"first": params["first"], "agents": AGENTS, "days": DAYS})
    progress(f"tickets {tickets:,}, revisits and agent states loaded")
    async with engine.connect() as connection:
        await (await connection.execution_options(isolation_level="AUTOCOMMIT")).execute(text("VACUUM ANALYZE"))
    async with sessions() as s:
        counts = {name: int(await s.scalar(text(f"SELECT count(*) FROM {name}")) or 0)
                  for name in ("calls", "tickets", "revisit_tasks", "agent_states")}
    return counts


async def run() -> None:
    server = PostgresServer(Path(tempfile.mkdtemp(prefix="hotline-bench-reports-")), free_port())
    await server.start()
    try:
        await upgrade_database(server.url)
        engine = create_engine(server.url)
        sessions = session_factory(engine)
        started = time.perf_counter()
        counts = await load(engine, sessions)
        load_s = time.perf_counter() - started
        month = f"{FIRST.year}-{FIRST.month:02d}"
        closed = FIRST + timedelta(days=min(DAYS, 15) - 1)
        day = Span(closed, closed)
        direct = Reports(sessions, RolledFigures(enabled=False))
        base_month, direct_month = await timed("direct month report", 2, lambda: direct.monthly(month, TEAMS))
        base_day, _ = await timed("direct day report", 5, lambda: direct.kpis(day, "day", Slice()))
        started = time.perf_counter()
        await Rollups(sessions).rebuild([(FIRST - EPOCH).days + d for d in range(DAYS)])
        build_s = time.perf_counter() - started
        progress(f"rollups of {DAYS} days built in {build_s:.1f} s")
        rolled = Reports(sessions, RolledFigures())
        month_ms, rolled_month = await timed("month report", 10, lambda: rolled.monthly(month, TEAMS))
        day_ms, _ = await timed("day report", 20, lambda: rolled.kpis(day, "day", Slice()))
        last = FIRST + timedelta(days=DAYS - 1)
        async with sessions.begin() as s:  # the last day is the open one: not rolled up
            await s.execute(text("DELETE FROM report_rollups WHERE day = :d"), {"d": (last - EPOCH).days})
            await s.execute(text("DELETE FROM report_rollup_seconds WHERE day = :d"), {"d": (last - EPOCH).days})
            await s.execute(text("DELETE FROM report_rollup_days WHERE day = :d"), {"d": (last - EPOCH).days})
        open_ms, _ = await timed("open day report", 10, lambda: rolled.kpis(Span(last, last), "day", Slice()))
        await engine.dispose()
    finally:
        await server.stop()
    publish("reports", {
        "rows": counts["calls"], "tickets": counts["tickets"], "revisits": counts["revisit_tasks"],
        "agent_intervals": counts["agent_states"], "days": DAYS, "load_s": round(load_s, 1),
        "rollup_build_s": round(build_s, 1),
        "month_report_p95_ms": round(percentile(month_ms, 95)), "month_report_target_ms": 2000,
        "day_report_p95_ms": round(percentile(day_ms, 95)), "day_report_target_ms": 300,
        "open_day_report_p95_ms": round(percentile(open_ms, 95)),
        "baseline": {"month_report_p95_ms": round(percentile(base_month, 95)),
                     "day_report_p95_ms": round(percentile(base_day, 95)), "how": "direct count, no rollup"},
        "equal": rolled_month == direct_month,
    })
