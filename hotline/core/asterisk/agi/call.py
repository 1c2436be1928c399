"""One FastAGI session: the call's environment and typed commands."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Mapping

from hotline.core.asterisk.agi.errors import AgiCommandError, AgiHangup, AgiTimeout
from hotline.core.asterisk.agi.protocol import Request, Result, parse_result, quote
from hotline.core.control import has_control

HANGUP_SETTLE_S = 0.5  # how long a hang-up may take to reach this half of the call

class AgiCall:
    """Commands for one call; one command at a time, each with a timeout."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, env: Mapping[str, str],
                 *, command_timeout: float) -> None:
        self._reader = reader
        self._writer = writer
        self.env: Mapping[str, str] = env
        request = Request.from_env(dict(env))
        self.route = request.route
        self.params: Mapping[str, str] = request.params
        self.args = [env[k] for k in sorted((k for k in env if k.startswith("agi_arg_")),
                                            key=lambda k: int(k[8:]) if k[8:].isdigit() else 0)]
        self.uniqueid = env.get("agi_uniqueid", "")
        self._timeout = command_timeout
        self._lock = asyncio.Lock()
        self.hungup = False

    async def command(self, line: str, *, timeout: float | None = None) -> Result:
        """Send one raw command and return its parsed 200 result."""
        self._sendable(line)
        async with self._lock:
            try:
                async with asyncio.timeout(timeout or self._timeout):
                    self._write(line)
                    with self._on_the_wire():
                        await self._writer.drain()
                        reply = await self._read_reply()
            except TimeoutError:
                raise AgiTimeout(f"no answer to {line.split(' ', 1)[0]} in {timeout or self._timeout:.0f}s") from None
        return reply

    def send_last(self, line: str) -> None:
        """Send the session's last command without waiting for its reply: the session closes next (closing
        flushes what is buffered), and Asterisk runs a command it has read before it sees the end of the session:
        one round trip less per call."""
        self._sendable(line)
        if self._lock.locked():
            raise AgiCommandError("another command is waiting for its reply; the last one is not sent")
        self._write(line)

    def _write(self, line: str) -> None:
        """Put one command line on the wire (buffered; `command` drains it)."""
        with self._on_the_wire():
            self._writer.write(line.encode() + b"\n")

    @contextlib.contextmanager
    def _on_the_wire(self) -> Iterator[None]:
        """A broken connection is the end of the call: AgiHangup, and no command after it. A timeout is
        left to the caller (TimeoutError is an OSError too)."""
        try:
            yield
        except TimeoutError:
            raise
        except (ConnectionError, OSError) as exc:
            self.hungup = True
            raise AgiHangup(str(exc)) from None

    def _sendable(self, line: str) -> None:
        if self.hungup:
            raise AgiHangup("the call has ended")
        if has_control(line):  # a line break would end this command and start another
            raise AgiCommandError(f"control character in the {line.split(' ', 1)[0]} command; not sent")

    async def _read_reply(self) -> Result:
        while True:
            raw = await self._reader.readline()
            if not raw:
                self.hungup = True
                raise AgiHangup("Asterisk closed the session")
            line = raw.decode(errors="replace").strip()
            if not line:
                continue
            if line == "HANGUP":
                self.hungup = True
                raise AgiHangup("HANGUP")
            if line.startswith("200"):
                return parse_result(line)
            if line.startswith("511"):
                self.hungup = True
                raise AgiHangup(line)
            if line.startswith("520-"):
                usage = [line]
                while not line.startswith("520 "):
                    line = (await self._reader.readline()).decode(errors="replace").strip()
                    usage.append(line)
                raise AgiCommandError(" | ".join(usage))
            raise AgiCommandError(line)

    async def _dead_or_fail(self, what: str) -> None:
        """After result=-1: a hang-up ends the flow, anything else is a command failure. A hang-up may
        reach this channel a moment after the command saw it (the far end of a Local channel), so a
        live channel is looked at once more before the command is called failed."""
        for attempt in range(2):
            status = await self.command("CHANNEL STATUS", timeout=2)  # AgiHangup propagates
            if status.code < 0:
                self.hungup = True
                raise AgiHangup(f"{what}: channel gone")
            if attempt == 0:
                await asyncio.sleep(HANGUP_SETTLE_S)
        raise AgiCommandError(f"{what} failed")

    @staticmethod
    def _digit(code: int) -> str | None:
        return chr(code) if code > 0 else None

    async def answer(self) -> None:
        if (await self.command("ANSWER")).code < 0:
            await self._dead_or_fail("ANSWER")

    async def stream_file(self, name: str, escape_digits: str = "", *, timeout: float = 300) -> str | None:
        """Play a prompt; return the key that interrupted it, or None."""
        result = await self.command(f"STREAM FILE {quote(name)} {quote(escape_digits)}", timeout=timeout)
        if result.code < 0:
            await self._dead_or_fail(f"STREAM FILE {name}")
        return self._digit(result.code)

    async def get_data(self, prompt: str, timeout_ms: int = 5000, max_digits: int = 1) -> tuple[str, bool]:
        """Play a prompt and collect up to `max_digits` keys; returns (digits, timed_out)."""
        result = await self.command(f"GET DATA {quote(prompt)} {timeout_ms} {max_digits}",
                                    timeout=timeout_ms / 1000 * (max_digits + 1) + 300)
        if result.code < 0:
            await self._dead_or_fail("GET DATA")
        digits = "" if result.data == "timeout" and result.code == 0 else (result.text or str(result.code))
        return digits, result.timed_out

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        """Wait for one key; None when none came in time."""
        result = await self.command(f"WAIT FOR DIGIT {timeout_ms}", timeout=timeout_ms / 1000 + self._timeout)
        if result.code < 0:
            await self._dead_or_fail("WAIT FOR DIGIT")
        return self._digit(result.code)

    async def record_file(self, name: str, timeout_ms: int, escape_digits: str = "", fmt: str = "wav") -> str | None:
        """Record the caller for `timeout_ms` into `<name>.<fmt>`; return the key that stopped it, or None."""
        result = await self.command(f"RECORD FILE {quote(name)} {fmt} {quote(escape_digits)} {timeout_ms}",
                                    timeout=timeout_ms / 1000 + self._timeout)
        if result.code < 0:
            await self._dead_or_fail("RECORD FILE")
        # `(dtmf)`: stopped by a key; `(timeout)`/`(hangup)`: the code is not a key (often 1)
        return self._digit(result.code) if result.data == "dtmf" else None

    async def set_variable(self, name: str, value: str) -> None:
        await self.command(f"SET VARIABLE {name} {quote(value)}")

    async def get_variable(self, name: str) -> str | None:
        result = await self.command(f"GET VARIABLE {quote(name)}")
        return result.data if result.code == 1 else None

    async def get_full_variable(self, expression: str) -> str | None:
        result = await self.command(f"GET FULL VARIABLE {quote(expression)}")
        return result.data if result.code == 1 else None

    async def exec(self, application: str, options: str = "", *, timeout: float = 300) -> int:
        """Run a dialplan application; returns its result code (-2: no such application)."""
        result = await self.command(f"EXEC {application} {quote(options)}", timeout=timeout)
        if result.code == -2:
            raise AgiCommandError(f"no application {application}")
        return result.code

    async def verbose(self, message: str, level: int = 1) -> None:
        await self.command(f"VERBOSE {quote(message)} {level}")

    async def hangup(self) -> None:
        await self.command("HANGUP")
        self.hungup = True
