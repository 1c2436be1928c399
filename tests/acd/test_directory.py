"""The agent directory's rules on a real SQLite database, the ACD following it on a real redis-server, and the
phones' render debounced (Asterisk stood in for by a recorder of files and reloads)."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from acd.directory.follow import AcdFollows, TeamsFollow
from acd.directory.secrets import PhoneSecrets
from acd.directory.service import AgentDirectory, AgentDraft, AgentEntry, Refused, Rules, UnknownAgent
from acd.directory.sync import PhoneSync
from acd.store import AcdStore
from dialplans.loader import load_dialplan
from dialplans.model import Agent
from dialplans.phones import PHONES_EXTENSIONS, PHONES_PJSIP
from dialplans.render import RenderContext
from hotline.app.settings import Settings
from hotline.core.db.engine import SessionFactory

PLAN = load_dialplan(Settings().core.dialplan_file)


def draft(agent: str, team: str | None = "一组", skills: Mapping[str, int] | None = None, **kw: Any) -> AgentDraft:
    return AgentDraft(agent, f"坐席{agent}", kw.pop("seat", "general"), team, skills or {"general": 3}, **kw)


@pytest.fixture
def directory(sqlite_sessions: SessionFactory, tmp_path: Path) -> AgentDirectory:
    return AgentDirectory(sqlite_sessions, Rules.of(PLAN), PhoneSecrets(tmp_path / "secrets.json", {}))


async def test_the_file_seeds_the_directory_once_and_then_the_directory_wins(directory: AgentDirectory) -> None:
    added = await directory.seed(PLAN.agents)
    assert [a.id for a in added] == ["8001", "8002", "8003", "8004"]
    assert {t["name"] for t in await directory.teams()} == {"一组", "二组"}
    await directory.change("8001", "sup", name="王芳芳", skills={"general": 5})
    renamed = [Agent(a.id, "改了", a.seat, a.skills, a.group) for a in PLAN.agents]
    assert await directory.seed(renamed) == []
    first = await directory.agent("8001")
    assert (first.name, first.skills, first.team) == ("王芳芳", {"general": 5}, "一组")


async def test_every_bad_row_of_a_bulk_add_is_named_and_nothing_is_added(directory: AgentDirectory) -> None:
    await directory.seed(PLAN.agents)
    rows = [draft("8100"), draft("8001"), draft("9001"), draft("8101", skills={"plumbing": 2}), draft("8102", "三组"),
            draft("8100"), draft("12345"), draft("110")]
    with pytest.raises(Refused) as refused:
        await directory.add(rows, "admin", bulk=True)
    named = [(p.row, p.field) for p in refused.value.problems]
    assert named == [(1, "id"), (2, "id"), (3, "skills"), (4, "team"), (5, "id"), (6, "id"), (7, "id")]
    assert not refused.value.exists
    assert "agent 8001 exists" in str(refused.value) and "supervisor's phone" in str(refused.value)
    assert [a.id for a in await directory.agents()] == ["8001", "8002", "8003", "8004"]


async def test_one_agent_that_exists_is_a_conflict(directory: AgentDirectory) -> None:
    await directory.seed(PLAN.agents)
    with pytest.raises(Refused) as refused:
        await directory.add([draft("8001")], "admin")
    assert refused.value.exists
    with pytest.raises(Refused) as team:
        await directory.add_team("一组", "admin")
    assert team.value.exists


async def test_phones_get_generated_private_passwords_and_listeners_hear_each_change(
        directory: AgentDirectory, tmp_path: Path) -> None:
    heard: list[list[str]] = []

    async def listener(entries: Sequence[AgentEntry]) -> None:
        heard.append([f"{e.id}:{e.active}" for e in entries])

    directory.listeners.append(listener)
    await directory.add_team("一组", "admin")
    await directory.add([draft("8100"), draft("8101", phone="webrtc")], "admin", bulk=True)
    path = tmp_path / "secrets.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    stored = json.loads(path.read_text())["agents"]
    assert set(stored) == {"8100", "8101"} and len(set(stored.values())) == 2 and all(len(v) >= 20 for v in
                                                                                       stored.values())
    new = await directory.rotate_secret("8100")
    assert new != stored["8100"] and json.loads(path.read_text())["agents"]["8100"] == new
    await directory.change("8101", "sup", active=False)
    await directory.change("8100", "sup", team=None)
    assert heard == [["8100:True", "8101:True"], ["8100:True"], ["8101:False"], ["8100:True"]]
    assert (await directory.agent("8100")).team is None
    with pytest.raises(UnknownAgent):
        await directory.change("8999", "sup", name="x")


async def test_the_acd_and_the_teams_follow_the_directory(directory: AgentDirectory, store: AcdStore) -> None:
    pokes: list[int] = []
    members: dict[str, str] = {}
    follows = AcdFollows(store, lambda: pokes.append(1))
    directory.listeners += [TeamsFollow(members), follows]
    await store.add_agent("7777", {"general": 1})  # known to the ACD from an earlier run, not in the directory
    await follows.align(await directory.seed(PLAN.agents))
    members.update({a.id: a.team for a in await directory.agents() if a.team})
    assert sorted(await store.agents()) == ["8001", "8002", "8003", "8004"]

    await directory.add_team("三组", "admin")
    await directory.add([draft("8100", "三组")], "admin")
    assert members["8100"] == "三组" and (await store.agent("8100"))["state"] == "signed_out"
    await store.set_agent_state("8100", "ready")
    await directory.change("8100", "sup", skills={"tax": 4})  # a ready agent takes the new skill's calls at once
    assert await store.redis.zscore("acd:ready:tax", "8100") is not None
    assert await store.redis.zscore("acd:ready:general", "8100") is None
    assert (await store.agent("8100"))["lvl:tax"] == "4" and "lvl:general" not in await store.agent("8100")

    await store.enqueue("c1", channel="PJSIP/carrier-1", skill="tax", caller="13800000001")
    await directory.change("8100", "sup", active=False)
    assert await store.reserve() is None, "a deactivated agent is offered nothing"
    assert "8100" not in await store.agents() and pokes


class Recorder:
    """Stands in for the hotline's Asterisk: the files written, the modules reloaded."""

    def __init__(self, connected: bool = True) -> None:
        self.written: list[dict[str, str]] = []
        self.reloads: list[list[str]] = []
        self.connected = connected

    def write_configs(self, configs: Mapping[str, str]) -> None:
        self.written.append(dict(configs))

    async def reload(self, modules: list[str]) -> None:
        self.reloads.append(modules)


async def test_a_burst_of_changes_makes_one_render_and_reload(directory: AgentDirectory) -> None:
    await directory.seed(PLAN.agents)
    sync = PhoneSync(directory, PLAN.supervisors, quiet_s=0.5, most_s=10)  # (a slow machine: the burst holds)
    directory.listeners.append(sync.changed)
    ctx = RenderContext("127.0.0.1", 5060, 5038, "hotline", "s", "127.0.0.1", 4573, "/r", "/s")
    start = await sync.files(ctx)
    assert "[8001]" in start[PHONES_PJSIP] and "[9001]" in start[PHONES_PJSIP]
    asterisk, node_down = Recorder(), Recorder(connected=False)  # two media nodes, the second one down
    sync.attach([(asterisk, asterisk), (node_down, node_down)])  # type: ignore[list-item]
    followed: list[Mapping[str, str]] = []

    async def follower(phones: Mapping[str, str]) -> None:
        followed.append(phones)

    sync.followers.append(follower)
    sync.start()
    try:
        for n in range(20):
            await directory.add([draft(f"81{n:02d}", phone="webrtc" if n == 0 else "sip")], "admin")
        await directory.change("8002", "sup", active=False)
        for _ in range(50):
            if sync.renders:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
    finally:
        await sync.close()
    assert sync.renders == 1 and asterisk.reloads == [["res_pjsip.so", "pbx_config.so"]]
    (files,) = asterisk.written
    assert node_down.written == [files] and node_down.reloads == []  # read when it starts again
    assert "[8119]" in files[PHONES_PJSIP] and "[8002]" not in files[PHONES_PJSIP]
    assert "exten => 8119,1,Dial(PJSIP/8119,30)" in files[PHONES_EXTENSIONS]
    assert "8100" in sync.phones and "8100" not in followed[0] and "8119" in followed[0], \
        "the world plays SIP phones, not the browsers'"


async def test_two_adds_of_one_number_at_once_make_one_agent_and_one_conflict(directory: AgentDirectory) -> None:
    await directory.add_team("一组", "admin")
    got = await asyncio.gather(directory.add([draft("8100")], "a"), directory.add([draft("8100")], "b"),
                               return_exceptions=True)
    assert sorted(type(g).__name__ for g in got) == ["Refused", "list"]
    assert next(g for g in got if isinstance(g, Refused)).exists


async def test_an_agent_back_from_deactivation_gets_a_new_password(directory: AgentDirectory) -> None:
    await directory.seed(PLAN.agents)
    old = directory.secrets.get("8001")
    await directory.change("8001", "sup", active=False)
    assert directory.secrets.get("8001") == old  # (not rendered while inactive)
    await directory.change("8001", "sup", active=True)
    assert directory.secrets.get("8001") not in (None, old)
