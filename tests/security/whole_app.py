"""Every domain's routes in one app on a real, migrated SQLite database and a local recording store, with the
principals of the access tests: two teams, their objects seeded as rows, one token per role and scope.

Team 一组 has agents 8001 and 8002, team 二组 agent 8003. Call c1 (caller 13800000001) was taken by 8001,
c3 (caller 13800000003) by 8003; each has a stored recording (ids 1 and 3) and a ticket its agent created
(ids 1 and 3). The agent directory has the three agents in their teams. The ACD is the scripted one of the
ACD's route tests (c1 with 8001, c3 with 8003); duty calls are refused before they would ring (the seeded
tickets are not urgent). Supervisor phones: 9001, 9002.
With people's accounts (a `SignIn` given): user 1 is agent 8003's account (team 二组), and the session
principals (an agent of 一组, 一组's supervisor) have accounts that sign in with `SESSION_PASSWORD`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from prometheus_client import CollectorRegistry

from acd import http as acd_http
from acd.directory import http as directory_http
from acd.directory.secrets import PhoneSecrets
from acd.directory.service import AgentDirectory, Rules
from callback import http as callback_http
from callback.dialer import Dialer, RevisitPrompts
from callback.http import RevisitOps
from callback.tasks import RevisitTasks
from console.reports import http as reports_http
from console.reports.service import Reports
from console.settings import WallboardSettings
from console.wallboard import http as wallboard_http
from console.wallboard.snapshot import Wallboard
from console.wallboard.stored import StoredFigures
from desk import http as desk_http
from desk.form import ticket_form
from desk.lines import Lines
from desk.pop import PopWords, ScreenPop
from dialplans import http as dialplans_http
from dialplans.calendar import WorkCalendar
from dialplans.loader import load_dialplan
from dialplans.model import Agent, RevisitSettings
from dialplans.webrtc import DialplanPhones
from hotline.app.phone import http as phone_http
from hotline.app.phone.tickets import PhoneTickets
from hotline.app.settings import Settings
from hotline.app.web import WebParts, build_app
from hotline.calls import http as calls_http
from hotline.calls.caller_lists import CallerLists
from hotline.calls.measures import CallerMeasures
from hotline.calls.models import CallRecord, Recording
from hotline.calls.records import CallRecords
from hotline.core.accounts.settings import AccountSettings
from hotline.core.accounts.signin import SignIn
from hotline.core.accounts.users import NewUser, Users
from hotline.core.db.engine import SessionFactory
from hotline.core.web.audit import AuditLog
from hotline.core.web.health import HealthRegistry
from hotline.core.web.policy import Teams
from hotline.core.web.routes import RouteTable
from hotline.core.web.throttle import ThrottleLimits
from hotline.core.web.tokens import ApiTokens
from integration.casesystem.client import CaseSystemClient
from integration.casesystem.mapping import CaseMapping
from integration.casesystem.outbox import OutboxWorker
from integration.world import http as world_http
from integration.world.testcalls import TestCallRunner
from ivr.announcements import http as announcements_http
from ivr.announcements.audio import AnnouncementAudio
from ivr.announcements.service import Announcements
from ivr.plugin import inbound_lines
from knowledge import http as knowledge_http
from knowledge.fields import EntryFields
from knowledge.models import KnowledgeGap
from knowledge.service import Entries, Reach
from recordings import http as recordings_http
from recordings.catalog import RecordingCatalog
from recordings.quality import http as quality_http
from recordings.quality.flags import FlagRules
from recordings.quality.service import QualityReview
from recordings.quality.sheet import load_sheet
from recordings.settings import RecordingSettings
from recordings.store import LocalStore
from tests.acd.test_http import MemoryKeys, ScriptedAcd, emergency_flags
from tests.callback.desk import callback_desk
from tests.callback.test_http import calm
from tests.desk.test_http import MemoryLive
from tests.dialplans.editing import scripted_editor
from tests.dialplans.unlimited import unlimited_guard
from tests.ivr.announcements.fakes import CountingSynthesiser
from tests.knowledge.parts import knowledge_parts
from tickets import http as tickets_http
from tickets.catalogue import Catalogue
from tickets.duty_call import DutyCaller
from tickets.models import Ticket, TicketCall
from tickets.service import Tickets
from tickets.timelimits import TimeLimits

TEAMS = {"8001": "一组", "8002": "一组", "8003": "二组"}
SUPERVISOR_PHONES = frozenset({"9001", "9002"})
AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
CALLERS = {"c1": "13800000001", "c3": "13800000003"}


@dataclass(frozen=True)
class Principal:
    """A token for the tests, and whether it reaches the other team's (二组's, agent 8003's) objects."""

    name: str
    role: str
    agent: str | None = None
    group: str | None = None
    reaches_8003: bool = True
    session: bool = False  # signs in with a user name and password (a cookie and CSRF token), not a token


PRINCIPALS = (
    Principal("agent-8001", "agent", agent="8001", reaches_8003=False),
    Principal("agent-8003", "agent", agent="8003"),  # an agent of the other team: 8003's objects are theirs
    Principal("supervisor-一组", "supervisor", group="一组", reaches_8003=False),
    Principal("supervisor-centre", "supervisor"),
    Principal("engineer", "engineer"),
    Principal("auditor", "auditor"),
    Principal("admin", "admin"),
    Principal("editor-市医保局", "editor", group="市医保局"),  # a department's knowledge editor
)
SESSION_PRINCIPALS = (  # people signed in from a page: their `name` is the user name
    Principal("web.agent.8001", "agent", agent="8001", group="一组", reaches_8003=False, session=True),
    Principal("web.supervisor.1", "supervisor", group="一组", reaches_8003=False, session=True),
)
SESSION_PASSWORD = "walk-every-route-1"
USER_8003 = 1  # the id of agent 8003's account
SESSION_USERS = frozenset(range(USER_8003 + 1, USER_8003 + 1 + len(SESSION_PRINCIPALS)))  # theirs
WALK_ACCOUNTS = replace(AccountSettings(), lock_after=10**9, public_origins=())  # they fail on purpose too
PHONE_SUPERVISOR = Principal("supervisor-9002", "supervisor", agent="9002")  # a token for their own phone
UNTHROTTLED = ThrottleLimits(failures=10**9)  # these tests fail on purpose, thousands of times, from one address
SPARE_TOKEN = len(PRINCIPALS) + 2  # the id of the token made after the principals' (no one's)


async def seed(sessions: SessionFactory, store: LocalStore) -> None:
    """The two teams' calls, recordings and tickets."""
    async with sessions.begin() as s:
        for call_id, agent in (("c1", "8001"), ("c3", "8003")):
            s.add(CallRecord(call_id=call_id, caller=CALLERS[call_id], dialled="12345", started_at=AT, agent=agent,
                             steps=[]))
        await s.flush()
        for n, call_id, agent in ((1, "c1", "8001"), (3, "c3", "8003")):
            scratch = store.scratch(f"{call_id}.opus")
            scratch.write_bytes(b"OggS" + bytes(64))
            path = await store.put(scratch, f"{call_id}.opus", "")
            s.add(Recording(id=n, call_id=call_id, path=path, format="opus", started_at=AT, status="stored"))
            s.add(Ticket(id=n, number=f"T{n}", status="submitted", channel="电话", urgency="一般", created_by=agent,
                         petitioner_phone=CALLERS[call_id], created_at=AT, updated_at=AT))
        await s.flush()
        for n, call_id in ((1, "c1"), (3, "c3")):
            s.add(TicketCall(ticket_id=n, call_id=call_id, linked_at=AT))
    await seed_knowledge(sessions)


async def seed_knowledge(sessions: SessionFactory) -> None:
    """Knowledge entry 1 (市医保局, published) and gap 1 (from call c3)."""
    entries = Entries(sessions, Catalogue.shipped())
    said = EntryFields(title="医保报销", questions=["医保怎么报销"], answer="到定点医院直接结算。",
                       department="市医保局")
    entry = await entries.create(said, "editor-市医保局", Reach())
    await entries.check(entry["id"], "supervisor-centre")
    await entries.publish(entry["id"], "supervisor-centre")
    async with sessions.begin() as s:
        s.add(KnowledgeGap(call_id="c3", question="电动车上牌", agent="8003", line="12345", reported_by="agent-8003",
                           at=AT, state="open"))


def domain_tables(sessions: SessionFactory, store: LocalStore, acd: ScriptedAcd) -> list[RouteTable]:
    """Every domain's route table, bound to real services (the ACD scripted)."""
    mapping, plan = CaseMapping.load(), load_dialplan(Settings().core.dialplan_file)
    tickets = Tickets(sessions, Catalogue.shipped(), TimeLimits.load("beijing", WorkCalendar()))
    outbox = OutboxWorker(sessions, CaseSystemClient("http://127.0.0.1:9", "s", mapping))  # never started
    calls = CallRecords(sessions)
    duty = DutyCaller(None, None, tickets, None, plan, None, calls, unlimited_guard(plan))  # type: ignore[arg-type]
    revisits = RevisitTasks(sessions, RevisitSettings(quiet_s=0))
    dialer = Dialer(revisits, None, None, None, plan, RevisitPrompts(Path("/nonexistent"), "/x"),  # type: ignore[arg-type]
                    calm, dialout=unlimited_guard(plan))
    return [calls_http.routes(calls, CallerLists(sessions), CallerMeasures(sessions)),
            acd_http.routes(acd, SUPERVISOR_PHONES, emergency_flags(sessions)),
            tickets_http.routes(tickets, tickets_http.CaseLink(outbox, mapping, "webhook-secret"), duty),
            callback_http.routes(RevisitOps(revisits, dialer), callback_desk(sessions, calls, plan)),
            recordings_http.routes(RecordingCatalog(sessions, store)),
            quality_http.routes(QualityReview(sessions, load_sheet(), FlagRules.of(RecordingSettings(),
                                                                                   plan.rating.labels),
                                              plan.rating.labels)),
            announcements_http.routes(Announcements(sessions, AnnouncementAudio(
                CountingSynthesiser(), store.root.parent / "announcements", "/announcements"), inbound_lines(plan))),
            # 8001's phone is the browser; Asterisk's websocket is not there (a valid ticket gets 502)
            knowledge_http.routes(knowledge_parts(sessions)),
            phone_http.routes(phone_http.BrowserPhones(DialplanPhones(frozenset({"8001"}), {"8001": "pw"}),
                                                       "ws://127.0.0.1:9/ws", PhoneTickets(MemoryKeys())))]  # type: ignore[arg-type]


class ScriptedLive:
    """The scripted ACD as the wallboard reads it (it knows no call's live state)."""

    def __init__(self, acd: ScriptedAcd) -> None:
        self.agents, self.waiting = acd.agents, acd.waiting

    async def calls(self, call_ids: Collection[str]) -> dict[str, dict[str, str]]:
        return {}


def console_table(sessions: SessionFactory, acd: ScriptedAcd, directory: AgentDirectory) -> RouteTable:
    """The console's routes: the wallboard over the scripted ACD and the real database."""
    settings = WallboardSettings()
    stored = StoredFigures(sessions, settings, directory, None, None)
    return wallboard_http.routes(Wallboard(ScriptedLive(acd), stored, load_dialplan(Settings().core.dialplan_file),
                                           settings))


def desk_table(sessions: SessionFactory, directory: AgentDirectory) -> RouteTable:
    """The desk's routes; the ACD's live view of calls is empty, so the call records name the agents."""
    plan = load_dialplan(Settings().core.dialplan_file)
    pop = ScreenPop(sessions, MemoryLive(), Lines(plan), PopWords(plan.rating.labels, ""))
    return desk_http.routes(desk_http.DeskParts(pop, plan, ticket_form(plan, Catalogue.shipped()), directory))


def engineer_tables(folder: Path) -> list[RouteTable]:
    """The engineer page's routes: the dialplan on a copy of the shipped file (reloads scripted), test calls in a
    stack without the simulated world (so none is placed)."""
    (folder / "engineer").mkdir()
    editor, _ = scripted_editor(folder / "engineer")
    return [dialplans_http.routes(editor), world_http.routes(TestCallRunner(folder / "test-calls", lambda: None))]


async def seed_users(users: Users) -> None:
    """Agent 8003's account (USER_8003) and the session principals' accounts."""
    await users.create(NewUser("agent.8003", "agent", "8003", "8003", "二组", SESSION_PASSWORD))
    for who in SESSION_PRINCIPALS:
        await users.create(NewUser(who.name, who.role, who.name, who.agent, who.group, SESSION_PASSWORD))


async def whole_app(sessions: SessionFactory, tokens: ApiTokens, audit: AuditLog, folder: Path,
                    accounts: SignIn | None = None) -> tuple[web.Application, ScriptedAcd, dict[str, str]]:
    """The app, its scripted ACD, and an Authorization header value per principal's name; with `accounts`,
    people's sign-in and the seeded users."""
    store, acd = LocalStore(folder / "store"), ScriptedAcd()
    await seed(sessions, store)
    directory = AgentDirectory(sessions, Rules.of(load_dialplan(Settings().core.dialplan_file)),
                               PhoneSecrets(folder / "secrets.json", {}))
    await directory.seed(Agent(agent, f"坐席{agent}", "general", (("general", 3),), team)
                         for agent, team in TEAMS.items())
    bearer = {p.name: "Bearer " + await tokens.create(name=p.name, role=p.role, agent_id=p.agent, group=p.group)
              for p in (*PRINCIPALS, PHONE_SUPERVISOR)}
    await tokens.create(name="spare", role="engineer")  # SPARE_TOKEN: one a test may rotate
    if accounts is not None:
        await seed_users(accounts.users)
    tables = [*domain_tables(sessions, store, acd), directory_http.routes(directory), desk_table(sessions, directory),
              *engineer_tables(folder), console_table(sessions, acd, directory), reports_http.routes(Reports(sessions))]
    app = build_app(WebParts(tables, tokens, audit, HealthRegistry(), CollectorRegistry(), Teams(TEAMS),
                             throttle=UNTHROTTLED, accounts=accounts))
    return app, acd, bearer
