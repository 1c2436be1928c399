"""Kamailio, the SIP front door, run in its namespace from the configs `dialplans.kamailio` renders."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import signal
import socket
import uuid
from collections.abc import Mapping
from pathlib import Path

from dialplans.kamailio import CONTROL_SOCKET, KAMAILIO_CFG, FrontDoorContext, render_kamailio
from dialplans.model import Dialplan
from hotline.core.asterisk.sipbans import BanPolicy

log = logging.getLogger(__name__)


class FrontDoor:
    """One Kamailio in `netns`, its files and log in `folder`."""

    def __init__(self, plan: Dialplan, folder: Path, netns: str, phone_secrets: Mapping[str, str],
                 bans: BanPolicy | None = None) -> None:
        self.plan = plan
        self.folder = folder
        self.netns = netns
        self._phones = dict(phone_secrets)
        self._bans = bans or BanPolicy()
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def log_file(self) -> Path:
        return self.folder / "kamailio.log"

    async def start(self, timeout: float = 15.0) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o700)
        for name, text in render_kamailio(self.plan, FrontDoorContext(self.folder, self._phones,
                                                                            bans=self._bans)).items():
            path = self.folder / name
            path.write_text(text)
            path.chmod(0o600)
        with open(self.log_file, "ab") as out:
            self._proc = await asyncio.create_subprocess_exec(
                "ip", "netns", "exec", self.netns, "kamailio", "-f", str(self.folder / KAMAILIO_CFG), "-DD", "-E",
                "-Y", str(self.folder), "-P", str(self.folder / "kamailio.pid"), "-m", "64", "-M", "8",
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT,
                start_new_session=True)
        deadline = asyncio.get_running_loop().time() + timeout
        while not await self.answers():
            if self._proc.returncode is not None or asyncio.get_running_loop().time() > deadline:
                tail = self.log_tail()
                await self.stop()
                raise RuntimeError(f"Kamailio did not start:\n{tail}")
            await asyncio.sleep(0.2)
        log.info("front door up on %s:%d", self.plan.cluster.address, self.plan.cluster.port)

    async def answers(self, timeout: float = 0.5) -> bool:
        """Whether Kamailio answers an OPTIONS sent to it (from the service's address)."""
        return await asyncio.to_thread(sip_options, self.plan.cluster.address, self.plan.cluster.port, timeout)

    async def control(self, *command: str) -> str:
        """A `kamcmd` command over the control socket (`htable.dump bans`); its output."""
        proc = await asyncio.create_subprocess_exec(
            "kamcmd", "-s", f"unix:{self.folder / CONTROL_SOCKET}", *command, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await proc.communicate()
        return out.decode(errors="replace")

    def log_tail(self, lines: int = 60) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def log_lines(self, needle: str) -> list[str]:
        with contextlib.suppress(OSError):
            return [line for line in self.log_file.read_text(errors="replace").splitlines() if needle in line]
        return []

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()


def sip_options(host: str, port: int, timeout: float) -> bool:
    """Send one SIP OPTIONS over UDP; True on a 200 answer."""
    return sip_request("OPTIONS", f"sip:{host}:{port}", host, port, timeout).startswith("SIP/2.0 200")


def sip_request(method: str, uri: str, host: str, port: int, timeout: float, user: str = "probe") -> str:
    """Send one out-of-dialog SIP request over UDP (From and To `user`); the status line of the first final
    answer, or "" when none came."""
    return sip_exchange(method, uri, host, port, timeout, user).split("\r\n", 1)[0]


def sip_exchange(method: str, uri: str, host: str, port: int, timeout: float, user: str = "probe",
                 headers: str = "", source: str = "") -> str:
    """`sip_request` with further header lines (each ending in CRLF), sent from `source` (an address of this
    host; default: the route's); the whole first final answer, or ""."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        if source:
            sock.bind((source, 0))
        sock.connect((host, port))
        local, lport = sock.getsockname()
        tag, call = uuid.uuid4().hex[:8], uuid.uuid4().hex
        sdp = f"v=0\r\no=- 1 1 IN IP4 {local}\r\ns=-\r\nc=IN IP4 {local}\r\nt=0 0\r\nm=audio 9 RTP/AVP 8\r\n"
        body = sdp if method == "INVITE" else ""
        kind = "Content-Type: application/sdp\r\n" if body else ""
        sock.send((f"{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {local}:{lport};branch=z9hG4bK{tag}\r\n"
                   f"Max-Forwards: 70\r\nFrom: <sip:{user}@{host}>;tag={tag}\r\nTo: <sip:{user}@{host}>\r\n"
                   f"Call-ID: {call}\r\nCSeq: 1 {method}\r\nContact: <sip:{user}@{local}:{lport}>\r\n{kind}"
                   f"{headers}Content-Length: {len(body)}\r\n\r\n{body}").encode())
        try:
            while True:
                answer = sock.recv(65535).decode(errors="replace")
                if not answer.startswith("SIP/2.0 1"):  # provisional answers: wait on
                    return answer
        except OSError:
            return ""


def sip_register(host: str, port: int, phone: str, password: str, timeout: float = 2.0, expires: int = 0,
                 source: str = "") -> str:
    """REGISTER `phone` with its password (digest, MD5) from `source`; `expires` 0: no binding is left. The final
    status line (the challenge's when it came without one)."""
    uri, expiry = f"sip:{host}", f"Expires: {expires}\r\n"
    first = sip_exchange("REGISTER", uri, host, port, timeout, phone, expiry, source)
    challenge = re.search(r'realm="([^"]*)".*?nonce="([^"]*)"', first)
    if not first.startswith("SIP/2.0 401") or challenge is None:
        return first.split("\r\n", 1)[0]
    realm, nonce = challenge.groups()
    ha1 = _md5(f"{phone}:{realm}:{password}")
    response = _md5(f"{ha1}:{nonce}:{_md5(f'REGISTER:{uri}')}")
    auth = (f'Authorization: Digest username="{phone}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
            f'response="{response}", algorithm=MD5\r\n')
    return sip_exchange("REGISTER", uri, host, port, timeout, phone, expiry + auth, source).split("\r\n", 1)[0]


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # SIP digest (RFC 3261): MD5 is the protocol's, not a choice
