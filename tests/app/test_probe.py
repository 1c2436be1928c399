"""`python -m hotline.app.probe`: the containers' healthcheck answers by the health URL's status."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from hotline.app.probe import main, service_health_url
from hotline.core.netutil import free_port
from hotline.core.settings import CoreSettings


async def _serving(status: int) -> tuple[web.AppRunner, str]:
    async def health(request: web.Request) -> web.Response:
        return web.json_response({"ok": status == 200}, status=status)

    app = web.Application()
    app.router.add_get("/api/health", health)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}/api/health"


@pytest.mark.parametrize(("status", "code"), [(200, 0), (503, 1)])
async def test_the_health_status_is_the_exit_code(status: int, code: int) -> None:
    runner, url = await _serving(status)
    try:
        assert await asyncio.to_thread(main, [url]) == code
    finally:
        await runner.cleanup()


def test_nothing_listening_is_unhealthy() -> None:
    assert main([f"http://127.0.0.1:{free_port()}/api/health"]) == 1


def test_the_default_is_the_services_own_health_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_BIND", "0.0.0.0")
    monkeypatch.setenv("HOTLINE_HTTP_PORT", "8123")
    assert service_health_url(CoreSettings()) == "http://127.0.0.1:8123/api/health"
