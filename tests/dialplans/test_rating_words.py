"""R-RATE-1: the rating labels are configurable (003 基本满意, 000 理解), and the spoken prompt must say the same
words the ratings are stored with."""

from __future__ import annotations

from pathlib import Path

from dialplans.loader import check_dialplan, load_dialplan

SHIPPED = Path(__file__).parents[2] / "dialplans" / "hotline.yaml"
SPOKEN = "  rating: 请对本次服务评价，非常满意请按1，满意请按2，基本满意请按3，不满意请按4，非常不满意请按5。\n"


def edited(tmp_path: Path, *, labels: str | None = None, spoken: str | None = None) -> Path:
    text = SHIPPED.read_text(encoding="utf-8")
    shipped_labels = "  labels: [非常满意, 满意, 基本满意, 不满意, 非常不满意]\n"
    assert SPOKEN in text and shipped_labels in text
    if labels is not None:
        text = text.replace(shipped_labels, f"  labels: {labels}\n")
    if spoken is not None:
        text = text.replace(SPOKEN, f"  rating: {spoken}\n")
    path = tmp_path / "hotline.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_liaoning_labels_with_their_own_prompt_are_a_good_file(tmp_path: Path) -> None:
    path = edited(tmp_path, labels="[非常满意, 满意, 理解, 不满意, 非常不满意]",
                  spoken="请对本次服务评价，非常满意请按1，满意请按2，理解请按3，不满意请按4，非常不满意请按5。")
    assert check_dialplan(path) == []
    assert load_dialplan(path).rating.labels[2] == "理解"


def test_labels_the_prompt_does_not_speak_are_refused_at_the_prompts_line(tmp_path: Path) -> None:
    path = edited(tmp_path, labels="[非常满意, 满意, 理解, 不满意, 非常不满意]")
    (error,) = check_dialplan(path)
    line = next(i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text == SPOKEN[:-1])
    assert error.line == line
    assert "key 3 is '理解'" in error.message and "理解请按3" in error.fix
