"""Small network helpers: free loopback ports, waiting for a port to listen, running in a network namespace."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import time

# Ports are drawn below the kernel's ephemeral range (32768+, where every outgoing connection takes one,
# so a port found free there can be gone a moment later) and below Asterisk's RTP range (20000-30000).
# Parallel test workers (pytest-xdist) draw from separate slices so they never pick the same port.
_BASE, _SLICE, _SLICES = 10000, 2000, 5
_handed_out: set[int] = set()


def _port_range() -> range:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    index = int(worker[2:]) + 1 if worker.startswith("gw") and worker[2:].isdigit() else 0
    start = _BASE + (index % _SLICES) * _SLICE
    return range(start, start + _SLICE)


def free_port(host: str = "127.0.0.1", kind: int = socket.SOCK_STREAM) -> int:
    """A port that is free on `host` for TCP and UDP (SIP uses both)."""
    candidates = _port_range()
    for _ in range(500):
        port = random.choice(candidates)
        if port not in _handed_out and _free_both(host, port):
            _handed_out.add(port)  # not bound yet by its user: never hand it out twice in this process
            return port
    raise RuntimeError(f"no free port in {candidates.start}-{candidates.stop - 1}")


def _free_both(host: str, port: int) -> bool:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


async def wait_listening(host: str, port: int, timeout: float = 10.0) -> None:
    """Wait until a TCP port accepts connections, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f}s") from None
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return


def in_netns(netns: str) -> tuple[str, ...]:
    """The command prefix that runs a program in the network namespace `netns` (`ip netns exec`, which execs it:
    the child's pid is the program's), or nothing for this process's own namespace."""
    return ("ip", "netns", "exec", netns) if netns else ()
