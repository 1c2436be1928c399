"""A stalled Redis (issue 15, availability): a server that accepts connections but answers nothing (here
stopped with SIGSTOP) must not leave a caller in dead air. Every Redis command gives up after the client's
timeout, unretried, so the call flow fails within seconds and Asterisk takes the caller to the number's
fail-safe (12345's: the queue, with music; the ACD takes them once Redis answers again)."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import pytest
import pytest_asyncio

from hotline.app.stack import Stack
from hotline.calls.records import CallView
from hotline.core.redis_client import RETRIES
from integration.world.call import WorldCaller
from tests.e2e.conftest import only_ready, running_stack, stack_settings, wait_for_step

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]

GREETING_S = 6.0  # answer, greeting with the recording notice (the flow's first Redis use comes after it)
BOUND_S = GREETING_S + 4 * 2.0  # and a few Redis commands' timeouts (2 s each), not RETRIES of them


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        yield s


@contextmanager
def stalled(pid: int) -> Iterator[None]:
    """The redis-server stopped (SIGSTOP: connections are still accepted by the kernel, nothing answers)."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


async def failsafe_of(stack: Stack, sip_call_id: str, timeout: float) -> CallView:
    assert stack.calls is not None
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        rows = await stack.calls.list(sip_call_id=sip_call_id, limit=1)
        if rows and rows[0].outcome == "failsafe":
            return rows[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"call {sip_call_id} did not reach the fail-safe within {timeout:.0f}s")


async def test_a_stalled_redis_sends_the_caller_to_the_fail_safe_within_seconds(stack: Stack,
                                                                             world_caller: WorldCaller) -> None:
    assert stack.redis_server is not None and stack.redis_server.pid is not None
    assert stack.settings.core.redis_timeout_s * (RETRIES + 1) > BOUND_S, "the bound would not show a retry loop"
    await only_ready(stack, "8001")  # an agent is there: once Redis answers again the caller is served
    with stalled(stack.redis_server.pid):
        call = await world_caller.start("12345", "13700137100", script="wait:60", timeout_s=120)
        sip = await call.answered()
        answered_at = asyncio.get_running_loop().time()
        record = await failsafe_of(stack, sip, timeout=BOUND_S + 5)
        took = asyncio.get_running_loop().time() - answered_at
        assert took <= BOUND_S, f"fail-safe after {took:.1f}s"
        assert record.failsafe_reason == "TimeoutError", record.failsafe_reason
        assert "queued" not in [s["step"] for s in record.steps]
    # Redis answers again: the caller, waiting with music in the fail-safe queue, reaches the agent
    await wait_for_step(stack, sip, "agent", timeout=60)
    await call.hangup()
    outcome = await call.outcome()
    assert outcome.speech is not None and outcome.speech.has_speech, "the caller heard the greeting, then music"
