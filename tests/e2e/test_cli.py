"""The commands people type, against a running stack: `hotline call` and `hotline dialplan check|apply`."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import yaml

from hotline.app.stack import Stack
from integration.world.call import WorldCaller
from tests.e2e.conftest import stack_settings

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]
SHIPPED = Path(__file__).resolve().parents[2] / "dialplans" / "hotline.yaml"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    home = tmp_path_factory.mktemp("home")
    dialplan = home / "hotline.yaml"
    dialplan.write_text(SHIPPED.read_text())
    s = Stack(stack_settings(home, dialplan_file=dialplan))
    await s.start()
    try:
        yield s
    finally:
        await s.close()


async def hotline(stack: Stack, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "HOTLINE_HOME_DIR": str(stack.settings.core.home)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hotline.app.cli", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    return proc.returncode or 0, out.decode(), err.decode()


def etc_digest(stack: Stack) -> str:
    assert stack.hotline is not None
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(stack.hotline.etc_dir.glob("*.conf")))).hexdigest()


async def test_hotline_call_json_reports_the_whole_call(stack: Stack) -> None:
    rc, out, err = await hotline(stack, "call", "12345", "--from", "13800138000", "--dtmf", "1", "--json")
    assert rc == 0, err
    data = json.loads(out.strip().splitlines()[-1])
    assert data["answered"] is True
    assert data["call_id"]
    assert data["heard"]["has_speech"] is True
    assert Path(data["heard_audio"]).exists()
    assert data["digit_received"] == "1"
    assert data["recordings"] and data["recordings"][0]["path"].endswith((".wav", ".opus"))
    assert data["record"]["route"]["mode"] == "main" and data["record"]["route"]["prompt"] == "greeting"
    assert data["path"][0].split()[1:3] == ["greeting", "(prompt"]
    assert any("digit" in line and "barge_in True" in line for line in data["path"])


async def test_hotline_call_prints_the_path_for_people(stack: Stack) -> None:
    rc, out, err = await hotline(stack, "call", "12366", "--from", "13800138009", "--script", "wait:6")
    assert rc == 0, err
    assert "route        mode=sub_centre, skill=tax, prompt=greeting" in out, out
    assert "greeting  (prompt greeting)" in out and "queued  (skill tax)" in out


async def test_a_broken_dialplan_is_refused_with_its_line_and_nothing_changes(stack: Stack) -> None:
    path = stack.settings.core.dialplan_file
    good = path.read_text()
    before = etc_digest(stack)
    path.write_text(good.replace("{number: \"12333\", mode: dual, skill: social_security",
                                 "{number: \"12333\", mode: dual, skill: social_secrity"))
    try:
        rc, _, err = await hotline(stack, "dialplan", "apply")
        assert rc == 1
        line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "social_secrity" in text)
        assert f"{path}:{line}: number 12333 uses skill 'social_secrity'" in err
        assert "fix: use 'social_security'" in err
        assert "untouched" in err
        assert etc_digest(stack) == before
        rc, _, err = await hotline(stack, "dialplan", "check", str(path))
        assert rc == 1 and "social_secrity" in err
    finally:
        path.write_text(good)


async def test_apply_reloads_a_new_number_into_the_running_asterisk(stack: Stack, world_caller: WorldCaller) -> None:
    path = stack.settings.core.dialplan_file
    data = yaml.safe_load(path.read_text())
    data["numbers"].append({"number": "12397", "mode": "dual", "skill": "general", "department": "测试局"})
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    before = await world_caller.call("12397", "13800138001", listen_s=5)
    assert before.record is not None, "a call to an unknown number is still recorded"
    assert before.record.outcome == "failsafe" and before.record.failsafe_reason == "unknown number"
    assert before.speech is not None and before.speech.has_speech, "it hears the apology"
    rc, out, err = await hotline(stack, "dialplan", "apply")
    assert rc == 0, err
    assert "+exten => 12397,1,Goto(hotline-inbound,${EXTEN},1)" in out
    after = await world_caller.call("12397", "13800138001", dtmf="3", listen_s=10)
    assert after.record is not None and after.record.dialled == "12397"
    assert after.to_json()["digit_received"] == "3"
