"""The calls domain: call records, their lifecycle from Asterisk's events, caller lists, and their routes."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.calls import http
from hotline.calls.caller_lists import CallerLists
from hotline.calls.lifecycle import CallLifecycle
from hotline.calls.measures import CallerMeasures
from hotline.calls.records import CallRecords
from hotline.core.claims import EventClaims
from hotline.core.plugin import Brought, Deps, Plugin, Started


@dataclass(frozen=True)
class LiveChannels:
    """The ids of the calls Asterisk still holds after a restart, found by the ACD's resync."""

    ids: frozenset[str]


async def load(deps: Deps) -> Brought:
    calls = deps.publish(CallRecords(deps.sessions))
    lists = deps.publish(CallerLists(deps.sessions))
    measures = deps.publish(CallerMeasures(deps.sessions))
    claims = EventClaims(deps.redis, deps.core.instance) if deps.core.instances else None
    lifecycle = CallLifecycle(calls, deps.data.host, claims)

    async def follow(_: Started) -> None:
        lifecycle.attach(deps.ami)

    async def close_ended(started: Started) -> None:
        """After a restart: close the records of calls that ended while the service was down."""
        if started.adopted and (live := started.services.find(LiveChannels)) is not None:
            await lifecycle.resync(live.ids)

    return Brought(routes=[http.routes(calls, lists, measures)], on_asterisk=[follow], on_ready=[close_ended],
                   closers=[lifecycle.close], health={"call_lifecycle": lifecycle.check})


plugin = Plugin("calls", load)
