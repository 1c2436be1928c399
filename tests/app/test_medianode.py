"""`hotline media-node`: the docker media image's process renders its node's configs with the project's code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotline.app.cli import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOTLINE_HOME_DIR", str(tmp_path / "home"))
    monkeypatch.setenv("HOTLINE_BIND", "10.18.0.11")
    return tmp_path / "home"


def test_render_only_writes_the_whole_node_with_the_deployments_secrets(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "etc"
    assert main(["media-node", "--render-only", str(out)]) == 0
    secrets = json.loads((home / "secrets.json").read_text())  # generated at first start, as the service does
    conf = (out / "asterisk.conf").read_text()
    assert "astetcdir => /srv/hotline/media-" in conf  # the node's own folder in the root, stable across restarts
    manager = (out / "manager.conf").read_text()
    assert "bindaddr=10.18.0.11" in manager and f"secret={secrets['ami_secret']}" in manager
    assert secrets["agi_key"] in (out / "extensions.conf").read_text()
    assert "bind=10.18.0.11:5060" in (out / "pjsip.conf").read_text().replace(" ", "")
    # a second start reads the same secrets: the node and the service keep agreeing
    again = tmp_path / "again"
    assert main(["media-node", "--render-only", str(again)]) == 0
    assert (again / "manager.conf").read_text() == manager


def test_check_fails_when_no_asterisk_serves_the_node(home: Path) -> None:
    assert main(["media-node", "--check"]) == 1
