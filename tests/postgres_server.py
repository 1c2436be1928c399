"""A throw-away PostgreSQL cluster on loopback (or on an address of its own in a network namespace), run as the
`postgres` user (the server refuses root)."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hotline.app.plugins import upgrade_database
from hotline.core.db.engine import SessionFactory, create_engine, session_factory
from hotline.core.netutil import free_port, in_netns

# fixture params for "on both databases": the PostgreSQL half carries the `postgres` mark, so
# `make test-fast` (-m "not postgres") runs the SQLite half with no database server
BOTH_DATABASES = ("sqlite", pytest.param("postgres", marks=pytest.mark.postgres))


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise FileNotFoundError(f"PostgreSQL's {name} not found (apt-get install postgresql)")
    return path


class PostgresServer:
    """initdb + start in `dir`; `url` gives an asyncpg URL with a generated password. Given `netns`, it runs in
    that network namespace on `host` (its address there) and takes logins from `clients` (a network) too."""

    def __init__(self, dir: Path, port: int, database: str = "hotline", user: str = "hotline", *,
                 host: str = "127.0.0.1", netns: str = "", clients: str = "") -> None:
        self.dir = dir
        self.port = port
        self.host, self.netns, self.clients = host, netns, clients
        self.database = database
        self.user = user
        self.password = secrets.token_urlsafe(16)
        self._started = False

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"

    async def _run(self, *argv: str, input: str | None = None, netns: str = "") -> str:
        as_postgres = os.geteuid() == 0
        cmd = [*in_netns(netns), *(["runuser", "-u", "postgres", "--", *argv] if as_postgres else argv)]
        proc = await asyncio.create_subprocess_exec(
            *cmd, stdin=asyncio.subprocess.PIPE if input else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate(input.encode() if input else None)
        if proc.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {out.decode(errors='replace')[-800:]}")
        return out.decode(errors="replace")

    async def start(self) -> None:
        data = self.dir / "data"
        self.dir.mkdir(parents=True, exist_ok=True)
        pwfile = self.dir / "pwfile"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            os.chown(pwfile, pg.pw_uid, pg.pw_gid)
            for path in (self.dir, *self.dir.parents):
                if path == Path("/"):
                    break
                os.chmod(path, os.stat(path).st_mode | 0o111)  # let postgres traverse to its folder
            os.chown(self.dir, pg.pw_uid, pg.pw_gid)
        await self._run(_bin("initdb"), "-D", str(data), "-A", "scram-sha-256", "-U", "postgres",
                        f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C.UTF-8")
        pwfile.unlink()
        if self.clients:
            with open(data / "pg_hba.conf", "a") as hba:
                hba.write(f"host all all {self.clients} scram-sha-256\n")
        await self._run(_bin("pg_ctl"), "-D", str(data), "-l", str(self.dir / "postgres.log"), "-w", "-t", "60",
                        "-o", f"-h {self.host} -p {self.port} -k {self.dir} -c fsync=off", "start", netns=self.netns)
        self._started = True
        sql = (f"CREATE ROLE {self.user} LOGIN PASSWORD '{self.password}';\n"
               f"CREATE DATABASE {self.database} OWNER {self.user};\n")
        await self._run("env", f"PGPASSWORD={self.password}", "psql", "-h", str(self.dir), "-p", str(self.port),
                        "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-f", "-", input=sql)

    async def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        await self._run(_bin("pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.asynccontextmanager
async def migrated_sessions(kind: str, folder: Path) -> AsyncIterator[SessionFactory]:
    """A migrated database of a test's own: SQLite in `folder`, or a PostgreSQL server started for it (`kind` is
    a BOTH_DATABASES parameter)."""
    server = None if kind == "sqlite" else PostgresServer(Path(tempfile.mkdtemp(prefix="hotline-pg-")), free_port())
    if server is not None:
        await server.start()
    url = server.url if server is not None else f"sqlite+aiosqlite:///{folder / 'h.db'}"
    try:
        await upgrade_database(url)
        engine = create_engine(url)
        yield session_factory(engine)
        await engine.dispose()
    finally:
        if server is not None:
            await server.stop()
