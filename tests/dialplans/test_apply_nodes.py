"""Applying the dialplan to every media node: each node's own render, all or none (a scripted reloader per node;
on real Asterisk nodes: tests/cluster/test_every_node.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dialplans.apply import ApplyRolledBack, Target, apply_everywhere, rendered_configs
from dialplans.loader import load_dialplan, load_dialplan_text
from dialplans.model import Dialplan
from dialplans.nodes import node_context
from dialplans.render import RenderContext
from hotline.core.asterisk.nodes import AsteriskNode
from tests.dialplans.editing import SHIPPED, ScriptedReloader

NODES = (AsteriskNode("a", "10.0.1.11"), AsteriskNode("b", "10.0.1.12"))


def _context(agi_host: str) -> RenderContext:
    plan = load_dialplan(SHIPPED)
    phones = {i: f"pw{i}" for i in [*(a.id for a in plan.agents), *(s.id for s in plan.supervisors)]}
    return RenderContext("127.0.0.1", 5060, 5038, "hotline", "s", agi_host, 4573, "/srv/rec", "/srv/snd", phones)


def _nodes(tmp_path: Path) -> tuple[list[Target], list[ScriptedReloader]]:
    """Two nodes' folders with the shipped file rendered as each node runs it."""
    plan = load_dialplan(SHIPPED)
    base = _context("10.0.1.1")
    targets: list[Target] = []
    reloaders: list[ScriptedReloader] = []
    for node in NODES:
        etc = tmp_path / node.name
        etc.mkdir()
        reloaders.append(ScriptedReloader())
        target = Target(etc, node_context(base, node, plan), reloaders[-1], node.name)
        for name, text in target.configs(plan).items():
            (etc / name).write_text(text)
        targets.append(target)
    return targets, reloaders


def _renumbered() -> Dialplan:
    """The shipped file with 12305 renumbered 12304."""
    text = SHIPPED.read_text(encoding="utf-8").replace('  - {number: "12305",', '  - {number: "12304",', 1)
    return load_dialplan_text(text, "hotline.yaml")


def test_every_node_gets_its_own_render_and_a_reload(tmp_path: Path) -> None:
    targets, reloaders = _nodes(tmp_path)
    result = asyncio.run(apply_everywhere(_renumbered(), targets))
    assert result.nodes == ("a", "b") and "extensions.conf" in result.changed
    assert [r.reloads for r in reloaders] == [1, 1]
    for target, node in zip(targets, NODES, strict=True):
        assert "exten => 12304," in (target.etc_dir / "extensions.conf").read_text()
        pjsip = (target.etc_dir / "pjsip.conf").read_text()
        assert f"[carrier_{node.name}]" in pjsip and node.address in pjsip  # the node's own trunk names, address
    assert result.diff.count("+exten => 12304,") >= 1  # the first node's diff


def test_when_node_b_refuses_node_a_is_rolled_back_too(tmp_path: Path) -> None:
    targets, reloaders = _nodes(tmp_path)
    before = {t.node: (t.etc_dir / "extensions.conf").read_text() for t in targets}
    reloaders[1].refuse = 1
    with pytest.raises(ApplyRolledBack) as refused:
        asyncio.run(apply_everywhere(_renumbered(), targets))
    assert refused.value.node == "b" and "node b" in str(refused.value)
    assert {t.node: (t.etc_dir / "extensions.conf").read_text() for t in targets} == before
    assert [r.reloads for r in reloaders] == [2, 2]  # a: the new, then the old again; b: refused, then the old


def test_one_box_renders_the_plan_as_it_is(tmp_path: Path) -> None:
    plan = load_dialplan(SHIPPED)
    ctx = _context("127.0.0.1")
    assert Target(tmp_path, ctx, ScriptedReloader()).configs(plan) == rendered_configs(plan, ctx)
