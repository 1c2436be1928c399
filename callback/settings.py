"""The callback domain's section of the settings (`HOTLINE_REVISIT_DIALER`); the campaigns' rules are in
the dialplan file's `revisit:`."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.core.settings import env_field, env_flag


@dataclass(frozen=True)
class CallbackSettings:
    # the revisit robot's dialer places calls (off: tasks wait; the API can still list and upload them)
    dialer: bool = env_flag("REVISIT_DIALER", True)
    # how often open tickets are checked for an expired time limit (a revisit each, R-REV-1)
    expiry_every_s: float = env_field("REVISIT_EXPIRY_EVERY_S", "60", float)

    def __post_init__(self) -> None:
        if not self.expiry_every_s > 0:
            raise ValueError("HOTLINE_REVISIT_EXPIRY_EVERY_S is seconds > 0")
