"""requirements.lock pins what pyproject.toml asks for: every dependency (and the dev extra) at a version its
range admits, each pin with hashes, so `make` installs the same files everywhere (`make lock` re-pins)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\;]+)", re.MULTILINE)


def pins() -> dict[str, Version]:
    text = (ROOT / "requirements.lock").read_text()
    return {canonicalize_name(name): Version(version) for name, version in PIN.findall(text)}


def wanted() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]


def test_every_dependency_is_pinned_within_its_range() -> None:
    pinned = pins()
    wrong = [f"{r}: {pinned.get(canonicalize_name(r.name), 'not pinned')}" for r in wanted()
             if canonicalize_name(r.name) not in pinned
             or not r.specifier.contains(pinned[canonicalize_name(r.name)], prereleases=True)]
    assert not wrong, f"run `make lock`: {wrong}"


def test_every_pin_carries_hashes_and_aiohttp_is_past_its_advisories() -> None:
    blocks = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / "requirements.lock").read_text())
    unhashed = [b.split()[0] for b in blocks if PIN.match(b) and "--hash=sha256:" not in b]
    assert not unhashed
    assert pins()["aiohttp"] >= Version("3.12.14")
