"""The pages and the npm libraries served by the service: the import map written in, the security headers,
only the libraries' built files, nothing outside a page's folder."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hotline.core.web.pages import PLACEHOLDER, Pages, default_libraries, routes


def _app(folder: Path) -> web.Application:
    app = web.Application()
    for path, handler in routes(Pages({"desk": folder}, home="desk")):
        app.router.add_get(path, handler)
    return app


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    page = tmp_path / "desk"
    page.mkdir()
    (page / "index.html").write_text(f"<html><head>{PLACEHOLDER}</head><body>坐席</body></html>")
    (page / "desk.js").write_text("export const x = 1;\n")
    (page / ".secret").write_text("no")
    (tmp_path / "outside.txt").write_text("no")
    return page


async def test_page_gets_the_import_map_and_a_policy_that_allows_it(folder: Path) -> None:
    async with TestClient(TestServer(_app(folder))) as client:
        r = await client.get("/desk/")
        html = await r.text()
        assert r.status == 200 and "坐席" in html and PLACEHOLDER not in html
        start = html.index('<script type="importmap">') + len('<script type="importmap">')
        script = html[start:html.index("</script>", start)]
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in r.headers["Content-Security-Policy"]
        assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"
        js = await client.get("/desk/desk.js")
        assert js.status == 200 and js.content_type.endswith("javascript")


async def test_home_and_bare_page_name_redirect(folder: Path) -> None:
    async with TestClient(TestServer(_app(folder))) as client:
        for path in ("/", "/desk"):
            r = await client.get(path, allow_redirects=False)
            assert r.status == 302 and r.headers["Location"] == "/desk/"


@pytest.mark.parametrize("path", ["/desk/.secret", "/desk/../outside.txt", "/desk/%2e%2e/outside.txt",
                                  "/desk/missing.js", "/vendor/left-pad/index.js", "/vendor/vue/../package.json",
                                  "/vendor/vue/%2e%2e/package.json"])
async def test_nothing_outside_the_pages_and_the_libraries_builds(folder: Path, path: str) -> None:
    async with TestClient(TestServer(_app(folder))) as client:
        r = await client.get(path, allow_redirects=False)
        assert r.status == 404, path


@pytest.mark.skipif(not (default_libraries() / "vue").exists(), reason="make pages installs web/node_modules")
async def test_libraries_from_npm_are_served(folder: Path) -> None:
    async with TestClient(TestServer(_app(folder))) as client:
        for path in ("/vendor/vue/vue.esm-browser.prod.js", "/vendor/element-plus/index.full.min.mjs",
                     "/vendor/element-plus/locale/zh-cn.min.mjs", "/vendor/element-plus/index.css",
                     "/vendor/echarts/echarts.esm.min.mjs", "/vendor/sip.js/index.js"):
            r = await client.get(path)
            assert r.status == 200, path
            await r.read()


async def test_a_folder_with_page_json_gets_the_shared_shell(tmp_path: Path) -> None:
    page = tmp_path / "board"
    page.mkdir()
    (page / "page.json").write_text('{"index.html": {"title": "实时监控", "script": "/board/board.js"}, '
                                    '"print.html": {"title": "月报", "script": "/board/print.js", '
                                    '"style": ["/board/board.css", "/board/print.css"], "audio": true}}',
                                    encoding="utf-8")
    app = web.Application()
    for path, handler in routes(Pages({"board": page})):
        app.router.add_get(path, handler)
    async with TestClient(TestServer(app)) as client:
        html = await (await client.get("/board/")).text()
        assert "<title>实时监控 · 12345政务服务便民热线</title>" in html and '<script type="importmap">' in html
        assert '<script type="module" src="/board/board.js"></script>' in html and "remote-audio" not in html
        assert '<link rel="stylesheet" href="/common/base.css">' in html and 'id="app"' in html
        printed = await (await client.get("/board/print.html")).text()
        assert printed.index('href="/board/board.css"') < printed.index('href="/board/print.css"')
        assert '<audio id="remote-audio" autoplay></audio>' in printed
        assert (await client.get("/board/other.html")).status == 404
