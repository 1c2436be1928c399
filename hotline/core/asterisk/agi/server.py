"""FastAGI server on asyncio: one task per session, routing by path, and the fail-safe.

Fail-safe contract with the dialplan: after a flow returns, the server sets
`HOTLINE_FLOW_STATUS=ok`; when it raises (anything but AgiHangup), the route is unknown or the
session breaks, it sets `HOTLINE_FLOW_STATUS=failed` and `HOTLINE_FLOW_ERROR=<error class>`
(best effort) and closes the session, so the dialplan goes on to its safe destination.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hotline.core.asterisk.agi.call import AgiCall
from hotline.core.asterisk.agi.errors import AgiError, AgiHangup
from hotline.core.asterisk.agi.protocol import KEY_PARAM, MalformedSession, Request, parse_env_line

log = logging.getLogger(__name__)

Flow = Callable[[AgiCall], Awaitable[None]]
STATUS_VAR = "HOTLINE_FLOW_STATUS"
ERROR_VAR = "HOTLINE_FLOW_ERROR"
_MAX_ENV_LINES = 200
_KEY_PARAM = re.compile(rf"([?&]){KEY_PARAM}=([^&]*)&?")


class UnknownRoute(AgiError):
    """No flow is registered for the path the dialplan asked for."""


class Router:
    """Flows by path (`ivr/inbound`); refuses duplicates."""

    def __init__(self) -> None:
        self._flows: dict[str, Flow] = {}

    def add(self, route: str, flow: Flow) -> None:
        route = route.strip("/")
        if route in self._flows:
            raise ValueError(f"AGI route {route!r} is already registered")
        self._flows[route] = flow

    def get(self, route: str) -> Flow:
        try:
            return self._flows[route.strip("/")]
        except KeyError:
            raise UnknownRoute(route) from None

    @property
    def routes(self) -> list[str]:
        return sorted(self._flows)


@dataclass(frozen=True)
class AgiStats:
    """Session figures for health and metrics."""

    active: int
    total: int
    failed: int
    refused: int  # over the session cap
    forbidden: int = 0  # without the deployment's key: not from the hotline's own Asterisk


class AgiServer:
    """Accepts FastAGI sessions from Asterisk and runs the routed flow for each."""

    def __init__(self, host: str, port: int, router: Router, *, key: str, command_timeout: float = 10.0,
                 env_timeout: float = 5.0, max_sessions: int = 1000) -> None:
        if len(key) < 16:
            raise ValueError("the FastAGI key must be a generated secret of 16 characters or more")
        self._key = key.encode()
        self._host = host
        self._port = port
        self._router = router
        self._command_timeout = command_timeout
        self._env_timeout = env_timeout
        self._max_sessions = max_sessions
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()
        self._total = self._failed = self._refused = self._forbidden = 0

    @property
    def port(self) -> int:
        if self._server is not None and self._server.sockets:
            return int(self._server.sockets[0].getsockname()[1])
        return self._port

    def stats(self) -> AgiStats:
        return AgiStats(len(self._sessions), self._total, self._failed, self._refused, self._forbidden)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self._host, self._port, reuse_address=True)
        log.info("FastAGI listening on %s:%d (%s)", self._host, self.port, ", ".join(self._router.routes))

    async def close(self, grace: float = 5.0) -> None:
        """Stop accepting, let sessions finish for `grace` seconds, then cancel them. Safe twice."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()
        if self._sessions:
            _, pending = await asyncio.wait(set(self._sessions), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                _, stuck = await asyncio.wait(pending, timeout=grace)
                if stuck:
                    log.warning("%d FastAGI session(s) did not end when cancelled", len(stuck))

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if len(self._sessions) >= self._max_sessions:
            self._refused += 1
            log.warning("FastAGI session refused: %d sessions already", len(self._sessions))
            writer.close()
            return
        self._sessions.add(task)
        self._total += 1
        try:
            await self._session(reader, writer)
        finally:
            self._sessions.discard(task)
            writer.close()  # (not waited for: the transport closes on the loop's next turn, flushing first)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(self._env_timeout):  # (not wait_for: no extra task per session)
                env = await self._read_env(reader)
        except (TimeoutError, MalformedSession, ConnectionError, UnicodeDecodeError) as exc:
            self._failed += 1
            log.warning("malformed FastAGI session closed: %s", exc or type(exc).__name__)
            return
        if not self._from_our_asterisk(env, writer):
            return
        call = AgiCall(reader, writer, env, command_timeout=self._command_timeout)
        try:
            flow = self._router.get(call.route)
            await flow(call)
        except AgiHangup:
            log.debug("call %s ended during flow %s", call.uniqueid, call.route)
            return
        except Exception as exc:
            self._failed += 1
            log.exception("flow %s failed on call %s; sending the caller to the safe destination",
                          call.route, call.uniqueid)
            await self._mark(call, "failed", type(exc).__name__)
            return
        await self._mark(call, "ok", None)

    def _from_our_asterisk(self, env: dict[str, str], writer: asyncio.StreamWriter) -> bool:
        """Whether the session carries the deployment's key (rendered into every AGI URL of our dialplan),
        checked in constant time; the key is then taken out, so no flow ever sees it."""
        given = _KEY_PARAM.search(env.get("agi_request", ""))
        for name in ("agi_request", "agi_network_script"):
            if name in env:
                env[name] = _KEY_PARAM.sub(r"\1", env[name])
        if given is not None and hmac.compare_digest(given.group(2).encode(), self._key):
            return True
        self._forbidden += 1
        log.warning("FastAGI session refused: %s key, from %s, for %r", "a wrong" if given else "no",
                    writer.get_extra_info("peername"), Request.from_env(env).route[:60])
        return False

    async def _read_env(self, reader: asyncio.StreamReader) -> dict[str, str]:
        """The agi_* block up to its blank line, read at once (one wake-up per session, not one per line)."""
        try:
            block = await reader.readuntil(b"\n\n")
        except asyncio.IncompleteReadError as exc:
            said = "EOF inside the environment" if exc.partial.strip() else "empty environment"
            raise MalformedSession(said) from None
        except asyncio.LimitOverrunError:
            raise MalformedSession("environment too long") from None
        lines = block.decode().split("\n")[:-2]  # the last line's end and the blank line
        if len(lines) > _MAX_ENV_LINES:
            raise MalformedSession("environment too long")
        return dict(parse_env_line(line.rstrip("\r")) for line in lines)

    @staticmethod
    async def _mark(call: AgiCall, status: str, error: str | None) -> None:
        if call.hungup:
            return
        try:
            if error:
                await call.command(f'SET VARIABLE {ERROR_VAR} "{error}"', timeout=2)
            call.send_last(f'SET VARIABLE {STATUS_VAR} "{status}"')  # the session ends right after
        except AgiError as exc:
            log.info("could not mark call %s as %s: %s", call.uniqueid, status, exc)
