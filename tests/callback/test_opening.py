"""The revisit opening as petitioners hear it (B.4.1 首问语, shortest faithful form): the shipped dialplan's
words for a long salutation and for a task that names nobody, rendered the way the dialer renders them,
end within 7.5 s, so with the answer-to-first-sound latency (`bench revisit`: about 0.3 s) the question
"请问您是…吗？" is heard within 8 s of the answer; consent follows in its own prompt."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from callback.dialer import UNNAMED, RevisitPrompts, petitioner_texts
from callback.tasks import DueTask
from dialplans.loader import load_dialplan
from hotline.core.asterisk.root import AsteriskRoot
from hotline.core.audio.prompts import PromptRenderer

SHIPPED = Path(__file__).resolve().parents[2] / "dialplans" / "hotline.yaml"


def test_the_opening_asks_who_and_leaves_consent_to_the_next_prompt() -> None:
    plan = load_dialplan(SHIPPED)
    opening = petitioner_texts(plan, DueTask(1, "13800138000", "", "", 0), "c1")[RevisitPrompts.name("c1", "opening")]
    assert opening == f"您好，我是12345市民服务热线回访人员，请问您是{UNNAMED}吗？"
    assert plan.prompts["revisit_consent"].startswith("本次联系您是为了做回访调查。")
    assert all(k in plan.prompts["revisit_consent"] for k in ("按1", "按2", "按0"))


@pytest.mark.asterisk
async def test_the_first_question_ends_within_seven_and_a_half_seconds(asterisk_root: AsteriskRoot,
                                                                       tmp_path: Path) -> None:
    plan = load_dialplan(SHIPPED)
    renderer = PromptRenderer(asterisk_root, tmp_path / "cache")
    for salutation in ("欧阳先生", ""):
        texts = petitioner_texts(plan, DueTask(1, "13800138000", salutation, "小区噪音", 0), "c1")
        path = (await renderer.render_all(texts, tmp_path, cache=False))[RevisitPrompts.name("c1", "opening")]
        with wave.open(str(path)) as w:
            seconds = w.getnframes() / w.getframerate()
        assert 3 < seconds <= 7.5, (salutation, seconds)
