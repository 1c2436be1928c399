"""Generated secrets (AMI, SIP passwords, case-system keys): never fixed defaults, kept 0600 across renders."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dialplans.model import Dialplan


@dataclass(frozen=True)
class Secrets:
    ami_user: str
    ami_secret: str
    agent_secrets: dict[str, str]
    case_system: dict[str, str]  # intake / webhook / admin keys shared with the reference case system
    world_ami_secret: str  # the simulated world's AMI: kept, so a restarted service can adopt a running world
    agi_key: str  # in every AGI URL of the dialplan: a FastAGI session without it runs no flow


def _token() -> str:
    return secrets.token_urlsafe(18)


def load_or_create_secrets(path: Path, plan: Dialplan) -> Secrets:
    """Read the secrets file, add what is missing for this dialplan, write it back (mode 0600)."""
    data: dict[str, object] = json.loads(path.read_text()) if path.exists() else {}
    agents = dict(data.get("agents", {}))  # type: ignore[call-overload]
    for phone in [a.id for a in plan.agents] + [sup.id for sup in plan.supervisors]:
        agents.setdefault(phone, _token())
    fresh = {
        "ami_user": data.get("ami_user") or "hotline",
        "ami_secret": data.get("ami_secret") or _token(),
        "agents": agents,
        "world_ami_secret": data.get("world_ami_secret") or _token(),
        "agi_key": data.get("agi_key") or secrets.token_urlsafe(24),
        "case_system": {key: dict(data.get("case_system") or {}).get(key) or _token()  # type: ignore[call-overload]
                        for key in ("intake", "webhook", "admin")},
    }
    if fresh != data:
        _write(path, fresh)
    return Secrets(str(fresh["ami_user"]), str(fresh["ami_secret"]), {k: str(v) for k, v in agents.items()},
                   dict(fresh["case_system"]), str(fresh["world_ami_secret"]), str(fresh["agi_key"]))


def new_phone_secret() -> str:
    """A phone's SIP password: generated, never a fixed default."""
    return _token()


def save_phone_secrets(path: Path, phones: Mapping[str, str]) -> None:
    """Set these phones' SIP passwords in the secrets file (others kept), written whole and 0600."""
    data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    data["agents"] = {**dict(data.get("agents") or {}), **phones}
    _write(path, data)


def _write(path: Path, data: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
    tmp.replace(path)


def load_phone_secrets(path: Path) -> dict[str, str]:
    """The phones' passwords in the secrets file (empty when there is none yet)."""
    data = json.loads(path.read_text()) if path.exists() else {}
    return {str(k): str(v) for k, v in dict(data.get("agents") or {}).items()}
