"""`hotline agents import | list` as people type them, on a home of the test's own."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

from tests.acd.test_directory import PLAN


def hotline(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOTLINE_HOME_DIR": str(home)}
    return subprocess.run([sys.executable, "-m", "hotline.app.cli", *args], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def test_the_file_is_imported_once_and_listed_without_passwords(tmp_path: Path) -> None:
    assert hotline(tmp_path, "agents", "list").returncode == 1  # no tables yet: said so
    assert hotline(tmp_path, "db", "upgrade").returncode == 0
    first = hotline(tmp_path, "agents", "import")
    assert first.returncode == 0 and "added 4 of the file's 4 agents: 8001, 8002, 8003, 8004" in first.stdout
    assert "added 0 of the file's 4 agents" in hotline(tmp_path, "agents", "import").stdout

    edited = tmp_path / "hotline.yaml"
    source = Path(__file__).resolve().parents[2] / "dialplans" / "hotline.yaml"
    edited.write_text(source.read_text().replace(
        '  - {id: "8004"', '  - {id: "8005", name: 孙悦, seat: general, skills: {general: 2}}\n  - {id: "8004"'))
    assert "added 1 of the file's 5 agents: 8005" in hotline(tmp_path, "agents", "import", "--dialplan",
                                                             str(edited)).stdout

    listed = hotline(tmp_path, "agents", "list", "--json")
    agents = {a["id"]: a for a in json.loads(listed.stdout)}
    assert sorted(agents) == [*(a.id for a in PLAN.agents), "8005"] and agents["8005"]["team"] is None
    secrets = json.loads((tmp_path / "secrets.json").read_text())["agents"]
    assert set(secrets) == set(agents) and not any(s in listed.stdout for s in secrets.values())
    assert stat.S_IMODE(os.stat(tmp_path / "secrets.json").st_mode) == 0o600
    table = hotline(tmp_path, "agents", "list").stdout
    assert "8003" in table and "social_security:5" in table and "5 agents, 5 active" in table
    with sqlite3.connect(tmp_path / "hotline.db") as db:
        rows = db.execute("SELECT actor, detail FROM audit_log WHERE action = 'directory.agents.import'").fetchall()
    assert [(actor, json.loads(detail)["added"]) for actor, detail in rows] == [
        ("cli", ["8001", "8002", "8003", "8004"]), ("cli", ["8005"])]
