"""The callback domain's section of the settings (`HOTLINE_REVISIT_DIALER`); the campaigns' rules are in
the dialplan file's `revisit:`."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.core.settings import env_flag


@dataclass(frozen=True)
class CallbackSettings:
    # the revisit robot's dialer places calls (off: tasks wait; the API can still list and upload them)
    dialer: bool = env_flag("REVISIT_DIALER", True)
