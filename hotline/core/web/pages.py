"""The pages people use (desk, sign-in, consoles), served by the service itself: each page folder at
`/<name>/`, the browser libraries from npm (web/node_modules, installed by `make pages`) at `/vendor/…`
(an allow-list of their built files only), no CDN, no bundler.

A page's HTML names its libraries through one import map that the service writes into it (the line
`<!-- importmap -->`), so every page loads the same Vue; the Content-Security-Policy allows scripts from
this origin and that map (by its hash) only. The files themselves are public (they hold no data): every
API call they make is authenticated.

A page folder need not carry its HTML: `page.json` names each HTML file's title, script and style
(`{"index.html": {"title": "坐席工作台", "script": "desk.js", "style": "desk.css", "audio": true}}`; `style` may
be a list) and the
service writes the one shell they all share (`shell`): the Element Plus and common styles, the import map,
one `#app` to mount on, and with `audio` the `<audio id="remote-audio">` a page phone plays the caller into.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from hotline.core.web.errors import Handler

PLACEHOLDER = "<!-- importmap -->"
SHELLS = "page.json"
CENTRE = "12345政务服务便民热线"

# /vendor/<library>/… → the folder inside web/node_modules that holds its browser build
LIBRARIES: Mapping[str, str] = {
    "vue": "vue/dist",
    "element-plus": "element-plus/dist",
    "echarts": "echarts/dist",
    "sip.js": "sip.js/lib",
}
IMPORTS: Mapping[str, str] = {
    "vue": "/vendor/vue/vue.esm-browser.prod.js",
    "element-plus": "/vendor/element-plus/index.full.min.mjs",
    "element-plus/zh-cn": "/vendor/element-plus/locale/zh-cn.min.mjs",
    "echarts": "/vendor/echarts/echarts.esm.min.mjs",
    "sip.js": "/vendor/sip.js/index.js",
}
mimetypes.add_type("text/javascript", ".mjs")


def default_libraries() -> Path:
    """web/node_modules beside the package (a source checkout, as `make` sets it up)."""
    return Path(__file__).resolve().parents[3] / "web" / "node_modules"


@dataclass(frozen=True)
class Pages:
    """Page folders by URL name (`desk` → /desk/), and where the npm libraries are."""

    folders: Mapping[str, Path] = field(default_factory=dict)
    libraries: Path = field(default_factory=default_libraries)
    home: str | None = None  # where `/` leads (a page name), e.g. "desk"

    def import_map(self) -> str:
        return f'<script type="importmap">{self._imports()}</script>'

    @staticmethod
    def _imports() -> str:
        return json.dumps({"imports": dict(IMPORTS)})

    def policy(self) -> str:
        """The Content-Security-Policy of every page. 'unsafe-eval': Vue compiles the pages' templates in the
        browser (no build step); 'unsafe-inline' styles: Element Plus positions popups with style attributes."""
        digest = base64.b64encode(hashlib.sha256(self._imports().encode()).digest()).decode()
        return ("default-src 'self'; "
                f"script-src 'self' 'unsafe-eval' 'sha256-{digest}'; "
                "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:; "
                "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; "
                "frame-ancestors 'none'; form-action 'self'")


def _headers(response: web.StreamResponse, csp: str | None, cache: str) -> None:
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = cache
    if csp:
        response.headers["Content-Security-Policy"] = csp
        response.headers["X-Frame-Options"] = "DENY"


def _inside(root: Path, relative: str) -> Path:
    """The file `relative` below `root`, or 404: no `..`, no hidden files, no links out of `root`."""
    if not relative or any(part in ("", ".", "..") or part.startswith(".") for part in relative.split("/")):
        raise web.HTTPNotFound()
    path = (root / relative).resolve()
    if not path.is_relative_to(root.resolve()) or not path.is_file():
        raise web.HTTPNotFound()
    return path


def shell(title: str, script: str, styles: tuple[str, ...] = (), *, audio: bool = False) -> str:
    """The HTML every page shares, for one page's title, module script and styles (see the module's docstring)."""
    own_style = "".join(f'\n  <link rel="stylesheet" href="{style}">' for style in styles)
    player = '\n  <audio id="remote-audio" autoplay></audio>' if audio else ""
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} · {CENTRE}</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/vendor/element-plus/index.css">
  <link rel="stylesheet" href="/common/base.css">{own_style}
  {PLACEHOLDER}
  <script type="module" src="{script}"></script>
</head>
<body>
  <div id="app" v-cloak></div>{player}
</body>
</html>
"""


def _html(folder: Path, relative: str) -> str:
    """The page `relative` (an .html name) of `folder`: its own file, or the shell its page.json describes."""
    own = folder / relative
    if "/" not in relative and not own.is_file() and (folder / SHELLS).is_file():
        spec = json.loads((folder / SHELLS).read_text(encoding="utf-8")).get(relative)
        if isinstance(spec, dict):
            style = spec.get("style") or ()
            styles = (style,) if isinstance(style, str) else tuple(str(s) for s in style)
            return shell(str(spec["title"]), str(spec["script"]), styles, audio=bool(spec.get("audio")))
    return _inside(folder, relative).read_text(encoding="utf-8")


def _page_handler(pages: Pages, name: str, folder: Path) -> Handler:
    async def serve(request: web.Request) -> web.StreamResponse:
        relative = request.match_info.get("path") or "index.html"
        if relative.endswith(".html"):
            html = _html(folder, relative).replace(PLACEHOLDER, pages.import_map(), 1)
            response = web.Response(text=html, content_type="text/html", charset="utf-8")
            _headers(response, pages.policy(), "no-cache")
            return response
        file = web.FileResponse(_inside(folder, relative))
        _headers(file, None, "no-cache")
        return file

    serve.__name__ = f"page_{name}"
    return serve


def _library_handler(root: Path) -> Handler:
    async def serve(request: web.Request) -> web.StreamResponse:
        folder = LIBRARIES.get(request.match_info["library"])
        if folder is None:
            raise web.HTTPNotFound()
        file = web.FileResponse(_inside(root / folder, request.match_info["path"]))
        _headers(file, None, "public, max-age=86400")
        return file

    return serve


def routes(pages: Pages) -> list[tuple[str, Handler]]:
    """The page and library routes (all public: the authentication middleware lets them through)."""
    out: list[tuple[str, Handler]] = []
    for name, folder in pages.folders.items():
        handler = _page_handler(pages, name, folder)
        out += [(f"/{name}", _redirect(f"/{name}/")), (f"/{name}/", handler), (f"/{name}/{{path:.+}}", handler)]
    out.append(("/vendor/{library}/{path:.+}", _library_handler(pages.libraries)))
    if pages.home is not None:
        out.append(("/", _redirect(f"/{pages.home}/")))
    return out


def _redirect(to: str) -> Handler:
    async def go(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(to)

    return go
