"""The FastAGI wire format: the environment block, command quoting, result lines."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from hotline.core.control import CONTROL

_RESULT = re.compile(r"^200 result=(-?\d+)(.*)$")


class MalformedSession(ValueError):
    """The peer did not speak FastAGI."""


def parse_env_line(line: str) -> tuple[str, str]:
    """`agi_x: value` → (agi_x, value); empty values allowed; splits on the first colon."""
    key, sep, value = line.partition(":")
    if not sep or not key.startswith("agi_") or " " in key:
        raise MalformedSession(f"not an AGI environment line: {line[:60]!r}")
    return key, value.strip()


KEY_PARAM = "hotline_key"  # the deployment's FastAGI key, last in every AGI URL the dialplan renders


@dataclass(frozen=True)
class Request:
    """What the dialplan asked for: `agi://host:port/<route>?<params>`."""

    route: str
    params: dict[str, str]

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Request:
        raw = env.get("agi_request", "")
        if raw.startswith("agi://"):
            parts = urlsplit(raw)
            path, query = parts.path, parts.query
        else:
            path, _, query = env.get("agi_network_script", "").partition("?")
        return cls(route=path.strip("/"), params=dict(parse_qsl(query, keep_blank_values=True)))


def quote(value: str) -> str:
    """Quote an argument for an AGI command line; control characters (line breaks among them) become spaces,
    so a value from data can never end the command and start another."""
    clean = CONTROL.sub(" ", value.replace("\\", "\\\\").replace('"', '\\"'))
    return f'"{clean}"'


@dataclass(frozen=True)
class Result:
    """A parsed `200 result=N (data) rest` reply."""

    code: int
    data: str | None
    rest: str
    text: str = ""  # the result exactly as sent (GET DATA keys keep their leading zeros)

    @property
    def timed_out(self) -> bool:
        return self.data == "timeout"


def parse_result(line: str) -> Result:
    """Parse a 200 reply; raise ValueError for anything else (the caller maps 5xx)."""
    m = _RESULT.match(line)
    if not m:
        raise ValueError(line)
    code, tail = int(m.group(1)), m.group(2)
    data: str | None = None
    if tail.startswith(" ("):
        end = tail.rfind(")")
        data, tail = tail[2:end], tail[end + 1:]
    return Result(code=code, data=data, rest=tail.strip(), text=m.group(1))
