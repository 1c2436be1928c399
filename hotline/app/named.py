"""The domains' services by their usual names on a running stack (`stack.acd`, `stack.tickets` …), for
tests, benches and tools; each is what the domain published, or None before it loaded."""

from __future__ import annotations

from typing import Any, Generic, TypeVar, overload

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


class Published(Generic[T]):
    """A read-only attribute: the service of this type a domain published, or None."""

    def __init__(self, kind: type[T]) -> None:
        self.kind = kind

    @overload
    def __get__(self, stack: None, owner: Any) -> Published[T]: ...

    @overload
    def __get__(self, stack: NamedServices, owner: Any) -> T | None: ...

    def __get__(self, stack: NamedServices | None, owner: Any) -> Published[T] | T | None:
        return self if stack is None else stack.services.find(self.kind)


class NamedServices:
    services: Services
    acd = Published(Router)
    calls = Published(CallRecords)
    caller_lists = Published(CallerLists)
    tickets = Published(Tickets)
    outbox = Published(OutboxWorker)
    refcase = Published(RefCaseProcess)
    revisits = Published(RevisitTasks)
    dialer = Published(Dialer)
    world = Published(World)

    @property
    def world_ami(self) -> AmiClient | None:
        world = self.world
        return world.ami if world is not None else None
