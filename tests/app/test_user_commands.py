"""`hotline user …` on the command line: create (a printed one-time password, or one read from stdin), list,
disable, enable, reset-password; each audited as the system user, no password in the audit log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hotline.app.plugins import upgrade_database
from hotline.core.accounts.users import Users
from hotline.core.db.engine import create_engine, session_factory
from hotline.core.web.audit import AuditLog


async def test_the_user_commands(tmp_path: Path) -> None:
    env = {**os.environ, "HOTLINE_HOME_DIR": str(tmp_path)}

    def hotline(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hotline.app.cli", "user", *args], env=env, input=stdin,
                              capture_output=True, text=True, timeout=120, check=False)

    made = hotline("create", "wang.fang", "--role", "agent", "--agent", "8001", "--team", "一组", "--name", "王芳")
    assert made.returncode == 0, made.stderr
    one_time = made.stdout.strip()
    assert len(one_time) == 14 and "one-time password" in made.stderr
    chosen = hotline("create", "li.qiang", "--role", "supervisor", "--team", "一组", "--password-stdin",
                     stdin="li-qiang-own-secret\n")
    assert chosen.returncode == 0 and chosen.stdout == "", chosen.stderr
    assert hotline("create", "weak", "--role", "engineer", "--password-stdin", stdin="123\n").returncode == 1
    refused = hotline("create", "no.agent", "--role", "agent")
    assert refused.returncode == 1 and "agent id" in refused.stderr
    assert hotline("create", "wang.fang", "--role", "admin").returncode == 1, "the name is taken"
    assert hotline("disable", "wang.fang").returncode == 0
    assert hotline("disable", "nobody").returncode == 1
    listed = {u["username"]: u for u in json.loads(hotline("list").stdout)}
    assert listed["wang.fang"]["disabled"] and listed["wang.fang"]["name"] == "王芳"
    assert listed["wang.fang"]["must_change_password"] and not listed["li.qiang"]["must_change_password"]
    assert hotline("enable", "wang.fang").returncode == 0
    reset = hotline("reset-password", "li.qiang")
    assert reset.returncode == 0 and len(reset.stdout.strip()) == 14

    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    await upgrade_database(url)
    engine = create_engine(url)
    try:
        users = Users(session_factory(engine))
        assert await users.sign_in("wang.fang", one_time) is not None
        assert await users.sign_in("li.qiang", "li-qiang-own-secret") is None, "reset"
        assert await users.sign_in("li.qiang", reset.stdout.strip()) is not None
        rows = [e for e in await AuditLog(session_factory(engine)).recent() if e["action"].startswith("accounts.")]
        assert sorted(e["action"] for e in rows) == ["accounts.create", "accounts.create", "accounts.disable",
                                                     "accounts.enable", "accounts.reset"]
        assert all(e["actor"].startswith("cli:") for e in rows)
        text = json.dumps(rows)
        assert one_time not in text and "li-qiang-own-secret" not in text and "$argon2" not in text
    finally:
        await engine.dispose()
