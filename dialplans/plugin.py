"""The dialplan file: checked, rendered into Asterisk's configs and applied (`hotline dialplan …`, and the engineer
page 拨号计划 at /engineer/ over `dialplans.http`); and the dial-out check every call out passes
(`dialplans.dialout`), published for the domains that dial."""

from __future__ import annotations

from pathlib import Path

from dialplans import http
from dialplans.commands import register
from dialplans.dialout import DialOutCollector, DialOutGuard, DialOutPolicy, HourlyCount
from dialplans.editor import DialplanEditor, Target
from dialplans.history import DialplanHistory
from dialplans.model import Dialplan
from dialplans.nodes import node_context
from dialplans.render import RenderContext
from hotline.core.asterisk.reload import AmiReloader
from hotline.core.plugin import Brought, Deps, Plugin, Started

PAGES = Path(__file__).parent / "pages"


async def load(deps: Deps) -> Brought:
    plan = deps.get(Dialplan)
    guard = deps.publish(DialOutGuard(DialOutPolicy.of(plan), HourlyCount(deps.redis)))
    editor = deps.publish(DialplanEditor(deps.core.dialplan_file, DialplanHistory(deps.core.home / "dialplan-history"),
                                         deps.core.home / "secrets.json"))

    async def started(s: Started) -> None:
        """Asterisk runs the file as rendered at start: the page compares with it and applies to it (with media
        nodes: to each, the first node's context being the one published)."""
        ctx, main = s.services.get(RenderContext), plan.centre.main_number
        if not deps.core.nodes:
            editor.started(Target(s.hotline.etc_dir, ctx, AmiReloader(deps.ami, main)))
            return
        editor.started(*(Target(instance.etc_dir, node_context(ctx, node, plan), AmiReloader(client, main), node.name)
                         for (instance, client), node in zip(s.nodes, deps.core.nodes, strict=True)))

    return Brought(routes=[http.routes(editor)], collectors=[DialOutCollector(guard)], on_asterisk=[started],
                   pages={"engineer": PAGES / "engineer"})  # 拨号计划


plugin = Plugin("dialplans", load, commands=[register])
