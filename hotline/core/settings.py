"""The deployment's own settings (folders, addresses, ports, database, Redis, Asterisk root), from
`HOTLINE_*` environment variables over embedded defaults; each domain keeps its own section beside its code."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from hotline.core.instances import InstanceAddress, parse_instances, parse_sentinels

T = TypeVar("T")
if TYPE_CHECKING:
    from hotline.core.asterisk.nodes import AsteriskNode

_REPO_ROOT = Path(__file__).resolve().parents[2]


def env(name: str, default: str) -> str:
    """`HOTLINE_<name>` from the environment, else `default`."""
    return os.environ.get(f"HOTLINE_{name}", default)


def env_field(name: str, default: str, kind: Callable[[str], T] = str) -> T:  # type: ignore[assignment]
    """A dataclass field read from `HOTLINE_<name>` when the settings are made."""
    return field(default_factory=lambda: kind(env(name, default)))


def env_flag(name: str, default: bool) -> bool:
    return field(default_factory=lambda: env(name, "1" if default else "0") == "1")


def default_cache_dir() -> Path:
    """Machine-wide cache (Asterisk root) shared by every clone, outside git."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("HOTLINE_CACHE", str(Path(base) / "hotline")))


def parse_nodes(text: str) -> tuple[AsteriskNode, ...]:
    """`name@address[:ami_port][;netns=NAME]`, comma-separated (HOTLINE_NODES). With `netns` the service runs the
    node's Asterisk in that network namespace of this machine (the test topologies of integration.cluster), or
    adopts the one running there; without, the node is run by its own service and only reached over AMI."""
    from hotline.core.asterisk.nodes import AsteriskNode

    nodes = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        item, _, option = item.partition(";")
        name, _, where = item.partition("@")
        address, _, port = where.partition(":")
        key, _, netns = option.partition("=")
        if not name or not address or (option and (key.strip() != "netns" or not netns.strip())):
            raise ValueError(f"HOTLINE_NODES: {item!r} is not name@address[:ami_port][;netns=NAME]")
        nodes.append(AsteriskNode(name, address, int(port) if port else 5038, netns=netns.strip()))
    return tuple(nodes)


@dataclass(frozen=True)
class Ports:
    """Loopback ports of one stack; tests give every stack its own set."""

    http: int = 8080
    agi: int = 4573
    hotline_sip: int = 5060
    hotline_ami: int = 5038
    hotline_http: int = 8088  # the hotline Asterisk's HTTP (the browsers' SIP websocket, relayed), loopback only
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
class SipEdgeSettings:
    """The hotline's SIP edge: failed-authentication bans, and SIP over TLS with SRTP for the phones when a
    certificate is given (files on the host; copied into the Asterisk root)."""

    ban_after: int = env_field("SIP_BAN_AFTER", "10", int)  # failed authentications from one address …
    ban_window_s: float = env_field("SIP_BAN_WINDOW_S", "60", float)  # … within this many seconds …
    ban_s: float = env_field("SIP_BAN_S", "900", float)  # … refuse it for this long
    # networks never banned besides the carriers' (comma-separated), e.g. the agents' own LAN
    ban_exempt: tuple[str, ...] = env_field("SIP_BAN_EXEMPT", "", lambda v: tuple(filter(None, v.split(","))))
    tls_cert: str = env_field("SIP_TLS_CERT", "")  # PEM certificate (chain) of the hotline; "" = no TLS
    tls_key: str = env_field("SIP_TLS_KEY", "")
    tls_ca: str = env_field("SIP_TLS_CA", "")  # CA of the phones' certificates, when they present one
    tls_port: int = env_field("SIP_TLS_PORT", "5061", int)

    @property
    def tls(self) -> bool:
        return bool(self.tls_cert)


@dataclass(frozen=True)
class CoreSettings:
    """Where the deployment lives and how its parts are reached; immutable, passed in at construction."""

    home: Path = field(default_factory=lambda: Path(env("HOME_DIR", str(_REPO_ROOT / "var"))))
    dialplan_file: Path = field(
        default_factory=lambda: Path(env("DIALPLAN", str(_REPO_ROOT / "dialplans" / "hotline.yaml")))
    )
    # recorded prompt audio (<key>.wav) played instead of synthesised text; default: dialplans/prompts/
    recorded_prompts: Path | None = field(
        default_factory=lambda: Path(env("RECORDED_PROMPTS", "")) if env("RECORDED_PROMPTS", "") else None)
    bind_host: str = field(default_factory=lambda: env("BIND", "127.0.0.1"))
    # FastAGI listens on its own address, loopback unless configured (Asterisk on another host)
    agi_bind: str = field(default_factory=lambda: env("AGI_BIND", "127.0.0.1"))
    ports: Ports = field(
        default_factory=lambda: Ports(
            http=int(env("HTTP_PORT", "8080")),
            agi=int(env("AGI_PORT", "4573")),
            hotline_sip=int(env("SIP_PORT", "5060")),
            hotline_ami=int(env("AMI_PORT", "5038")),
            hotline_http=int(env("ASTERISK_HTTP_PORT", "8088")),
            world_sip=int(env("WORLD_SIP_PORT", "5070")),
            world_ami=int(env("WORLD_AMI_PORT", "5039")),
            redis=int(env("REDIS_PORT", "6380")),
            case_system=int(env("CASE_PORT", "8090")),
        )
    )
    database_url: str = field(default_factory=lambda: env("DATABASE_URL", ""))
    redis_url: str = field(default_factory=lambda: env("REDIS_URL", ""))
    # Redis through Sentinel (hotline.core.instances): the password and db still come from REDIS_URL
    redis_sentinels: tuple[tuple[str, int], ...] = env_field("REDIS_SENTINELS", "", parse_sentinels)
    redis_master: str = env_field("REDIS_MASTER", "hotline")
    # several active-active service instances (hotline.core.instances): this one's name and all of them
    instance: str = env_field("INSTANCE", "")
    instances: tuple[InstanceAddress, ...] = env_field("INSTANCES", "", parse_instances)
    # a Redis command (or connect) unanswered this long fails, unretried: a stalled Redis means the fail-safe
    redis_timeout_s: float = env_field("REDIS_TIMEOUT_S", "2", float)
    asterisk_root: str = field(default_factory=lambda: env("ASTERISK_ROOT", ""))
    with_world: bool = field(default_factory=lambda: env("WORLD", "1") == "1")
    # the hotline Asterisk's full verbose log (callers' numbers, keys pressed): for debugging only
    asterisk_full_log: bool = env_flag("ASTERISK_FULL_LOG", False)
    sip: SipEdgeSettings = field(default_factory=SipEdgeSettings)
    # behind a reverse proxy that sets X-Forwarded-For / -Proto / -Host (believed only then): hotline/core/web/proxy.py
    trust_proxy: bool = env_field("TRUST_PROXY", "", lambda v: v not in ("", "0"))
    # the web service over HTTPS (browsers give the microphone to a secure origin only, away from localhost):
    # a PEM certificate (chain) and its key; "" = plain HTTP
    https_cert: str = env_field("HTTPS_CERT", "")
    https_key: str = env_field("HTTPS_KEY", "")
    # media nodes this service drives instead of starting its own Asterisk (issue 18): HOTLINE_NODES =
    # "a@10.0.1.11,b@10.0.1.12[:ami_port]"; FastAGI must then listen where they reach it (HOTLINE_AGI_BIND).
    # A node named with `;netns=NS` is started (or adopted) here, in that namespace; see parse_nodes
    nodes: tuple[AsteriskNode, ...] = env_field("NODES", "", lambda v: parse_nodes(v))

    @property
    def web_url(self) -> str:
        """Where the web service answers (the bind address and port, http or https)."""
        return f"{'https' if self.https_cert else 'http'}://{self.bind_host}:{self.ports.http}"

    @property
    def db_url(self) -> str:
        """SQLAlchemy async URL; SQLite (WAL) in the home folder unless one is configured."""
        return self.database_url or f"sqlite+aiosqlite:///{self.home / 'hotline.db'}"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def state_file(self) -> Path:
        """Where a running stack publishes its ports and world credentials for `hotline call`."""
        return self.run_dir / "stack.json"

    def with_ports(self, ports: Ports) -> CoreSettings:
        return replace(self, ports=ports)
