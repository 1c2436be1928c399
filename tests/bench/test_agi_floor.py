"""The AGI bench's floor: a bare FastAGI responder that sends the bench's commands and ends the session."""

from __future__ import annotations

import asyncio

from bench.agi import COMMANDS
from bench.agi_floor import FloorResponder

ENV = b"agi_network: yes\nagi_request: agi://127.0.0.1/bench?leg=floor\nagi_channel: Local/floor@bench-0001;2\n\n"


async def _asterisk(port: int, replies: list[bytes]) -> list[str]:
    """Plays Asterisk's side of one session: the environment, then one reply per command; returns the commands."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(ENV)
    heard: list[str] = []
    for reply in replies:
        line = await asyncio.wait_for(reader.readline(), 5)
        if not line:
            break
        heard.append(line.decode().rstrip("\n"))
        writer.write(reply)
    assert await asyncio.wait_for(reader.read(), 5) == b""  # the responder closed the session
    writer.close()
    return heard


async def test_the_floor_sends_the_bench_commands_in_order_and_closes() -> None:
    floor = FloorResponder(COMMANDS)
    port = await floor.start()
    try:
        heard = await _asterisk(port, [b"200 result=1 (Local/floor@bench-0001;2)\n", b"200 result=1\n",
                                       b"200 result=1 (x)\n"])
        assert heard == list(COMMANDS)
        assert floor.sessions == 1
        two = await asyncio.gather(*(_asterisk(port, [b"200 result=1\n"] * 3) for _ in range(2)))
        assert two == [list(COMMANDS)] * 2 and floor.sessions == 3
    finally:
        await floor.close()


async def test_a_hangup_reply_ends_the_session_without_counting_it() -> None:
    floor = FloorResponder(COMMANDS)
    port = await floor.start()
    try:
        heard = await _asterisk(port, [b"HANGUP\n", b"200 result=1\n", b"200 result=1\n"])
        assert heard == [COMMANDS[0]]
        assert floor.sessions == 0
    finally:
        await floor.close()
