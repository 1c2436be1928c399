"""The composition root: starts the core parts, loads the domains' plugins in order, then runs AGI, the
hotline's Asterisk, the hooks, the web service and the workers; closes everything in reverse.

`hotline run` and the end-to-end tests both use `Stack`; tests give it free ports and a temporary home.
`close()` is safe to call twice.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from acd.directory.sync import PhoneSync
from dialplans.loader import load_dialplan
from dialplans.model import Dialplan
from dialplans.nodes import node_context as _node_context
from dialplans.render import RenderContext, render
from dialplans.secrets import Secrets, load_or_create_secrets
from dialplans.siptls import install as install_tls
from hotline.app.access import POLICY
from hotline.app.health import core_health
from hotline.app.metrics import CoreCollector
from hotline.app.named import NamedServices
from hotline.app.plugins import PLUGINS, upgrade_database
from hotline.app.settings import Settings, default_cache_dir
from hotline.app.web import WebParts, build_app
from hotline.core.accounts.build import sign_in
from hotline.core.accounts.signin import SignIn
from hotline.core.accounts.users import Users
from hotline.core.asterisk.agi import AgiServer, Router
from hotline.core.asterisk.agi.server import Flow
from hotline.core.asterisk.ami import AmiClient
from hotline.core.asterisk.baseconf import logger_conf
from hotline.core.asterisk.datadirs import DataDirs
from hotline.core.asterisk.nodes import NodeAmi
from hotline.core.asterisk.root import AsteriskRoot, find_root
from hotline.core.asterisk.sandbox import AsteriskInstance
from hotline.core.asterisk.sipbans import BANS_FILE, BanPolicy, SipBans, ban_file
from hotline.core.asterisk.sipguard import SipGuard
from hotline.core.audio.prompts import PromptRenderer
from hotline.core.db.engine import SessionFactory, create_engine, session_factory
from hotline.core.embedded.redis_server import RedisServer
from hotline.core.plugin import Brought, Deps, Plugin, Services, Started
from hotline.core.redis_client import redis_client
from hotline.core.settings import CoreSettings
from hotline.core.web.audit import AuditLog
from hotline.core.web.health import HealthRegistry
from hotline.core.web.pages import Pages
from hotline.core.web.policy import Policy, Teams
from hotline.core.web.routes import RouteTable
from hotline.core.web.tokens import ApiTokens
from hotline.core.workers import Leased, Worker
from ivr.catalogue import recorded_dir

log = logging.getLogger(__name__)
T = TypeVar("T")
Closer = Callable[[], Awaitable[None]]


class Stack(NamedServices):
    """One running hotline: Redis, database, AGI, the hotline Asterisk, the domains, the web service."""

    def __init__(self, settings: Settings, *, extra_flows: Mapping[str, Flow] | None = None,
                 plugins: Sequence[Plugin] = PLUGINS, policy: Policy = POLICY) -> None:
        self.settings = settings
        self.plugins = tuple(plugins)
        self.policy = policy
        self._extra_flows = dict(extra_flows or {})
        self.registry = CollectorRegistry()
        self.health = HealthRegistry()
        self.services = Services()
        # stopped in three tiers, each in reverse: what serves (web, workers), then the domains, then the core
        self._closers: list[Closer] = []
        self._domain_closers: list[Closer] = []
        self._serving_closers: list[Closer] = []
        self.redis_url = settings.core.redis_url
        self.redis_server: RedisServer | None = None  # when the stack runs its own
        self.root: AsteriskRoot | None = None
        self.data: DataDirs | None = None
        self.dialplan: Dialplan | None = None
        self.tokens: ApiTokens | None = None
        self.ami: AmiClient | None = None
        self.agi: AgiServer | None = None
        self.hotline: AsteriskInstance | None = None
        self.nodes: list[AsteriskInstance] = []  # every hotline Asterisk: the one, or the media nodes (settings)
        self.render_context: RenderContext | None = None
        self.sip_guard: SipGuard | None = None
        self.sessions: SessionFactory | None = None
        self.users: Users | None = None  # people who sign in (`hotline user …`, the first admin)
        self.accounts: SignIn | None = None
        self.live_state: Redis | None = None  # the one Redis client of the domains

    def service(self, kind: type[T]) -> T:
        """What a domain published (`stack.service(Tickets)`)."""
        return self.services.get(kind)

    async def start(self) -> None:
        """Start every part; on failure, close what was started and re-raise."""
        try:
            await self._start()
        except BaseException:
            await self.close()
            raise

    async def _start(self) -> None:
        deps, secrets = await self._core()
        loaded = [await self._load(p, deps) for p in self.plugins]
        router = Router()
        for route, flow in [*(f for b in loaded for f in b.flows.items()), *self._extra_flows.items()]:
            router.add(route, flow)
        s = self.settings.core
        self.agi = agi = AgiServer(s.agi_bind, s.ports.agi, router, key=secrets.agi_key)
        await agi.start()
        self._closers.append(agi.close)
        hotline, adopted = await self._start_asterisk(deps, secrets)
        started = Started(hotline, adopted, self.services, self._node_sessions())
        for hook in [h for b in loaded for h in b.on_asterisk] + [h for b in loaded for h in b.on_ready]:
            await hook(started)
        for name, check in [*core_health(self).items(), *(c for b in loaded for c in b.health.items())]:
            self.health.register(name, check)
        for collector in [CoreCollector(self), *(c for b in loaded for c in b.collectors)]:
            self.registry.register(collector)
        await self._start_web([t for b in loaded for t in b.routes], {n: f for b in loaded for n, f in b.pages.items()},
                              deps)
        for b in loaded:
            for worker in b.workers:
                worker = self._singleton(worker, deps)
                worker.start()
                self._serving_closers.append(worker.close)
        self._write_state()

    def _singleton(self, worker: Worker, deps: Deps) -> Worker:
        """With several service instances, a worker runs on the one holding its lease (unless `per_instance`)."""
        s = self.settings.core
        if not s.instances or getattr(worker, "per_instance", False):
            return worker
        return Leased.of(worker, deps.redis, s.instance)

    async def _core(self) -> tuple[Deps, Secrets]:
        """Folders, secrets, Redis, the database, prompts and the AMI client: what every domain uses."""
        sections, s = self.settings, self.settings.core
        os.umask(0o077)  # every file the service and its children (Asterisk, Redis, workers) make: its user only
        s.home.mkdir(parents=True, exist_ok=True)
        s.home.chmod(0o700)  # the database, recordings, Redis data, secrets: the service's user only
        s.run_dir.mkdir(parents=True, exist_ok=True)
        self.root = root = find_root(s.asterisk_root)
        self.dialplan = dialplan = load_dialplan(s.dialplan_file)
        secrets = load_or_create_secrets(s.home / "secrets.json", dialplan)
        self.data = data = DataDirs.for_home(root, s.home)
        data.host(data.inner).mkdir(parents=True, exist_ok=True)
        data.host(data.inner).chmod(0o700)  # recordings, heard audio and voice messages as Asterisk writes them
        if not self.redis_url and not s.redis_sentinels:
            self.redis_server = redis = RedisServer(s.home / "redis", s.ports.redis, host=s.bind_host)
            await redis.start_or_adopt()
            self._closers.append(redis.stop)
            self.redis_url = redis.url
        await upgrade_database(s.db_url)
        engine = create_engine(s.db_url)
        self._closers.append(engine.dispose)
        self.sessions = sessions = session_factory(engine)
        self.tokens = ApiTokens(sessions)
        self.users = users = Users(sessions)
        self.live_state = live_state = redis_client(self.redis_url, timeout_s=s.redis_timeout_s,
                                                    sentinels=s.redis_sentinels, master=s.redis_master)
        self._closers.append(live_state.aclose)
        self.ami = _ami(s, secrets)
        running = await AsteriskInstance(root, "hotline", {}, inner_dir=data.instance(_instance_names(s)[0])).running()
        deps = Deps(core=s, root=root, data=data, sessions=sessions, redis=live_state, ami=self.ami,
                    renderer=PromptRenderer(root, default_cache_dir() / "prompts", recorded_dir(s)),
                    sounds=data.inner_of("sounds"), asterisk_running=running is not None, services=self.services)
        for section in (dialplan, secrets, sections.acd, sections.tickets, sections.case_system, sections.recordings,
                        sections.callback, sections.calls, sections.retention):
            deps.publish(section)
        deps.publish(users)
        return deps, secrets

    async def _load(self, plugin: Plugin, deps: Deps) -> Brought:
        if plugin.load is None:
            return Brought()
        brought = await plugin.load(deps)

        async def close_plugin() -> None:
            for closer in reversed(brought.closers):
                await self._stop(closer)

        self._domain_closers.append(close_plugin)
        return brought

    async def _start_asterisk(self, deps: Deps, secrets: Secrets) -> tuple[AsteriskInstance, bool]:
        """Render the dialplan into the hotline's Asterisk and start it (or adopt the running one: True)."""
        s, agi, data, dialplan = self.settings.core, self.agi, self.data, self.dialplan
        assert agi is not None and data is not None and dialplan is not None and self.ami is not None
        self.render_context = ctx = RenderContext(
            bind_host=s.bind_host, sip_port=s.ports.hotline_sip, ami_port=s.ports.hotline_ami,
            ami_user=secrets.ami_user, ami_secret=secrets.ami_secret, agi_key=secrets.agi_key,
            **agi_addresses(s, agi.port),
            recordings_dir=data.inner_of("recordings"), sounds_dir=deps.sounds, agent_secrets=secrets.agent_secrets,
            carrier_uri=self.settings.acd.carrier_uri or (f"sip:{s.bind_host}:{s.ports.world_sip}" if s.with_world
                                                          else ""), tls=install_tls(s.sip, data),
            http_port=s.ports.hotline_http)
        bans = SipBans(deps.redis, BanPolicy(s.sip.ban_after, s.sip.ban_window_s, s.sip.ban_s))
        banned = await bans.current()
        instances = []
        for name, node in zip(_instance_names(s), s.nodes or (None,), strict=True):
            here = ctx if node is None else _node_context(ctx, node, dialplan)
            configs = {**render(dialplan.on_node(node.name) if node else dialplan, here), BANS_FILE: ban_file(banned)}
            if (phones := self.services.find(PhoneSync)) is not None:  # the phones as the agent directory has them
                configs.update(await phones.files(here))
            if s.asterisk_full_log:
                configs["logger.conf"] = logger_conf(full=True)
            instances.append(AsteriskInstance(deps.root, name, configs, inner_dir=data.instance(name),
                                              netns=node.netns if node else "", system_name=node.name if node else ""))
        self.nodes = instances
        self.hotline = hotline = instances[0]  # (with media nodes: the first, whose files the running service edits)
        self.render_context = ctx = _node_context(ctx, s.nodes[0], dialplan) if s.nodes else ctx
        self.services.publish(ctx)  # the engineer page applies edits of the dialplan with it
        if ctx.tls is not None:
            self.services.publish(ctx.tls)  # the simulated world's phones use it too
        adopted = False
        for instance, node in zip(instances, s.nodes or (None,), strict=True):
            if node is not None and not node.netns:  # run by its own service (media-node, systemd, docker)
                instance.prepare()  # (this service's copy of its configs): reached over AMI, never started here
                adopted = True  # (running before this service, perhaps with calls on it)
                continue
            adopted = await instance.start_or_adopt() or adopted
            self._closers.append(instance.stop)  # (Asterisk stops with the last service process holding it)
        await self.ami.connect()
        self._closers.append(self.ami.close)
        # behind the front door the nodes see its address (and each other's): Kamailio bans the strangers itself
        inside = [dialplan.cluster.address, *(n.address for n in s.nodes)] if s.nodes else []
        self.sip_guard = guard = SipGuard(bans, self.ami, hotline,
                                          [*(m for t in dialplan.trunks for m in t.match), *s.sip.ban_exempt, *inside],
                                          banned, nodes=self._node_sessions() if s.nodes else ())
        guard.start()
        self._closers.append(guard.close)
        return hotline, adopted

    def _node_sessions(self) -> tuple[tuple[AsteriskInstance, AmiClient], ...]:
        """Each hotline Asterisk with the AMI session that reaches it."""
        assert self.ami is not None
        clients = list(self.ami.nodes.values()) if isinstance(self.ami, NodeAmi) else [self.ami]
        return tuple(zip(self.nodes, clients, strict=True))

    async def _start_web(self, tables: list[RouteTable], pages: dict[str, Path], deps: Deps) -> None:
        assert self.tokens is not None and self.dialplan is not None
        teams = self.services.find(Teams) or Teams({a.id: a.group for a in self.dialplan.agents if a.group})
        assert self.users is not None
        self.accounts = accounts = sign_in(self.users, deps.redis, self.settings.accounts)
        app = build_app(WebParts(tables, self.tokens, AuditLog(deps.sessions), self.health, self.registry, teams,
                                 self.policy, pages=Pages(pages, home="desk" if "desk" in pages else None),
                                 accounts=accounts, trust_proxy=self.settings.core.trust_proxy))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        self._serving_closers.append(runner.cleanup)
        s = self.settings.core
        tls = https_context(s.https_cert, s.https_key)
        await web.TCPSite(runner, s.bind_host, s.ports.http, ssl_context=tls).start()

    def state(self) -> dict[str, Any]:
        """What `hotline call` and `hotline dialplan apply` need to reach this running stack."""
        assert self.hotline is not None and self.data is not None and self.root is not None
        assert self.ami is not None
        s = self.settings.core
        world = self.world
        return {
            "pid": os.getpid(),
            "http": s.web_url,
            "database_url": s.db_url,
            "dialplan_file": str(s.dialplan_file.resolve()),
            "asterisk_root": str(self.root.path),
            "data_dir_inner": self.data.inner,
            "hotline_etc_dir": str(self.hotline.etc_dir),
            "hotline_ami": {"host": s.bind_host, "port": s.ports.hotline_ami, "username": self.ami.username,
                            "secret": self.ami.secret},
            "hotline_sip": {"host": s.bind_host, "port": s.ports.hotline_sip},
            "nodes": [{"name": n.name, "address": n.address, "ami_port": n.ami_port, "sip_port": n.sip_port,
                       "etc_dir": str(i.etc_dir)} for n, i in zip(s.nodes, self.nodes, strict=True)] if s.nodes else [],
            # media nodes (issue 18); empty: the one hotline Asterisk above
            "world_ami": world.creds if world is not None else None,
            "main_number": self.dialplan.centre.main_number if self.dialplan else "12345",
            "render_context": {k: v for k, v in asdict(self.render_context).items()
                               if k not in ("ami_secret", "agent_secrets", "agi_key")} if self.render_context else None,
        }

    def _write_state(self) -> None:
        path = self.settings.core.state_file
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state(), indent=2))
        tmp.chmod(0o600)
        tmp.replace(path)

    async def close(self) -> None:
        """Stop every part in reverse order: the web service and workers, the domains, the core."""
        with contextlib.suppress(FileNotFoundError):
            if self.settings.core.state_file.exists() and json.loads(self.settings.core.state_file.read_text()).get(
                "pid"
            ) == os.getpid():
                self.settings.core.state_file.unlink()
        for tier in (self._serving_closers, self._domain_closers, self._closers):
            while tier:
                await self._stop(tier.pop())

    @staticmethod
    async def _stop(closer: Closer) -> None:
        """One part stopped; an error is logged and the rest still stops."""
        try:
            await closer()
        except Exception:
            log.exception("error while stopping %s", getattr(closer, "__qualname__", closer))


def agi_addresses(s: CoreSettings, own_port: int) -> dict[str, Any]:
    """Where Asterisk reaches FastAGI: this instance, or with several the first listed and then the others (the
    same for every instance, so each renders the same configs)."""
    if not s.instances:
        return {"agi_host": "127.0.0.1" if s.agi_bind in ("0.0.0.0", "") else s.agi_bind, "agi_port": own_port}
    first, *others = s.instances
    return {"agi_host": first.host, "agi_port": first.port, "agi_others": tuple((i.host, i.port) for i in others)}


def _instance_names(s: CoreSettings) -> list[str]:
    """The hotline Asterisk's name, or one per media node."""
    return [f"hotline-{n.name}" for n in s.nodes] or ["hotline"]


def _ami(s: CoreSettings, secrets: Secrets) -> AmiClient:
    """One AMI session to the hotline's Asterisk, or one per media node behind the same interface."""
    if not s.nodes:
        return AmiClient(s.bind_host, s.ports.hotline_ami, secrets.ami_user, secrets.ami_secret, name="hotline")
    return NodeAmi({n.name: AmiClient(n.address, n.ami_port, secrets.ami_user, secrets.ami_secret,
                                      name=f"hotline-{n.name}") for n in s.nodes})


def https_context(cert: str, key: str) -> ssl.SSLContext | None:
    """The web service's TLS (1.2 or newer) when a certificate is configured, else None (plain HTTP)."""
    if not cert:
        return None
    if not key:
        raise ValueError("HOTLINE_HTTPS_CERT is set without HOTLINE_HTTPS_KEY")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context
