"""One Asterisk process in the shared root, with its own folder, configs and ports."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import uuid
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from hotline.core.asterisk.baseconf import base_configs
from hotline.core.asterisk.root import AsteriskRoot
from hotline.core.logged import logged
from hotline.core.netutil import in_netns

log = logging.getLogger(__name__)


class AsteriskStartError(RuntimeError):
    """Asterisk did not boot; the message carries the tail of its log."""


class AsteriskInstance:
    """An Asterisk run as `chroot <root> asterisk -C <own asterisk.conf> -f`.

    Its folder lives inside the root at /srv/hotline/<name>-<unique>, so tests and `make run`
    never collide. Stop escalates: `core stop now`, then SIGTERM, then SIGKILL.

    Asterisk runs in its own session and outlives the service that started it: given a stable `inner_dir`,
    a restarted service adopts the running instance (`start_or_adopt`), so calls go on through a crash.

    Every service process that started or adopted it holds it (a file in run/holders/), so several instances
    may drive one Asterisk: `stop()` lets go, and stops Asterisk only when no other live process holds it.
    """

    def __init__(self, root: AsteriskRoot, name: str, configs: Mapping[str, str], *, keep: bool = False,
                 inner_dir: str | None = None, netns: str = "", system_name: str = "") -> None:
        self.root = root
        self.name = name
        self.netns = netns  # run inside this network namespace (`ip netns exec`): a media node of a cluster
        self.system_name = system_name  # prefixes every Uniqueid, so call ids stay unique across nodes
        self._configs = dict(configs)
        self._keep = keep
        self._inner_dir = inner_dir or f"/srv/hotline/{name}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._proc: asyncio.subprocess.Process | None = None
        self._pid: int | None = None  # the process group leader, started here or adopted
        self.adopted = False
        self._console: Path = self.dir / "console.log"
        self._stopped = False
        self._holder = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"  # this object's file in run/holders/

    @property
    def dir(self) -> Path:
        return self.host(self._inner_dir)

    @property
    def etc_dir(self) -> Path:
        return self.dir / "etc"

    @property
    def sounds_dir(self) -> Path:
        return self.dir / "sounds"

    @property
    def recordings_dir(self) -> Path:
        return self.dir / "recordings"

    @property
    def log_file(self) -> Path:
        return self.dir / "log" / "messages"

    def inner(self, host_path: Path) -> str:
        """The path as Asterisk sees it inside the chroot."""
        return "/" + str(Path(host_path).resolve().relative_to(self.root.path.resolve()))

    def host(self, inner_path: str) -> Path:
        return self.root.path / inner_path.lstrip("/")

    @property
    def _conf(self) -> str:
        return f"{self._inner_dir}/etc/asterisk.conf"

    def write_configs(self, configs: Mapping[str, str]) -> None:
        """(Re)write role configs into etc/; base configs stay."""
        self._configs.update(configs)
        for name, text in configs.items():
            _write_private(self.etc_dir / name, text)

    async def start_or_adopt(self, timeout: float = 60.0) -> bool:
        """Adopt the instance already running in this folder, or start one; True when adopted."""
        if await self._adopt():
            return True
        await self.start(timeout)
        return False

    async def running(self) -> int | None:
        """The pid of an Asterisk already serving this folder (left by a service that died), or None."""
        pid_file = self.dir / "run" / "asterisk.pid"
        if not (self.dir / "run" / "asterisk.ctl").exists() or not pid_file.exists():
            return None
        try:
            pid = int(pid_file.read_text().strip())
            rc, _ = await self._rx("core waitfullybooted", 5) if _alive(pid) else (1, "")
        except (ValueError, OSError, TimeoutError):
            return None
        return pid if rc == 0 else None

    async def _adopt(self) -> bool:
        pid = await self.running()
        if pid is None:
            return False
        self._pid, self.adopted = pid, True
        self._hold()
        changed = {name: text for name, text in {**self._base(), **self._configs}.items()
                   if _read(self.etc_dir / name) != text}
        if changed:  # e.g. the dialplan file was edited while the service was down
            self.write_configs(changed)
            await self.cli("core reload")
        log.info("Asterisk %s adopted (pid %s) in %s%s", self.name, pid, self._inner_dir,
                 f", reloaded {', '.join(sorted(changed))}" if changed else "")
        return True

    def prepare(self) -> None:
        """Its folder and configs, without starting Asterisk (what `start` begins with)."""
        for sub in ("etc", "spool", "run", "log", "db", "sounds", "recordings", "keys"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o700)  # its configs hold the AMI secret, phones' passwords, the FastAGI key
        for name, text in {**self._base(), **self._configs}.items():
            _write_private(self.etc_dir / name, text)

    async def start(self, timeout: float = 60.0) -> None:
        for stale in ("asterisk.ctl", "asterisk.pid"):
            (self.dir / "run" / stale).unlink(missing_ok=True)
        shutil.rmtree(self._holders, ignore_errors=True)  # those of an Asterisk that is gone
        self.prepare()
        self._hold()
        console = open(self._console, "ab")  # noqa: SIM115 - handed to the child; appends: rotated by truncation
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *in_netns(self.netns), "chroot", str(self.root.path), "/usr/sbin/asterisk", "-C", self._conf, "-f",
                "-n",
                stdin=asyncio.subprocess.DEVNULL, stdout=console, stderr=asyncio.subprocess.STDOUT,
                start_new_session=True, umask=0o077,  # its logs, recordings, astdb: the service's user only
            )
        finally:
            console.close()
        self._pid = self._proc.pid  # (ip netns exec and) chroot exec Asterisk: one process, leading its own session
        try:
            await asyncio.wait_for(self._wait_booted(), timeout)
        except (TimeoutError, AsteriskStartError) as exc:
            tail = self.log_tail()
            await self._kill()
            raise AsteriskStartError(f"Asterisk '{self.name}' did not boot ({exc}):\n{tail}") from None
        log.info("Asterisk %s up in %s", self.name, self._inner_dir)

    def _base(self) -> dict[str, str]:
        return base_configs(self._inner_dir, self.system_name)

    @property
    def pid(self) -> int | None:
        """Asterisk's process id (the leader of its process group), once started or adopted."""
        return self._pid

    async def _wait_booted(self) -> None:
        delay = 0.05
        while True:
            assert self._proc is not None
            if self._proc.returncode is not None:
                raise AsteriskStartError(f"exited with code {self._proc.returncode}")
            ctl = self.dir / "run" / "asterisk.ctl"
            if ctl.exists():
                rc, _ = await self._rx("core waitfullybooted", 30)
                if rc == 0:
                    return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def _rx(self, command: str, timeout: float) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            "chroot", str(self.root.path), "/usr/sbin/asterisk", "-C", self._conf, "-rx", command,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise
        return proc.returncode or 0, out.decode(errors="replace")

    async def cli(self, command: str, timeout: float = 10.0) -> str:
        """Run one CLI command (`asterisk -rx`) and return its output."""
        rc, out = await self._rx(command, timeout)
        if rc != 0:
            raise RuntimeError(f"asterisk -rx {command!r} failed ({rc}): {out[-500:]}")
        return out

    @property
    def _holders(self) -> Path:
        return self.dir / "run" / "holders"

    def _hold(self) -> None:
        """Note that this process drives the Asterisk (with its start time: a reused pid is not taken for it)."""
        self._holders.mkdir(parents=True, exist_ok=True)
        (self._holders / self._holder).write_text(_started_at(os.getpid()))

    def other_holders(self) -> list[int]:
        """The pids of the other live service processes holding this Asterisk (files of dead ones removed)."""
        live = []
        with contextlib.suppress(FileNotFoundError):
            for path in self._holders.iterdir():
                if path.name == self._holder:
                    continue
                pid = path.name.partition("-")[0]
                if pid.isdigit() and _alive(int(pid)) and _read(path) == _started_at(int(pid)):
                    live.append(int(pid))
                else:
                    path.unlink(missing_ok=True)
        return live

    async def stop(self) -> None:
        """Let go of Asterisk; unless another live process holds it: core stop now → SIGTERM → SIGKILL. Safe to
        call twice."""
        if self._stopped:
            return
        self._stopped = True
        (self._holders / self._holder).unlink(missing_ok=True)
        if self._pid is not None and (others := self.other_holders()):
            log.info("Asterisk %s left running for the other service process(es) holding it: %s", self.name,
                     ", ".join(map(str, others)))
            return
        if self._pid is not None and not await self._exited(0):
            with logged(log, "asking Asterisk %s to stop", self.name):  # then SIGTERM, then SIGKILL
                await self._rx("core stop now", 5)
            if not await self._exited(5):
                self._signal(signal.SIGTERM)
                if not await self._exited(5):
                    await self._kill()
        if not self._keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    async def _exited(self, timeout: float) -> bool:
        """Whether Asterisk has exited, waiting up to `timeout` (an adopted one is not our child: polled)."""
        if self._proc is not None:
            if self._proc.returncode is not None:
                return True
            try:
                await asyncio.wait_for(self._proc.wait(), timeout)
            except TimeoutError:
                return False
            return True
        deadline = asyncio.get_running_loop().time() + timeout
        while _alive(self._pid):
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(0.1)
        return True

    def _signal(self, sig: int) -> None:
        if self._pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._pid, sig)

    async def _kill(self) -> None:
        if await self._exited(0):
            return
        self._signal(signal.SIGKILL)
        await self._exited(5)

    def log_tail(self, lines: int = 80) -> str:
        texts = []
        for path in (self.log_file, self._console):
            with contextlib.suppress(OSError):
                texts.append(f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(texts)

    async def __aenter__(self) -> AsteriskInstance:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


def _alive(pid: int | None) -> bool:
    """A running process (not a zombie nobody has reaped yet)."""
    if pid is None:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _started_at(pid: int) -> str:
    """When the process started (clock ticks after boot, /proc/PID/stat's 22nd field); "" when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[19]
    except (OSError, IndexError):
        return ""


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _write_private(path: Path, text: str) -> None:
    """Write a config only its owner may read (it may hold secrets)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    path.chmod(0o600)  # an older file kept its mode
