"""The dialplan file's YAML kept with its lines, and the checks of single values that collect every error.

YAML is composed into nodes first so each value keeps its line; a `Checker` converts values and collects ALL
errors, each naming the file, the line and the fix, before the file is refused.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar, cast

import yaml

from dialplans.model import Window
from hotline.core.control import has_control

T = TypeVar("T")


@dataclass(frozen=True)
class DialplanError:
    """One problem in the file, where it is, and how to fix it."""

    file: str
    line: int
    message: str
    fix: str
    column: int = 0  # 1-based where known (YAML syntax errors), else 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message} — fix: {self.fix}"


class DialplanInvalid(ValueError):
    """The file has errors; the running configuration was not touched."""

    def __init__(self, errors: list[DialplanError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class Node:
    """A YAML value with its line (and, as the value of a mapping, the line of its key)."""

    def __init__(self, value: Any, line: int) -> None:
        self.value = value
        self.line = line
        self.key_line = line


def plain(node: yaml.Node) -> Node:
    """The composed YAML as `Node`s: mappings of text keys, lists and plain values."""
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Node] = {}
        for key, value in node.value:
            out[str(key.value)] = _plain_value(value, key.start_mark.line + 1)
        return Node(out, line)
    if isinstance(node, yaml.SequenceNode):
        return Node([plain(v) for v in node.value], line)
    return Node(_scalar(node), line)


def _plain_value(node: yaml.Node, key_line: int) -> Node:
    value = plain(node)
    value.key_line = key_line
    return value


def _scalar(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node)
    finally:
        loader.dispose()


class Checker:
    """Walks the node tree, converting values and collecting errors."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[DialplanError] = []

    def err(self, line: int, message: str, fix: str) -> None:
        self.errors.append(DialplanError(self.file, line, message, fix))

    def mapping(self, node: Node, where: str, allowed: Iterable[str], required: Iterable[str]) -> dict[str, Node]:
        if not isinstance(node.value, dict):
            self.err(node.line, f"{where} must be a mapping (key: value)", f"write {where} as 'key: value' lines")
            return {}
        allowed = list(allowed)
        for key, value in node.value.items():
            if key not in allowed:
                near = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean '{near[0]}'?" if near else f"allowed keys: {', '.join(allowed)}"
                self.err(value.key_line, f"unknown key '{key}' in {where}", hint)
        for key in required:
            if key not in node.value:
                self.err(node.line, f"{where} has no '{key}'", f"add '{key}:' to {where}")
        return cast(dict[str, Node], node.value)

    def seq(self, node: Node | None, where: str) -> list[Node]:
        if node is None:
            return []
        if not isinstance(node.value, list):
            self.err(node.line, f"{where} must be a list", f"write each entry of {where} on a line starting with '- '")
            return []
        return cast(list[Node], node.value)

    def each(self, node: Node | None, where: str, build: Callable[[Checker, Node, str], T]) -> list[T]:
        """`build` applied to every entry of a list section, each named `where[i]`."""
        return [build(self, item, f"{where}[{i}]") for i, item in enumerate(self.seq(node, where))]

    def text(self, node: Node | None, where: str, default: str = "", pattern: re.Pattern[str] | None = None,
             fix: str = "") -> str:
        if node is None:
            return default
        value = node.value
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value:
            self.err(node.line, f"{where} must be a non-empty text", f"give {where} a value in quotes")
            return default
        if has_control(value):
            self.err(node.line, f"{where} contains a control character (line break, tab, escape…)",
                     f"write {where} on one line in quotes, without control characters")
            return default
        if pattern is not None and not pattern.match(value):
            self.err(node.line, f"{where} '{value}' is not valid", fix or f"match {pattern.pattern}")
        return value

    def choice(self, node: Node | None, where: str, options: tuple[str, ...], default: str) -> str:
        value = self.text(node, where, default)
        if value not in options:
            near = difflib.get_close_matches(value, options, n=1)
            assert node is not None
            self.err(node.line, f"{where} '{value}' is not one of {', '.join(options)}",
                     f"use '{near[0]}'" if near else f"use one of {', '.join(options)}")
            return default
        return value

    def flag(self, node: Node | None, where: str, default: bool) -> bool:
        if node is None:
            return default
        if not isinstance(node.value, bool):
            self.err(node.line, f"{where} must be true or false", "write true or false")
            return default
        return node.value

    def count(self, node: Node | None, where: str, default: int) -> int:
        if node is None:
            return default
        if isinstance(node.value, bool) or not isinstance(node.value, int) or node.value < 0:
            self.err(node.line, f"{where} must be a whole number, 0 or more", "write a number like 10")
            return default
        return node.value

    def share(self, node: Node | None, where: str, default: float) -> float:
        if node is None:
            return default
        if isinstance(node.value, bool) or not isinstance(node.value, int | float) or not 0 <= node.value <= 1:
            self.err(node.line, f"{where} must be a share from 0 to 1", "write e.g. 0.05 for 5 %")
            return default
        return float(node.value)

    def day(self, node: Node | None, where: str) -> date:
        if node is None or not isinstance(node.value, date):
            line = node.line if node is not None else 0
            self.err(line, f"{where} must be a date", "write it as YYYY-MM-DD, e.g. 2027-01-31")
            return date.min
        return node.value

    def window(self, node: Node, where: str) -> Window:
        m = self.mapping(node, where, ("from", "until"), ("from", "until"))
        start, until = self.day(m.get("from"), f"{where}.from"), self.day(m.get("until"), f"{where}.until")
        if start > until:
            self.err(node.line, f"{where} ends ({until}) before it starts ({start})", "swap 'from' and 'until'")
        return Window(start, until)
