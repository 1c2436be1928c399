"""The SIP front door rendered from the dialplan file's `cluster:` section (issue 18)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from dialplans.checker import DialplanInvalid
from dialplans.commands import register
from dialplans.kamailio import (
    CONTROL_SOCKET,
    DISPATCHER_LIST,
    KAMAILIO_CFG,
    MODULES_DIR,
    FrontDoorContext,
    render_kamailio,
)
from dialplans.loader import load_dialplan_text
from dialplans.model import Dialplan
from hotline.core.asterisk.sipbans import BanPolicy

SHIPPED = Path(__file__).resolve().parents[2] / "dialplans" / "hotline.yaml"
CLUSTER = {"address": "10.77.9.3", "port": 5060, "probe_s": 1, "probe_threshold": 2,
           "nodes": [{"name": "a", "address": "10.77.9.11"}, {"name": "b", "address": "10.77.9.12", "port": 5080}]}
WEBSOCKET = {**CLUSTER, "ws_port": 8080, "services": ["10.77.9.1", "10.77.9.2"]}


def plan_with(cluster: dict[str, Any] | None) -> Dialplan:
    tree = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    if cluster is not None:
        tree["cluster"] = cluster
    return load_dialplan_text(yaml.safe_dump(tree, allow_unicode=True, sort_keys=False), "hotline.yaml")


def test_nodes_go_into_the_dispatcher_list_and_probing_is_seconds(tmp_path: Path) -> None:
    files = render_kamailio(plan_with(CLUSTER), FrontDoorContext(tmp_path, {"8001": "s3cret"}))
    nodes = [line.split() for line in files[DISPATCHER_LIST].splitlines() if not line.startswith("#")]
    assert nodes == [["1", "sip:10.77.9.11:5060", "0", "0", "duid=a"], ["1", "sip:10.77.9.12:5080", "0", "0", "duid=b"]]
    cfg = files[KAMAILIO_CFG]
    assert 'modparam("dispatcher", "ds_ping_interval", 1)' in cfg
    assert 'modparam("dispatcher", "ds_probing_threshold", 2)' in cfg
    assert f'"list_file", "{tmp_path / DISPATCHER_LIST}"' in cfg
    assert "listen=udp:10.77.9.3:5060" in cfg
    assert 'ds_select_dst("1", "4")' in cfg  # round robin over live nodes
    assert "ds_next_dst()" in cfg and 'ds_mark_dst("ip")' in cfg  # failover, the dead node marked
    assert 'is_in_subnet("$si", "127.0.0.1/32")' in cfg  # the shipped carrier trunk's address
    assert '$sht(phones=>8001) = "s3cret";' in cfg and 'save("location")' in cfg and 'lookup("location")' in cfg


def test_browser_phones_register_over_a_websocket_only_the_service_instances_open(tmp_path: Path) -> None:
    plain = render_kamailio(plan_with(CLUSTER), FrontDoorContext(tmp_path))[KAMAILIO_CFG]
    assert "websocket" not in plain and "listen=tcp" not in plain  # no ws_port: no websocket at all
    cfg = render_kamailio(plan_with(WEBSOCKET), FrontDoorContext(tmp_path, {"8005": "w1"}))[KAMAILIO_CFG]
    assert "listen=tcp:10.77.9.3:8080" in cfg and 'loadmodule "websocket.so"' in cfg
    handshake = cfg[cfg.index("event_route[xhttp:request]"):]
    refusal = handshake[:handshake.index("ws_handle_handshake()")]
    assert 'is_in_subnet("$si", "10.77.9.1/32") || is_in_subnet("$si", "10.77.9.2/32")' in refusal
    assert "fix_nated_register()" in cfg and "add_contact_alias()" in cfg and "handle_ruri_alias()" in cfg
    assert 't_on_reply("FROM_PHONE")' in cfg
    assert 'ds_select_dst("1", "0")' in cfg  # a page's own call: the node by its Call-ID (the same for its retry)
    routing = cfg[cfg.index("request_route {"):cfg.index("route[TO_NODES]")]
    assert '$Rp == 8080 && $pr != "ws"' in routing[:routing.index("route(FROM_BROWSER)")]  # no plain SIP on it
    assert '$Rp == 8080 && $pr != "ws"' in cfg[cfg.index("reply_route {"):]  # nor plain replies
    # a request over the websocket is a browser's, whatever the carriers' subnets cover
    assert routing.index("route(BROWSER_CALL)") < routing.index("ds_is_from_list") < routing.index("route(TO_NODES)")


def test_a_websocket_without_the_services_addresses_is_refused() -> None:
    with pytest.raises(DialplanInvalid, match=r"cluster\.ws_port needs cluster\.services"):
        plan_with({**CLUSTER, "ws_port": 8080})


@pytest.mark.skipif(shutil.which("kamailio") is None, reason="kamailio: scripts/setup-system.sh")
@pytest.mark.parametrize("cluster", [CLUSTER, WEBSOCKET], ids=["sip", "websocket"])
def test_kamailio_accepts_the_rendered_config(tmp_path: Path, cluster: dict[str, Any]) -> None:
    if cluster.get("ws_port") and not Path(MODULES_DIR, "websocket.so").exists():
        pytest.skip("kamailio-websocket-modules: scripts/setup-system.sh")
    for name, text in render_kamailio(plan_with(cluster), FrontDoorContext(tmp_path, {"8001": "x1"})).items():
        (tmp_path / name).write_text(text)
    check = subprocess.run(["kamailio", "-c", "-f", str(tmp_path / KAMAILIO_CFG)], capture_output=True, text=True,
                           timeout=30)
    assert check.returncode == 0, check.stderr[-2000:]


def test_no_nodes_no_front_door(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no cluster nodes"):
        render_kamailio(plan_with(None), FrontDoorContext(tmp_path))


def test_a_password_that_would_break_the_config_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="8001"):
        render_kamailio(plan_with(CLUSTER), FrontDoorContext(tmp_path, {"8001": 'x";exit;"'}))


@pytest.mark.parametrize(("cluster", "message"), [
    ({"nodes": []}, "cluster.nodes is empty"),
    ({"nodes": [{"name": "a", "address": "node-a.local"}]}, "is not an IP address"),
    ({"nodes": [{"name": "a", "address": "10.0.0.1"}, {"name": "a", "address": "10.0.0.2"}]}, "a name twice"),
    ({"nodes": [{"name": "a", "address": "10.0.0.1", "port": 70000}]}, "port from 1 to 65535"),
])
def test_bad_cluster_sections_are_named(cluster: dict[str, Any], message: str) -> None:
    with pytest.raises(DialplanInvalid, match=message):
        plan_with(cluster)


def test_cli_writes_the_front_door(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    tree = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    tree["cluster"] = CLUSTER
    plan = tmp_path / "hotline.yaml"
    plan.write_text(yaml.safe_dump(tree, allow_unicode=True, sort_keys=False), encoding="utf-8")
    monkeypatch.setenv("HOTLINE_HOME_DIR", str(tmp_path / "home"))
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["dialplan", "render", str(plan), "--kamailio", str(tmp_path / "kam")])
    assert args.func(args) == 0
    assert (tmp_path / "kam" / DISPATCHER_LIST).read_text().count("sip:10.77.9.1") == 2
    assert (tmp_path / "kam" / KAMAILIO_CFG).stat().st_mode & 0o077 == 0
    monkeypatch.setenv("HOTLINE_AGI_BIND", "10.77.9.1")
    args = parser.parse_args(["dialplan", "render", str(plan), "--out", str(tmp_path / "b"), "--node", "b"])
    assert args.func(args) == 0
    pjsip = (tmp_path / "b" / "pjsip.conf").read_text()
    assert "bind=10.77.9.12:5080" in pjsip and "match=127.0.0.1,10.77.9.3" in pjsip  # carriers via the front door
    assert "[carrier_b]" in pjsip  # the node's own trunk name: callers' channels unique across the nodes
    assert "contact=sip:8001@10.77.9.3:5060" in (tmp_path / "b" / "pjsip_phones.conf").read_text()
    manager = (tmp_path / "b" / "manager.conf").read_text()
    assert "permit=10.77.9.12/32" in manager and "permit=10.77.9.1/32" in manager
    assert "agi://10.77.9.1:" in (tmp_path / "b" / "extensions.conf").read_text()
    args = parser.parse_args(["dialplan", "render", str(plan), "--out", str(tmp_path / "c"), "--node", "c"])
    assert args.func(args) == 1


def test_failed_registrations_ban_strangers_at_the_front_door_by_the_services_policy(tmp_path: Path) -> None:
    ctx = FrontDoorContext(tmp_path, {"8001": "x1"}, bans=BanPolicy(after=4, window_s=30, ban_s=600),
                           ban_exempt=("192.168.10.0/24", "not-a-network"))
    cfg = render_kamailio(plan_with(WEBSOCKET), ctx)[KAMAILIO_CFG]
    assert '"bans=>size=10;autoexpire=600;"' in cfg and '"authfail=>size=10;autoexpire=30;"' in cfg
    assert f'"binrpc", "unix:{tmp_path / CONTROL_SOCKET}"' in cfg
    request = cfg[cfg.index("request_route {"):cfg.index("route[TO_NODES]")]
    # a banned address is refused before anything else it asks (after the sanity check)
    assert request.index("sanity_check()") < request.index("route(REFUSED)") < request.index("route(REGISTRAR)")
    failed = cfg[cfg.index("route[AUTH_FAILED]"):]
    never = failed[:failed.index("return;")]
    for exempt in ('ds_is_from_list("1")', "10.77.9.1/32", "10.77.9.2/32", "192.168.10.0/24"):
        assert exempt in never  # nodes, service instances (their websocket), the deployment's networks
    assert "not-a-network" not in cfg and ">= 4)" in failed
    registrar = cfg[cfg.index("route[REGISTRAR]"):cfg.index("route[IN_DIALOG]")]
    assert registrar.count("route(AUTH_FAILED)") == 2  # an unknown phone, a wrong password (not a first try)
