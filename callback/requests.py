"""Callback requests and voice messages: a caller who chose not to wait, or who left a message when the
centre was over capacity, is called back by a person (the work list: `callback.worklist`)."""

from __future__ import annotations

import logging

from callback.models import RevisitTask
from callback.worklist import Publish
from hotline.core.clock import now
from hotline.core.db.engine import SessionFactory
from hotline.core.logged import logged

log = logging.getLogger(__name__)


class CallbackRequests:
    def __init__(self, sessions: SessionFactory, publish: Publish | None = None) -> None:
        self.sessions, self._publish = sessions, publish

    async def request_callback(self, call_id: str, number: str) -> None:
        """A task to call `number` back about call `call_id` (served by a person: the caller wanted one)."""
        await self._add(call_id, number, "callback_request")

    async def voice_message(self, call_id: str, number: str) -> None:
        """A caller left a message when the centre was over capacity: a person calls them back."""
        await self._add(call_id, number, "voice_message")

    async def _add(self, call_id: str, number: str, kind: str) -> None:
        task = RevisitTask(call_id=call_id, number=number.removeprefix("+86"), reason=kind, mode="human",
                           created_at=now())
        async with self.sessions.begin() as s:
            s.add(task)
        if self._publish is not None:  # every desk's work list shows it at once
            with logged(log, "publishing the new callback %s", task.id):
                await self._publish({"event": "callback_new", "callback": task.id, "kind": kind})
