"""Settings of one hotline deployment, from `HOTLINE_*` environment variables over embedded defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parents[2]


def _env(name: str, default: str) -> str:
    return os.environ.get(f"HOTLINE_{name}", default)


def default_cache_dir() -> Path:
    """Machine-wide cache (Asterisk root) shared by every clone, outside git."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("HOTLINE_CACHE", str(Path(base) / "hotline")))


@dataclass(frozen=True)
class Ports:
    """Loopback ports of one stack; tests give every stack its own set."""

    http: int = 8080
    agi: int = 4573
    hotline_sip: int = 5060
    hotline_ami: int = 5038
    world_sip: int = 5070
    world_ami: int = 5039
    redis: int = 6380
    case_system: int = 8090  # the reference case system, when no real one is configured

    @classmethod
    def free(cls) -> Ports:
        """A free loopback port for every part: tests and benches run beside `make run` and each other."""
        from hotline.core.netutil import free_port

        return cls(**{f.name: free_port() for f in fields(cls)})


@dataclass(frozen=True)
class Settings:
    """Everything a stack needs to start; immutable, passed in at construction."""

    home: Path = field(default_factory=lambda: Path(_env("HOME_DIR", str(_REPO_ROOT / "var"))))
    dialplan_file: Path = field(
        default_factory=lambda: Path(_env("DIALPLAN", str(_REPO_ROOT / "dialplans" / "hotline.yaml")))
    )
    # recorded prompt audio (<key>.wav) played instead of synthesised text; default: dialplans/prompts/
    recorded_prompts: Path | None = field(
        default_factory=lambda: Path(_env("RECORDED_PROMPTS", "")) if _env("RECORDED_PROMPTS", "") else None)
    bind_host: str = field(default_factory=lambda: _env("BIND", "127.0.0.1"))
    ports: Ports = field(
        default_factory=lambda: Ports(
            http=int(_env("HTTP_PORT", "8080")),
            agi=int(_env("AGI_PORT", "4573")),
            hotline_sip=int(_env("SIP_PORT", "5060")),
            hotline_ami=int(_env("AMI_PORT", "5038")),
            world_sip=int(_env("WORLD_SIP_PORT", "5070")),
            world_ami=int(_env("WORLD_AMI_PORT", "5039")),
            redis=int(_env("REDIS_PORT", "6380")),
            case_system=int(_env("CASE_PORT", "8090")),
        )
    )
    database_url: str = field(default_factory=lambda: _env("DATABASE_URL", ""))
    redis_url: str = field(default_factory=lambda: _env("REDIS_URL", ""))
    asterisk_root: str = field(default_factory=lambda: _env("ASTERISK_ROOT", ""))
    with_world: bool = field(default_factory=lambda: _env("WORLD", "1") == "1")
    wrap_up_s: float = field(default_factory=lambda: float(_env("WRAP_UP_S", "10")))
    ring_timeout_s: float = field(default_factory=lambda: float(_env("RING_TIMEOUT_S", "15")))
    # where calls to the outside go (linkage transfers, callbacks): the carrier's SIP URI; empty with the
    # simulated world means the world instance plays the carrier
    carrier_uri: str = field(default_factory=lambda: _env("CARRIER_URI", ""))
    # the case system tickets go to: empty starts the reference case system (integration/refcase)
    case_url: str = field(default_factory=lambda: _env("CASE_URL", ""))
    case_secret: str = field(default_factory=lambda: _env("CASE_SECRET", ""))  # signs what we send
    case_webhook_secret: str = field(default_factory=lambda: _env("CASE_WEBHOOK_SECRET", ""))  # signs events
    case_mapping: str = field(default_factory=lambda: _env("CASE_MAPPING", ""))  # field mapping file
    case_timeout_s: float = field(default_factory=lambda: float(_env("CASE_TIMEOUT_S", "10")))
    case_max_backoff_s: float = field(default_factory=lambda: float(_env("CASE_MAX_BACKOFF_S", "60")))
    # the reference case system moves each open case one status step this often (0: only by its admin API)
    refcase_advance_s: float = field(default_factory=lambda: float(_env("REFCASE_ADVANCE_S", "60")))
    # stored recordings (a dated tree, read-only files) and their compact format: opus | mp3
    recordings_dir: str = field(default_factory=lambda: _env("RECORDINGS_DIR", ""))
    recordings_format: str = field(default_factory=lambda: _env("RECORDINGS_FORMAT", "opus"))
    recordings_max_backoff_s: float = field(default_factory=lambda: float(_env("RECORDINGS_MAX_BACKOFF_S", "60")))
    # where stored recordings go: local (the dated tree above) | s3 (S3-compatible object storage; the
    # access key and secret come from HOTLINE_S3_ACCESS_KEY / HOTLINE_S3_SECRET_KEY)
    recordings_backend: str = field(default_factory=lambda: _env("RECORDINGS_BACKEND", "local"))
    s3_endpoint: str = field(default_factory=lambda: _env("S3_ENDPOINT", ""))
    s3_bucket: str = field(default_factory=lambda: _env("S3_BUCKET", "hotline-recordings"))
    s3_region: str = field(default_factory=lambda: _env("S3_REGION", "us-east-1"))
    s3_prefix: str = field(default_factory=lambda: _env("S3_PREFIX", ""))
    # keep stored recordings this many years (0: for ever, as the standards ask long-term keeping)
    recordings_keep_years: int = field(default_factory=lambda: int(_env("RECORDINGS_KEEP_YEARS", "0")))
    # the revisit robot's dialer places calls (off: tasks wait; the API can still list and upload them)
    revisit_dialer: bool = field(default_factory=lambda: _env("REVISIT_DIALER", "1") == "1")
    time_limits: str = field(default_factory=lambda: _env("TIME_LIMITS", "beijing"))  # beijing | tangshan

    @property
    def db_url(self) -> str:
        """SQLAlchemy async URL; SQLite (WAL) in the home folder unless one is configured."""
        return self.database_url or f"sqlite+aiosqlite:///{self.home / 'hotline.db'}"

    @property
    def recordings_store(self) -> Path:
        return Path(self.recordings_dir) if self.recordings_dir else self.home / "recordings"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def state_file(self) -> Path:
        """Where a running stack publishes its ports and world credentials for `hotline call`."""
        return self.run_dir / "stack.json"

    def with_ports(self, ports: Ports) -> Settings:
        return replace(self, ports=ports)
