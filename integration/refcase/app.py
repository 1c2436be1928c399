"""The reference case system's HTTP side: ticket and revisit intake (signed, idempotent), an admin API, the reporter."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from hotline.core.workers import LoopWorker
from integration.casesystem.signing import BadSignature, sign, verify
from integration.refcase.store import FLOW, CaseStore, IdempotencyConflict

log = logging.getLogger("refcase")


@dataclass
class RefCaseConfig:
    intake_secret: str  # the hotline signs tickets with it
    webhook_secret: str  # we sign status events with it
    webhook_url: str
    admin_token: str
    advance_every_s: float = 0.0  # move every open case one step this often (0: only by the admin API)
    delay_s: float = 0.0  # answer intake this late (a slow case system)
    slow_requests: int = -1  # how many of the next intake requests are slow (-1: all)
    failing: bool = False  # answer intake with 503 (a broken case system)
    rejecting: bool = False  # answer intake with 422 (a mapping the case system does not accept)


STORE = web.AppKey("store", CaseStore)
CONFIG = web.AppKey("config", RefCaseConfig)


def _json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _verified(request: web.Request) -> bytes | web.Response:
    """The body if the hotline signed it, else the refusal."""
    body = await request.read()
    try:
        verify(request.app[CONFIG].intake_secret, request.headers, body)
    except BadSignature as exc:
        log.warning("%s refused: %s", request.path, exc)
        return _json_error(401, str(exc))
    return body


def _keyed(request: web.Request, body: bytes) -> tuple[str, dict[str, Any]] | web.Response:
    """The Idempotency-Key and the JSON object naming our ticket (`externalId`), else the refusal."""
    key = request.headers.get("Idempotency-Key", "")
    if not key:
        return _json_error(400, "Idempotency-Key is required")
    try:
        sent = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _json_error(400, "body must be JSON")
    if not isinstance(sent, dict) or not sent.get("externalId"):
        return _json_error(422, "externalId is required")
    return key, sent


async def intake(request: web.Request) -> web.Response:
    config, store = request.app[CONFIG], request.app[STORE]
    body = await _verified(request)
    if isinstance(body, web.Response):
        return body
    if config.delay_s and config.slow_requests != 0:
        config.slow_requests = max(-1, config.slow_requests - 1)
        await asyncio.sleep(config.delay_s)
    if config.failing:
        return _json_error(503, "case system is down for maintenance")
    if config.rejecting:
        return _json_error(422, "field 'category.code' is not in our catalogue")
    keyed = _keyed(request, body)
    if isinstance(keyed, web.Response):
        return keyed
    key, ticket = keyed
    try:
        case, created = await store.accept(key, body, ticket)
    except IdempotencyConflict as exc:
        return _json_error(422, str(exc))
    log.info("case %s %s for ticket %s", case["case_no"], "created" if created else "re-sent", ticket["externalId"])
    return web.json_response({"caseNo": case["case_no"], "status": case["status"]}, status=201 if created else 200)


async def revisit_intake(request: web.Request) -> web.Response:
    """A revisit's outcome and answers from the hotline (signed, idempotent like tickets)."""
    body = await _verified(request)
    if isinstance(body, web.Response):
        return body
    if request.app[CONFIG].failing:
        return _json_error(503, "case system is down for maintenance")
    keyed = _keyed(request, body)
    if isinstance(keyed, web.Response):
        return keyed
    key, revisit = keyed
    try:
        created = await request.app[STORE].accept_revisit(key, body, revisit)
    except IdempotencyConflict as exc:
        return _json_error(422, str(exc))
    return web.json_response({"accepted": True, "caseNo": revisit.get("caseNo")}, status=201 if created else 200)


async def list_revisits(request: web.Request) -> web.Response:
    return web.json_response({"revisits": await request.app[STORE].revisits()})


@web.middleware
async def admin_only(request: web.Request, handler: Any) -> web.StreamResponse:
    token = request.headers.get("Authorization", "")
    if request.path.startswith("/admin/") and token != f"Bearer {request.app[CONFIG].admin_token}":
        return _json_error(401, "admin token required")
    response: web.StreamResponse = await handler(request)
    return response


async def health(request: web.Request) -> web.Response:
    """Up and answering (containers' healthcheck); no data."""
    return web.json_response({"ok": True})


async def list_cases(request: web.Request) -> web.Response:
    return web.json_response({"cases": await request.app[STORE].cases()})


async def set_status(request: web.Request) -> web.Response:
    body = await request.json()
    status = body.get("status")
    if status not in (*FLOW, "overdue"):
        return _json_error(400, f"status must be one of {', '.join((*FLOW, 'overdue'))}")
    if not await request.app[STORE].set_status(request.match_info["case_no"], status, str(body.get("note", ""))):
        return _json_error(404, "no such case")
    return web.json_response({"caseNo": request.match_info["case_no"], "status": status})


async def behaviour(request: web.Request) -> web.Response:
    body = await request.json()
    config = request.app[CONFIG]
    config.delay_s = float(body.get("delay_s", config.delay_s))
    config.slow_requests = int(body.get("slow_requests", -1))
    config.failing = bool(body.get("failing", config.failing))
    config.rejecting = bool(body.get("rejecting", config.rejecting))
    return web.json_response({"delay_s": config.delay_s, "slow_requests": config.slow_requests,
                              "failing": config.failing, "rejecting": config.rejecting})


async def advance(request: web.Request) -> web.Response:
    return web.json_response({"moved": await request.app[STORE].advance_all()})


async def _report(store: CaseStore, config: RefCaseConfig, session: aiohttp.ClientSession) -> None:
    """Send unsent status events to the hotline in order; stop the pass at the first failure."""
    for event in await store.unsent_events():
        body = json.dumps({"eventId": event["event_id"], "externalId": event["external_id"],
                           "caseNo": event["case_no"], "status": event["status"], "changedAt": event["at"],
                           "note": event["note"]}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", **sign(config.webhook_secret, body)}
        try:
            async with session.post(config.webhook_url, data=body, headers=headers) as resp:
                if resp.status < 300 or resp.status == 409:  # 409: the hotline has it already
                    await store.event_sent(event["event_id"])
                    continue
                log.warning("webhook answered %s for %s", resp.status, event["event_id"])
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.warning("webhook unreachable for %s: %s", event["event_id"], exc)
        await store.event_failed(event["event_id"])
        return


class Reporter(LoopWorker):
    """Sends the unsent status events to the hotline, a pass every 0.3 s."""

    name = "refcase-reporter"
    max_backoff_s = 5.0

    def __init__(self, store: CaseStore, config: RefCaseConfig, session: aiohttp.ClientSession) -> None:
        super().__init__()
        self._store, self._config, self._session = store, config, session

    async def step(self) -> float:
        await _report(self._store, self._config, self._session)
        return 0.3


class Advancer(LoopWorker):
    """Moves every open case one step each `advance_every_s`, the first one period after the start."""

    name = "refcase-advancer"
    max_backoff_s = 5.0

    def __init__(self, store: CaseStore, config: RefCaseConfig) -> None:
        super().__init__()
        self._store, self._config = store, config
        self._waited = False

    async def step(self) -> float:
        if self._waited and self._config.advance_every_s:
            await self._store.advance_all()
        self._waited = True
        return self._config.advance_every_s or 1.0


async def _background(app: web.Application) -> Any:
    store, config = app[STORE], app[CONFIG]
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
    workers = [Reporter(store, config, session), Advancer(store, config)]
    for worker in workers:
        worker.start()
    yield
    for worker in workers:
        await worker.close()
    await session.close()


def build_app(store: CaseStore, config: RefCaseConfig) -> web.Application:
    app = web.Application(middlewares=[admin_only])
    app[STORE], app[CONFIG] = store, config
    app.router.add_get("/health", health)
    app.router.add_post("/api/tickets", intake)
    app.router.add_post("/api/revisits", revisit_intake)
    app.router.add_get("/admin/revisits", list_revisits)
    app.router.add_get("/admin/cases", list_cases)
    app.router.add_post("/admin/cases/{case_no}/status", set_status)
    app.router.add_post("/admin/behaviour", behaviour)
    app.router.add_post("/admin/advance", advance)
    app.cleanup_ctx.append(_background)
    return app
