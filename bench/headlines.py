"""What each benchmark declares about its result: its headline figures, their baselines and targets.

A benchmark module lists `HEADLINES = (Headline("search_p95_ms", baseline="like_p95_ms", target="<= 50"), …)`;
keys are dotted paths into its JSON (`ours.sl_15s`). A target compares the figure with a number, `true`/`false`,
or the baseline (`>= baseline`, `>= 0.9 * baseline`). The report (bench/report.py) is generated from these.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_TARGET = re.compile(r"^\s*(<=|>=|==|<|>)\s*(?:(?P<factor>[0-9.]+)\s*\*\s*)?"
                     r"(?P<value>baseline|true|false|-?[0-9.]+)\s*$")
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le, ">=": operator.ge, "==": operator.eq, "<": operator.lt, ">": operator.gt}


def lookup(result: Mapping[str, Any], key: str) -> Any:
    """The value at a dotted key, or None when any part is missing."""
    value: Any = result
    for part in key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


@dataclass(frozen=True)
class Headline:
    """One headline figure of a benchmark, with the baseline measured beside it and the target it must meet."""

    key: str
    baseline: str | None = None
    target: str | None = None

    def __post_init__(self) -> None:
        if self.target is not None:
            match = _TARGET.match(self.target)
            if match is None:
                raise ValueError(f"target {self.target!r}: expected e.g. '<= 50', '>= 0.9 * baseline', '== true'")
            if match["value"] == "baseline" and self.baseline is None:
                raise ValueError(f"target {self.target!r} of {self.key} names a baseline it does not have")

    def ours(self, result: Mapping[str, Any]) -> Any:
        return lookup(result, self.key)

    def base(self, result: Mapping[str, Any]) -> Any:
        return lookup(result, self.baseline) if self.baseline else None

    def met(self, result: Mapping[str, Any]) -> bool | None:
        """Whether the figure meets its target; None without a target or when a value it needs is missing."""
        if self.target is None:
            return None
        match = _TARGET.match(self.target)
        assert match is not None  # checked in __post_init__
        ours, word = self.ours(result), match["value"]
        if word in ("true", "false"):
            return None if ours is None else _OPS[match[1]](bool(ours), word == "true")
        goal = self.base(result) if word == "baseline" else float(word)
        if not _number(ours) or not _number(goal):
            return None
        return _OPS[match[1]](ours, float(match["factor"] or 1) * goal)

    def goal(self, result: Mapping[str, Any]) -> float | None:
        """The target as a number (a line on the chart), when it is one."""
        if self.target is None:
            return None
        match = _TARGET.match(self.target)
        assert match is not None
        word = match["value"]
        if word in ("true", "false"):
            return None
        goal = self.base(result) if word == "baseline" else float(word)
        return float(match["factor"] or 1) * float(goal) if _number(goal) else None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
