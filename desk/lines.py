"""What the dialplan file says about the line a call came in on, in the words an agent reads."""

from __future__ import annotations

from dataclasses import dataclass

from dialplans.model import Dialplan

MODES = {"main": "主号", "whole_merge": "整体并入", "dual": "双号并行", "sub_centre": "分中心"}
SEATS = {"general": "综合坐席", "expert": "专家坐席", "sub_centre": "分中心坐席"}


@dataclass(frozen=True)
class Line:
    """The number dialled: which merged number it is and how it is served."""

    number: str
    mode: str
    mode_label: str
    department: str
    skill: str
    skill_label: str
    label: str  # e.g. "12333 双号并行 · 市人力资源社会保障局"

    def to_json(self) -> dict[str, str]:
        return {"number": self.number, "mode": self.mode, "mode_label": self.mode_label,
                "department": self.department, "skill": self.skill, "skill_label": self.skill_label,
                "label": self.label}


class Lines:
    """The dialplan's numbers and skills, looked up by number and id."""

    def __init__(self, plan: Dialplan) -> None:
        self._plan = plan
        self._numbers = {n.number: n for n in plan.numbers}
        self.skill_labels = {s.id: s.label for s in plan.skills}

    def skill_label(self, skill: str | None) -> str:
        return self.skill_labels.get(skill or "", skill or "")

    def of(self, dialled: str) -> Line:
        number = self._numbers.get(dialled)
        if number is None:  # a number the file no longer lists (or an outbound call): shown as it is
            return Line(dialled, "", "", "", "", "", dialled)
        mode_label = MODES.get(number.mode, number.mode)
        main = self._plan.centre.main_number
        department = number.department or self._plan.centre.name
        label = f"{number.number} {mode_label}" if number.number == main else \
            f"{number.number} → {main} {mode_label} · {department}"
        return Line(number.number, number.mode, mode_label, department, number.skill,
                    self.skill_label(number.skill), label)
