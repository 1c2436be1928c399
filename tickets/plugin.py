"""Tickets (工单): the form, time limits, the case system they go to, duty calls to handling units."""

from __future__ import annotations

from pathlib import Path

from acd.router import Router
from dialplans.calendar import WorkCalendar
from dialplans.dialout import DialOutGuard
from dialplans.model import Dialplan
from dialplans.secrets import Secrets
from hotline.calls.records import CallRecords
from hotline.core.plugin import Brought, Deps, Plugin
from hotline.core.web.health import PartHealth
from integration.casesystem.client import CaseSystemClient
from integration.casesystem.mapping import CaseMapping
from integration.casesystem.metrics import OutboxCollector
from integration.casesystem.outbox import OutboxSettings, OutboxWorker
from integration.casesystem.settings import CaseSystemSettings
from integration.refcase.process import RefCaseProcess, RefCaseSecrets
from tickets import http
from tickets.alerts import ticket_feed
from tickets.catalogue import Catalogue
from tickets.duty_call import DutyCaller, DutyCallPlaces
from tickets.service import Tickets
from tickets.settings import TicketSettings
from tickets.timelimits import TimeLimits
from tickets.timeline import record_delivery


async def _case_system(deps: Deps, brought: Brought) -> tuple[str, str, str]:
    """The configured case system's URL and secrets, or a reference case system started here."""
    s, core = deps.get(CaseSystemSettings), deps.core
    if s.url and s.reference:
        keys = deps.get(Secrets).case_system
        return s.url, keys["intake"], keys["webhook"]
    if s.url:
        if not (s.secret and s.webhook_secret):
            raise ValueError("HOTLINE_CASE_URL needs HOTLINE_CASE_SECRET and HOTLINE_CASE_WEBHOOK_SECRET")
        return s.url, s.secret, s.webhook_secret
    keys = deps.get(Secrets).case_system
    refcase = deps.publish(RefCaseProcess(
        core.home / "refcase", core.ports.case_system, f"http://{core.bind_host}:{core.ports.http}{http.WEBHOOK_PATH}",
        RefCaseSecrets(keys["intake"], keys["webhook"], keys["admin"]), host=core.bind_host,
        advance_every_s=s.refcase_advance_s))
    await refcase.start()
    brought.closers.append(refcase.stop)
    return refcase.url, keys["intake"], keys["webhook"]


async def load(deps: Deps) -> Brought:
    dialplan, settings = deps.get(Dialplan), deps.get(TicketSettings)
    catalogue = Catalogue.shipped(settings.catalogue)
    if settings.region_list:
        catalogue = catalogue.with_regions(settings.region_list)
    tickets = deps.publish(Tickets(deps.sessions, catalogue,
                                   TimeLimits.load(settings.time_limits, WorkCalendar.of(dialplan)),
                                   ticket_feed(deps.redis)))
    brought = Brought()
    url, secret, webhook_secret = await _case_system(deps, brought)
    case = deps.get(CaseSystemSettings)
    mapping = CaseMapping.load(Path(case.mapping) if case.mapping else None)
    outbox = deps.publish(OutboxWorker(deps.sessions, CaseSystemClient(url, secret, mapping, case.timeout_s),
                                       OutboxSettings(max_backoff_s=case.max_backoff_s), on_delivered=record_delivery))
    data = deps.data
    duty = DutyCaller(deps.ami, deps.get(Router), tickets, deps.renderer, dialplan, DutyCallPlaces(
        data.host(data.inner_of("duty-prompts")), data.inner_of("duty-prompts"), data.inner_of("recordings"),
        data.host(data.inner_of("recordings"))), deps.get(CallRecords), deps.get(DialOutGuard))

    async def case_system() -> PartHealth:
        backlog = await outbox.backlog()
        return PartHealth(backlog["dead"] == 0, f"pending {backlog['pending']}, dead letters {backlog['dead']}")

    brought.routes.append(http.routes(tickets, http.CaseLink(outbox, mapping, webhook_secret), duty))
    brought.workers.append(outbox)
    brought.health["case_system"] = case_system
    brought.health["case_outbox"] = outbox.check
    brought.collectors.append(OutboxCollector(outbox))
    brought.closers.append(duty.close)
    return brought


plugin = Plugin("tickets", load, migrations=Path(__file__).parent / "migrations")
