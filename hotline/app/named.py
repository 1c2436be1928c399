"""The domains' services by their usual names on a running stack (`stack.acd`, `stack.tickets` …), for
tests, benches and tools; each is what the domain published, or None before it loaded."""

from __future__ import annotations

from typing import TypeVar

from acd.router import Router
from callback.dialer import Dialer
from callback.tasks import RevisitTasks
from hotline.calls.caller_lists import CallerLists
from hotline.calls.records import CallRecords
from hotline.core.asterisk.ami import AmiClient
from hotline.core.plugin import Services
from integration.casesystem.outbox import OutboxWorker
from integration.refcase.process import RefCaseProcess
from integration.world.plugin import World
from tickets.service import Tickets

T = TypeVar("T")


class NamedServices:
    services: Services

    def _find(self, kind: type[T]) -> T | None:
        return self.services.find(kind)

    @property
    def acd(self) -> Router | None:
        return self._find(Router)

    @property
    def calls(self) -> CallRecords | None:
        return self._find(CallRecords)

    @property
    def caller_lists(self) -> CallerLists | None:
        return self._find(CallerLists)

    @property
    def tickets(self) -> Tickets | None:
        return self._find(Tickets)

    @property
    def outbox(self) -> OutboxWorker | None:
        return self._find(OutboxWorker)

    @property
    def refcase(self) -> RefCaseProcess | None:
        return self._find(RefCaseProcess)

    @property
    def revisits(self) -> RevisitTasks | None:
        return self._find(RevisitTasks)

    @property
    def dialer(self) -> Dialer | None:
        return self._find(Dialer)

    @property
    def world(self) -> World | None:
        return self._find(World)

    @property
    def world_ami(self) -> AmiClient | None:
        world = self.world
        return world.ami if world is not None else None
