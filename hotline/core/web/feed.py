"""One live feed per process fanned out to every open websocket: a single subscription to the source (Redis
pub/sub) however many sockets listen, a bounded queue per listener, and a listener that falls behind is
dropped rather than holding the others up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

log = logging.getLogger(__name__)

Event = dict[str, Any]
Source = Callable[[], AbstractAsyncContextManager[AsyncIterator[Event]]]


class Listener:
    """One socket's share of the feed."""

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(size)
        self.dropped = False

    def offer(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.drop()

    def drop(self) -> None:
        """Too slow (or the feed ended): the socket is told to go with a None as soon as it reads again."""
        self.dropped = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)

    async def __aiter__(self) -> AsyncIterator[Event]:
        while (event := await self.queue.get()) is not None:
            yield event


class FanOut:
    """The shared subscription: opened with the first listener, closed with the last."""

    def __init__(self, source: Source, *, queue_size: int = 256, retry_s: float = 1.0) -> None:
        self._source = source
        self._size = queue_size
        self._retry_s = retry_s
        self._listeners: set[Listener] = set()
        self._pump: asyncio.Task[None] | None = None
        self.subscriptions = 0  # how many times the source was opened (tests, metrics)

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    @contextlib.asynccontextmanager
    async def listen(self) -> AsyncIterator[Listener]:
        listener = Listener(self._size)
        self._listeners.add(listener)
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._run())
        try:
            yield listener
        finally:
            self._listeners.discard(listener)
            if not self._listeners:
                await self.close()

    async def close(self) -> None:
        pump, self._pump = self._pump, None
        if pump is not None:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump

    async def _run(self) -> None:
        while self._listeners:
            try:
                self.subscriptions += 1
                async with self._source() as events:
                    async for event in events:
                        for listener in list(self._listeners):
                            if not listener.dropped:
                                listener.offer(event)
                        self._listeners = {lst for lst in self._listeners if not lst.dropped}
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the live feed's subscription failed; opening it again")
            await asyncio.sleep(self._retry_s)
