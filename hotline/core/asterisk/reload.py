"""Reload a running Asterisk's configs over AMI, and verify the dialplan really took."""

from __future__ import annotations

from hotline.core.asterisk.ami import AmiClient


class ReloadFailed(RuntimeError):
    """Asterisk did not accept the new configuration."""


class AmiReloader:
    """`module reload` each module; then check that `probe_context` holds `probe_exten`."""

    def __init__(self, ami: AmiClient, probe_exten: str, probe_context: str = "hotline-inbound") -> None:
        self._ami = ami
        self._probe = f"{probe_exten}@{probe_context}"

    @property
    def connected(self) -> bool:
        return self._ami.connected

    async def _cli(self, command: str) -> str:
        reply = await self._ami.action("Command", {"Command": command}, timeout=15)
        output = reply.get("Output", "")
        return "\n".join(output) if isinstance(output, list) else str(output)

    async def reload(self, modules: list[str]) -> None:
        for module in modules:
            out = await self._cli(f"module reload {module}")
            if ("not" in out.lower() and "reloaded" in out.lower()) or "unable" in out.lower():
                raise ReloadFailed(f"{module}: {out.strip()}")
        shown = await self._cli(f"dialplan show {self._probe}")
        if "There is no existence" in shown or "-= 0 extensions" in shown:
            raise ReloadFailed(f"the dialplan has no {self._probe} after the reload")
