"""A real browser for page tests: Playwright (PyPI) driving Debian's chromium through `executable_path`, with
Chromium's fake media devices (a microphone fed from a WAV file when given), and screenshots saved as test
artefacts under `var/artefacts/` (not committed)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = os.environ.get("HOTLINE_CHROMIUM", "/usr/bin/chromium")
ARTEFACTS = Path(os.environ.get("HOTLINE_ARTEFACTS", "var/artefacts")).resolve()
# Quiet in a closed network: no background fetches, no first-run, no sandbox (tests run as root).
_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--use-fake-device-for-media-stream",
          "--autoplay-policy=no-user-gesture-required"]
FAKE_UI = "--use-fake-ui-for-media-stream"  # every media permission granted without a prompt


def need_chromium() -> None:
    """Skip unless Debian's chromium is installed (`make setup` installs it)."""
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (make setup installs Debian's chromium)")


@asynccontextmanager
async def chromium(microphone_wav: Path | None = None, *, grant_media: bool = True) -> AsyncIterator[Browser]:
    """A headless chromium; its fake microphone plays `microphone_wav` (16-bit PCM WAV) in a loop if given.
    Without `grant_media` the microphone is granted only as the context's permissions say (refused otherwise)."""
    need_chromium()
    flags = [*_FLAGS, FAKE_UI] if grant_media else list(_FLAGS)
    if microphone_wav is not None:
        flags.append(f"--use-file-for-fake-audio-capture={microphone_wav}")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=flags)
        try:
            yield browser
        finally:
            await browser.close()


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name)


async def screenshot(page: Page, test: str, step: str) -> Path:
    """Save what the page shows now as `var/artefacts/<test>/<step>.png`."""
    folder = ARTEFACTS / _safe(test)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (_safe(step) + ".png")
    await page.screenshot(path=str(path), full_page=True)
    return path
