"""The dialplan's emergency priority (R-ACD-1) and per-number emergency hint (R-ACC-5): read and checked."""

from __future__ import annotations

from pathlib import Path

from dialplans.loader import check_dialplan, load_dialplan
from dialplans.model import Priorities
from hotline.app.settings import Settings

SHIPPED = Settings().core.dialplan_file


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text
    target = tmp_path / "hotline.yaml"
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


def test_an_emergency_outranks_every_other_label_and_only_labels_count() -> None:
    levels = Priorities()
    assert levels.of(["vip", "emergency", "repeat_caller"]) == 4 > levels.of(["vip", "elderly"]) == 2
    assert levels.of(["repeat_caller"]) == 1 and levels.of(["watch", "emergency_callers"]) == 0
    assert Priorities(emergency_callers=("010", "13900001111")).emergency_caller("01062345601")
    assert not Priorities(emergency_callers=("010",)).emergency_caller("02162345601")


def test_the_shipped_file_plays_the_hint_on_12345_only_and_ranks_emergencies_first() -> None:
    plan = load_dialplan(SHIPPED)
    assert [n.number for n in plan.numbers if n.emergency_hint] == ["12345"]
    assert plan.number("12345").emergency_hint == "emergency_hint"  # type: ignore[union-attr]
    assert plan.priorities.emergency > plan.priorities.vip and plan.priorities.emergency_flag_h == 24


def test_a_number_may_have_its_own_hint_text_which_must_exist(tmp_path: Path) -> None:
    old = '{number: "12333", mode: dual, skill: social_security,'
    good = _edited(tmp_path, old, old.replace("dual,", "dual, emergency_hint: emergency_hint,"))
    assert load_dialplan(good).number("12333").emergency_hint == "emergency_hint"  # type: ignore[union-attr]
    missing = _edited(tmp_path, old, old.replace("dual,", "dual, emergency_hint: hint_12333,"))
    assert any("emergency_hint prompt 'hint_12333'" in e.message for e in check_dialplan(missing))


def test_emergency_callers_keys_and_flag_hours_are_checked(tmp_path: Path) -> None:
    bad = _edited(tmp_path, "  emergency_callers: []\n  emergency_flag_h: 24",
                  '  emergency_callers: ["010-62"]\n  emergency_flag_h: 9999')
    messages = [e.message for e in check_dialplan(bad)]
    assert any("priorities.emergency_callers" in m for m in messages), messages
    assert any("emergency_flag_h must be 1 to 720" in m for m in messages), messages
    menu = _edited(tmp_path, 'options: {"1": housing_fund, "2": general}, timeout: 4}',
                   'options: {"1": housing_fund, "2": general}, emergency: ["9"], timeout: 4}')
    assert any("emergency key '9' is not one of its options" in e.message for e in check_dialplan(menu))
    good = _edited(tmp_path, 'options: {"1": housing_fund, "2": general}, timeout: 4}',
                   'options: {"1": housing_fund, "2": general}, emergency: ["2"], timeout: 4}')
    assert load_dialplan(good).number("12329").menu.emergency == ("2",)  # type: ignore[union-attr]
