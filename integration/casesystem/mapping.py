"""The configurable field mapping between our ticket payload and a case system's JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import yaml


def _read(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _write(target: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value


def _mapped(fields: dict[str, str], payload: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for theirs, ours in fields.items():
        _write(body, theirs, ours[1:] if ours.startswith("=") else _read(payload, ours))
    return body


class BadEvent(ValueError):
    """A webhook body that lacks a field or names an unknown status."""


@dataclass(frozen=True)
class InboundEvent:
    event_id: str
    ticket: str
    case_number: str | None
    status: str
    at: datetime | None
    note: str


@dataclass(frozen=True)
class CaseMapping:
    endpoint: str
    outbound: dict[str, str]
    case_number_field: str
    inbound: dict[str, str]
    statuses: dict[str, str]
    revisit_endpoint: str = "/api/revisits"
    revisit_fields: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None = None) -> CaseMapping:
        if path is None:
            text = resources.files("integration.casesystem").joinpath("mapping.yaml").read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        raw = yaml.safe_load(text)
        out, inbound = raw["outbound"], raw["inbound"]
        revisits = raw.get("revisits") or {}
        return cls(str(out["endpoint"]), {str(k): str(v) for k, v in out["fields"].items()},
                   str(out["response"]["case_number"]), {str(k): str(v) for k, v in inbound["fields"].items()},
                   {str(k): str(v) for k, v in inbound["statuses"].items()},
                   str(revisits.get("endpoint", "/api/revisits")),
                   {str(k): str(v) for k, v in (revisits.get("fields") or {}).items()})

    def ticket_body(self, payload: dict[str, Any]) -> dict[str, Any]:
        return _mapped(self.outbound, payload)

    def route(self, kind: str, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Where a message of this kind goes, and its body in the case system's words."""
        if kind == "revisit.result":
            return self.revisit_endpoint, _mapped(self.revisit_fields, payload) if self.revisit_fields else payload
        return self.endpoint, self.ticket_body(payload)

    def case_number(self, reply: Any) -> str | None:
        value = _read(reply, self.case_number_field)
        return str(value) if value not in (None, "") else None

    def event(self, body: Any) -> InboundEvent:
        if not isinstance(body, dict):
            raise BadEvent("the event must be a JSON object")
        values = {ours: _read(body, theirs) for ours, theirs in self.inbound.items()}
        for required in ("event_id", "ticket", "status"):
            if not isinstance(values.get(required), str) or not values[required]:
                raise BadEvent(f"'{self.inbound[required]}' is required (text)")
        if len(values["event_id"]) > 64 or len(values["ticket"]) > 32 or len(str(values.get("case_number") or "")) > 64:
            raise BadEvent("event id and case number are at most 64 characters, the ticket number 32")
        status = self.statuses.get(values["status"])
        if status is None:
            raise BadEvent(f"unknown status '{values['status']}'; known: {', '.join(self.statuses)}")
        return InboundEvent(values["event_id"], values["ticket"],
                            str(values["case_number"]) if values.get("case_number") else None, status,
                            _time(values.get("at")), str(values.get("note") or "")[:500])


def _time(raw: Any) -> datetime | None:
    """The event's time: ISO 8601 with a time zone, or absent."""
    if not raw:
        return None
    try:
        at = datetime.fromisoformat(str(raw))
    except ValueError as exc:
        raise BadEvent(str(exc)) from None
    if at.tzinfo is None:
        raise BadEvent("changedAt must carry a time zone")
    return at
