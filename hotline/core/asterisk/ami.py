"""Our thin AMI adapter over panoramisk.

panoramisk's `AMIProtocol` does the wire work (framing, `Message` parsing, collecting EventList
responses by ActionID). Its `Manager` is not used: it has no per-action timeout, does not check
that a Ping was answered, and re-sends pending actions after a reconnect (a duplicate Originate
rings a citizen twice). Here the connection life-cycle is ours: login, a timeout on every
action, Ping liveness, reconnect with back-off in which every pending action FAILS with
`AmiDisconnected` (never replayed), and resync callbacks after every (re)login.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from panoramisk import actions as pactions
from panoramisk.ami_protocol import AMIProtocol

from hotline.core.control import has_control
from hotline.core.logged import logged

log = logging.getLogger(__name__)

# A parsed AMI message (panoramisk Message: case-insensitive; repeated keys become lists).
AmiMessage: TypeAlias = Mapping[str, Any]
EventHandler = Callable[[Any], Awaitable[None] | None]
State = Literal["connecting", "connected", "disconnected", "closed"]


class AmiError(Exception):
    """Base of AMI adapter errors."""


class AmiLoginError(AmiError):
    """Asterisk refused our credentials."""


class AmiActionError(AmiError):
    """Asterisk answered `Response: Error`."""


class AmiTimeout(AmiError):
    """No answer to an action in time."""


class AmiDisconnected(AmiError):
    """The connection dropped while the action was pending; it was NOT re-sent."""


class AmiUnsafeField(AmiError, ValueError):
    """An action field carries a control character (CR, LF, NUL…): it could end the action early and smuggle
    in another one, so nothing was sent."""


def unsafe_fields(fields: Mapping[str, Any]) -> list[str]:
    """The names of the fields whose name or value (or one of its values) has a control character."""
    def values(v: Any) -> list[Any]:
        return list(v) if isinstance(v, list | tuple) else [v]
    return [str(k) for k, v in fields.items() if has_control(str(k)) or any(has_control(str(i)) for i in values(v))]


# Event classes we act on (`security`: failed SIP authentications, for the SIP guard). Leaving out `dialplan`
# (Newexten, VarSet) and `agi` (AGIExecStart/End) spares Asterisk and us several events per step and command.
DEFAULT_EVENTS = "system,call,user,agent,dtmf,reporting,security"


class OriginateReason(enum.IntEnum):
    """`Reason` of an OriginateResponse."""

    FAILED = 0
    NO_ANSWER = 1
    RINGING_TIMEOUT = 3
    ANSWERED = 4
    BUSY = 5
    CONGESTION = 8


@dataclass(frozen=True)
class OriginateResult:
    reason: OriginateReason
    channel: str
    uniqueid: str

    @property
    def answered(self) -> bool:
        return self.reason is OriginateReason.ANSWERED


@dataclass(frozen=True)
class HangupInfo:
    cause: int
    cause_txt: str


@dataclass
class Origination:
    """One originated call, correlated by our own ChannelId (Asterisk uses it as the Uniqueid)."""

    channel_id: str
    action_id: str
    _result: asyncio.Future[OriginateResult] = field(repr=False)
    _hangup: asyncio.Future[HangupInfo] = field(repr=False)

    async def result(self, timeout: float = 60.0) -> OriginateResult:
        return await asyncio.wait_for(asyncio.shield(self._result), timeout)

    async def hangup(self, timeout: float = 120.0) -> HangupInfo:
        return await asyncio.wait_for(asyncio.shield(self._hangup), timeout)

    def _fail(self, exc: BaseException) -> None:
        for fut in (self._result, self._hangup):
            if not fut.done():
                fut.set_exception(exc)
                fut.exception()  # mark retrieved: nobody may be waiting


@dataclass(frozen=True)
class Subscription:
    """A registered event handler; `cancel()` removes it."""

    _client: AmiClient
    event: str
    handler: EventHandler

    def cancel(self) -> None:
        self._client._unsubscribe(self)


@dataclass(frozen=True)
class AmiSnapshot:
    state: State
    reconnects: int
    pending_actions: int


class _Protocol(AMIProtocol):
    """panoramisk's protocol, reporting to our client."""


class AmiClient:
    """One AMI session to one Asterisk, kept alive until `close()`."""

    forgetable_actions = ("ping", "login", "logoff")

    def __init__(self, host: str, port: int, username: str, secret: str, *, name: str = "ami",
                 action_timeout: float = 5.0, ping_interval: float = 5.0,
                 reconnect_backoff: tuple[float, float] = (0.2, 5.0), events: str = DEFAULT_EVENTS) -> None:
        self.host, self.port, self.username, self.secret, self.name = host, port, username, secret, name
        self._action_timeout = action_timeout
        self._ping_interval = ping_interval
        self._backoff = reconnect_backoff
        self._events = events
        self._state: State = "disconnected"
        self._protocol: _Protocol | None = None
        self._handlers: dict[str, list[Subscription]] = {}
        self._on_connected: list[Callable[[], Awaitable[None]]] = []
        self._pending: set[asyncio.Future[Any]] = set()
        self._originations: dict[str, Origination] = {}
        self._by_action: dict[str, Origination] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._ping_task: asyncio.Task[None] | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self.reconnects = 0
        self.awaiting_actions: list[Any] = []  # panoramisk puts unanswered actions here; never replayed
        self.subscribe("OriginateResponse", self._on_originate_response)
        self.subscribe("Hangup", self._on_hangup)

    # --- state ---------------------------------------------------------------------------
    @property
    def state(self) -> State:
        return self._state

    @property
    def connected(self) -> bool:
        return self._state == "connected"

    def snapshot(self) -> AmiSnapshot:
        return AmiSnapshot(self._state, self.reconnects, len(self._pending))

    # --- life-cycle ------------------------------------------------------------------------
    async def connect(self, timeout: float = 10.0) -> None:
        """First connect and login; raises AmiLoginError on bad credentials, OSError if nothing listens."""
        await asyncio.wait_for(self._connect_once(), timeout)
        self._ping_task = asyncio.create_task(self._ping_loop(), name=f"{self.name}-ami-ping")
        await self._run_resync()

    async def _connect_once(self) -> None:
        self._state = "connecting"
        loop = asyncio.get_running_loop()
        try:
            _, protocol = await loop.create_connection(_Protocol, self.host, self.port)
        except OSError:
            self._state = "disconnected"
            raise
        protocol.factory = self
        protocol.encoding = "utf-8"
        self._protocol = protocol
        try:
            await self._send({"Action": "Login", "Username": self.username, "Secret": self.secret,
                              "Events": self._events}, self._action_timeout)
        except AmiActionError as exc:
            self._drop()
            raise AmiLoginError(f"AMI login refused for {self.username}@{self.host}:{self.port}: {exc}") from None
        except BaseException:
            self._drop()
            raise
        self._state = "connected"
        log.info("AMI %s connected to %s:%d", self.name, self.host, self.port)

    async def close(self) -> None:
        """Log off and stop every background task; safe to call twice."""
        if self._state == "closed":
            return
        was_connected = self.connected
        self._state = "closed"
        tasks = [t for t in (self._ping_task, self._reconnect_task, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            ending = logged(log, "AMI %s: ending %s", self.name, task.get_name())
            with contextlib.suppress(asyncio.CancelledError), ending:
                await task
        if was_connected and self._protocol is not None:
            with contextlib.suppress(AmiError, OSError):
                await self._send({"Action": "Logoff"}, 1.0)
        self._drop()
        self._fail_pending(AmiDisconnected("AMI client closed"))

    def _drop(self) -> None:
        protocol, self._protocol = self._protocol, None
        if protocol is not None:
            protocol.factory = None
            with contextlib.suppress(RuntimeError):  # its event loop is closed already: nothing left to close
                protocol.transport.close()
            protocol.closed = True

    # called by panoramisk's protocol
    def connection_lost(self, exc: BaseException | None) -> None:
        if self._state == "closed":
            return
        log.warning("AMI %s connection lost (%s); reconnecting", self.name, exc or "closed by peer")
        self._protocol = None
        self._state = "disconnected"
        self._fail_pending(AmiDisconnected(f"AMI {self.name} connection lost; the action was not re-sent"))
        self.awaiting_actions.clear()
        if self._reconnect_task is None or self._reconnect_task.done():
            self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect_loop())

    def _fail_pending(self, exc: AmiError) -> None:
        for fut in list(self._pending):
            if not fut.done():
                fut.set_exception(exc)
        self._pending.clear()
        for origination in list(self._originations.values()):
            origination._fail(exc)
        self._originations.clear()
        self._by_action.clear()

    async def _reconnect_loop(self) -> None:
        delay = self._backoff[0]
        while self._state != "closed":
            await asyncio.sleep(delay)
            try:
                await asyncio.wait_for(self._connect_once(), 10)
            except (OSError, AmiError, TimeoutError) as exc:
                log.info("AMI %s reconnect failed: %s", self.name, exc)
                delay = min(delay * 2, self._backoff[1])
                continue
            self.reconnects += 1
            await self._run_resync()
            return

    async def _run_resync(self) -> None:
        for callback in list(self._on_connected):
            try:
                await callback()
            except Exception:
                log.exception("AMI %s resync callback failed", self.name)

    async def _ping_loop(self) -> None:
        while True:
            await asyncio.sleep(self._ping_interval)
            if not self.connected:
                continue
            try:
                reply = await self._send({"Action": "Ping"}, self._action_timeout)
                if reply.get("Ping", "") != "Pong" and reply.get("Response", "") != "Success":
                    raise AmiError(f"unexpected Ping reply {reply!r}")
            except AmiDisconnected:
                continue
            except (AmiError, TimeoutError) as exc:
                log.warning("AMI %s Ping failed (%s); dropping the connection", self.name, exc)
                protocol = self._protocol
                if protocol is not None:
                    protocol.transport.close()

    # --- actions ---------------------------------------------------------------------------
    def on_connected(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Run `callback` after every successful (re)login: the place for a state resync."""
        self._on_connected.append(callback)

    async def action(self, action: str, fields: Mapping[str, str | list[str]] | None = None, *,
                     timeout: float | None = None) -> AmiMessage:
        """Send one action and return its response; AmiActionError on `Response: Error`."""
        return await self._send({"Action": action, **(fields or {})}, timeout or self._action_timeout,
                                 as_list=False)

    async def action_list(self, action: str, fields: Mapping[str, str] | None = None, *,
                          timeout: float | None = None) -> list[AmiMessage]:
        """An EventList action (CoreShowChannels …): the events up to its *Complete event."""
        reply = await self._send({"Action": action, **(fields or {})}, timeout or self._action_timeout,
                                 as_list=True)
        items = reply if isinstance(reply, list) else [reply]
        return [m for m in items[1:] if not str(m.get("Event", "")).endswith("Complete")]

    async def _send(self, fields: Mapping[str, Any], timeout: float, as_list: bool | None = None) -> Any:
        unsafe = unsafe_fields(fields)
        if unsafe:
            raise AmiUnsafeField(f"{fields.get('Action')}: control character in {', '.join(unsafe)}; not sent")
        protocol = self._protocol
        if protocol is None or (self._state not in ("connected", "connecting")):
            raise AmiDisconnected(f"AMI {self.name} is {self._state}")
        klass = pactions.Command if fields.get("Action") == "Command" else pactions.Action
        act = klass(dict(fields), as_list=as_list)
        future: asyncio.Future[Any] = act.future
        self._pending.add(future)
        try:
            protocol.send(act, as_list=as_list)
            reply = await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            protocol.responses.pop(act.id, None)
            raise AmiTimeout(f"no answer to {fields.get('Action')} within {timeout:.1f}s") from None
        finally:
            self._pending.discard(future)
        first = reply[0] if isinstance(reply, list) else reply
        if str(first.get("Response", "")).lower() in ("error", "fail", "failure"):
            raise AmiActionError(f"{fields.get('Action')}: {first.get('Message', '')}")
        return reply

    # --- events ----------------------------------------------------------------------------
    def subscribe(self, event: str, handler: EventHandler) -> Subscription:
        """Call `handler(message)` for every event named `event` ("*" for all)."""
        sub = Subscription(self, event.lower(), handler)
        self._handlers.setdefault(sub.event, []).append(sub)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        with contextlib.suppress(ValueError, KeyError):
            self._handlers[sub.event].remove(sub)

    def dispatch(self, message: AmiMessage) -> None:  # called by panoramisk's protocol
        name = str(message.get("Event", "")).lower()
        for sub in [*self._handlers.get(name, []), *self._handlers.get("*", [])]:
            try:
                result = sub.handler(message)
            except Exception:
                log.exception("AMI %s handler for %s failed", self.name, name)
                continue
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._tasks.add(task)
                task.add_done_callback(self._handler_done)

    def _handler_done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("AMI %s event handler failed", self.name, exc_info=task.exception())

    # --- originate -------------------------------------------------------------------------
    async def originate(self, channel: str, *, context: str | None = None, exten: str | None = None,
                        priority: int = 1, application: str | None = None, data: str | None = None,
                        caller_id: str | None = None, variables: Mapping[str, str] | None = None,
                        timeout_s: float = 30.0, channel_id: str | None = None) -> Origination:
        """Originate asynchronously with our own ChannelId; results come as OriginateResponse/Hangup."""
        loop = asyncio.get_running_loop()
        channel_id = channel_id or uuid.uuid4().hex
        action_id = f"originate-{channel_id}"
        origination = Origination(channel_id, action_id, loop.create_future(), loop.create_future())
        fields: dict[str, str | list[str]] = {
            "ActionID": action_id, "Channel": channel, "Async": "true", "ChannelId": channel_id,
            "Timeout": str(int(timeout_s * 1000)),
        }
        if application:
            fields["Application"] = application
            fields["Data"] = data or ""
        else:
            fields.update({"Context": context or "default", "Exten": exten or "s", "Priority": str(priority)})
        if caller_id:
            fields["CallerID"] = caller_id
        if variables:
            fields["Variable"] = [f"{k}={v}" for k, v in variables.items()]
        self._originations[channel_id] = origination
        self._by_action[action_id] = origination
        try:
            await self.action("Originate", fields)
        except AmiError:
            self._originations.pop(channel_id, None)
            self._by_action.pop(action_id, None)
            raise
        return origination

    def _on_originate_response(self, event: AmiMessage) -> None:
        origination = self._by_action.pop(str(event.get("ActionID", "")), None)
        if origination is None or origination._result.done():
            return
        try:
            reason = OriginateReason(int(event.get("Reason", "0") or 0))
        except ValueError:
            reason = OriginateReason.FAILED
        origination._result.set_result(
            OriginateResult(reason, str(event.get("Channel", "")), str(event.get("Uniqueid", "")))
        )
        if reason is not OriginateReason.ANSWERED:
            self._originations.pop(origination.channel_id, None)
            if not origination._hangup.done():
                origination._hangup.set_result(HangupInfo(0, reason.name.lower()))

    def _on_hangup(self, event: AmiMessage) -> None:
        origination = self._originations.pop(str(event.get("Uniqueid", "")), None)
        if origination is None or origination._hangup.done():
            return
        try:
            cause = int(event.get("Cause", "0") or 0)
        except ValueError:
            cause = 0
        origination._hangup.set_result(HangupInfo(cause, str(event.get("Cause-txt", ""))))
