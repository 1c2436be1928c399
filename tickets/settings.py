"""The tickets' section of the settings (`HOTLINE_TIME_LIMITS`: beijing | tangshan; `HOTLINE_TICKET_CATALOGUE`:
liaoning | domains12; `HOTLINE_TICKET_REGIONS`; `HOTLINE_RETENTION_TICKETS_DAYS`)."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.core.settings import env_field
from tickets.catalogue import CATALOGUES


@dataclass(frozen=True)
class TicketSettings:
    time_limits: str = env_field("TIME_LIMITS", "beijing")
    # the subject categories agents choose from: 000 App. E (liaoning, three levels) or 001 5.4.2 (domains12)
    catalogue: str = env_field("TICKET_CATALOGUE", "liaoning")
    # closed tickets' personal fields (name, phone, address, title, content) are blanked after this many
    # days (0: kept for ever); the ticket, its number, category and timeline stay
    personal_days: int = env_field("RETENTION_TICKETS_DAYS", "0", int)
    # the city's districts (区县), comma-separated; empty: tickets/data/regions.yaml
    regions: str = env_field("TICKET_REGIONS", "")

    @property
    def region_list(self) -> tuple[str, ...]:
        return tuple(r.strip() for r in self.regions.replace("，", ",").split(",") if r.strip())

    def __post_init__(self) -> None:
        if self.catalogue not in CATALOGUES:
            raise ValueError(f"HOTLINE_TICKET_CATALOGUE is one of {', '.join(CATALOGUES)}, not {self.catalogue!r}")
        if self.personal_days < 0:
            raise ValueError("HOTLINE_RETENTION_TICKETS_DAYS is days ≥ 0 (0: keep for ever)")
