"""What `bench capacity` reads off the machine and the stack while calls are held: CPU per process
(from /proc), the machine's load, Redis' memory (INFO) and the database's rows and size."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from hotline.app.stack import Stack
from hotline.core.redis_client import redis_client

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def _children(pid: int) -> dict[int, str]:
    """Direct children of `pid`: their command lines."""
    out: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
    return out


async def processes(stack: Stack) -> dict[str, int]:
    """The processes whose CPU the bench reports, by role."""
    assert stack.hotline is not None
    found = {"service_and_bench": os.getpid()}
    if (pid := await stack.hotline.running()) is not None:
        found["asterisk"] = pid
    if stack.world is not None and (pid := await stack.world.asterisk.running()) is not None:
        found["world_asterisk"] = pid
    for pid, cmdline in _children(os.getpid()).items():
        if "recordings.worker" in cmdline:
            found["recording_worker"] = pid
        elif "redis-server" in cmdline:
            found["redis"] = pid
    return found


@dataclass
class CpuWindow:
    """CPU use of the named processes and of the whole machine between `start()` and `stop()`."""

    pids: dict[str, int]
    _wall: float = 0.0
    _cpu: dict[str, float] | None = None
    _machine: tuple[float, float] = (0.0, 0.0)

    def start(self) -> None:
        self._wall, self._machine = time.monotonic(), machine_busy()
        self._cpu = {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def stop(self) -> dict[str, float]:
        """Per process: % of one core; `machine_busy_pct`: % of all cores busy (everyone's work, ours and not)."""
        assert self._cpu is not None
        wall = max(1e-6, time.monotonic() - self._wall)
        out = {f"{name}_cpu_pct": round(100 * (cpu_seconds(pid) - self._cpu[name]) / wall, 1)
               for name, pid in self.pids.items()}
        busy, total = machine_busy()
        out["machine_busy_pct"] = round(100 * (busy - self._machine[0]) / max(1, total - self._machine[1]), 1)
        out["load_1m"] = float(Path("/proc/loadavg").read_text().split()[0])
        return out


async def redis_memory(stack: Stack) -> dict[str, int]:
    """Redis' used memory (bytes), key count and the bytes of the ACD's call hashes (`call_bytes`: MEMORY USAGE
    of each `acd:call:*`, exact where used_memory's allocator noise swamps a few calls)."""
    client = redis_client(stack.redis_url)
    try:
        info = await client.info("memory")
        keys = await client.dbsize()
        call_bytes = 0
        async for key in client.scan_iter(match="acd:call:*", count=500):
            call_bytes += int(await client.memory_usage(key) or 0)
    finally:
        await client.aclose()
    return {"used_memory": int(info["used_memory"]), "keys": int(keys), "call_bytes": call_bytes}


async def database_rows(stack: Stack) -> dict[str, int]:
    """Rows per table and the file's size in bytes (`_bytes`) of the stack's SQLite database."""
    assert stack.sessions is not None
    async with stack.sessions() as s:
        tables = (await s.execute(text(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"))).scalars().all()
        rows = {t: int((await s.execute(text(f'SELECT count(*) FROM "{t}"'))).scalar_one()) for t in tables}
        pages = int((await s.execute(text("PRAGMA page_count"))).scalar_one())
        size = int((await s.execute(text("PRAGMA page_size"))).scalar_one())
    rows["_bytes"] = pages * size
    return rows
