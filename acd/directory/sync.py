"""The directory's phones in Asterisk: rendered into their own files (dialplans.phones) and reloaded on change.

A burst of changes (a bulk import, a supervisor editing several agents) makes one render and one reload: a
change wakes the worker, which renders once no change came for `quiet_s`, at most `most_s` after the first.
A reload keeps every channel, so calls in progress and waiting callers go on. Followers (the simulated world's
phones) hear the SIP phones (not the browser softphones) and their passwords after each reload.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

from acd.directory.service import AgentDirectory, AgentEntry
from dialplans.model import Supervisor
from dialplans.phones import render_phones
from dialplans.render import RenderContext
from hotline.core.asterisk.reload import AmiReloader
from hotline.core.asterisk.sandbox import AsteriskInstance
from hotline.core.workers import LoopWorker

log = logging.getLogger(__name__)
PHONE_MODULES = ["res_pjsip.so", "pbx_config.so"]  # the endpoints, and [agents] / [hotline-consult-seat]
IDLE_S = 3600.0
Follower = Callable[[Mapping[str, str]], Awaitable[None]]


class PhoneSync(LoopWorker):
    name = "directory-phones"
    max_backoff_s = 10.0

    def __init__(self, directory: AgentDirectory, supervisors: Sequence[Supervisor], quiet_s: float = 0.3,
                 most_s: float = 1.0) -> None:
        super().__init__()
        self._directory = directory
        self._supervisors = tuple(supervisors)
        self._quiet_s = quiet_s  # render once no change came for this long ...
        self._most_s = most_s  # ... or this long after the first change of the burst
        self._dirty = False
        self._again = False  # a change came while the burst was being waited out
        self._ctx: RenderContext | None = None
        self._targets: list[tuple[AsteriskInstance, AmiReloader]] = []  # each hotline Asterisk (media node)
        self.renders = 0  # renders with a reload since start (the first, at start, is not one)
        self.phones: dict[str, str] = {}  # phone -> password, as last rendered (active agents and supervisors)
        self.sip_phones: dict[str, str] = {}  # the same without the browser softphones (phone kind webrtc)
        self.followers: list[Follower] = []

    async def files(self, ctx: RenderContext) -> dict[str, str]:
        """The phones' files from the directory's active agents, for Asterisk's start (remembers `ctx`)."""
        self._ctx = ctx
        active = await self._directory.agents(active_only=True)
        everyone = [*(a.id for a in active), *(s.id for s in self._supervisors)]
        self._directory.secrets.ensure(everyone)  # (the file's phones have theirs from the start)
        self.phones = self._directory.secrets.of(everyone)
        browsers = {a.id for a in active if a.phone == "webrtc"} | {
            s.id for s in self._supervisors if s.phone == "webrtc"}
        self.sip_phones = {phone: secret for phone, secret in self.phones.items() if phone not in browsers}
        return render_phones([a.as_agent() for a in active], self._supervisors,
                             dataclasses.replace(ctx, agent_secrets=self.phones))

    def browser_secret(self, phone: str) -> str | None:
        """The SIP secret of `phone` if it is a browser phone (the phone book of hotline.app.phone)."""
        return self.phones.get(phone) if phone not in self.sip_phones else None

    def attach(self, targets: Sequence[tuple[AsteriskInstance, AmiReloader]]) -> None:
        """Asterisk is up: changes from now on are rendered into it (every media node) and reloaded."""
        self._targets = list(targets)

    async def changed(self, _: Sequence[AgentEntry] = ()) -> None:
        """A directory listener: render and reload soon."""
        self._dirty = self._again = True
        self.wake()

    async def _burst_over(self) -> None:
        """Until no change came for `quiet_s`, or `most_s` after the first: the burst makes one render."""
        loop = asyncio.get_running_loop()
        first = loop.time()
        while True:
            self._again = False
            await asyncio.sleep(min(self._quiet_s, max(0.0, first + self._most_s - loop.time())))
            if not self._again or loop.time() - first >= self._most_s:
                return

    async def step(self) -> float:
        if not self._dirty or self._ctx is None or not self._targets:
            return IDLE_S
        await self._burst_over()
        self._dirty = False
        try:
            files = await self.files(self._ctx)
            for asterisk, reloader in self._targets:
                asterisk.write_configs(files)  # (a node that is down reads them when it starts again)
                if reloader.connected or len(self._targets) == 1:
                    await reloader.reload(PHONE_MODULES)
        except BaseException:
            self._dirty = True  # tried again after the backoff
            raise
        self.renders += 1
        log.info("phones rendered and reloaded: %d phones", len(self.phones))
        for follower in self.followers:
            await follower(dict(self.sip_phones))
        return 0 if self._dirty else IDLE_S
