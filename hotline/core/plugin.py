"""Domains as plugins: each domain's `plugin.py` declares one `Plugin` whose `load(deps)` returns what the
domain brings (routes, AGI flows, workers, health checks, metrics, hooks for when Asterisk is up) and
whose `commands` add its `hotline` sub-commands. The app loads the list of plugins in order; a domain
finds the services of the domains loaded before it in `deps`, by type.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from prometheus_client.registry import Collector
from redis.asyncio import Redis

from hotline.core.asterisk.agi.server import Flow
from hotline.core.asterisk.ami import AmiClient
from hotline.core.asterisk.datadirs import DataDirs
from hotline.core.asterisk.root import AsteriskRoot
from hotline.core.asterisk.sandbox import AsteriskInstance
from hotline.core.audio.prompts import PromptRenderer
from hotline.core.db.engine import SessionFactory
from hotline.core.settings import CoreSettings
from hotline.core.web.health import Check
from hotline.core.web.routes import RouteTable
from hotline.core.workers import Worker

T = TypeVar("T")
Hook = Callable[["Started"], Awaitable[None]]
Closer = Callable[[], Awaitable[None]]


class Services:
    """What loaded domains publish for later ones, one object per type."""

    def __init__(self) -> None:
        self._by_type: dict[type, object] = {}

    def publish(self, obj: T, kind: type[T] | None = None) -> T:
        key = kind or type(obj)
        if key in self._by_type:
            raise ValueError(f"{key.__name__} is published twice")
        self._by_type[key] = obj
        return obj

    def get(self, kind: type[T]) -> T:
        try:
            return self._by_type[kind]  # type: ignore[return-value]
        except KeyError:
            raise LookupError(f"no {kind.__name__}: is the plugin that publishes it loaded before this one?") \
                from None

    def find(self, kind: type[T]) -> T | None:
        return self._by_type.get(kind)  # type: ignore[return-value]


@dataclass
class Deps:
    """The core's parts every plugin may use, and the services of the plugins loaded before it."""

    core: CoreSettings
    root: AsteriskRoot
    data: DataDirs
    sessions: SessionFactory
    redis: Redis
    ami: AmiClient
    renderer: PromptRenderer
    sounds: str  # where the fixed prompts are rendered, as Asterisk sees it
    asterisk_running: bool  # the hotline's Asterisk outlived a service that stopped (calls may be going on)
    services: Services = field(default_factory=Services)

    def get(self, kind: type[T]) -> T:
        return self.services.get(kind)

    def find(self, kind: type[T]) -> T | None:
        return self.services.find(kind)

    def publish(self, obj: T, kind: type[T] | None = None) -> T:
        return self.services.publish(obj, kind)


@dataclass(frozen=True)
class Started:
    """What the hooks learn once the hotline's Asterisk is up and AMI connected."""

    hotline: AsteriskInstance
    adopted: bool  # Asterisk was already running: the service restarted while calls went on
    services: Services
    # every hotline Asterisk with its own AMI session: the one, or each media node (issue 18)
    nodes: tuple[tuple[AsteriskInstance, AmiClient], ...] = ()


@dataclass
class Brought:
    """What a domain brings to the running hotline."""

    routes: list[RouteTable] = field(default_factory=list)
    flows: dict[str, Flow] = field(default_factory=dict)
    workers: list[Worker] = field(default_factory=list)  # started once Asterisk is up, stopped first
    health: dict[str, Check] = field(default_factory=dict)
    collectors: list[Collector] = field(default_factory=list)
    on_asterisk: list[Hook] = field(default_factory=list)  # in plugin order, once AMI is connected
    on_ready: list[Hook] = field(default_factory=list)  # after every plugin's on_asterisk hooks
    closers: list[Closer] = field(default_factory=list)  # stopped in reverse order
    pages: dict[str, Path] = field(default_factory=dict)  # page folders served at /<name>/ (hotline.core.web.pages)


@dataclass(frozen=True)
class Plugin:
    """A domain: its name, how it loads into a running hotline, and its `hotline` sub-commands."""

    name: str
    load: Callable[[Deps], Awaitable[Brought]] | None = None
    commands: Sequence[Callable[[Any], None]] = ()  # each adds sub-commands to `hotline`'s subparsers
    migrations: Path | None = None  # the folder of its Alembic revisions, if it has tables of its own
