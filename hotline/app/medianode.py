"""`hotline media-node`: one Asterisk media node on its own, the process of the docker media image.

The node's configs come from the project's render code (the dialplan file, this node's HOTLINE_* settings and
the deployment's generated secrets) and Asterisk runs in the Asterisk root exactly as the service runs it
(`AsteriskInstance`); a restarted container adopts an Asterisk still serving its folder.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from dialplans.commands import settings_context
from dialplans.loader import load_dialplan
from dialplans.render import render
from dialplans.secrets import load_or_create_secrets
from hotline.core.asterisk.baseconf import base_configs
from hotline.core.asterisk.datadirs import DataDirs
from hotline.core.asterisk.root import find_root
from hotline.core.asterisk.sandbox import AsteriskInstance
from hotline.core.settings import CoreSettings

NAME = "media"
ALIVE_EVERY_S = 5.0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    _arguments(sub.add_parser("media-node", help="run one Asterisk media node in the foreground (docker media image)"))


def main(argv: list[str] | None = None) -> int:
    """`python -m hotline.app.medianode`: the same without loading every plugin (the image's frequent healthcheck)."""
    parser = argparse.ArgumentParser(prog="python -m hotline.app.medianode", description=__doc__)
    args = _arguments(parser).parse_args(argv)
    return int(args.func(args))


def _arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--render-only", type=Path, metavar="DIR", help="write the node's configs into DIR and exit")
    parser.add_argument("--check", action="store_true", help="exit 0 when this node's Asterisk is up (healthcheck)")
    parser.set_defaults(func=_cmd)
    return parser


def node_configs(settings: CoreSettings, data: DataDirs) -> dict[str, str]:
    """The dialplan's configs for this node (the base configs are the instance's own)."""
    plan = load_dialplan(settings.dialplan_file)
    secrets = load_or_create_secrets(settings.home / "secrets.json", plan)
    return render(plan, settings_context(settings, secrets, data.inner))


def _cmd(args: argparse.Namespace) -> int:
    settings = CoreSettings()
    settings.home.mkdir(parents=True, exist_ok=True)
    data = DataDirs.for_home(find_root(settings.asterisk_root), settings.home)
    if args.check:
        running = asyncio.run(AsteriskInstance(data.root, NAME, {}, inner_dir=data.instance(NAME)).running())
        return 0 if running is not None else 1
    if args.render_only is not None:
        args.render_only.mkdir(parents=True, exist_ok=True)
        for name, text in {**base_configs(data.instance(NAME)), **node_configs(settings, data)}.items():
            (args.render_only / name).write_text(text)
        return 0
    return asyncio.run(_run(settings, data))


async def _run(settings: CoreSettings, data: DataDirs) -> int:
    """Start (or adopt) the node's Asterisk, stay until SIGTERM/SIGINT, stop it; 1 when Asterisk died."""
    instance = AsteriskInstance(data.root, NAME, node_configs(settings, data), inner_dir=data.instance(NAME))
    for sub in ("recordings", "sounds"):
        data.inner_of(sub)
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
