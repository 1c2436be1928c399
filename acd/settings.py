"""The ACD's section of the settings (`HOTLINE_WRAP_UP_S`, `HOTLINE_RING_TIMEOUT_S`, `HOTLINE_CARRIER_URI`)."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.core.settings import env_field


@dataclass(frozen=True)
class AcdSettings:
    wrap_up_s: float = env_field("WRAP_UP_S", "10", float)
    ring_timeout_s: float = env_field("RING_TIMEOUT_S", "15", float)
    # where calls to the outside go (linkage transfers, callbacks): the carrier's SIP URI; empty with the
    # simulated world means the world instance plays the carrier
    carrier_uri: str = env_field("CARRIER_URI", "")
