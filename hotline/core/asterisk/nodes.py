"""Several hotline Asterisks (media nodes) driven by one service: one AMI session per node behind the
AmiClient interface the domains already use (issue 18).

Every node's events reach the subscribers tagged with `HotlineNode`; the node owning each channel is learnt
from those events, so an action on a channel (Hangup, Redirect, Bridge …) goes to its node, and an Originate
that bridges to a caller (`data` naming the caller's channel, or `HOTLINE_CALL_ID`) is placed on the caller's
node. EventList actions (CoreShowChannels, PJSIPShowContacts …) are asked of every connected node and merged.
Anything else goes to the first connected node.

A node whose AMI stays away `lost_after_s` is lost: its calls are gone with it, so every channel it held is
announced to the subscribers as a Hangup (cause 38, network out of order, `HotlineNodeLost`), which ends the
call records and takes its waiting callers out of the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hotline.core.asterisk.ami import AmiClient, AmiDisconnected, AmiMessage, AmiSnapshot, Origination, State

log = logging.getLogger(__name__)

NODE_FIELD = "HotlineNode"  # added to every event: the name of the node it came from
_CHANNEL_FIELDS = (("Channel", "Uniqueid"), ("DestChannel", "DestUniqueid"))


@dataclass(frozen=True)
class AsteriskNode:
    """One media node the service drives: its name, the address its SIP and AMI listen on, and (on this
    machine, under test) the network namespace its Asterisk runs in."""

    name: str
    address: str
    ami_port: int = 5038
    sip_port: int = 5060
    netns: str = ""


class NodeAmi(AmiClient):
    """The AMI sessions to every node, as one client."""

    def __init__(self, nodes: Mapping[str, AmiClient], *, lost_after_s: float = 5.0) -> None:
        if not nodes:
            raise ValueError("no nodes")
        first = next(iter(nodes.values()))
        super().__init__("", 0, first.username, first.secret, name="nodes")
        self.nodes = dict(nodes)
        self.lost_after_s = lost_after_s
        self._owner: dict[str, str] = {}  # channel name or Uniqueid → node name
        self._channels: dict[str, dict[str, str]] = {n: {} for n in nodes}  # node → Uniqueid → channel name
        self._away_since: dict[str, float] = {}
        self.lost: set[str] = set()  # nodes whose calls were given up
        self._watch: asyncio.Task[None] | None = None
        for name, client in self.nodes.items():
            client.subscribe("*", self._forwarder(name))

    def _forwarder(self, node: str) -> Any:
        def forward(message: AmiMessage) -> None:
            self._learn(node, message)
            message[NODE_FIELD] = node  # type: ignore[index]  # panoramisk's Message is a dict
            self.dispatch(message)
        return forward

    def _learn(self, node: str, message: AmiMessage) -> None:
        gone = str(message.get("Event", "")) == "Hangup"
        channel, uniqueid = str(message.get("Channel", "") or ""), str(message.get("Uniqueid", "") or "")
        if uniqueid and channel:
            if gone:
                self._channels[node].pop(uniqueid, None)
            else:
                self._channels[node][uniqueid] = channel
        for name_key, id_key in _CHANNEL_FIELDS:
            for key in (name_key, id_key):
                value = str(message.get(key, "") or "")
                if not value:
                    continue
                if gone and key in ("Channel", "Uniqueid"):
                    self._owner.pop(value, None)
                else:
                    self._owner[value] = node

    def node_of(self, channel_or_uniqueid: str) -> str | None:
        """The node holding this channel (by name or Uniqueid), if known."""
        return self._owner.get(channel_or_uniqueid)

    # --- state ---------------------------------------------------------------------------
    @property
    def state(self) -> State:
        states = {c.state for c in self.nodes.values()}
        for state in ("connected", "connecting", "disconnected"):
            if state in states:
                return state
        return "closed"

    @property
    def connected(self) -> bool:
        """At least one node answers (the others' calls are lost, new calls go to the live ones)."""
        return any(c.connected for c in self.nodes.values())

    def node_states(self) -> dict[str, State]:
        return {name: c.state for name, c in self.nodes.items()}

    def summary(self) -> str:
        """Each node's AMI state, for the health page: `a connected, b disconnected (lost)`."""
        return ", ".join(f"{n} {s}" + (" (lost)" if n in self.lost else "") for n, s in self.node_states().items())

    def snapshot(self) -> AmiSnapshot:
        snaps = [c.snapshot() for c in self.nodes.values()]
        return AmiSnapshot(self.state, sum(s.reconnects for s in snaps), sum(s.pending_actions for s in snaps))

    # --- life-cycle ------------------------------------------------------------------------
    async def connect(self, timeout: float = 10.0) -> None:
        """Connect to every node (each must be up at start), then resync once; a node's reconnect resyncs again."""
        for client in self.nodes.values():
            await client.connect(timeout)
        for client in self.nodes.values():
            client.on_connected(self._run_resync)
        self._watch = asyncio.create_task(self._watch_nodes(), name="nodes-ami-watch")
        await self._run_resync()

    async def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        for client in self.nodes.values():
            await client.close()
        self._state = "closed"

    async def _watch_nodes(self, every_s: float = 0.25) -> None:
        loop = asyncio.get_running_loop()
        while True:
            for name, client in self.nodes.items():
                if client.connected:
                    self._away_since.pop(name, None)
                    self.lost.discard(name)
                elif name not in self.lost and loop.time() - self._away_since.setdefault(name, loop.time()) \
                        >= self.lost_after_s:
                    self._node_lost(name)
            await asyncio.sleep(every_s)

    def _node_lost(self, node: str) -> None:
        """The node is gone with its calls: each of its channels ends for the subscribers."""
        self.lost.add(node)
        channels, self._channels[node] = self._channels[node], {}
        log.warning("media node %s lost (AMI away %.0f s): ending its %d channel(s)", node, self.lost_after_s,
                    len(channels))
        for uniqueid, channel in channels.items():
            self._owner.pop(uniqueid, None)
            self._owner.pop(channel, None)
            self.dispatch({"Event": "Hangup", "Channel": channel, "Uniqueid": uniqueid, "Cause": "38",
                           "Cause-txt": "Network out of order", "HotlineNodeLost": node, NODE_FIELD: node})

    # --- actions ---------------------------------------------------------------------------
    def _live(self) -> list[AmiClient]:
        live = [c for c in self.nodes.values() if c.connected]
        if not live:
            raise AmiDisconnected("no media node's AMI is connected")
        return live

    def _client_for(self, *texts: str) -> AmiClient:
        """The node owning the first channel named in `texts` (a name, a Uniqueid, or Bridge's `chan,options`)."""
        for text in texts:
            node = self._owner.get(text) or self._owner.get(text.split(",", 1)[0])
            if node is not None:
                return self.nodes[node]
        return self._live()[0]

    async def action(self, action: str, fields: Mapping[str, str | list[str]] | None = None, *,
                     timeout: float | None = None) -> AmiMessage:
        f = fields or {}
        return await self._client_for(*_texts(f, ("Channel", "Channel1", "Uniqueid", "ExtraChannel"))).action(
            action, f, timeout=timeout)

    async def action_list(self, action: str, fields: Mapping[str, str] | None = None, *,
                          timeout: float | None = None) -> list[AmiMessage]:
        f = fields or {}
        named = _texts(f, ("Channel", "Uniqueid"))
        if named:
            return await self._client_for(*named).action_list(action, f, timeout=timeout)
        merged: list[AmiMessage] = []
        for client in self._live():
            merged += await client.action_list(action, f, timeout=timeout)
        return merged

    async def originate(self, channel: str, *, context: str | None = None, exten: str | None = None,
                        priority: int = 1, application: str | None = None, data: str | None = None,
                        caller_id: str | None = None, variables: Mapping[str, str] | None = None,
                        timeout_s: float = 30.0, channel_id: str | None = None) -> Origination:
        """On the node of the caller this call joins (Bridge's channel, HOTLINE_CALL_ID), else the first live one."""
        v = variables or {}  # (the call id first: it is unique across nodes, a channel name may not be)
        client = self._client_for(*[t for t in (v.get("HOTLINE_CALL_ID", ""), data or "") if t])
        return await client.originate(channel, context=context, exten=exten, priority=priority,
                                      application=application, data=data, caller_id=caller_id, variables=variables,
                                      timeout_s=timeout_s, channel_id=channel_id)


def _texts(fields: Mapping[str, Any], keys: Sequence[str]) -> list[str]:
    return [str(fields[k]) for k in keys if isinstance(fields.get(k), str) and fields[k]]
