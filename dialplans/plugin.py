"""The dialplan file: checked, rendered into Asterisk's configs and applied (`hotline dialplan …`); and the
dial-out check every call out passes (`dialplans.dialout`), published for the domains that dial."""

from __future__ import annotations

from dialplans.commands import register
from dialplans.dialout import DialOutCollector, DialOutGuard, DialOutPolicy, HourlyCount
from dialplans.model import Dialplan
from hotline.core.plugin import Brought, Deps, Plugin


async def load(deps: Deps) -> Brought:
    guard = deps.publish(DialOutGuard(DialOutPolicy.of(deps.get(Dialplan)), HourlyCount(deps.redis)))
    return Brought(collectors=[DialOutCollector(guard)])


plugin = Plugin("dialplans", load, commands=[register])
