"""Browser phones for the desk benchmark (`python -m bench desk`): many /phone/ pages in one browser, each signed in
as its own agent, and the time from the answer click to the first of the citizen's audio in the page (WebRTC stats).

The browser is the caller's (Playwright on Debian's chromium, e.g. `tests.browser.chromium`); each page gets its
own context (its own sign-in) in that one browser process.
"""

from __future__ import annotations

from playwright.async_api import Browser, Page

# answer, then read the peer connection's stats every 20 ms (in the page, only while measuring) until the first
# audio with energy arrives: the answer click to the citizen heard, in ms (-1: none within the timeout)
_ANSWER_TO_AUDIO = """async (timeoutMs) => {
  const t0 = performance.now();
  if (!(await window.hotlinePhone.answer())) return -2;
  for (;;) {
    const s = await window.hotlinePhone.inboundAudio();
    if (s && s.packetsReceived > 0 && s.totalAudioEnergy > 0) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) return -1;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}"""


async def open_phone(browser: Browser, base_url: str, token: str) -> Page:
    """A /phone/ page signed in with `token` (an agent's bearer token) in a context of its own."""
    context = await browser.new_context(locale="zh-CN", ignore_https_errors=base_url.startswith("https:"))
    await context.add_init_script(f"window.sessionStorage.setItem('hotline.token', {token!r})")
    page = await context.new_page()
    await page.goto(f"{base_url}/phone/")
    return page


async def wait_state(page: Page, state: str, timeout_s: float = 20.0) -> None:
    """Until the page's phone is in `state` (registered, ringing, talking …)."""
    await page.wait_for_selector(f"[data-test=state][data-state={state}]", timeout=timeout_s * 1000)


async def answer_to_audio_ms(page: Page, timeout_s: float = 10.0) -> float:
    """Answer the ringing call in the page; ms until the citizen's first audio plays there (RuntimeError if none)."""
    ms = float(await page.evaluate(_ANSWER_TO_AUDIO, timeout_s * 1000))
    if ms < 0:
        raise RuntimeError("nothing to answer" if ms == -2 else f"no audio from the citizen within {timeout_s} s")
    return ms
