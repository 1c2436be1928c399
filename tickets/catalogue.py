"""What a ticket may say: request types, urgencies, channels, and the subject categories and the city's
districts (区县) shipped as data."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

REQUEST_TYPES = ("咨询", "求助", "投诉", "举报", "建议", "表扬", "无效")
URGENCIES = ("一般", "紧急", "非常紧急")
CHANNELS = ("电话", "网站", "微信", "APP", "短信", "邮件", "来信", "网格", "其他")  # 网格: a grid worker's report

# What the Beijing draft's App. C asks an agent to record, per request type (content field names).
REQUIRED_CONTENT: dict[str, tuple[str, ...]] = {
    "咨询": ("description",),
    "建议": ("description", "reason"),
    "求助": ("description", "occurred_at", "location"),
    "投诉": ("description", "occurred_at", "location", "subject"),
    "举报": ("description", "occurred_at", "location", "subject"),
    "表扬": ("description", "subject"),
    "无效": (),
}
CONTENT_FIELDS: dict[str, tuple[str, int]] = {
    "description": ("事件描述", 4000),
    "occurred_at": ("发生时间", 100),
    "location": ("发生地点", 200),
    "subject": ("涉及对象 / 被反映单位", 200),
    "prior_handling": ("前期处理情况", 1000),
    "current_state": ("现状", 1000),
    "demand": ("诉求人的要求", 1000),
    "reason": ("建议理由", 1000),
}


# HOTLINE_TICKET_CATALOGUE → its file in tickets/data/
CATALOGUES = {"liaoning": "categories.yaml", "domains12": "categories_domains12.yaml"}


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    path: tuple[str, ...]  # names from level 1 down to this one
    leaf: bool

    @property
    def label(self) -> str:
        return " / ".join(self.path)


class Catalogue:
    """The subject categories by code (辽宁 000 App. E: three levels; or 001 5.4.2's twelve domains)."""

    def __init__(self, nodes: list[dict[str, Any]], regions: Sequence[str] = ()) -> None:
        self._by_code: dict[str, Category] = {}
        self._add(nodes, ())
        self.regions = tuple(regions)  # the districts (区县) a ticket may name; empty: any

    def _add(self, nodes: list[dict[str, Any]], parent: tuple[str, ...]) -> None:
        for node in nodes:
            code, name, children = str(node["code"]), str(node["name"]), node.get("children") or []
            if code in self._by_code:
                raise ValueError(f"category code {code} appears twice")
            self._by_code[code] = Category(code, name, (*parent, name), not children)
            self._add(children, (*parent, name))

    @classmethod
    @cache
    def shipped(cls, name: str = "liaoning") -> Catalogue:
        """A catalogue that ships with the hotline (`CATALOGUES`): 000 App. E's three levels, or 001's twelve
        domains."""
        if name not in CATALOGUES:
            raise ValueError(f"no ticket catalogue {name!r}: choose one of {', '.join(CATALOGUES)}")
        text = resources.files("tickets").joinpath(f"data/{CATALOGUES[name]}").read_text(encoding="utf-8")
        regions = resources.files("tickets").joinpath("data/regions.yaml").read_text(encoding="utf-8")
        return cls(yaml.safe_load(text)["categories"], [str(r) for r in yaml.safe_load(regions)["regions"]])

    def with_regions(self, regions: Sequence[str]) -> Catalogue:
        """The same categories with this centre's districts."""
        other = copy.copy(self)
        other.regions = tuple(regions)
        return other

    def get(self, code: str) -> Category | None:
        return self._by_code.get(code)

    def __len__(self) -> int:
        return len(self._by_code)

    def all(self) -> list[Category]:
        return list(self._by_code.values())

    def roots(self) -> list[Category]:
        return [c for c in self._by_code.values() if len(c.path) == 1]

    def tree(self) -> list[dict[str, Any]]:
        """The categories as nested options for a cascading picker (value = code, label = name)."""
        nodes: dict[tuple[str, ...], dict[str, Any]] = {}
        roots: list[dict[str, Any]] = []
        for category in self.all():
            node: dict[str, Any] = {"value": category.code, "label": category.name}
            nodes[category.path] = node
            parent = nodes.get(category.path[:-1]) if len(category.path) > 1 else None
            if parent is None:
                roots.append(node)
            else:
                parent.setdefault("children", []).append(node)
        return roots
