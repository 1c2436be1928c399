"""Where the `/sip` relay goes: the hotline Asterisk on loopback (one box), or the SIP front door's websocket when
the dialplan file puts media nodes behind it with `cluster.ws_port`."""

from __future__ import annotations

from hotline.app.phone.plugin import sip_websocket
from tests.dialplans.test_kamailio import CLUSTER, WEBSOCKET, plan_with


def test_one_box_relays_to_asterisk_on_loopback() -> None:
    assert sip_websocket(plan_with(None), 8188) == "ws://127.0.0.1:8188/ws"


def test_nodes_without_a_websocket_keep_loopback() -> None:
    assert sip_websocket(plan_with(CLUSTER), 8188) == "ws://127.0.0.1:8188/ws"


def test_the_front_doors_websocket_in_the_multi_node_layout() -> None:
    assert sip_websocket(plan_with(WEBSOCKET), 8188) == "ws://10.77.9.3:8080/ws"
