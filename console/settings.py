"""The console's settings: the wallboard's alert thresholds (`HOTLINE_WALLBOARD_*`)."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.core.settings import env_field


@dataclass(frozen=True)
class WallboardSettings:
    sl_target: float = env_field("WALLBOARD_SL_TARGET", "0.8", float)  # 15-s service level under it: alert
    wait_alert_s: float = env_field("WALLBOARD_WAIT_ALERT_S", "60", float)  # a caller waiting longer: alert
    pause_alert_s: float = env_field("WALLBOARD_PAUSE_ALERT_S", "900", float)  # an agent paused longer: alert
    recordings_backlog: int = env_field("WALLBOARD_RECORDINGS_BACKLOG", "50", int)  # recordings not stored yet
    outbox_backlog: int = env_field("WALLBOARD_OUTBOX_BACKLOG", "20", int)  # messages not delivered yet
    callback_overdue_min: float = env_field("WALLBOARD_CALLBACK_OVERDUE_MIN", "30", float)  # due for longer: overdue
    sl_min_offered: int = env_field("WALLBOARD_SL_MIN_OFFERED", "3", int)  # fewer decided callers: no SL alert
    figures_every_s: float = env_field("WALLBOARD_FIGURES_EVERY_S", "5", float)  # stored figures at most this old
