"""The media nodes' side of the dialplan file (issue 18): each node renders the plan `on_node(name)` with its own
RenderContext; the engineer page and `hotline dialplan apply` apply the file to every node (`dialplans.apply`)."""

from __future__ import annotations

import dataclasses

from dialplans.model import Dialplan
from dialplans.render import RenderContext
from hotline.core.asterisk.nodes import AsteriskNode


def node_context(ctx: RenderContext, node: AsteriskNode, plan: Dialplan) -> RenderContext:
    """A media node's configs: its own SIP and AMI address, AMI logins from every service instance (their AGI
    addresses), the phones through the front door of the dialplan file's cluster section."""
    front = f"sip:{plan.cluster.address}:{plan.cluster.port}" if plan.cluster.nodes else ""
    return dataclasses.replace(ctx, bind_host=node.address, sip_port=node.sip_port, ami_port=node.ami_port,
                               ami_from=(ctx.agi_host, *(host for host, _ in ctx.agi_others)), phones_via=front)
