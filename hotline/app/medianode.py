"""`hotline media-node`: one Asterisk media node on its own, the process of the docker media image.

The node's configs are what `hotline dialplan render --out DIR [--node NAME]` writes (the dialplan file, this
node's HOTLINE_* settings and the deployment's generated secrets: the same code the engineers and tests run), and
Asterisk runs in the Asterisk root exactly as the service runs it (`AsteriskInstance`, with its base configs); a
restarted container adopts an Asterisk still serving its folder.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import shutil
import signal
import sys
from pathlib import Path

from dialplans.commands import register as register_dialplan
from hotline.core.asterisk.baseconf import base_configs
from hotline.core.asterisk.datadirs import DataDirs
from hotline.core.asterisk.root import find_root
from hotline.core.asterisk.sandbox import AsteriskInstance
from hotline.core.settings import CoreSettings

NAME = "media"
RENDERED_DATA = "/srv/hotline-data"  # the recordings and prompts folder `hotline dialplan render` writes in
ALIVE_EVERY_S = 5.0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    _arguments(sub.add_parser("media-node", help="run one Asterisk media node in the foreground (docker media image)"))


def main(argv: list[str] | None = None) -> int:
    """`python -m hotline.app.medianode`: the same without loading every plugin (the image's frequent healthcheck)."""
    parser = argparse.ArgumentParser(prog="python -m hotline.app.medianode", description=__doc__)
    args = _arguments(parser).parse_args(argv)
    return int(args.func(args))


def _arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--node", metavar="NAME", help="this media node of the dialplan file's cluster: section")
    parser.add_argument("--render-only", type=Path, metavar="DIR", help="write the node's configs into DIR and exit")
    parser.add_argument("--check", action="store_true", help="exit 0 when this node's Asterisk is up (healthcheck)")
    parser.set_defaults(func=_cmd)
    return parser


def node_configs(settings: CoreSettings, node: str | None) -> dict[str, str]:
    """The node's dialplan configs, as `hotline dialplan render` writes them (the base configs are the
    instance's own)."""
    parser = argparse.ArgumentParser(prog="hotline")
    register_dialplan(parser.add_subparsers(dest="command", required=True))
    out = settings.run_dir / "media-node-render"
    shutil.rmtree(out, ignore_errors=True)
    args = parser.parse_args(["dialplan", "render", "--out", str(out), *(["--node", node] if node else [])])
    with contextlib.redirect_stdout(io.StringIO()):
        if args.func(args) != 0:
            raise SystemExit(f"`hotline dialplan render` refused the dialplan file {settings.dialplan_file}")
    configs = {path.name: path.read_text() for path in sorted(out.iterdir())}
    shutil.rmtree(out)
    return configs


def _cmd(args: argparse.Namespace) -> int:
    settings = CoreSettings()
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    data = DataDirs.for_home(find_root(settings.asterisk_root), settings.home)
    if args.check:
        running = asyncio.run(AsteriskInstance(data.root, NAME, {}, inner_dir=data.instance(NAME)).running())
        return 0 if running is not None else 1
    if args.render_only is not None:
        args.render_only.mkdir(parents=True, exist_ok=True)
        for name, text in {**base_configs(data.instance(NAME)), **node_configs(settings, args.node)}.items():
            (args.render_only / name).write_text(text)
        return 0
    return asyncio.run(_run(settings, data, node_configs(settings, args.node)))


async def _run(settings: CoreSettings, data: DataDirs, configs: dict[str, str]) -> int:
    """Start (or adopt) the node's Asterisk, stay until SIGTERM/SIGINT, stop it; 1 when Asterisk died."""
    instance = AsteriskInstance(data.root, NAME, configs, inner_dir=data.instance(NAME))
    for sub in ("recordings", "sounds"):  # where `dialplan render` has the node record and find its prompts
        data.host(f"{RENDERED_DATA}/{sub}").mkdir(parents=True, exist_ok=True)
    adopted = await instance.start_or_adopt()
    print(f"media node up ({'adopted' if adopted else 'started'}): SIP {settings.bind_host}:"
          f"{settings.ports.hotline_sip}, configs in {instance.etc_dir}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    died = False
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), ALIVE_EVERY_S)
        except TimeoutError:
            if await instance.running() is None:
                print(f"Asterisk exited: {instance.log_tail(20)}", file=sys.stderr, flush=True)
                died = True
                break
    await instance.stop()
    return 1 if died else 0


if __name__ == "__main__":
    raise SystemExit(main())
