"""One service over several media nodes: AMI events tagged with their node, actions to the node owning the
channel, EventLists merged (hotline.core.asterisk.nodes)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from hotline.core.asterisk.ami import AmiClient, AmiDisconnected, AmiMessage, Origination
from hotline.core.asterisk.nodes import NODE_FIELD, NodeAmi
from hotline.core.settings import parse_nodes


class NodeClient(AmiClient):
    """An AMI client that records what it was asked instead of talking to an Asterisk."""

    def __init__(self, name: str, up: bool = True) -> None:
        super().__init__("10.0.0.1", 5038, "hotline", "s", name=name)
        self._state = "connected" if up else "disconnected"
        self.asked: list[tuple[str, Any]] = []

    async def action(self, action: str, fields: Mapping[str, str | list[str]] | None = None, *,
                     timeout: float | None = None) -> AmiMessage:
        self.asked.append((action, dict(fields or {})))
        return {"Response": "Success"}

    async def action_list(self, action: str, fields: Mapping[str, str] | None = None, *,
                          timeout: float | None = None) -> list[AmiMessage]:
        self.asked.append((action, dict(fields or {})))
        return [{"Event": "CoreShowChannel", "Channel": f"PJSIP/x-{self.name}"}]

    async def originate(self, channel: str, **kw: Any) -> Origination:
        self.asked.append(("Originate", {"Channel": channel, **kw}))
        return None  # type: ignore[return-value]


def _nodes(b_up: bool = True) -> tuple[NodeAmi, NodeClient, NodeClient]:
    a, b = NodeClient("a"), NodeClient("b", up=b_up)
    return NodeAmi({"a": a, "b": b}), a, b


async def test_events_are_tagged_and_actions_go_to_the_channels_node() -> None:
    ami, a, b = _nodes()
    seen: list[AmiMessage] = []
    ami.subscribe("Newchannel", seen.append)
    b.dispatch({"Event": "Newchannel", "Channel": "PJSIP/carrier-00000001", "Uniqueid": "b-1700000000.1"})
    assert [m[NODE_FIELD] for m in seen] == ["b"]
    assert ami.node_of("PJSIP/carrier-00000001") == ami.node_of("b-1700000000.1") == "b"
    await ami.action("Hangup", {"Channel": "PJSIP/carrier-00000001"})
    assert b.asked == [("Hangup", {"Channel": "PJSIP/carrier-00000001"})] and not a.asked
    # the ACD's offer bridges the agent's phone to the caller: placed on the caller's node
    await ami.originate("PJSIP/8001", application="Bridge", data="PJSIP/carrier-00000001,TF(hotline-after-agent)",
                        variables={"HOTLINE_CALL_ID": "b-1700000000.1"})
    assert b.asked[-1][0] == "Originate" and len(a.asked) == 0
    b.dispatch({"Event": "Hangup", "Channel": "PJSIP/carrier-00000001", "Uniqueid": "b-1700000000.1"})
    assert ami.node_of("PJSIP/carrier-00000001") is None  # forgotten once hung up


async def test_lists_are_merged_from_live_nodes_and_unknown_channels_go_to_a_live_one() -> None:
    ami, a, b = _nodes(b_up=False)
    assert ami.connected and ami.state == "connected" and ami.node_states() == {"a": "connected",
                                                                                 "b": "disconnected"}
    assert [m["Channel"] for m in await ami.action_list("CoreShowChannels")] == ["PJSIP/x-a"]
    await ami.action("Command", {"Command": "core show uptime"})
    assert a.asked[-1][0] == "Command" and not b.asked
    ami2, _, _ = _nodes()
    assert [m["Channel"] for m in await ami2.action_list("CoreShowChannels")] == ["PJSIP/x-a", "PJSIP/x-b"]


async def test_no_live_node_is_an_ami_disconnect() -> None:
    a = NodeClient("a", up=False)
    ami = NodeAmi({"a": a})
    assert not ami.connected
    with pytest.raises(AmiDisconnected):
        await ami.action("Command", {"Command": "core show uptime"})


def test_nodes_from_the_environment() -> None:
    nodes = parse_nodes("a@10.0.1.11, b@10.0.1.12:5040")
    assert [(n.name, n.address, n.ami_port) for n in nodes] == [("a", "10.0.1.11", 5038), ("b", "10.0.1.12", 5040)]
    assert parse_nodes("a@10.77.5.11:5038;netns=hl-c1-a")[0].netns == "hl-c1-a"  # a test topology's namespace
    for bad in ("10.0.1.11", "a@10.0.1.11;netns=", "a@10.0.1.11;ns=x"):
        with pytest.raises(ValueError, match="name@address"):
            parse_nodes(bad)


async def test_a_lost_nodes_channels_end_for_the_subscribers() -> None:
    ami, a, b = _nodes()
    ami.lost_after_s = 0.3
    hangups: list[AmiMessage] = []
    ami.subscribe("Hangup", hangups.append)
    a.dispatch({"Event": "Newchannel", "Channel": "PJSIP/carrier-00000007", "Uniqueid": "a-1700000000.7"})
    b.dispatch({"Event": "Newchannel", "Channel": "PJSIP/carrier-00000001", "Uniqueid": "b-1700000000.1"})
    watch = asyncio.create_task(ami._watch_nodes(every_s=0.05))
    try:
        a._state = "disconnected"  # node a's AMI is gone …
        await asyncio.sleep(0.15)
        assert hangups == []  # … not long enough yet (an AMI blip is not a lost node)
        await asyncio.sleep(0.4)
        assert [(h["Uniqueid"], h["Cause"], h["HotlineNodeLost"]) for h in hangups] == [("a-1700000000.7", "38", "a")]
        assert ami.summary() == "a disconnected (lost), b connected"
        assert ami.lost == {"a"} and ami.node_of("a-1700000000.7") is None and ami.node_of("b-1700000000.1") == "b"
        a._state = "connected"
        await asyncio.sleep(0.1)
        assert ami.lost == set()
    finally:
        watch.cancel()


async def test_an_offer_goes_to_the_node_of_the_call_id_even_when_a_channel_name_is_on_both() -> None:
    ami, a, b = _nodes()
    a.dispatch({"Event": "Newchannel", "Channel": "Local/x@ctx-00000001;1", "Uniqueid": "a-1700000000.1"})
    b.dispatch({"Event": "Newchannel", "Channel": "Local/x@ctx-00000001;1", "Uniqueid": "b-1700000000.1"})
    await ami.originate("PJSIP/8001", application="Bridge", data="Local/x@ctx-00000001;1,TF(hotline-after-agent)",
                        variables={"HOTLINE_CALL_ID": "a-1700000000.1"})
    assert [x[0] for x in a.asked] == ["Originate"] and b.asked == []
