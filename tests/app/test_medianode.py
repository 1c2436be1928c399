"""`hotline media-node`: the docker media image's process, its configs from `hotline dialplan render`."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hotline.app.cli import main
from hotline.app.medianode import RENDERED_DATA
from hotline.core.asterisk.datadirs import DataDirs
from hotline.core.asterisk.root import find_root
from hotline.core.asterisk.sandbox import AsteriskInstance
from hotline.core.netutil import free_port
from tests.e2e.service import Service


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
    extensions = (out / "extensions.conf").read_text()
    assert secrets["agi_key"] in extensions
    assert f"{RENDERED_DATA}/recordings/" in extensions  # where the cluster's shared store is mounted
    assert "bind=10.18.0.11:5060" in (out / "pjsip.conf").read_text().replace(" ", "")
    # a second start reads the same secrets: the node and the service keep agreeing
    again = tmp_path / "again"
    assert main(["media-node", "--render-only", str(again)]) == 0
    assert (again / "manager.conf").read_text() == manager


def test_check_fails_when_no_asterisk_serves_the_node(home: Path) -> None:
    assert main(["media-node", "--check"]) == 1


@pytest.mark.asterisk
def test_the_media_node_runs_asterisk_until_it_is_told_to_stop(tmp_path: Path) -> None:
    """What the media image runs: Asterisk up with the rendered configs (healthcheck passes), SIGTERM stops it."""
    env = {**os.environ, "HOTLINE_HOME_DIR": str(tmp_path / "home"), "HOTLINE_BIND": "127.0.0.1",
           **{f"HOTLINE_{name}": str(free_port()) for name in ("SIP_PORT", "AMI_PORT", "AGI_PORT")}}
    hotline = str(Path(sys.executable).parent / "hotline")

    def check() -> int:
        return subprocess.run([sys.executable, "-m", "hotline.app.medianode", "--check"], env=env, timeout=30,
                              check=False).returncode

    log = tmp_path / "node.log"
    with log.open("wb") as out:
        node = subprocess.Popen([hotline, "media-node"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while check() != 0:
            assert node.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the media node's Asterisk did not come up"
            time.sleep(0.5)
        node.send_signal(signal.SIGTERM)
        assert node.wait(timeout=30) == 0, log.read_text()
        assert "media node up (started)" in log.read_text()
        assert check() == 1  # Asterisk went with it
    finally:
        if node.poll() is None:
            node.kill()
            node.wait()


@pytest.mark.asterisk
async def test_a_service_drives_a_node_run_by_its_own_service_and_leaves_it_running(tmp_path: Path) -> None:
    """The production layout: the node named without a namespace is reached over AMI only; the service neither
    starts an Asterisk for it nor stops the node's when it stops."""
    home = tmp_path / "home"
    service = Service(home, WORLD="0", AGI_BIND="127.0.0.1")
    node_env = {k: v for k, v in service.env.items() if not k.startswith("HOTLINE_") or k in (
        "HOTLINE_HOME_DIR", "HOTLINE_BIND", "HOTLINE_SIP_PORT", "HOTLINE_AMI_PORT", "HOTLINE_AGI_PORT")}
    service.env["HOTLINE_NODES"] = f"m@127.0.0.1:{service.env['HOTLINE_AMI_PORT']}"
    data = DataDirs.for_home(find_root(), home)
    node_asterisk = AsteriskInstance(data.root, "media", {}, inner_dir=data.instance("media"))
    log = (tmp_path / "node.log").open("wb")
    node = await asyncio.create_subprocess_exec(sys.executable, "-m", "hotline.app.cli", "media-node", env=node_env,
                                                stdout=log, stderr=log)
    log.close()
    try:
        for _ in range(300):
            if (pid := await node_asterisk.running()) is not None:
                break
            assert node.returncode is None, (tmp_path / "node.log").read_text()
            await asyncio.sleep(0.2)
        assert pid is not None, "the media node's Asterisk did not come up"
        try:
            await service.start()
            health = await service.api("GET", "/api/health")
            assert "nodes: m connected" in json.dumps(health), health
            own = AsteriskInstance(data.root, "hotline-m", {}, inner_dir=data.instance("hotline-m"))
            assert await own.running() is None  # no Asterisk of the service's own for the node
        finally:
            await service.stop()
        assert service.proc is not None and service.proc.returncode == 0, service.log_tail()
        assert await node_asterisk.running() == pid  # the node's Asterisk went on without the service
    finally:
        node.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(node.wait(), 30) == 0, (tmp_path / "node.log").read_text()
