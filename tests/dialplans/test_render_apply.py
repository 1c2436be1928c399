"""The engineers' file: shipped data, located errors, rendering checked by pyst2, secrets, apply/rollback."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dialplans.apply import ApplyRefused, ApplyRolledBack, apply_dialplan
from dialplans.confcheck import check_conf_file, check_rendered
from dialplans.loader import check_dialplan, load_dialplan
from dialplans.model import Dialplan
from dialplans.phones import PHONES_EXTENSIONS, PHONES_PJSIP
from dialplans.render import RenderContext, render
from dialplans.secrets import load_or_create_secrets

SHIPPED = Path(__file__).resolve().parents[2] / "dialplans" / "hotline.yaml"


def ctx(agent_secrets: dict[str, str]) -> RenderContext:
    return RenderContext("127.0.0.1", 5060, 5038, "hotline", "s3cret-ami", "127.0.0.1", 4573,
                         "/srv/rec", "/srv/snd", agent_secrets)


def test_the_shipped_file_is_clean_and_holds_the_merged_numbers() -> None:
    assert check_dialplan(SHIPPED) == []
    plan = load_dialplan(SHIPPED)
    assert plan.centre.main_number == "12345"
    n12333, n12366, n12396 = plan.number("12333"), plan.number("12366"), plan.number("12396")
    assert n12333 is not None and (n12333.mode, n12333.skill) == ("dual", "social_security")
    assert n12366 is not None and (n12366.mode, n12366.skill, n12366.overflow) == ("sub_centre", "tax", "12345")
    assert n12396 is not None and n12396.mode == "whole_merge" and n12396.transition is not None


def test_every_error_is_reported_at_its_line_with_a_fix(tmp_path: Path) -> None:
    lines = SHIPPED.read_text().splitlines()
    broken = [
        line.replace("skill: social_security, department: 市人力", "skill: social_secrity, department: 市人力")
        .replace('{number: "12329", mode: dual', '{number: "12333", mode: dual')
        .replace("{id: \"8002\", name: 李强, seat: general", "{id: \"8002\", name: 李强, seet: general")
        for line in lines
    ]
    path = tmp_path / "hotline.yaml"
    path.write_text("\n".join(broken))
    errors = check_dialplan(path)
    by_message = {e.message: e for e in errors}

    def line_of(text: str) -> int:
        return next(i for i, line in enumerate(broken, 1) if text in line)

    skill = next(e for e in errors if "social_secrity" in e.message)
    assert skill.line == line_of("social_secrity") and skill.fix == "use 'social_security'"
    dup = next(e for e in errors if "defined twice" in e.message)
    assert dup.line == line_of('{number: "12333", mode: dual, skill: housing_fund')
    assert f"first on line {line_of('social_secrity')}" in dup.message
    unknown = next(e for e in errors if "unknown key 'seet'" in e.message)
    assert unknown.fix == "did you mean 'seat'?" and unknown.line == line_of("seet")
    assert len(by_message) >= 3, "all errors at once, not just the first"
    assert str(skill).startswith(f"{path}:{skill.line}: ")


def test_yaml_syntax_errors_are_located(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("centre:\n  name: x\n numbers: [\n")
    (error,) = check_dialplan(path)
    assert error.line in (3, 4) and "YAML syntax" in error.message


def phones(plan: Dialplan) -> list[str]:
    return [*(a.id for a in plan.agents), *(s.id for s in plan.supervisors)]


def test_rendered_configs_parse_and_keep_the_failsafe_contract() -> None:
    plan = load_dialplan(SHIPPED)
    files = render(plan, ctx({p: f"pw-{p}-x" for p in phones(plan)}))
    assert check_rendered(files) == []
    ext = files["extensions.conf"]
    assert "Set(AGISIGHUP=no)" in ext
    assert "AGI(agi://127.0.0.1:4573/ivr/inbound?number=${EXTEN}&mode=sub_centre&skill=tax" in ext
    assert 'GotoIf($["${HOTLINE_FLOW_STATUS}" = "ok"]?flow-ok)' in ext
    assert "[hotline-failsafe]" in ext
    assert "bindaddr=127.0.0.1" in files["manager.conf"] and "permit=127.0.0.1/32" in files["manager.conf"]
    for agent in plan.agents:
        assert files[PHONES_PJSIP].count(f"password=pw-{agent.id}-x") == 1
        assert f"exten => {agent.id},1,Dial(PJSIP/{agent.id},30)" in files[PHONES_EXTENSIONS]
    assert f"#include {PHONES_PJSIP}" in files["pjsip.conf"] and "password=" not in files["pjsip.conf"]
    assert f"#include {PHONES_EXTENSIONS}" in ext
    with pytest.raises(ValueError, match="no generated secret"):
        render(plan, ctx({}))


def test_conf_check_finds_hand_edit_mistakes(tmp_path: Path) -> None:
    conf = tmp_path / "extensions.conf"
    conf.write_text("static=yes\n[ok]\nexten => 1,1,NoOp()\n[broken\n")
    problems = check_conf_file(conf)
    assert any(":1: setting 'static' outside" in p for p in problems) or any(":4:" in p for p in problems)


def test_secrets_are_generated_private_and_stable(tmp_path: Path) -> None:
    plan = load_dialplan(SHIPPED)
    path = tmp_path / "secrets.json"
    first = load_or_create_secrets(path, plan)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(set(first.agent_secrets.values())) == len(plan.agents) + len(plan.supervisors)
    assert load_or_create_secrets(path, plan) == first
    assert load_or_create_secrets(tmp_path / "other.json", plan).ami_secret != first.ami_secret


class FakeReloader:
    def __init__(self, fail_first: bool = False) -> None:
        self.calls = 0
        self.fail_first = fail_first

    async def reload(self, modules: list[str]) -> None:
        self.calls += 1
        if self.fail_first and self.calls == 1:
            raise RuntimeError("pjsip refused it")


async def test_apply_refuses_broken_files_and_rolls_back_failed_reloads(tmp_path: Path) -> None:
    plan = load_dialplan(SHIPPED)
    context = ctx({p: "pw" + p for p in phones(plan)})
    etc = tmp_path / "etc"
    etc.mkdir()
    reloader = FakeReloader()
    result = await apply_dialplan(SHIPPED, etc, context, reloader)
    assert reloader.calls == 1 and "extensions.conf" in result.changed and result.diff
    assert (await apply_dialplan(SHIPPED, etc, context, reloader)).changed == []
    assert reloader.calls == 1
    before = {p.name: p.read_bytes() for p in etc.glob("*.conf")}

    broken = tmp_path / "broken.yaml"
    broken.write_text(SHIPPED.read_text().replace("mode: sub_centre", "mode: subcentre", 1))
    with pytest.raises(ApplyRefused):
        await apply_dialplan(broken, etc, context, reloader)
    assert {p.name: p.read_bytes() for p in etc.glob("*.conf")} == before

    changed = tmp_path / "changed.yaml"
    changed.write_text(SHIPPED.read_text().replace("  - {number: \"12305\",", "  - {number: \"12304\","))
    failing = FakeReloader(fail_first=True)
    with pytest.raises(ApplyRolledBack):
        await apply_dialplan(changed, etc, context, failing)
    assert failing.calls == 2, "the rollback reloads the previous files"
    assert {p.name: p.read_bytes() for p in etc.glob("*.conf")} == before
