"""The embedded Asterisk instance manager on the real root."""

from __future__ import annotations

import os
import signal

import pytest

from hotline.core.asterisk.root import AsteriskRoot
from hotline.core.asterisk.sandbox import AsteriskInstance, AsteriskStartError
from hotline.core.netutil import free_port

pytestmark = pytest.mark.asterisk


def pjsip(port: int) -> str:
    return f"[udp]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{port}\n"


async def test_two_instances_run_side_by_side_and_stop_cleanly(asterisk_root: AsteriskRoot) -> None:
    ports = free_port(), free_port()
    one = AsteriskInstance(asterisk_root, "one", {"pjsip.conf": pjsip(ports[0])})
    two = AsteriskInstance(asterisk_root, "two", {"pjsip.conf": pjsip(ports[1])})
    async with one, two:
        assert "Asterisk 22" in await one.cli("core show version")
        assert f"127.0.0.1:{ports[1]}" in await two.cli("pjsip show transports")
        assert one.dir != two.dir
        assert one.inner(one.sounds_dir).startswith("/srv/hotline/one-")
    assert not one.dir.exists() and not two.dir.exists()


async def test_a_boot_failure_shows_asterisks_log(asterisk_root: AsteriskRoot) -> None:
    # a hand-edited asterisk.conf naming a user that does not exist: Asterisk exits at start-up
    broken = AsteriskInstance(asterisk_root, "broken", {"asterisk.conf": "[options]\nrunuser = nosuchuser\n"})
    with pytest.raises(AsteriskStartError) as info:
        await broken.start(timeout=30)
    assert "nosuchuser" in str(info.value), "the error must carry Asterisk's own words"
    await broken.stop()


async def test_stop_escalates_when_asterisk_does_not_answer(asterisk_root: AsteriskRoot) -> None:
    inst = AsteriskInstance(asterisk_root, "frozen", {"pjsip.conf": pjsip(free_port())})
    await inst.start()
    proc = inst._proc
    assert proc is not None
    os.killpg(proc.pid, signal.SIGSTOP)  # neither the CLI nor SIGTERM can reach it now
    await inst.stop()
    assert proc.returncode is not None
    await inst.stop()  # safe twice


async def test_an_asterisk_several_processes_hold_is_stopped_by_the_last_live_one(asterisk_root: AsteriskRoot) -> None:
    configs = {"pjsip.conf": pjsip(free_port())}
    owner = AsteriskInstance(asterisk_root, "held", configs)
    await owner.start()
    inner = owner.inner(owner.dir)
    later = AsteriskInstance(asterisk_root, "held", configs, inner_dir=inner)
    try:
        adopter = AsteriskInstance(asterisk_root, "held", configs, inner_dir=inner)
        assert await adopter.start_or_adopt()
        await adopter.stop()  # an instance that adopted it lets go: Asterisk goes on for the one that started it
        assert await owner.running() == owner.pid
        holders = owner.dir / "run" / "holders"
        (holders / f"{os.getppid()}-reused").write_text("0")  # a live pid, but not the process that held it
        (holders / "4194304-gone").write_text("1")  # (above the kernel's pid_max: no such process)
        assert await later.start_or_adopt()
        await owner.stop()  # the one that started it goes while another holds it: left running for that one
        assert await later.running() == owner.pid and owner.dir.exists()
        await later.stop()  # the last live holder (the others' files are stale): stops it
        assert await later.running() is None and not owner.dir.exists()
    finally:
        await owner.stop()
        await later.stop()
