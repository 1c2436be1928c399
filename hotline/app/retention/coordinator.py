"""The retention run: every domain's sweep in order, one audit entry per kind.

Order matters: tickets are blanked before numbers (a held ticket keeps its calls' numbers), call records go
after their numbers, the audit rows before this run's own entries are written, log files last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from callback.retention import pseudonymise_revisits
from hotline.calls.retention import expire_calls, pseudonymise_callers
from hotline.calls.settings import CallSettings
from hotline.core.db.engine import SessionFactory
from hotline.core.logfiles import expire_logs
from hotline.core.pseudonym import Pseudonyms
from hotline.core.retention import KindReport, Progress, RetentionSettings, no_progress
from hotline.core.web.audit_retention import expire_audit
from tickets.retention import held_calls, linked_calls, redact_closed
from tickets.settings import TicketSettings


@dataclass(frozen=True)
class Periods:
    """Every kind's period in days (0: kept for ever), from the domains' settings."""

    calls: int = 0
    numbers: int = 0
    tickets: int = 0
    audit: int = 0
    logs: int = 0

    @classmethod
    def of(cls, calls: CallSettings, tickets: TicketSettings, core: RetentionSettings) -> Periods:
        return cls(calls.retention_days, calls.number_days, tickets.personal_days, core.audit_days, core.logs_days)

    @property
    def any(self) -> bool:
        return any((self.calls, self.numbers, self.tickets, self.audit, self.logs))


class Retention:
    """Runs the sweeps of every kind of personal data with the deployment's periods."""

    def __init__(self, sessions: SessionFactory, periods: Periods, key_file: Path, log_dirs: Sequence[Path]) -> None:
        self.sessions, self.periods, self._key_file, self.log_dirs = sessions, periods, key_file, tuple(log_dirs)

    async def run(self, *, dry_run: bool = False, now: datetime | None = None,
                  progress: Progress = no_progress) -> list[KindReport]:
        """One pass over every kind; returns what was (or would be) changed, and audits it."""
        p, s = self.periods, self.sessions
        names = Pseudonyms.load_or_create(self._key_file) if (p.numbers or p.tickets) else None
        reports = []
        if names is not None:
            reports.append(await redact_closed(s, p.tickets, names, now=now, dry_run=dry_run, progress=progress))
            reports.append(await pseudonymise_callers(s, p.numbers, names, held=held_calls(), now=now,
                                                      dry_run=dry_run, progress=progress))
            reports.append(await pseudonymise_revisits(s, p.numbers, names, now=now, dry_run=dry_run,
                                                       progress=progress))
        reports.append(await expire_calls(s, p.calls, held=held_calls(), linked=linked_calls(), now=now,
                                          dry_run=dry_run, progress=progress))
        reports.append(await expire_audit(s, p.audit, now=now, dry_run=dry_run))
        reports.append(expire_logs(self.log_dirs, p.logs, now=now, dry_run=dry_run))
        at = datetime.now(UTC)
        async with s.begin() as session:
            session.add_all([r.audit_entry(at) for r in reports if r.days])
        return reports
