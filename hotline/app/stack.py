"""The composition root: builds every part of one hotline stack and wires them by constructor.

`hotline run` and the end-to-end tests both use `Stack`; tests give it free ports and a temporary
home. Parts start in dependency order and close in reverse; `close()` is safe to call twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry

from acd.phones import PhoneWatch
from acd.policy import RoutingPolicy
from acd.router import Router as AcdRouter
from acd.router import RouterSettings
from acd.store import AcdStore
from callback.dialer import Dialer, RevisitPrompts
from callback.flow import RevisitFlow
from callback.http import RevisitOps
from callback.planner import RevisitPlanner
from callback.pressure import InboundPressure
from callback.requests import CallbackRequests
from callback.tasks import RevisitTasks
from dialplans.calendar import WorkCalendar
from dialplans.loader import load_dialplan
from dialplans.model import Dialplan
from dialplans.render import RenderContext, render
from dialplans.secrets import load_or_create_secrets
from hotline.app.health import register_health
from hotline.app.metrics import register_metrics
from hotline.app.settings import Settings, default_cache_dir
from hotline.app.web import WebDeps, build_app
from hotline.calls.caller_lists import CallerLists
from hotline.calls.lifecycle import CallLifecycle
from hotline.calls.records import CallRecords
from hotline.core.asterisk.agi import AgiServer, Router
from hotline.core.asterisk.agi.server import Flow
from hotline.core.asterisk.ami import AmiClient
from hotline.core.asterisk.root import AsteriskRoot, find_root
from hotline.core.asterisk.sandbox import AsteriskInstance
from hotline.core.audio.prompts import PromptRenderer
from hotline.core.db.engine import create_engine, session_factory
from hotline.core.db.migrate import upgrade
from hotline.core.embedded.redis_server import RedisServer
from hotline.core.redis_client import redis_client
from hotline.core.web.audit import AuditLog
from hotline.core.web.health import HealthRegistry
from hotline.core.web.tokens import ApiTokens
from integration.casesystem.client import CaseSystemClient
from integration.casesystem.mapping import CaseMapping
from integration.casesystem.outbox import OutboxSettings, OutboxWorker
from integration.refcase.process import RefCaseProcess, RefCaseSecrets
from integration.world.render import CARRIER_ANNOUNCEMENTS, WorldContext, render_world
from ivr.catalogue import recorded_dir
from ivr.flows.agent_codes import AgentCodeFlow
from ivr.flows.inbound import InboundFlow
from ivr.flows.position import PositionFlow, expand_position_prompts
from ivr.flows.rating import RatingFlow
from ivr.flows.requeue import RequeueFlow
from ivr.flows.self_service import SelfService
from ivr.flows.silent import SilentCallerFlow
from ivr.flows.voice_message import VoiceMessages
from recordings.access import RecordingCatalog
from recordings.backends import StoreConfig
from recordings.process import RecordingWorkerProcess
from tickets.alerts import ticket_feed
from tickets.catalogue import Catalogue
from tickets.duty_call import DutyCaller, DutyCallPlaces
from tickets.http import WEBHOOK_PATH, CaseLink
from tickets.service import Tickets
from tickets.timelimits import TimeLimits

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataDirs:
    """Folders inside the Asterisk root that outlive instances (prompts, recordings, heard audio)."""

    root: AsteriskRoot
    inner: str

    @classmethod
    def for_home(cls, root: AsteriskRoot, home: Path) -> DataDirs:
        key = hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:12]
        return cls(root, f"/srv/hotline-data/{key}")

    def host(self, inner: str) -> Path:
        return self.root.path / inner.lstrip("/")

    def instance(self, name: str) -> str:
        """The folder of this home's Asterisk `name`: stable, so a restarted service finds it running."""
        return f"/srv/hotline/{name}-{self.inner.rsplit('/', 1)[1]}"

    def inner_of(self, sub: str) -> str:
        path = f"{self.inner}/{sub}"
        self.host(path).mkdir(parents=True, exist_ok=True)
        return path


class Stack:
    """One running hotline: Redis, database, AGI, the hotline Asterisk, the world, the web service."""

    def __init__(self, settings: Settings, *, extra_flows: Mapping[str, Flow] | None = None) -> None:
        self.settings = settings
        self._extra_flows = dict(extra_flows or {})
        self.registry = CollectorRegistry()
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self.root: AsteriskRoot | None = None
        self.dialplan: Dialplan | None = None
        self.calls: CallRecords | None = None
        self.caller_lists: CallerLists | None = None
        self.tokens: ApiTokens | None = None
        self.hotline: AsteriskInstance | None = None
        self.world: AsteriskInstance | None = None
        self.ami: AmiClient | None = None
        self.world_ami: AmiClient | None = None
        self.agi: AgiServer | None = None
        self.acd: AcdRouter | None = None
        self.data: DataDirs | None = None
        self.redis_url = settings.redis_url
        self.redis_server: RedisServer | None = None  # when the stack runs its own
        self.health = HealthRegistry()
        self.render_context: RenderContext | None = None
        self.tickets: Tickets | None = None
        self.outbox: OutboxWorker | None = None
        self.refcase: RefCaseProcess | None = None
        self.recorder: RecordingWorkerProcess | None = None
        self.revisits: RevisitTasks | None = None
        self.dialer: Dialer | None = None

    async def start(self) -> None:
        """Start every part; on failure, close what was started and re-raise."""
        try:
            await self._start()
        except BaseException:
            await self.close()
            raise

    async def _start(self) -> None:
        s = self.settings
        s.home.mkdir(parents=True, exist_ok=True)
        s.run_dir.mkdir(parents=True, exist_ok=True)
        self.root = root = find_root(s.asterisk_root)
        self.dialplan = dialplan = load_dialplan(s.dialplan_file)
        secret_store = load_or_create_secrets(s.home / "secrets.json", dialplan)
        self.data = data = DataDirs.for_home(root, s.home)

        if not self.redis_url:
            self.redis_server = redis = RedisServer(s.home / "redis", s.ports.redis, host=s.bind_host)
            await redis.start_or_adopt()
            self._closers.append(redis.stop)
            self.redis_url = redis.url
        await upgrade(s.db_url)
        engine = create_engine(s.db_url)
        self._closers.append(engine.dispose)
        sessions = session_factory(engine)
        self.calls = calls = CallRecords(sessions)
        self.tokens = tokens = ApiTokens(sessions)
        audit = AuditLog(sessions)

        sounds = data.inner_of("sounds")
        renderer = PromptRenderer(root, default_cache_dir() / "prompts", recorded_dir(s))
        fixed_prompts = {k: v for k, v in expand_position_prompts(dialplan.prompts).items() if "{" not in v}
        await renderer.render_all(fixed_prompts, data.host(sounds))

        live_state = redis_client(self.redis_url)
        self._closers.append(live_state.aclose)
        store = AcdStore(live_state)
        # the calls in Redis are alive only if the Asterisk holding them still runs (the service crashed)
        if await AsteriskInstance(root, "hotline", {}, inner_dir=data.instance("hotline")).running() is None:
            await store.reset_calls()
        for agent in dialplan.agents:
            await store.add_agent(agent.id, dict(agent.skills))
        self.ami = ami = AmiClient(s.bind_host, s.ports.hotline_ami, secret_store.ami_user, secret_store.ami_secret,
                                   name="hotline")
        routing = RouterSettings(ring_timeout_s=s.ring_timeout_s, wrap_up_s=s.wrap_up_s)
        self.acd = acd = AcdRouter(store, ami, calls, routing, RoutingPolicy(dialplan.skills))
        router = Router()
        self.caller_lists = caller_lists = CallerLists(sessions)
        self.tickets = tickets = Tickets(sessions, Catalogue.shipped(),
                                         TimeLimits.load(s.time_limits, WorkCalendar.of(dialplan)),
                                         ticket_feed(live_state))
        case_link = await self._start_case_system(sessions, tickets, secret_store.case_system)
        requests = CallbackRequests(sessions)
        messages = VoiceMessages(calls, sounds, acd, requests, dialplan.queue,
                                 data.inner_of("recordings") + "/messages", data.host)
        router.add("ivr/inbound", InboundFlow(calls, sounds, dialplan, acd, caller_lists, messages))
        router.add("ivr/rating", RatingFlow(calls, sounds, dialplan.rating.labels))
        offer = SelfService(calls, sounds, tickets, requests, acd) if dialplan.queue.self_service \
            else None
        router.add("ivr/position", PositionFlow(calls, sounds, acd, offer))
        router.add("ivr/requeue", RequeueFlow(calls, acd))
        router.add("agent/code", AgentCodeFlow(acd, sounds))
        router.add("ivr/silent", SilentCallerFlow(calls, sounds, data.inner_of("listen"), data.host, acd))
        self.revisits = revisits = RevisitTasks(sessions, dialplan.revisit)
        revisit_prompts = RevisitPrompts(data.host(data.inner_of("revisit-prompts")), data.inner_of("revisit-prompts"))
        router.add("ivr/revisit", RevisitFlow(calls, revisits, acd, sounds, revisit_prompts, dialplan.rating.labels,
                                              data.host, dialplan.revisit.skill))
        for route, flow in self._extra_flows.items():
            router.add(route, flow)
        self.agi = agi = AgiServer(s.bind_host, s.ports.agi, router)
        await agi.start()
        self._closers.append(agi.close)

        ctx = RenderContext(
            bind_host=s.bind_host,
            sip_port=s.ports.hotline_sip,
            ami_port=s.ports.hotline_ami,
            ami_user=secret_store.ami_user,
            ami_secret=secret_store.ami_secret,
            agi_host=s.bind_host,
            agi_port=agi.port,
            recordings_dir=data.inner_of("recordings"),
            sounds_dir=sounds,
            agent_secrets=secret_store.agent_secrets,
            carrier_uri=s.carrier_uri or (f"sip:{s.bind_host}:{s.ports.world_sip}" if s.with_world else ""),
        )
        self.render_context = ctx
        self.hotline = hotline = AsteriskInstance(root, "hotline", render(dialplan, ctx),
                                                  inner_dir=data.instance("hotline"))
        adopted = await hotline.start_or_adopt()
        self._closers.append(hotline.stop)
        await ami.connect()
        self._closers.append(ami.close)
        acd.start()
        self._closers.append(acd.close)
        phones = PhoneWatch(store, ami, acd.poke)
        phones.attach()
        lifecycle = CallLifecycle(calls, data.host)
        lifecycle.attach(ami)
        self._closers.append(lifecycle.close)
        if adopted:  # the service restarted while Asterisk kept callers waiting and agents talking
            await lifecycle.resync((await acd.resync()).alive)
        self.recorder = recorder = RecordingWorkerProcess(
            s.db_url, data.host(data.inner_of("recordings")), StoreConfig.of(s), s.run_dir,
            fmt=s.recordings_format, max_backoff_s=s.recordings_max_backoff_s, keep_years=s.recordings_keep_years)
        await recorder.start()
        self._closers.append(recorder.stop)

        if s.with_world:
            await self._start_world(root, secret_store.agent_secrets, secret_store.world_ami_secret, renderer)
            await self._demo_agents_ready(dialplan)

        duty = DutyCaller(ami, acd, tickets, renderer, dialplan, DutyCallPlaces(
            data.host(data.inner_of("duty-prompts")), data.inner_of("duty-prompts"), data.inner_of("recordings"),
            data.host(data.inner_of("recordings"))), calls)
        self._closers.append(duty.close)
        self.dialer = dialer = Dialer(revisits, ami, calls, renderer, dialplan, revisit_prompts,
                                      InboundPressure(store, dialplan.revisit), data.host)
        if s.revisit_dialer:
            dialer.start()
            self._closers.append(dialer.close)
        planner = RevisitPlanner(sessions, dialplan.revisit)
        planner.start()
        self._closers.append(planner.close)
        register_health(self.health, self)
        register_metrics(self.registry, self)
        app = build_app(WebDeps(calls=calls, tokens=tokens, audit=audit, health=self.health,
                                metrics_registry=self.registry, acd=acd, caller_lists=caller_lists,
                                tickets=tickets, case_link=case_link, duty_caller=duty,
                                revisits=RevisitOps(revisits, dialer),
                                recordings=RecordingCatalog(sessions, StoreConfig.of(s).open(),
                                                            {a.id: a.group for a in dialplan.agents if a.group})))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        self._closers.append(runner.cleanup)
        site = web.TCPSite(runner, s.bind_host, s.ports.http)
        await site.start()
        case_link.outbox.start()
        self._closers.append(case_link.outbox.close)
        self._write_state()

    async def _start_case_system(self, sessions: Any, tickets: Tickets, keys: dict[str, str]) -> CaseLink:
        """The adapter to the configured case system, or to a reference case system started here."""
        s = self.settings
        url, secret, webhook_secret = s.case_url, s.case_secret, s.case_webhook_secret
        if not url:
            self.refcase = refcase = RefCaseProcess(
                s.home / "refcase", s.ports.case_system, f"http://{s.bind_host}:{s.ports.http}{WEBHOOK_PATH}",
                RefCaseSecrets(keys["intake"], keys["webhook"], keys["admin"]), host=s.bind_host,
                advance_every_s=s.refcase_advance_s)
            await refcase.start()
            self._closers.append(refcase.stop)
            url, secret, webhook_secret = refcase.url, keys["intake"], keys["webhook"]
        elif not (secret and webhook_secret):
            raise ValueError("HOTLINE_CASE_URL needs HOTLINE_CASE_SECRET and HOTLINE_CASE_WEBHOOK_SECRET")
        mapping = CaseMapping.load(Path(s.case_mapping) if s.case_mapping else None)
        client = CaseSystemClient(url, secret, mapping, s.case_timeout_s)
        outbox = OutboxWorker(sessions, client, tickets, OutboxSettings(max_backoff_s=s.case_max_backoff_s))
        self.outbox = outbox
        return CaseLink(outbox, mapping, webhook_secret)

    async def _start_world(self, root: AsteriskRoot, agent_secrets: dict[str, str], ami_secret: str,
                           renderer: PromptRenderer) -> None:
        s = self.settings
        assert self.data is not None
        announcements = self.data.inner_of("world-announcements")  # the carrier's 空号 / 关机 … in Chinese
        await renderer.render_all(CARRIER_ANNOUNCEMENTS, self.data.host(announcements))
        wctx = WorldContext(
            bind_host=s.bind_host, sip_port=s.ports.world_sip, ami_port=s.ports.world_ami,
            ami_user="world", ami_secret=ami_secret, hotline_host=s.bind_host,
            hotline_sip_port=s.ports.hotline_sip, agent_secrets=agent_secrets, announcements=announcements,
        )
        self.world = world = AsteriskInstance(root, "world", render_world(wctx), inner_dir=self.data.instance("world"))
        await world.start_or_adopt()
        self._closers.append(world.stop)
        self.world_ami = wami = AmiClient(s.bind_host, wctx.ami_port, wctx.ami_user, wctx.ami_secret, name="world")
        await wami.connect()
        self._closers.append(wami.close)
        self._world_creds = {"host": s.bind_host, "port": wctx.ami_port, "username": wctx.ami_user,
                             "secret": wctx.ami_secret}

    async def _demo_agents_ready(self, dialplan: Dialplan, timeout: float = 20.0) -> None:
        """Demo: once the world's phones have registered, their signed-out agents sign in ready (after a
        restart the others keep the state they are in)."""
        assert self.hotline is not None and self.acd is not None
        states = await self.acd.agents()
        waiting = {a.id for a in dialplan.agents if states.get(a.id, {}).get("state", "signed_out") == "signed_out"}
        deadline = asyncio.get_running_loop().time() + timeout
        while waiting and asyncio.get_running_loop().time() < deadline:
            contacts = await self.hotline.cli("pjsip show contacts")
            for agent in list(waiting):
                if f"{agent}/sip:" in contacts:
                    waiting.discard(agent)
                    await self.acd.set_agent_state(agent, "ready", reason="demo phone registered")
            if waiting:
                await asyncio.sleep(0.2)
        if waiting:
            log.warning("demo agents' phones not registered: %s", ", ".join(sorted(waiting)))

    def state(self) -> dict[str, Any]:
        """What `hotline call` and `hotline dialplan apply` need to reach this running stack."""
        assert self.hotline is not None and self.data is not None and self.root is not None
        return {
            "pid": os.getpid(),
            "http": f"http://{self.settings.bind_host}:{self.settings.ports.http}",
            "database_url": self.settings.db_url,
            "dialplan_file": str(self.settings.dialplan_file.resolve()),
            "asterisk_root": str(self.root.path),
            "data_dir_inner": self.data.inner,
            "hotline_etc_dir": str(self.hotline.etc_dir),
            "hotline_ami": {"host": self.settings.bind_host, "port": self.settings.ports.hotline_ami,
                            "username": self._hotline_ami_user(), "secret": self._hotline_ami_secret()},
            "hotline_sip": {"host": self.settings.bind_host, "port": self.settings.ports.hotline_sip},
            "world_ami": getattr(self, "_world_creds", None),
            "main_number": self.dialplan.centre.main_number if self.dialplan else "12345",
            "render_context": {k: v for k, v in vars(self.render_context).items()
                               if k not in ("ami_secret", "agent_secrets")} if self.render_context else None,
        }

    def _hotline_ami_user(self) -> str:
        assert self.ami is not None
        return self.ami.username

    def _hotline_ami_secret(self) -> str:
        assert self.ami is not None
        return self.ami.secret

    def _write_state(self) -> None:
        path = self.settings.state_file
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state(), indent=2))
        tmp.chmod(0o600)
        tmp.replace(path)

    async def close(self) -> None:
        """Stop every part in reverse order; errors are logged, the rest still stops."""
        with contextlib.suppress(FileNotFoundError):
            if self.settings.state_file.exists() and json.loads(self.settings.state_file.read_text()).get(
                "pid"
            ) == os.getpid():
                self.settings.state_file.unlink()
        while self._closers:
            closer = self._closers.pop()
            try:
                await closer()
            except Exception:
                log.exception("error while stopping %s", getattr(closer, "__qualname__", closer))
