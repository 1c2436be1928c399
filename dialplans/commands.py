"""`hotline dialplan check | render | apply`."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dialplans.loader import DialplanInvalid, check_dialplan, load_dialplan
from hotline.core.settings import CoreSettings

if TYPE_CHECKING:
    from dialplans.apply import Target
    from dialplans.model import Dialplan
    from hotline.core.asterisk.ami import AmiClient


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dialplan = sub.add_parser("dialplan", help="the engineers' dialplan file: check, render, apply")
    dsub = dialplan.add_subparsers(dest="dialplan_command", required=True)
    check = dsub.add_parser("check", help="validate the file (schema and cross-references)")
    check.add_argument("file", nargs="?", type=Path)
    check.add_argument("--conf", nargs="*", type=Path, default=[], help="also check hand-edited .conf files")
    check.set_defaults(func=_check)
    rend = dsub.add_parser("render", help="write the Asterisk configs the file produces")
    rend.add_argument("file", nargs="?", type=Path)
    rend.add_argument("--out", type=Path, help="folder for the hotline Asterisk's configs")
    rend.add_argument("--kamailio", type=Path, metavar="DIR",
                      help="folder for the SIP front door's kamailio.cfg and dispatcher.list (the file's cluster:)")
    rend.add_argument("--node", metavar="NAME", help="render --out for this media node of the file's cluster: (its "
                      "address; phones through the front door; AMI logins and FastAGI at HOTLINE_AGI_BIND)")
    rend.set_defaults(func=_render)
    app = dsub.add_parser("apply", help="render, show the diff, reload the running Asterisk (rolls back on failure)")
    app.add_argument("file", nargs="?", type=Path)
    app.set_defaults(func=_apply)


def _file(args: argparse.Namespace) -> Path:
    return Path(args.file) if args.file else CoreSettings().dialplan_file


def _check(args: argparse.Namespace) -> int:
    from dialplans.confcheck import check_conf_file

    path = _file(args)
    errors = [str(e) for e in check_dialplan(path)]
    for conf in args.conf:
        errors += check_conf_file(conf)
    for line in errors:
        print(line, file=sys.stderr)
    if errors:
        print(f"{len(errors)} error(s); nothing was changed", file=sys.stderr)
        return 1
    plan = load_dialplan(path)
    print(f"ok: {path}: {len(plan.numbers)} numbers, {len(plan.skills)} skills, {len(plan.agents)} agents, "
          f"{len(plan.trunks)} trunks, {len(plan.holidays)} holidays, {len(plan.prompts)} prompts")
    return 0


def _render(args: argparse.Namespace) -> int:
    from dialplans.render import RenderContext, render
    from dialplans.secrets import load_or_create_secrets
    from dialplans.siptls import SipTls

    settings = CoreSettings()
    if args.out is None and args.kamailio is None:
        print("say where to write: --out DIR (Asterisk) and/or --kamailio DIR (front door)", file=sys.stderr)
        return 2
    try:
        plan = load_dialplan(_file(args))
    except DialplanInvalid as exc:
        print(exc, file=sys.stderr)
        return 1
    secrets = load_or_create_secrets(settings.home / "secrets.json", plan)
    if args.kamailio is not None and _render_kamailio(plan, secrets.agent_secrets, args.kamailio, settings) != 0:
        return 1
    if args.out is None:
        return 0
    ctx = RenderContext(settings.bind_host, settings.ports.hotline_sip, settings.ports.hotline_ami,
                        secrets.ami_user, secrets.ami_secret, settings.bind_host, settings.ports.agi,
                        "/srv/hotline-data/recordings", "/srv/hotline-data/sounds", secrets.agent_secrets,
                        agi_key=secrets.agi_key, tls=SipTls(settings.sip.tls_cert, settings.sip.tls_key,
                                                            settings.sip.tls_ca, settings.sip.tls_port)
                        if settings.sip.tls else None)
    if args.node:
        node = next((n for n in plan.cluster.nodes if n.name == args.node), None)
        if node is None:
            print(f"no node {args.node!r} under cluster.nodes in the file", file=sys.stderr)
            return 1
        ctx = dataclasses.replace(ctx, bind_host=node.address, sip_port=node.port, agi_host=settings.agi_bind,
                                  ami_from=(settings.agi_bind, *(i.host for i in settings.instances)),
                                  phones_via=f"sip:{plan.cluster.address}:{plan.cluster.port}")
        plan = plan.on_node(node.name)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in render(plan, ctx).items():
        (args.out / name).write_text(text)
        print(f"wrote {args.out / name}")
    return 0


def _render_kamailio(plan: Dialplan, phone_secrets: Mapping[str, str], out: Path, settings: CoreSettings) -> int:
    from dialplans.kamailio import FrontDoorContext, render_kamailio
    from hotline.core.asterisk.sipbans import BanPolicy

    sip = settings.sip  # the front door bans strangers by the service's policy (HOTLINE_SIP_BAN_*)
    try:
        files = render_kamailio(plan, FrontDoorContext(out.resolve(), phone_secrets, bans=BanPolicy(
            sip.ban_after, sip.ban_window_s, sip.ban_s), ban_exempt=sip.ban_exempt))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / name).write_text(text)
        (out / name).chmod(0o600)  # the phones' passwords
        print(f"wrote {out / name}")
    return 0


def _record_applied(home: Path, path: Path) -> None:
    """The engineer page shows this version as the running one, applied by this user from the command line."""
    import getpass

    from dialplans.history import DialplanHistory
    from hotline.core.clock import china_now

    DialplanHistory(home / "dialplan-history").set_running(path.read_text(encoding="utf-8"),
                                                           f"{getpass.getuser()} (hotline dialplan apply)",
                                                           china_now(), "applied")


def _apply(args: argparse.Namespace) -> int:
    return asyncio.run(_apply_async(Path(args.file) if args.file else None))


async def _apply_async(path: Path | None) -> int:
    from dialplans.apply import ApplyRefused, ApplyRolledBack, apply_everywhere

    settings = CoreSettings()
    if not settings.state_file.exists():
        print("no running hotline to apply to (start it with `make run`)", file=sys.stderr)
        return 2
    state = json.loads(settings.state_file.read_text())
    path = path or Path(state.get("dialplan_file") or settings.dialplan_file)
    try:
        plan = load_dialplan(path)
    except DialplanInvalid as exc:
        print(exc, file=sys.stderr)
        print("refused; the running configuration is untouched", file=sys.stderr)
        return 1
    targets = _targets(state, plan, settings.home)
    try:
        for _, ami in targets:
            await ami.connect()
        result = await apply_everywhere(plan, [t for t, _ in targets])
    except ApplyRefused as exc:
        print(exc, file=sys.stderr)
        print("refused; the running configuration is untouched", file=sys.stderr)
        return 1
    except ApplyRolledBack as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        for _, ami in targets:
            await ami.close()
    _record_applied(settings.home, path)
    if not result.changed:
        print("no change")
        return 0
    print(result.diff)
    print(f"applied: {', '.join(result.changed)} reloaded" + (f" on nodes {', '.join(result.nodes)}"
                                                               if result.nodes else ""))
    return 0


def _targets(state: dict[str, Any], plan: Dialplan, home: Path) -> list[tuple[Target, AmiClient]]:
    """The running stack's hotline Asterisk, or each of its media nodes, as `hotline run` rendered them (its state
    file), each with an AMI session of its own."""
    from dialplans.apply import Target
    from dialplans.nodes import node_context
    from dialplans.render import RenderContext
    from dialplans.secrets import load_or_create_secrets
    from dialplans.siptls import SipTls
    from hotline.core.asterisk.ami import AmiClient
    from hotline.core.asterisk.nodes import AsteriskNode
    from hotline.core.asterisk.reload import AmiReloader

    secrets = load_or_create_secrets(home / "secrets.json", plan)
    rc = state["render_context"]
    known = {f.name for f in dataclasses.fields(RenderContext)} - {"tls", "ami_user", "ami_secret", "agent_secrets",
                                                                   "agi_key"}
    ctx = RenderContext(**{k: _tuples(v) for k, v in rc.items() if k in known}, ami_user=secrets.ami_user,
                        ami_secret=secrets.ami_secret, agent_secrets=secrets.agent_secrets, agi_key=secrets.agi_key,
                        tls=SipTls(**rc["tls"]) if rc.get("tls") else None)
    creds = state["hotline_ami"]
    if not state.get("nodes"):
        ami = AmiClient(creds["host"], int(creds["port"]), creds["username"], creds["secret"], name="apply")
        return [(Target(Path(state["hotline_etc_dir"]), ctx, AmiReloader(ami, plan.centre.main_number)), ami)]
    out = []
    for n in state["nodes"]:
        node = AsteriskNode(n["name"], n["address"], ami_port=n["ami_port"], sip_port=n["sip_port"])
        ami = AmiClient(node.address, node.ami_port, creds["username"], creds["secret"], name=f"apply-{node.name}")
        out.append((Target(Path(n["etc_dir"]), node_context(ctx, node, plan),
                           AmiReloader(ami, plan.centre.main_number), node.name), ami))
    return out


def _tuples(value: Any) -> Any:
    """JSON's lists back as the context's tuples (agi_others: pairs)."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value
