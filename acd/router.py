"""The router: turns reservations into offers on agents' phones, and handles what comes back.

An offer is an AMI Originate to the agent's endpoint running `Bridge(<caller channel>)`: when the
agent answers, Asterisk bridges them to the waiting caller (recording continues on the caller's
channel). No answer, busy or a missing phone: the caller goes back to their original place and the
agent is paused with the reason, so nobody keeps ringing an absent seat (R-ACD-2).

With several service instances (`lease` given), every instance runs a Router but only the holder of the
router lease routes: the others stand by, take the lease within seconds of the holder's death, resync from
Redis and Asterisk (the offers and conversations the dead holder left) and route on. Each reservation carries
the lease's fencing token, so a former holder that wakes up reserves nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from acd.connection import ConnectionRate, connection_rate
from acd.consult import Consult
from acd.policy import RoutingPolicy
from acd.resync import LiveChannel, Resync, ResyncReport
from acd.store import AcdStore, Reservation, SkillLoad
from acd.tasks import TaskSet
from acd.threeway import ThreeWay, ThreeWaySettings
from dialplans.dialout import DialOutGuard
from dialplans.model import LINKAGE_NUMBERS
from hotline.calls.records import CallRecords
from hotline.core.asterisk.ami import AmiClient, AmiDisconnected, AmiError, AmiMessage
from hotline.core.lease import Lease, LeaseKeeper
from hotline.core.logged import logged
from hotline.core.privacy import mask_number
from hotline.core.web.health import PartHealth
from hotline.core.workers import LoopWorker

log = logging.getLogger(__name__)
CALL_OWNED = ("offered", "on_call")  # an agent in these states is moved by the call, not by a request


# Bridge options on the agent's leg: T the agent may transfer (a consult transfer is Asterisk's own, started
# over AMI), F where the caller goes when the agent hangs up (the rating).
# ChanSpy options: q quiet (no beep, no name), E end with the spied call; w whisper to the agent; B barge (both hear).
TRANSFER_PRIORITY = 1  # a transferred caller already waited once: ahead of new callers
SPY_OPTIONS = {"listen": "qE", "whisper": "qEw", "barge": "qEB"}


class NotWithAgent(LookupError):
    """The call (or agent) is not in a conversation now, so it cannot be transferred or listened to."""


@dataclass(frozen=True)
class RouterSettings:
    ring_timeout_s: float = 15.0
    wrap_up_s: float = 5.0
    tick_s: float = 1.0
    after_agent: str = "hotline-after-agent^s^1"
    silent_check: str = "hotline-silent"


class Router(LoopWorker):
    """Offers waiting callers to ready agents; one routing at a time per hotline (the lease holder when there
    are several instances). Its loop is a routing pass every `tick_s`, and at once when `poke()`d."""

    name = "acd-router"
    max_backoff_s = 5.0  # callers wait: a failing pass (Redis away) is tried again within seconds

    def __init__(self, store: AcdStore, ami: AmiClient, calls: CallRecords, settings: RouterSettings,
                 policy: RoutingPolicy, dialout: DialOutGuard, lease: Lease | None = None) -> None:
        super().__init__()
        self._lease = lease
        self._keeper = LeaseKeeper(lease, self._took_over, self._lost) if lease is not None else None
        self._pokes: asyncio.Task[None] | None = None  # the live feed poking the holder (callers queued elsewhere)
        self._store = store
        self._policy = policy
        self._ami = ami
        self._calls = calls
        self._settings = settings
        self._offers = TaskSet()  # offers on agents' phones, each through to the agent being free again
        self._follows = TaskSet()  # conversations and wrap-ups a resync found going on
        self._ends: dict[str, asyncio.Future[None]] = {}  # channels followed after a restart, by Uniqueid
        self._following: set[str] = set()  # agents whose conversation a resync follows
        self._routing = asyncio.Event()  # cleared while a resync after an AMI reconnect runs
        self._routing.set()
        self._dialout = dialout
        # figures of the domains above the ACD for /api/acd/stats, by name: day (YYYY-MM-DD) → figures
        self.day_reports: dict[str, Callable[[str], Awaitable[dict[str, Any]]]] = {}
        self._consult = Consult(store, ami, calls, settings.wrap_up_s, self.poke, dialout)
        self._three_way = ThreeWay(store, ami, calls, ThreeWaySettings(settings.ring_timeout_s, settings.wrap_up_s),
                                   self.poke, dialout)

    def start(self) -> None:
        self._ami.subscribe("Hangup", self._on_hangup)
        self._ami.on_connected(self._after_reconnect)
        super().start()
        if self._keeper is not None:
            self._keeper.start()
            self._pokes = asyncio.create_task(self._poked_by_feed(), name="acd-router-feed")

    @property
    def routing_here(self) -> bool:
        """This instance routes (it holds the router lease, or there is no lease: one instance)."""
        return self._lease is None or self._lease.held

    async def _took_over(self) -> None:
        """This instance holds the router lease now: resync first (in the background: the lease keeps being
        renewed meanwhile), routing waits for it."""
        self._routing.clear()
        self._follows.spawn(self._resync_then_route(), name="acd-takeover")

    async def _resync_then_route(self) -> None:
        try:
            await self.resync()
        finally:
            self._routing.set()
            self.poke()

    async def _lost(self) -> None:
        log.warning("router lease lost: this instance stops routing")

    async def _poked_by_feed(self) -> None:
        """Callers queued and agents made ready through another instance: route now, not at the next tick."""
        while True:
            try:
                async with self._store.events() as feed:
                    async for event in feed:
                        if self.routing_here and event.get("event") != "offered":
                            self.poke()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis away or failing over: listen again shortly
                log.warning("router's feed dropped (%s); listening again", exc)
                await asyncio.sleep(0.5)

    async def resync(self) -> ResyncReport:
        """Rebuild the view from Redis and Asterisk's live channels after the service restarted while
        Asterisk kept the calls (see acd.resync); talking agents are followed to wrap-up and ready."""
        report = await Resync(self._store, self._ami, self._follow_talk, self._follow_wrap_up).run()
        for call_id in (c for c, state in report.gone.items() if state in ("waiting", "offered")):
            await self._abandoned(call_id)
        for call_id, agent in report.answered.items():
            with logged(log, "writing agent %s on call %s after the resync", agent, call_id):
                await self._calls.assign_agent(call_id, agent, datetime.now(UTC))
        log.info("ACD resynced with Asterisk: %s", report.summary())
        self.poke()
        return report

    async def _after_reconnect(self) -> None:
        """AMI came back: events were missed while it was away, so routing pauses, the offers cut by the
        drop end (they leave their agents and callers as they were), and a resync decides from the channels."""
        if not self.routing_here:
            return  # a standby: the holder resyncs; this instance resyncs when it takes over
        self._routing.clear()
        try:
            offers = self._offers.running()
            if offers:
                await asyncio.wait(offers, timeout=5)
            await self.resync()
        finally:
            self._routing.set()

    def _follow_talk(self, agent: str, token: str, channel: LiveChannel) -> None:
        if agent in self._following:
            return
        self._following.add(agent)
        self._follows.spawn(self._followed(agent, token, channel))

    async def _followed(self, agent: str, token: str, channel: LiveChannel) -> None:
        try:
            await self._talk_then_free(agent, token, None, self._channel_end(channel))
        finally:
            self._following.discard(agent)

    def _follow_wrap_up(self, agent: str, token: str) -> None:
        self._follows.spawn(self._free_after_wrap_up(agent, token))

    async def _channel_end(self, channel: LiveChannel) -> None:
        """Until the channel hangs up: its Hangup event, or (should the event be missed) a check every 5 s."""
        end = self._ends.setdefault(channel.uniqueid, asyncio.get_running_loop().create_future())
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(end), 5)
                    return
                try:
                    await self._ami.action("Getvar", {"Channel": channel.name, "Variable": "UNIQUEID"})
                except AmiDisconnected:
                    continue  # cannot tell now; the next look is after the reconnect
                except AmiError:
                    return
        finally:
            self._ends.pop(channel.uniqueid, None)

    def poke(self) -> None:
        """Something changed (a caller queued, an agent got ready): route now."""
        self.wake()

    async def close(self) -> None:
        pokes, self._pokes = self._pokes, None
        while pokes is not None and not pokes.done():  # a Redis call may swallow a cancellation: cancel again
            pokes.cancel()
            await asyncio.wait({pokes}, timeout=1.0)
        if self._keeper is not None:
            await self._keeper.close()
        await super().close()
        self._ends.clear()
        await self._offers.close()
        await self._follows.close()
        await self._three_way.close()
        await self._consult.close()

    async def enqueue(self, call_id: str, *, channel: str, skill: str, caller: str, priority: int = 0,
                      flags: str = "") -> None:
        skill = self._policy.route_skill(skill)
        await self._store.enqueue(call_id, channel=channel, skill=skill, caller=caller, priority=priority,
                                  pools=self._policy.pools(skill), flags=flags)
        log.info("call %s from %s queued for %s", call_id, mask_number(caller), skill)
        self.poke()

    async def adopt_caller(self, call_id: str, *, channel: str, skill: str, caller: str) -> bool:
        """Queue a caller found waiting in the queue context whom the ACD does not know (their flow broke or
        the service was down when they called); False when the ACD already knows the call."""
        if await self._store.call(call_id):
            return False
        await self.enqueue(call_id, channel=channel, skill=skill, caller=caller)
        return True

    async def set_agent_state(self, agent: str, state: str, reason: str = "") -> bool:
        changed = await self._store.set_agent_state(agent, state, reason=reason)
        if state == "ready":
            self.poke()
        return changed

    async def queued_skill(self, call_id: str) -> str | None:
        """The skill the caller waits for (or was offered or connected for); None when the ACD does not hold them."""
        call = await self._store.call(call_id)
        return call.get("skill") or None if call.get("state") in ("waiting", "offered", "connected") else None

    async def call_agent(self, call_id: str) -> str | None:
        """The agent the caller is talking to now, if any."""
        call = await self._store.call(call_id)
        if call.get("state") != "connected":
            return None
        return call.get("agent") or None

    async def leave_queue(self, call_id: str) -> bool:
        """The caller chose a callback or a voice message instead of waiting (counted as deflected, not
        abandoned); False if they are no longer just waiting."""
        if (await self._store.call(call_id)).get("state") != "waiting":
            return False
        return await self._store.forget_call(call_id, deflected=True) == "waiting"

    async def hand_to_silent_check(self, call_id: str) -> bool:
        """Move a connected caller to the silent-caller procedure; the agent's leg ends (wrap-up)."""
        return await self._move_caller(call_id, self._settings.silent_check) is not None

    async def transfer_to_skill(self, call_id: str, skill: str) -> None:
        """Blind transfer: the caller leaves the agent and queues for `skill` ahead of new callers (R-ACD-3).
        ValueError for an unknown skill, NotWithAgent when the call is not with an agent."""
        if not self._policy.knows(skill):
            raise ValueError(f"no skill {skill}")
        call = await self._move_caller(call_id, "hotline-queue")
        if call is None:
            raise NotWithAgent(f"call {call_id} is not with an agent now")
        with contextlib.suppress(AmiError):
            await self._ami.action("Setvar", {"Channel": call["channel"], "Variable": "HOTLINE_SKILL", "Value": skill})
        await self.enqueue(call_id, channel=call["channel"], skill=skill, caller=call.get("caller", ""),
                           priority=TRANSFER_PRIORITY)
        with logged(log, "writing the transfer of call %s", call_id):
            await self._calls.step(call_id, "transferred", {"from_agent": call.get("agent"), "to_skill": skill})

    async def transfer_to_linkage(self, call_id: str, number: str) -> None:
        """One-key transfer to 110 / 119 / 120 / 122 through the carrier (R-ACC-5).
        ValueError for another number, NotWithAgent when the call is not with an agent."""
        if number not in LINKAGE_NUMBERS:
            raise ValueError(f"linkage number must be one of {', '.join(LINKAGE_NUMBERS)}")
        self._dialout.screen("linkage", number)  # an emergency transfer is never held back by the hourly limit
        agent = await self.call_agent(call_id)
        if agent is None:
            raise NotWithAgent(f"call {call_id} is not with an agent now")
        with logged(log, "writing the linkage of call %s", call_id):  # first: the linkage flow may end it at once
            await self._calls.step(call_id, "linkage", {"from_agent": agent, "number": number})
        if await self._move_caller(call_id, "hotline-linkage", exten=number) is None:
            raise NotWithAgent(f"call {call_id} is not with an agent now")

    async def three_way(self, call_id: str, *, agent: str | None = None, number: str | None = None) -> dict[str, str]:
        """Ring an expert / sub-centre seat or an outside number into the call (see acd.threeway)."""
        return await self._three_way.add(call_id, agent=agent, number=number)

    async def consult(self, call_id: str, *, agent: str | None = None, number: str | None = None) -> dict[str, str]:
        """Attended transfer, first step: the caller on hold, the agent talks to the party (see acd.consult)."""
        return await self._consult.start(call_id, agent=agent, number=number)

    async def consult_complete(self, call_id: str) -> dict[str, str]:
        return await self._consult.complete(call_id)

    async def consult_cancel(self, call_id: str) -> dict[str, str]:
        return await self._consult.cancel(call_id)

    async def extend_wrap_up(self, agent: str, seconds: float) -> float | None:
        """More after-call work for the agent; the time left, or None when they are not in wrap-up."""
        return await self._store.extend_wrap_up(agent, seconds)

    async def agent_leaves(self, call_id: str) -> str:
        """The agent drops out of a three-way call; the caller stays with the third party."""
        return await self._three_way.agent_leaves(call_id)

    async def _move_caller(self, call_id: str, context: str, exten: str = "s") -> dict[str, str] | None:
        """Redirect a connected caller out of the agent's bridge to `context`; the call's live state, or None."""
        call = await self._store.call(call_id)
        if call.get("state") != "connected" or not call.get("channel"):
            return None
        try:
            await self._ami.action("Redirect", {"Channel": call["channel"], "Context": context, "Exten": exten,
                                                "Priority": "1"})
        except AmiError as exc:
            log.warning("could not move call %s to %s: %s", call_id, context, exc)
            return None
        log.info("call %s moved from agent %s to %s", call_id, call.get("agent"), context)
        return call

    async def take_for_call_out(self, agent: str, call_id: str, reason: str) -> tuple[str, dict[str, str]] | None:
        """The agent taken (on_call: no caller is offered to them) for a call they place themselves (a
        callback), from ready or a pause; (fencing token, their state before), or None when they are ringing,
        talking, wrapping up or signed out."""
        before = await self._store.agent(agent)
        token = await self._store.claim(agent, call_id, reason, states=("ready", "paused"))
        return None if token is None else (token, before)

    async def after_call_out(self, agent: str, token: str, before: dict[str, str], talked: bool) -> None:
        """The agent's call out is over: wrap-up when they talked, then back as they were (ready, or paused
        with their reason)."""
        if talked and await self._store.start_wrap_up(agent, token, self._settings.wrap_up_s):
            await self._store.wait_out_wrap_up(agent)
        paused = before.get("state") == "paused"
        if await self._store.set_agent_state(agent, "paused" if paused else "ready", token=token,
                                             reason=before.get("reason", "") if paused else "") and not paused:
            self.poke()

    def events(self) -> contextlib.AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]:
        return self._store.events()

    async def reports(self, day: str) -> dict[str, Any]:
        """The day's figures of the domains above the ACD (`day_reports`, registered by their plugins: the
        callbacks), shown beside the queue statistics."""
        return {name: await report(day) for name, report in sorted(self.day_reports.items())}

    async def stats(self, day: str) -> dict[str, dict[str, float]]:
        return await self._store.stats(day)

    async def connection_rate(self) -> ConnectionRate:
        """Calls answered by an agent of those that asked for one, the last 24 hours (see acd.connection)."""
        return await connection_rate(self._calls.sessions)

    async def position(self, call_id: str) -> int | None:
        return await self._store.position(call_id)

    async def expected_wait_s(self, call_id: str) -> float | None:
        return await self._store.expected_wait_s(call_id)

    async def spy(self, agent: str, phone: str, mode: str) -> None:
        """Ring the supervisor's `phone` into the agent's call: listen, whisper (agent only hears) or barge.
        ValueError for a bad mode or an unreachable phone, NotWithAgent when the agent is not on a call."""
        if mode not in SPY_OPTIONS:
            raise ValueError(f"mode must be one of {', '.join(SPY_OPTIONS)}")
        if (await self._store.agent(agent)).get("state") != "on_call":
            raise NotWithAgent(f"agent {agent} is not on a call")
        try:
            await self._ami.originate(f"PJSIP/{phone}", application="ChanSpy",
                                      data=f"PJSIP/{agent}-,{SPY_OPTIONS[mode]}",
                                      caller_id=f'"{mode} {agent}" <{agent}>', timeout_s=20)
        except AmiError as exc:
            raise ValueError(f"supervisor phone {phone} could not be called: {exc}") from exc
        log.info("supervisor phone %s: %s on agent %s", phone, mode, agent)

    async def skill_load(self, skill: str) -> SkillLoad:
        return await self._store.skill_load(skill)

    async def agents(self) -> dict[str, dict[str, str]]:
        return await self._store.agents()

    async def waiting(self) -> list[dict[str, str]]:
        return await self._store.waiting()

    async def step(self) -> float:
        """One routing pass (held while a resync runs): every reservation the store makes now is offered."""
        await self._routing.wait()
        if self._lease is None:
            fence = None
        elif self._lease.held and self._lease.token is not None:
            fence = (self._lease.fence_key, self._lease.token)
        else:
            return min(self._settings.tick_s, 0.5)  # standing by
        while (reservation := await self._store.reserve(fence=fence)) is not None:
            self._offers.spawn(self._offer(reservation), name=f"offer-{reservation.call_id}")
        return self._settings.tick_s

    def health(self) -> PartHealth:
        loop = super().health()
        if not loop.ok:
            return loop
        if not self.routing_here:
            return PartHealth(True, "standby: another instance routes")
        held = "" if self._routing.is_set() else ", held by a resync"
        return PartHealth(True, f"routing, {len(self._offers.running())} offer(s) ringing{held}")

    async def _offer(self, r: Reservation) -> None:
        log.info("offering call %s to agent %s (token %s)", r.call_id, r.agent, r.token)
        try:
            origination = await self._ami.originate(
                f"PJSIP/{r.agent}", application="Bridge", data=f"{r.channel},TF({self._settings.after_agent})",
                caller_id=f'"{r.caller}" <{r.caller}>', timeout_s=self._settings.ring_timeout_s,
                variables={"HOTLINE_CALL_ID": r.call_id, "HOTLINE_AGENT": r.agent,
                           # the agent's page matches the ringing call to its screen pop by this header
                           "PJSIP_HEADER(add,X-Hotline-Call)": r.call_id},
            )
            result = await origination.result(timeout=self._settings.ring_timeout_s + 10)
        except AmiDisconnected:
            log.warning("AMI dropped while offering call %s to %s; the resync will settle it", r.call_id, r.agent)
            return
        except (AmiError, TimeoutError) as exc:
            log.warning("offer of call %s to agent %s failed: %s", r.call_id, r.agent, exc)
            await self._missed(r, "offer_failed")
            return
        if not result.answered:
            await self._missed(r, result.reason.name.lower())
            return
        if not await self._store.connected(r):
            log.info("call %s hung up while agent %s's phone rang", r.call_id, r.agent)
            with contextlib.suppress(AmiError, TimeoutError):
                await self._ami.action("Hangup", {"Channel": result.channel})
            await self._store.set_agent_state(r.agent, "ready", token=r.token)
            self.poke()
            return
        await self._store.note_call(r.call_id, agent_channel=result.channel)
        await self._calls.assign_agent(r.call_id, r.agent, datetime.now(UTC))
        skill = (await self._store.call(r.call_id)).get("skill")
        await self._talk_then_free(r.agent, r.token, skill, origination.hangup(timeout=4 * 3600))

    async def _talk_then_free(self, agent: str, token: str, skill: str | None, ended: Awaitable[object]) -> None:
        """The agent talks until `ended`; the talk time counts for `skill`; then wrap-up, then ready."""
        talk_started = asyncio.get_running_loop().time()
        try:
            await ended
        except AmiDisconnected:
            log.warning("AMI dropped while agent %s talked; the resync after the reconnect follows the call", agent)
            return
        except (AmiError, TimeoutError):
            pass
        if skill:
            with logged(log, "counting the talk time of agent %s", agent):  # statistics never hold an agent back
                await self._store.talked(skill, int((asyncio.get_running_loop().time() - talk_started) * 1000))
        if await self._store.start_wrap_up(agent, token, self._settings.wrap_up_s):
            await self._free_after_wrap_up(agent, token)

    async def _free_after_wrap_up(self, agent: str, token: str) -> None:
        await self._store.wait_out_wrap_up(agent)
        if await self._store.set_agent_state(agent, "ready", token=token):
            self.poke()

    async def _missed(self, r: Reservation, reason: str) -> None:
        """Caller back to their original place; the agent paused with the reason."""
        back = await self._store.requeue(r)
        await self._store.set_agent_state(r.agent, "paused", token=r.token, reason=f"missed offer: {reason}")
        log.info("agent %s missed call %s (%s); caller requeued: %s", r.agent, r.call_id, reason, back)
        self.poke()

    async def _on_hangup(self, event: AmiMessage) -> None:
        call_id = event.get("Uniqueid", "")
        end = self._ends.get(call_id)
        if end is not None and not end.done():
            end.set_result(None)
        state = await self._store.forget_call(call_id) if call_id else None
        if state == "waiting":
            log.info("call %s abandoned while waiting", call_id)
            await self._abandoned(call_id)

    async def _abandoned(self, call_id: str) -> None:
        with logged(log, "writing call %s as abandoned in the queue", call_id):
            await self._calls.set_outcome(call_id, "abandoned_in_queue")
