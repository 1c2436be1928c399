"""The score sheet as shipped, and scorings checked item by item."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.core.errors import Invalid
from recordings.quality.sheet import load_sheet

FULL = {"greeting": 10, "recording_notice": 5, "listening": 15, "accuracy": 20, "policy": 10, "ticket": 15,
        "closing": 10, "manner": 15}


def test_the_shipped_sheet_scores_the_standards_phrases_out_of_100() -> None:
    sheet = load_sheet()
    assert [i.key for i in sheet.items] == list(FULL) and sheet.max == 100
    names = {i.key: i.name for i in sheet.items}
    assert names["greeting"] == "规范问候" and names["closing"] == "结束语并邀请评价"
    assert all(i.clause and i.guide for i in sheet.items), "every item cites its standard and says what to hear"
    assert "评价" in next(i.guide for i in sheet.items if i.key == "closing")


def test_a_scoring_must_give_every_item_whole_points_within_its_range() -> None:
    sheet = load_sheet()
    assert sheet.checked(FULL) == FULL
    for bad, field in (({**FULL, "greeting": 11}, "items.greeting"), ({**FULL, "manner": -1}, "items.manner"),
                       ({k: v for k, v in FULL.items() if k != "policy"}, "items.policy"),
                       ({**FULL, "smile": 3}, "items.smile"), ({**FULL, "closing": True}, "items.closing")):
        with pytest.raises(Invalid) as refused:
            sheet.checked(bad)
        assert [f["field"] for f in refused.value.fields or []] == [field]
        assert refused.value.code == 422


def test_a_sheet_with_a_repeated_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sheet.yaml"
    item = "  - {key: a, name: 甲, points: 5, guide: g, clause: c}\n"
    path.write_text("items:\n" + item + item, encoding="utf-8")
    with pytest.raises(ValueError, match="unique"):
        load_sheet(path)
