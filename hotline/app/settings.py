"""Settings of one hotline deployment: the core's section and one section per domain."""

from __future__ import annotations

from dataclasses import dataclass, field

from acd.settings import AcdSettings
from callback.settings import CallbackSettings
from hotline.calls.settings import CallSettings
from hotline.core.accounts.settings import AccountSettings
from hotline.core.retention import RetentionSettings
from hotline.core.settings import CoreSettings, Ports, default_cache_dir
from integration.casesystem.settings import CaseSystemSettings
from recordings.settings import RecordingSettings
from tickets.settings import TicketSettings

__all__ = ["Ports", "Settings", "default_cache_dir"]


@dataclass(frozen=True)
class Settings:
    """Everything a stack needs to start; immutable, passed in at construction."""

    core: CoreSettings = field(default_factory=CoreSettings)
    acd: AcdSettings = field(default_factory=AcdSettings)
    tickets: TicketSettings = field(default_factory=TicketSettings)
    case_system: CaseSystemSettings = field(default_factory=CaseSystemSettings)
    recordings: RecordingSettings = field(default_factory=RecordingSettings)
    callback: CallbackSettings = field(default_factory=CallbackSettings)
    calls: CallSettings = field(default_factory=CallSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    accounts: AccountSettings = field(default_factory=AccountSettings)
