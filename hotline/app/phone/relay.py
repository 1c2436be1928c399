"""The browser phone's SIP websocket, relayed to the hotline Asterisk's websocket transport on loopback.

The browser talks to one origin (the service, behind any reverse proxy, over HTTPS when it has a certificate)
and Asterisk's HTTP stays on loopback. Each message the browser sends is checked (`sipcheck.refusal`): a phone
speaking for another agent is cut off, both sockets closed and the refusal audited. Messages are capped in size;
when either side goes, the other is closed too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
from aiohttp import WSMsgType, web

from hotline.app.phone.sipcheck import refusal

log = logging.getLogger(__name__)

SUBPROTOCOL = "sip"
NOT_YOURS = 4403  # close code: the browser sent SIP for another phone (or not SIP)
UPSTREAM_GONE = 1011


@dataclass(frozen=True)
class RelayLimits:
    message_bytes: int = 32 * 1024  # an INVITE with a WebRTC SDP is a few kB
    heartbeat_s: float = 25.0
    connect_s: float = 5.0


Refused = Callable[[str], Awaitable[None]]  # told why, before the sockets close


async def connect_upstream(http: aiohttp.ClientSession, url: str,
                           limits: RelayLimits) -> aiohttp.ClientWebSocketResponse:
    return await http.ws_connect(url, protocols=(SUBPROTOCOL,), max_msg_size=limits.message_bytes,
                                 timeout=aiohttp.ClientWSTimeout(ws_close=2.0), autoping=True,
                                 heartbeat=limits.heartbeat_s)


async def relay(browser: web.WebSocketResponse, asterisk: aiohttp.ClientWebSocketResponse, agent: str,
                refused: Refused) -> None:
    """Carry messages both ways until one side closes or the browser speaks for another phone."""

    async def from_browser() -> None:
        async for msg in browser:
            if msg.type is WSMsgType.ERROR:  # over the size cap (aiohttp closes with 1009) or a broken frame
                return
            if msg.type is not WSMsgType.TEXT:
                reason = "a binary frame"
            else:
                reason = refusal(msg.data, agent) or ""
                if not reason:
                    await asterisk.send_str(msg.data)
                    continue
            await refused(reason)
            await browser.close(code=NOT_YOURS, message=b"SIP for another phone")
            return

    async def from_asterisk() -> None:
        async for msg in asterisk:
            if msg.type is WSMsgType.TEXT:
                await browser.send_str(msg.data)
            elif msg.type is WSMsgType.BINARY:
                await browser.send_bytes(msg.data)
            else:
                break
        await browser.close(code=UPSTREAM_GONE, message=b"the hotline's SIP went away")

    tasks = [asyncio.create_task(from_browser()), asyncio.create_task(from_asterisk())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, RuntimeError):
                await task
        with contextlib.suppress(ConnectionError, RuntimeError):
            await asterisk.close()
        with contextlib.suppress(ConnectionError, RuntimeError):
            await browser.close()
