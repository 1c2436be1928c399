"""How long sessions last, when an account locks, and where pages may be served from besides the service's
own origin."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.core.settings import env_field


def _origins(value: str) -> tuple[str, ...]:
    return tuple(o.strip().rstrip("/") for o in value.split(",") if o.strip())


@dataclass(frozen=True)
class AccountSettings:
    idle_min: float = env_field("SESSION_IDLE_MIN", "480", float)  # a session unused this long ends (one shift)
    lifetime_h: float = env_field("SESSION_HOURS", "12", float)  # a session ends this long after sign-in anyway
    lock_after: int = env_field("LOCK_AFTER", "5", int)  # wrong passwords for one user name …
    lock_window_min: float = env_field("LOCK_WINDOW_MIN", "15", float)  # … within this long …
    lock_min: float = env_field("LOCK_MIN", "15", float)  # … lock it for this long
    # where pages are served from when it is not the request's own host (comma-separated), for websocket Origins
    public_origins: tuple[str, ...] = env_field("PUBLIC_ORIGIN", "", _origins)

    @property
    def idle_s(self) -> float:
        return self.idle_min * 60

    @property
    def lifetime_s(self) -> float:
        return self.lifetime_h * 3600
