"""Files at rest (issue 15, data at rest): after a real call — recordings, logs, database rows, Redis data
exist — nothing in the home folder, the hotline Asterisk's folder or the folder it records into can be read
by another user; its logs hold no caller's number, rotate on `logger rotate` (AMI) and the rotated ones are
deleted after the logs' period."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select

from hotline.app.retention.coordinator import Periods, Retention
from hotline.app.retention.plugin import key_file, log_dirs, own_log_dirs
from hotline.app.retention.worker import RetentionWorker
from hotline.app.stack import Stack
from hotline.core.asterisk.baseconf import logger_conf
from hotline.core.asterisk.root import find_root
from hotline.core.asterisk.sandbox import AsteriskInstance
from hotline.core.logfiles import expire_logs, is_rotated
from hotline.core.web.models import AuditEntry
from integration.world.call import WorldCaller
from tests.e2e.conftest import running_stack, stack_settings
from tests.e2e.test_first_call import stored_recording

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]

CITIZEN = "13800138000"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        yield s


class Lines(logging.Handler):
    """The service's own log lines (INFO and up), as they would be written."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name}: {record.getMessage()}")


SERVICE_LOG = Lines()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def called(stack: Stack) -> str:
    """One call answered by an agent, its recording stored: the call id. The service's log lines meanwhile
    are kept in SERVICE_LOG."""
    assert stack.world_ami is not None and stack.data is not None and stack.calls is not None
    caller = WorldCaller(stack.world_ami, stack.data.inner_of("heard"), stack.data.host, stack.calls)
    root, level = logging.getLogger(), logging.getLogger().level
    root.addHandler(SERVICE_LOG)
    root.setLevel(logging.INFO)
    try:
        outcome = await caller.call("12345", CITIZEN, dtmf="1", listen_s=8)
        assert outcome.answered and outcome.record is not None, outcome.originate_result
        await stored_recording(stack, outcome.record.call_id)
    finally:
        root.removeHandler(SERVICE_LOG)
        root.setLevel(level)
    return outcome.record.call_id


def private_folders(stack: Stack) -> list[Path]:
    """Where the service keeps personal data and secrets: its home, the hotline Asterisk's folder (configs,
    logs, spool, astdb), the folder Asterisk records into."""
    assert stack.hotline is not None and stack.data is not None
    return [stack.settings.core.home, stack.hotline.dir, stack.data.host(stack.data.inner)]


def offenders(folder: Path) -> list[str]:
    """Every file group/other may read or write, every folder group/other may enter, with its mode."""
    found = []
    for path in [folder, *folder.rglob("*")]:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            continue
        if stat.S_IMODE(mode) & 0o077:
            found.append(f"{stat.filemode(mode)} {path}")
    return found


async def test_no_file_of_the_service_is_readable_by_another_user(stack: Stack, called: str) -> None:
    home = stack.settings.core.home
    assert (home / "hotline.db").exists() and (home / "redis").is_dir() and (home / "secrets.json").exists()
    assert any((home / "recordings").rglob("*.opus")), "the call's stored recording is there"
    bad = [line for folder in private_folders(stack) for line in offenders(folder)]
    assert not bad, "readable by others:\n" + "\n".join(bad)


async def test_the_logs_hold_no_callers_number(stack: Stack, called: str) -> None:
    assert stack.hotline is not None
    home = stack.settings.core.home
    logs = [p for p in [*(stack.hotline.dir / "log").rglob("*"), stack.hotline.dir / "console.log",
                        home / "run" / "recordings.log", home / "refcase" / "refcase.log", home / "redis" / "redis.log"]
            if p.is_file()]
    assert len(logs) >= 4, logs
    assert not (stack.hotline.dir / "log" / "full").exists(), "no full verbose log unless debugging"
    holding = [str(p) for p in logs if CITIZEN in p.read_text(errors="replace")]
    assert not holding, f"the caller's number is in {holding}"
    assert any(called in line for line in SERVICE_LOG.lines), "the service logged the call"
    assert not [line for line in SERVICE_LOG.lines if CITIZEN in line], "masked in the service's own log lines"


async def test_logs_rotate_and_rotated_ones_go_after_their_period(stack: Stack, called: str) -> None:
    assert stack.hotline is not None and stack.data is not None and stack.ami is not None and stack.sessions
    home, asterisk_logs = stack.settings.core.home, stack.hotline.dir / "log"
    dirs = log_dirs(home, stack.data)
    assert asterisk_logs in dirs and stack.hotline.dir in dirs
    retention = Retention(stack.sessions, Periods(logs=30), key_file(home), dirs)
    before = {p for d in dirs if d.is_dir() for p in d.iterdir() if is_rotated(p)}
    await RetentionWorker(retention, stack.ami, own_log_dirs(home, stack.data)).rotate()

    rotated = {p for d in dirs if d.is_dir() for p in d.iterdir() if is_rotated(p)} - before
    names = {p.name.rsplit(".", 1)[0] for p in rotated}
    assert {"messages", "recordings.log"} <= names, sorted(names)  # console.log too when not empty
    assert (asterisk_logs / "messages").exists(), "Asterisk reopened its log"
    await stack.hotline.cli("logger reload")
    files = [line for line in (await stack.hotline.cli("logger show channels")).splitlines() if " File " in line]
    assert files and not [f for f in files if "VERBOSE" in f or "DTMF" in f], files
    assert all(p.stat().st_mode & 0o077 == 0 for p in rotated)

    month_ago = (datetime.now(UTC) - timedelta(days=31)).timestamp()
    for path in rotated:
        os.utime(path, (month_ago, month_ago))
    report = expire_logs(dirs, 30)
    assert report.changed >= len(rotated)
    assert not any(p.exists() for p in rotated)
    assert (asterisk_logs / "messages").exists() and (stack.hotline.dir / "console.log").exists(), "live logs stay"
    assert (home / "hotline.db").exists()


async def test_the_daily_retention_worker_runs_in_the_service_and_audits_its_run(stack: Stack) -> None:
    assert stack.sessions is not None
    health = await stack.health.report()
    assert health["retention"].ok, health["retention"]
    async with stack.sessions() as s:
        entries = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "retention.logs"))).all()
    assert entries and entries[0].detail["days"] == 180, "the logs' default period, swept at start"


async def test_the_full_log_is_only_for_debugging_and_rotates_too() -> None:
    """HOTLINE_ASTERISK_FULL_LOG=1 adds the verbose log (callers' numbers): it rotates like the others."""
    async with AsteriskInstance(find_root(), "fulllog", {"logger.conf": logger_conf(full=True)}) as asterisk:
        full = asterisk.dir / "log" / "full"
        assert "VERBOSE" in full.read_text() and full.stat().st_mode & 0o077 == 0
        await asterisk.cli("logger rotate")
        rotated = [p.name for p in full.parent.iterdir() if is_rotated(p)]
        assert {name.split(".")[0] for name in rotated} == {"full", "messages"}, rotated
        assert "full => notice,warning,error,verbose(3),dtmf" not in logger_conf()
