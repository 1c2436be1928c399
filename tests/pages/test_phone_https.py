"""The browser phone over HTTPS: with HOTLINE_HTTPS_CERT / HOTLINE_HTTPS_KEY the service answers HTTPS only, and
the page (a secure context, as browsers require for the microphone away from localhost) registers over wss:// to
the service's /sip relay. A self-signed certificate for 127.0.0.1 made with openssl; the browser is told to accept it.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from hotline.app.stack import Stack
from tests.browser import chromium, screenshot
from tests.e2e.conftest import running_stack, stack_settings
from tests.pages.test_phone import AGENT, page_state, phone_page, registered_over_ws, until, webrtc_dialplan

pytestmark = [pytest.mark.asterisk, pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


def self_signed(folder: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    home = tmp_path_factory.mktemp("home")
    cert, key = self_signed(home)
    settings = stack_settings(home, dialplan_file=webrtc_dialplan(home))
    settings = replace(settings, core=replace(settings.core, https_cert=str(cert), https_key=str(key)))
    async with running_stack(settings) as s:
        yield s


async def test_the_service_answers_https_and_the_page_registers_over_wss(stack: Stack) -> None:
    url = stack.settings.core.web_url
    assert url.startswith("https://")
    trusting = ssl.create_default_context(cafile=stack.settings.core.https_cert)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/phone/", ssl=trusting) as r:
            assert r.status == 200 and "网页电话" in await r.text()
        with pytest.raises(aiohttp.ClientError):  # plain HTTP on the same port gets no page
            async with http.get(url.replace("https://", "http://") + "/phone/") as r:
                assert r.status >= 400
    async with chromium() as browser:
        context = await browser.new_context(locale="zh-CN", ignore_https_errors=True)
        async with phone_page(stack, context) as page:
            assert await page.evaluate("window.isSecureContext") is True
            await page_state(page, "registered")
            await screenshot(page, "phone_https", "registered")
            await until(lambda: registered_over_ws(stack), 10, f"Asterisk sees {AGENT}'s contact through wss")
        await context.close()
