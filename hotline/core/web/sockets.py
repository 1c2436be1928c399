"""Open websockets, counted and watched: a cap per token or session (by role) and in total (429 with the reason
beyond it); a socket whose token is revoked or expires, or whose session ends, is closed (4401) within
`check_every_s` (at once when the session is signed out here)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field

from aiohttp import web

from hotline.core.errors import DomainError
from hotline.core.settings import env
from hotline.core.web.tokens import Principal

log = logging.getLogger(__name__)

REVOKED = 4401  # the close code of a socket whose token no longer holds


@dataclass(frozen=True)
class SocketLimits:
    per_token: Mapping[str, int] = field(default_factory=lambda: {
        "agent": 2, "supervisor": 5, "engineer": 2, "auditor": 2, "admin": 5})
    total: int = 500
    check_every_s: float = 2.0

    @classmethod
    def from_env(cls) -> SocketLimits:
        """`HOTLINE_WS_PER_TOKEN` (`agent=2,supervisor=5,…`, over the defaults) and `HOTLINE_WS_TOTAL`."""
        default = cls()
        pairs = [p.partition("=") for p in env("WS_PER_TOKEN", "").split(",") if p.strip()]
        if any(not sep or not n.strip().isdigit() for _, sep, n in pairs):
            raise ValueError("HOTLINE_WS_PER_TOKEN is role=count,role=count…")
        per_token = {**default.per_token, **{role.strip(): int(n) for role, _, n in pairs}}
        return cls(per_token, int(env("WS_TOTAL", str(default.total))), default.check_every_s)


class TooManySockets(DomainError):
    status, error_id = 429, "too_many_sockets"


LiveCheck = Callable[[Collection[str]], Awaitable[set[str]]]  # which principal keys still hold


class OpenSockets:
    """The websockets open in this process, by principal key (`Principal.key`: a token or a session)."""

    def __init__(self, live: LiveCheck, limits: SocketLimits | None = None) -> None:
        self._live = live
        self.limits = limits or SocketLimits()
        self._open: dict[str, set[web.WebSocketResponse]] = {}

    def count(self, key: str | None = None) -> int:
        if key is not None:
            return len(self._open.get(key, ()))
        return sum(len(s) for s in self._open.values())

    def admit(self, who: Principal) -> None:
        """Refuse (429) a socket over the caps, before it is opened."""
        cap = self.limits.per_token.get(who.role, 1)
        if self.count(who.key) >= cap:
            raise TooManySockets(f"this token or session has {cap} live sockets open already, the most a "
                                 f"{who.role} may")
        if self.count() >= self.limits.total:
            raise TooManySockets(f"the service has {self.limits.total} live sockets open, the most it serves")

    @contextlib.asynccontextmanager
    async def hold(self, who: Principal, ws: web.WebSocketResponse) -> AsyncIterator[None]:
        """Count `ws` (admitted before) against its token while it is open."""
        self._open.setdefault(who.key, set()).add(ws)
        try:
            yield
        finally:
            held = self._open.get(who.key, set())
            held.discard(ws)
            if not held:
                self._open.pop(who.key, None)

    async def sweep(self) -> int:
        """Close the sockets of tokens revoked or expired and of sessions ended since they opened; how many were
        closed."""
        if not self._open:
            return 0
        asked = list(self._open)  # (sockets opened while the database answers are checked next time)
        alive = await self._live(asked)
        return await self.close([key for key in asked if key not in alive])

    async def close(self, keys: Collection[str]) -> int:
        """Close the sockets of these principal keys now (4401); how many were closed."""
        dead = [(key, ws) for key in keys for ws in list(self._open.get(key, ()))]
        await asyncio.gather(*(ws.close(code=REVOKED, message=b"signed out" if key.startswith("session:")
                                        else b"token revoked or expired") for key, ws in dead))
        return len(dead)

    async def watch(self) -> None:
        """Sweep every `check_every_s` until cancelled."""
        while True:
            await asyncio.sleep(self.limits.check_every_s)
            try:
                await self.sweep()
            except Exception:
                log.exception("could not check the open sockets' tokens")

    async def running(self, app: web.Application) -> AsyncIterator[None]:
        """For `app.cleanup_ctx`: the watcher runs while the app does."""
        task = asyncio.create_task(self.watch())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


SOCKETS = web.AppKey("open_sockets", OpenSockets)
