"""The calls domain's section of the settings: how long call records and callers' numbers are kept
(`HOTLINE_RETENTION_CALLS_DAYS`, `HOTLINE_RETENTION_NUMBERS_DAYS`; 0, the default, keeps them for ever)."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.core.settings import env_field


@dataclass(frozen=True)
class CallSettings:
    # call records (with their path of steps, ratings and recording rows) are deleted after this many days,
    # unless a ticket links the call or its audio is still stored
    retention_days: int = env_field("RETENTION_CALLS_DAYS", "0", int)
    # callers' numbers in call records and finished revisit tasks become keyed pseudonyms after this many days
    number_days: int = env_field("RETENTION_NUMBERS_DAYS", "0", int)

    def __post_init__(self) -> None:
        if self.retention_days < 0 or self.number_days < 0:
            raise ValueError("retention periods are days ≥ 0 (0: keep for ever)")
