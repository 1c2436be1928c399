"""The engineer page's dialplan editor without Asterisk: problems of a text as typed with their lines, the diff
against what runs, apply with the file's sha256 guard, the history, and a refused reload rolled back."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from dialplans.editor import FileChanged, TextInvalid, masked
from dialplans.history import sha256_of
from dialplans.model import Dialplan
from tests.dialplans.editing import SHIPPED, scripted_editor

GREETING = "prompts:\n  greeting:"


def greeting_changed(text: str, words: str) -> str:
    """The file with a new greeting text (the line after `prompts:`)."""
    lines = text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("  greeting:"))
    lines[at] = f'  greeting: "{words}"\n'
    return "".join(lines)


def test_a_yaml_mistake_is_a_problem_at_its_line_and_column(tmp_path: Path) -> None:
    editor, _ = scripted_editor(tmp_path)
    text = SHIPPED.read_text()
    assert editor.check(text) == []
    lines = text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("numbers:"))
    lines.insert(at + 1, "  - {number: \"12399\", mode: main\n")  # an unclosed flow mapping
    problems = editor.check("".join(lines))
    assert len(problems) == 1 and problems[0].level == "error"
    assert problems[0].line >= at + 2 and problems[0].column is not None
    assert problems[0].message.startswith("YAML syntax") and problems[0].fix


def test_schema_mistakes_name_their_lines_and_fixes(tmp_path: Path) -> None:
    editor, _ = scripted_editor(tmp_path)
    text = SHIPPED.read_text().replace("mode: sub_centre", "mode: subcentre", 1)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "subcentre" in t)
    problems = editor.check(text)
    assert [(p.line, p.level) for p in problems] == [(line, "error")]
    assert "sub_centre" in problems[0].fix
    for text in ("", "numbers: [", "numbers: []\n", "trunks: x\nnumbers: [1]\n",
                 "a: 2027-13-45\n", "x: !!python/object:os.system y\n", "a: &x [*x]\n", "\x07"):
        assert editor.check(text), f"{text!r} has problems, not an exception"


def test_the_diff_shows_the_file_and_the_configs_without_secrets(tmp_path: Path) -> None:
    editor, _ = scripted_editor(tmp_path)
    text = SHIPPED.read_text()
    assert editor.diff(text) == [], "nothing differs from what runs"
    changed = greeting_changed(text, "您好，这里是测试热线，欢迎致电").replace('  - {number: "12305",',
                                                                              '  - {number: "12304",', 1)
    files = dict(editor.diff(changed))
    assert "+  greeting: \"您好，这里是测试热线，欢迎致电\"" in files["hotline.yaml"]
    assert "12304" in files["extensions.conf"]
    assert editor.target is not None and editor.target.ctx.agi_key not in "".join(files.values())
    assert masked("-secret=abc\n+password = xyz\n same => n,AGI(agi://h/ivr?call=1&hotline_key=k3y)\n") == \
        "-secret=******\n+password = ******\n same => n,AGI(agi://h/ivr?call=1&hotline_key=******)\n"
    with pytest.raises(TextInvalid):
        editor.diff("numbers: [")


async def test_apply_writes_the_file_keeps_the_history_and_tells_the_listeners(tmp_path: Path) -> None:
    editor, reloader = scripted_editor(tmp_path)
    heard: list[str] = []

    async def follow(plan: Dialplan) -> None:
        heard.append(plan.prompts["greeting"])

    editor.on_applied.append(follow)
    before = editor.current()
    assert before["running_sha256"] == before["sha256"] and before["applied_by"] == "hotline run"
    text = greeting_changed(before["text"], "您好，测试热线")
    result = await editor.apply(text, before["sha256"], "engineer.li")
    assert result["applied"] is True and result["sha256"] == sha256_of(text) and result["prompts"] == ["greeting"]
    assert editor.path.read_text() == text and heard == ["您好，测试热线"]
    assert result["changed"] == [] and reloader.reloads == 0, "a new greeting is a prompt, not a config"
    now = editor.current()
    assert (now["running_sha256"], now["applied_by"]) == (sha256_of(text), "engineer.li")
    versions = editor.history.versions()
    assert [v.sha256 for v in versions] == [sha256_of(text), before["sha256"]]
    assert editor.history.text_of(before["sha256"]) == before["text"]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in editor.history.folder.iterdir())
    with pytest.raises(FileChanged):
        await editor.apply(before["text"], before["sha256"], "engineer.wang")  # started from the old file
    assert editor.path.read_text() == text


async def test_a_refused_reload_rolls_back_the_configs_and_leaves_the_file(tmp_path: Path) -> None:
    editor, reloader = scripted_editor(tmp_path)
    assert editor.target is not None
    etc = editor.target.etc_dir
    configs = {p.name: p.read_bytes() for p in etc.glob("*.conf")}
    before = editor.current()
    text = before["text"].replace('  - {number: "12305",', '  - {number: "12304",', 1)
    reloader.refuse = 1
    result = await editor.apply(text, before["sha256"], "engineer.li")
    assert result == {"applied": False, "rolled_back": True, "sha256": before["sha256"],
                      "error": result["error"]} and "previous configuration is back" in result["error"]
    assert reloader.reloads == 2, "the previous configs reloaded"
    assert {p.name: p.read_bytes() for p in etc.glob("*.conf")} == configs
    assert editor.path.read_text() == before["text"] and editor.current()["running_sha256"] == before["sha256"]
    ok = await editor.apply(text, before["sha256"], "engineer.li")
    assert ok["applied"] and ok["changed"] == ["extensions.conf"] and "12304" in ok["diff"]


async def test_a_text_with_problems_is_refused_untouched(tmp_path: Path) -> None:
    editor, reloader = scripted_editor(tmp_path)
    before = editor.current()
    with pytest.raises(TextInvalid) as refused:
        await editor.apply("numbers: [\n", before["sha256"], "engineer.li")
    assert refused.value.problems[0].line == 2
    assert editor.path.read_text() == before["text"] and reloader.reloads == 0


async def test_sections_the_service_reads_at_start_are_warned_about(tmp_path: Path) -> None:
    editor, _ = scripted_editor(tmp_path)
    text = SHIPPED.read_text()
    assert editor.check(greeting_changed(text, "您好，测试热线")) == [], "a new greeting is heard on the next call"
    changed = text.replace('  - {number: "12305",', '  - {number: "12304",', 1)
    changed = changed.replace("name: 王芳", "name: 王芳芳", 1)
    warnings = editor.check(changed)
    assert {p.level for p in warnings} == {"warning"}
    by_line = {p.line: p.message for p in warnings}
    assert "'numbers' is read by the service when it starts" in by_line[line_of(changed, "numbers:")]
    assert "'agents' only seeds the agent directory" in by_line[line_of(changed, "agents:")]
    result = await editor.apply(changed, editor.current()["sha256"], "engineer.li")
    assert result["applied"] and result["at_next_start"] == ["numbers", "agents"]


def line_of(text: str, start: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(start))


def test_an_apply_from_the_command_line_is_the_running_version_in_the_page(tmp_path: Path) -> None:
    from dialplans.commands import _record_applied

    editor, _ = scripted_editor(tmp_path)
    edited = greeting_changed(SHIPPED.read_text(), "您好，命令行")
    editor.path.write_text(edited)
    _record_applied(tmp_path, editor.path)
    now = editor.current()
    assert now["running_sha256"] == sha256_of(edited) and "(hotline dialplan apply)" in now["applied_by"]
    assert editor.history.text_of(sha256_of(edited)) == edited
