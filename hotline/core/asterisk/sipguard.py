"""The SIP guard: an address that keeps failing SIP authentication is refused for a while.

Asterisk reports each failed SIP authentication as an AMI security event (an unknown user, a wrong digest).
The guard counts them per source address (`SipBans`); the failure that reaches the policy's count bans the
address. As a worker it brings the bans into the hotline's Asterisk (every media node's) — a PJSIP ACL (`BANS_FILE`,
included by pjsip.conf) and a res_pjsip reload, one for a whole burst — so every request from a banned
address, a correct password too, gets 403 before any authentication; and it lifts bans when they end.
Carriers' addresses (and any the deployment exempts) are never banned: a forged source must not cut the carrier off.

Behind the SIP front door (media nodes) the nodes see the front door's address, never the stranger's: the
front door and the nodes are never banned here, and Kamailio counts and bans the strangers itself
(`dialplans.kamailio`, its `bans` table).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from hotline.core.asterisk.ami import AmiMessage, EventHandler
from hotline.core.asterisk.sipbans import BANS_FILE, SipBans, ban_file
from hotline.core.workers import LoopWorker

log = logging.getLogger(__name__)

# Security events of a failed authentication (ChallengeSent is the usual first step, FailedACL a banned address)
FAILURE_EVENTS = ("InvalidAccountID", "ChallengeResponseFailed", "InvalidPassword")
MAX_REST_S = 30.0

__all__ = ["BANS_FILE", "FAILURE_EVENTS", "GuardStats", "SipGuard", "source_address"]


class Ami(Protocol):
    """What the guard needs of the AMI client."""

    def subscribe(self, event: str, handler: EventHandler) -> Cancellable: ...

    async def action(self, action: str, fields: Mapping[str, str | list[str]] | None = None, *,
                     timeout: float | None = None) -> AmiMessage: ...


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Configs(Protocol):
    """What the guard needs of the hotline's Asterisk: (re)writing one of its config files."""

    def write_configs(self, configs: Mapping[str, str]) -> None: ...


@dataclass(frozen=True)
class GuardStats:
    failures: int  # failed SIP authentications seen since start
    bans: int  # addresses banned since start
    banned: int  # addresses refused now


class SipGuard(LoopWorker):
    """Security events in, bans out (rendered into the hotline's Asterisk and reloaded)."""

    name = "sip-guard"

    def __init__(self, bans: SipBans, ami: Ami, hotline: Configs,
                 never_ban: Iterable[str] = (), applied: Mapping[str, float] | None = None, *,
                 nodes: Sequence[tuple[Configs, Ami]] = ()) -> None:
        """`applied`: the bans the hotline's Asterisk was started with; `never_ban`: the carriers' networks and
        any the deployment exempts (a forged source address must not cut them off); `nodes`: with media nodes,
        each node's configs and AMI session (the ACL is written and reloaded on every one)."""
        super().__init__()
        self.bans, self._ami = bans, ami
        self._targets = list(nodes) or [(hotline, ami)]
        self._never = [net for net in map(_network, never_ban) if net is not None]
        self._lock = asyncio.Lock()
        self._applied = dict(applied or {})
        self._failures = self._banned_total = 0
        self._subs: list[Cancellable] = []

    def start(self) -> None:
        if not self._subs:
            self._subs = [self._ami.subscribe(event, self.on_failure) for event in FAILURE_EVENTS]
        super().start()

    async def close(self) -> None:
        for sub in self._subs:
            sub.cancel()
        self._subs = []
        await super().close()

    def stats(self) -> GuardStats:
        return GuardStats(self._failures, self._banned_total, len(self._applied))

    async def on_failure(self, event: AmiMessage) -> None:
        """One failed SIP authentication: counted; the one reaching the policy's count bans its address."""
        if str(event.get("Service", "")).upper() != "PJSIP":
            return
        address = source_address(str(event.get("RemoteAddress", "")))
        if address is None:
            return
        self._failures += 1
        if any(address in net for net in self._never) or relayed(str(event.get("RemoteAddress", ""))):
            return
        count = await self.bans.failed(str(address))
        if count < self.bans.policy.after:
            return
        until = await self.bans.ban(str(address))
        if until is None:
            return
        self._banned_total += 1
        # the account tried is not logged: it may be a citizen's number (a forged From)
        log.warning("SIP address %s refused for %.0f s: %d failed authentications within %.0f s (last: %s)",
                    address, until - self.bans.clock(), count, self.bans.policy.window_s, event.get("Event"))
        self.wake()  # the worker applies it: the bans of one burst take one reload

    async def apply(self) -> None:
        """Bring the hotline's ACL in line with the bans in force (rewrite and reload only on a change)."""
        async with self._lock:
            current = await self.bans.current()
            if set(current) == set(self._applied):
                self._applied = current
                return
            for configs, ami in self._targets:  # every media node (one down is skipped: it starts with the file)
                configs.write_configs({BANS_FILE: ban_file(current)})
                try:
                    reply = await ami.action("Command", {"Command": "module reload res_pjsip.so"}, timeout=15)
                except Exception as exc:
                    if len(self._targets) == 1:
                        raise
                    log.warning("SIP bans written, but %s did not reload them: %s", configs, exc)
                    continue
                log.debug("res_pjsip reloaded with %d bans: %s", len(current), reply.get("Output", ""))
            lifted = sorted(set(self._applied) - set(current))
            self._applied = current
            if lifted:
                log.info("SIP addresses no longer refused: %s", ", ".join(lifted))

    async def step(self) -> float:
        await self.apply()
        if not self._applied:
            return MAX_REST_S
        return max(0.2, min(MAX_REST_S, min(self._applied.values()) - self.bans.clock() + 0.1))


def source_address(remote: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address in a security event's RemoteAddress (`IPV4/UDP/203.0.113.7/5060`), or None."""
    parts = remote.split("/")
    try:
        return ipaddress.ip_address(parts[2].strip("[]")) if len(parts) >= 4 else None
    except ValueError:
        return None


def relayed(remote: str) -> bool:
    """A websocket from loopback: the service's own relay of the browser phones (`/sip`), which signed the person
    in itself; banning its address would cut off every browser phone."""
    parts = remote.split("/")
    address = source_address(remote)
    return len(parts) >= 4 and parts[1].upper() in ("WS", "WSS") and address is not None and address.is_loopback


def _network(match: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """A trunk's `match` entry as a network (None for a host name)."""
    try:
        return ipaddress.ip_network(match, strict=False)
    except ValueError:
        return None
