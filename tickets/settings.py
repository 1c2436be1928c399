"""The tickets' section of the settings (`HOTLINE_TIME_LIMITS`: beijing | tangshan)."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.core.settings import env_field


@dataclass(frozen=True)
class TicketSettings:
    time_limits: str = env_field("TIME_LIMITS", "beijing")
