"""`python -m integration.refcase`: run the reference case system (settings from the environment)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import time
from pathlib import Path

from aiohttp import web

from integration.refcase.app import RefCaseConfig, build_app
from integration.refcase.store import CaseStore


async def serve(host: str, port: int, db: Path, config: RefCaseConfig) -> None:
    store = CaseStore(db)
    await store.open()
    runner = web.AppRunner(build_app(store, config), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    print(f"reference case system on http://{host}:{port} (db {db})", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await store.close()


def _shared_keys(path: Path, wait_s: float = 300.0) -> tuple[str, str, str]:
    """Intake, webhook and admin keys from the hotline's secrets file, once it exists (first start)."""
    deadline = time.monotonic() + wait_s
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"{path} did not appear in {wait_s:.0f} s: is the hotline service running?")
        time.sleep(1.0)
    keys = json.loads(path.read_text())["case_system"]
    return keys["intake"], keys["webhook"], keys["admin"]


def main() -> None:
    parser = argparse.ArgumentParser(description="reference case system (secrets from REFCASE_* variables)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--webhook", required=True, help="the hotline's webhook URL")
    parser.add_argument("--advance-every", type=float, default=0.0, help="seconds between status steps (0: off)")
    parser.add_argument("--secrets-file", type=Path, help="the hotline's secrets.json: its case_system keys "
                        "(waited for: the service writes it at first start) instead of the REFCASE_* variables")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s refcase %(levelname)s %(message)s")
    intake, webhook, admin = (_shared_keys(args.secrets_file) if args.secrets_file else
                              (os.environ["REFCASE_INTAKE_SECRET"], os.environ["REFCASE_WEBHOOK_SECRET"],
                               os.environ["REFCASE_ADMIN_TOKEN"]))
    config = RefCaseConfig(intake_secret=intake, webhook_secret=webhook, webhook_url=args.webhook,
                           admin_token=admin, advance_every_s=args.advance_every)
    args.db.parent.mkdir(parents=True, exist_ok=True)
    asyncio.run(serve(args.host, args.port, args.db, config))


if __name__ == "__main__":
    main()
