"""HOTLINE_CASE_REFERENCE=1: the case system at HOTLINE_CASE_URL is a reference one run apart (docker/) that signs
with this deployment's generated keys, so no secrets are configured for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import pytest

from dialplans.secrets import Secrets
from hotline.core.plugin import Brought, Deps
from hotline.core.settings import CoreSettings
from integration.casesystem.settings import CaseSystemSettings
from tickets.plugin import _case_system

T = TypeVar("T")


@dataclass
class _Deps:
    """What `_case_system` asks for."""

    parts: dict[type, Any] = field(default_factory=dict)
    core: CoreSettings = field(default_factory=CoreSettings)

    def get(self, kind: type[T]) -> T:
        return cast(T, self.parts[kind])


def _deps() -> Deps:
    secrets = Secrets("hotline", "ami", {}, {"intake": "in-key", "webhook": "hook-key", "admin": "adm"}, "w", "k")
    return cast(Deps, _Deps({CaseSystemSettings: CaseSystemSettings(), Secrets: secrets}))


async def test_a_reference_case_system_uses_the_generated_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_CASE_URL", "http://refcase:8090")
    monkeypatch.setenv("HOTLINE_CASE_REFERENCE", "1")
    brought = Brought()
    assert await _case_system(_deps(), brought) == ("http://refcase:8090", "in-key", "hook-key")
    assert not brought.closers  # nothing started here


async def test_a_real_case_system_still_needs_its_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_CASE_URL", "http://cases.example:8090")
    with pytest.raises(ValueError, match="HOTLINE_CASE_SECRET"):
        await _case_system(_deps(), Brought())
