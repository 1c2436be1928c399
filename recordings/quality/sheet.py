"""The score sheet (质检评分表): its items from `recordings/data/quality_sheet.yaml`, and checking a scoring."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from hotline.core.errors import Invalid

SHEET_FILE = Path(__file__).parent.parent / "data" / "quality_sheet.yaml"


@dataclass(frozen=True)
class SheetItem:
    key: str
    name: str
    points: int
    guide: str
    clause: str  # the standard's clause it comes from


@dataclass(frozen=True)
class Sheet:
    items: tuple[SheetItem, ...]

    @property
    def max(self) -> int:
        return sum(i.points for i in self.items)

    def to_json(self) -> dict[str, Any]:
        return {"items": [asdict(i) for i in self.items], "max": self.max}

    def checked(self, given: Mapping[str, object]) -> dict[str, int]:
        """The points given per item, every item present, each a whole number from 0 to its points; 422
        naming each bad item otherwise."""
        known = {i.key: i for i in self.items}
        bad = [{"field": f"items.{key}", "message": "not an item of the score sheet"} for key in given
               if key not in known]
        for item in self.items:
            value = given.get(item.key)
            if value is None:
                bad.append({"field": f"items.{item.key}", "message": f"{item.name}: give 0 to {item.points} points"})
            elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= item.points:
                bad.append({"field": f"items.{item.key}",
                            "message": f"{item.name}: a whole number from 0 to {item.points}"})
        if bad:
            raise Invalid("; ".join(f"{b['field']}: {b['message']}" for b in bad), fields=bad, error_id="bad_score")
        return {item.key: int(given[item.key]) for item in self.items}  # type: ignore[call-overload]


def load_sheet(path: Path = SHEET_FILE) -> Sheet:
    """The sheet as shipped (or another file of the same shape); keys must be unique and points positive."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = tuple(SheetItem(key=str(i["key"]), name=str(i["name"]), points=int(i["points"]), guide=str(i["guide"]),
                            clause=str(i["clause"])) for i in raw["items"])
    keys = [i.key for i in items]
    if len(set(keys)) != len(keys) or any(i.points <= 0 for i in items) or not items:
        raise ValueError(f"{path}: item keys must be unique and every item worth some points")
    return Sheet(items)
