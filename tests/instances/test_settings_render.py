"""Several instances in the settings and the dialplan: HOTLINE_INSTANCES parsed strictly; with more than one,
every flow goes through `[hotline-agi]`, which tries each instance's FastAGI in the listed order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dialplans.confcheck import check_rendered
from dialplans.loader import load_dialplan
from dialplans.render import RenderContext, render
from hotline.app.stack import _node_context, agi_addresses
from hotline.core.asterisk.nodes import AsteriskNode
from hotline.core.instances import InstanceAddress, parse_instances, parse_sentinels
from hotline.core.settings import CoreSettings


def test_instances_and_sentinels_parse_or_are_refused() -> None:
    assert parse_instances("a=10.0.0.1:4573, b=[::1]:4574") == (
        InstanceAddress("a", "10.0.0.1", 4573), InstanceAddress("b", "::1", 4574))
    assert parse_instances("") == ()
    assert parse_sentinels("127.0.0.1:26379,127.0.0.1:26380") == (("127.0.0.1", 26379), ("127.0.0.1", 26380))
    for bad in ("a=10.0.0.1", "=h:1", "a=h:1,a=h:2", "a=h:99999", "a=h:x"):
        with pytest.raises(ValueError, match=r"host:port|unique"):
            parse_instances(bad)


def test_every_instance_renders_the_same_agi_addresses() -> None:
    listed = parse_instances("a=127.0.0.1:4001,b=127.0.0.1:4002")
    mine = [agi_addresses(CoreSettings(instance=name, instances=listed), own) for name, own in (("a", 4001),
                                                                                               ("b", 4002))]
    assert mine[0] == mine[1] == {"agi_host": "127.0.0.1", "agi_port": 4001, "agi_others": (("127.0.0.1", 4002),)}
    assert agi_addresses(CoreSettings(), 4999) == {"agi_host": "127.0.0.1", "agi_port": 4999}


def test_flows_fail_over_to_the_next_instance() -> None:
    plan = load_dialplan(Path(__file__).parents[2] / "dialplans" / "hotline.yaml")
    secrets = {p: f"pw{p}" for p in [*(a.id for a in plan.agents), *(s.id for s in plan.supervisors)]}
    one = RenderContext("127.0.0.1", 5060, 5038, "hotline", "s", "127.0.0.1", 4001, "/r", "/s", secrets, agi_key="k")
    two = RenderContext("127.0.0.1", 5060, 5038, "hotline", "s", "127.0.0.1", 4001, "/r", "/s", secrets, agi_key="k",
                        agi_others=(("127.0.0.2", 4002),))
    files = render(plan, two)
    assert check_rendered(files) == []
    single, double = render(plan, one)["extensions.conf"], files["extensions.conf"]
    assert "[hotline-agi]" not in single and "Gosub(hotline-agi" not in single
    assert re.findall(r"AGI\(agi://", double) == ["AGI(agi://", "AGI(agi://"]  # only inside [hotline-agi]
    assert double.count("Gosub(hotline-agi,s,1(") == single.count("AGI(agi://")
    sub = double[double.index("[hotline-agi]"):]
    assert sub.index("agi://127.0.0.1:4001/${ARG1}") < sub.index("agi://127.0.0.2:4002/${ARG1}")
    assert '"${HOTLINE_FLOW_STATUS}" != "" | "${AGISTATUS}" = "HANGUP"' in sub  # a failed flow is not run twice


def test_a_media_nodes_ami_takes_logins_from_every_instance() -> None:
    plan = load_dialplan(Path(__file__).parents[2] / "dialplans" / "hotline.yaml")
    secrets = {p: f"pw{p}" for p in [*(a.id for a in plan.agents), *(s.id for s in plan.supervisors)]}
    ctx = RenderContext("127.0.0.1", 5060, 5038, "hotline", "s", "10.0.1.1", 4001, "/r", "/s", secrets, agi_key="k",
                        agi_others=(("10.0.1.2", 4002), ("10.0.1.3", 4003)))
    node = _node_context(ctx, AsteriskNode("a", "10.0.1.11"), plan)
    manager = render(plan, node)["manager.conf"]
    assert node.ami_from == ("10.0.1.1", "10.0.1.2", "10.0.1.3")
    assert "bindaddr=10.0.1.11" in manager
    for host in ("10.0.1.11", "10.0.1.1", "10.0.1.2", "10.0.1.3"):  # the node itself, then each instance
        assert f"permit={host}/32" in manager
