"""Callback requests: a caller who chose not to wait is called back (issue 8's dialer works the list)."""

from __future__ import annotations

from datetime import UTC, datetime

from callback.models import RevisitTask
from hotline.core.db.engine import SessionFactory


class CallbackRequests:
    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    async def request_callback(self, call_id: str, number: str) -> None:
        """A task to call `number` back about call `call_id` (served by a person: the caller wanted one)."""
        async with self.sessions.begin() as s:
            s.add(RevisitTask(call_id=call_id, number=number.removeprefix("+86"), reason="callback_request",
                              mode="human", created_at=datetime.now(UTC)))

    async def voice_message(self, call_id: str, number: str) -> None:
        """A caller left a message when the centre was over capacity: a person calls them back."""
        async with self.sessions.begin() as s:
            s.add(RevisitTask(call_id=call_id, number=number.removeprefix("+86"), reason="voice_message",
                              mode="human", created_at=datetime.now(UTC)))
