"""The browser phones' ICE servers from the settings."""

from __future__ import annotations

import pytest

from hotline.app.phone.ice import ice_servers


def test_none_by_default_stun_as_is_turn_with_its_credentials() -> None:
    assert ice_servers("", "", "") == []
    assert ice_servers("stun:stun.example.cn:3478, turns:turn.example.cn:5349", "desk", "s3cret") == [
        {"urls": "stun:stun.example.cn:3478"},
        {"urls": "turns:turn.example.cn:5349", "username": "desk", "credential": "s3cret"}]


def test_anything_else_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="not a stun: or turn: URL"):
        ice_servers("https://turn.example.cn", "", "")
