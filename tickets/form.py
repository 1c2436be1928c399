"""The ticket form: what an agent sends, checked field by field; every error names its field.

`read_form` checks what is there (types, lengths, known values) and is used for drafts;
`missing_for_submit` adds what a submitted ticket must have (R-TKT-1, App. C of the Beijing draft).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from hotline.core.errors import Invalid
from tickets.catalogue import CHANNELS, CONTENT_FIELDS, REQUEST_TYPES, REQUIRED_CONTENT, URGENCIES, Catalogue

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")
CALL_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
TOP_FIELDS = ("channel", "request_type", "category", "urgency", "complex", "title", "content", "petitioner",
              "handling_unit", "region", "calls")
PETITIONER_FIELDS = ("name", "phone", "address", "confidential", "revisit_consent", "enterprise")


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class BadTicket(Invalid):
    """The form has errors; nothing was written (422 `bad_ticket`, each bad field named)."""

    error_id = "bad_ticket"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors), fields=[e.to_json() for e in errors])
        self.errors = errors


@dataclass
class TicketForm:
    """The fields an update sets (only those present in the request)."""

    values: dict[str, Any] = field(default_factory=dict)
    calls: list[str] | None = None


def normalise_phone(raw: str) -> str | None:
    """A Chinese mobile or landline number without separators or +86, or None if it is not one."""
    digits = re.sub(r"[\s\-()]", "", raw)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits if _MOBILE.match(digits) or _LANDLINE.match(digits) else None


class _Reader:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def bad(self, name: str, message: str) -> None:
        self.errors.append(FieldError(name, message))

    def text(self, value: Any, name: str, limit: int) -> str | None:
        if not isinstance(value, str):
            self.bad(name, f"must be text, got {type(value).__name__}")
            return None
        value = value.strip()
        if len(value) > limit:
            self.bad(name, f"is {len(value)} characters; at most {limit}")
            return None
        return value

    def choice(self, value: Any, name: str, options: tuple[str, ...]) -> str | None:
        if value not in options:
            self.bad(name, f"must be one of {' / '.join(options)}")
            return None
        return str(value)

    def flag(self, value: Any, name: str) -> bool | None:
        if not isinstance(value, bool):
            self.bad(name, "must be true or false")
            return None
        return value


def read_form(body: Any, catalogue: Catalogue) -> TicketForm:
    """Check a create/update request; raise BadTicket listing every bad field."""
    r = _Reader()
    if not isinstance(body, dict):
        raise BadTicket([FieldError("(body)", "send a JSON object")])
    form = TicketForm()
    for key in body:
        if key not in TOP_FIELDS:
            r.bad(key, f"is not a ticket field; fields are {', '.join(TOP_FIELDS)}")
    v = form.values
    if "channel" in body:
        v["channel"] = r.choice(body["channel"], "channel", CHANNELS)
    if "request_type" in body:
        v["request_type"] = r.choice(body["request_type"], "request_type", REQUEST_TYPES)
    if "urgency" in body:
        v["urgency"] = r.choice(body["urgency"], "urgency", URGENCIES)
    if "complex" in body:
        v["complex_case"] = r.flag(body["complex"], "complex")
    if "category" in body:
        code = r.text(body["category"], "category", 16)
        if code is not None and code and catalogue.get(code) is None:
            r.bad("category", f"'{code}' is not in the category catalogue")
        v["category"] = code or None
    if "region" in body:
        region = r.text(body["region"], "region", 32)
        if region and catalogue.regions and region not in catalogue.regions:
            r.bad("region", f"'{region}' is not one of the centre's districts (区县)")
        v["region"] = region or ""
    if "title" in body:
        v["title"] = r.text(body["title"], "title", 100)
    if "handling_unit" in body:
        v["handling_unit"] = r.text(body["handling_unit"], "handling_unit", 100)
    if "content" in body:
        v["content"] = _content(r, body["content"])
    if "petitioner" in body:
        v.update(_petitioner(r, body["petitioner"]))
    if "calls" in body:
        calls = body["calls"]
        if not isinstance(calls, list) or not all(isinstance(c, str) and CALL_ID.fullmatch(c) for c in calls):
            r.bad("calls", "must be a list of call ids")
        elif len(calls) > 20:
            r.bad("calls", "at most 20 calls per ticket")
        else:
            form.calls = list(dict.fromkeys(calls))
    if r.errors:
        raise BadTicket(r.errors)
    return form


def _content(r: _Reader, raw: Any) -> dict[str, str] | None:
    if not isinstance(raw, dict):
        r.bad("content", "must be an object with " + ", ".join(CONTENT_FIELDS))
        return None
    content: dict[str, str] = {}
    for key, value in raw.items():
        if key not in CONTENT_FIELDS:
            r.bad(f"content.{key}", f"is not a content field; fields are {', '.join(CONTENT_FIELDS)}")
            continue
        text = r.text(value, f"content.{key}", CONTENT_FIELDS[key][1])
        if text:
            content[key] = text
    return content


def _petitioner(r: _Reader, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        r.bad("petitioner", "must be an object with " + ", ".join(PETITIONER_FIELDS))
        return {}
    out: dict[str, Any] = {}
    for key in raw:
        if key not in PETITIONER_FIELDS:
            r.bad(f"petitioner.{key}", f"is not a petitioner field; fields are {', '.join(PETITIONER_FIELDS)}")
    if "name" in raw:
        out["petitioner_name"] = r.text(raw["name"], "petitioner.name", 64)
    if "address" in raw:
        out["petitioner_address"] = r.text(raw["address"], "petitioner.address", 200)
    if "phone" in raw:
        phone = r.text(raw["phone"], "petitioner.phone", 32)
        if phone:
            normal = normalise_phone(phone)
            if normal is None:
                r.bad("petitioner.phone", f"'{phone}' is not a mobile (1xxxxxxxxxx) or landline (0xx-xxxxxxxx) number")
            out["petitioner_phone"] = normal
        elif phone == "":
            out["petitioner_phone"] = None
    if "confidential" in raw:
        out["confidential"] = r.flag(raw["confidential"], "petitioner.confidential")
    if "revisit_consent" in raw:
        out["revisit_consent"] = r.flag(raw["revisit_consent"], "petitioner.revisit_consent")
    if "enterprise" in raw:
        out["petitioner_enterprise"] = r.flag(raw["enterprise"], "petitioner.enterprise")
    return out


def missing_for_submit(ticket: dict[str, Any], catalogue: Catalogue, call_count: int) -> list[FieldError]:
    """What a ticket still lacks before it can go to the case system."""
    errors: list[FieldError] = []
    request_type = ticket.get("request_type")
    if not request_type:
        errors.append(FieldError("request_type", "is required: " + " / ".join(REQUEST_TYPES)))
    if request_type != "无效":
        code = ticket.get("category")
        category = catalogue.get(code) if code else None
        if category is None:
            errors.append(FieldError("category", "is required: a code from the category catalogue"))
        elif not category.leaf:
            errors.append(FieldError("category", f"'{category.label}' has sub-categories; choose one of them"))
        if not ticket.get("title"):
            errors.append(FieldError("title", "is required"))
        if not ticket.get("petitioner_phone"):
            errors.append(FieldError("petitioner.phone", "is required to reply to the petitioner"))
    content = ticket.get("content") or {}
    for key in REQUIRED_CONTENT.get(request_type or "", ()):
        if not content.get(key):
            errors.append(FieldError(f"content.{key}", f"is required for {request_type} ({CONTENT_FIELDS[key][0]})"))
    if request_type in ("求助", "投诉", "举报") and not ticket.get("petitioner_name"):
        errors.append(FieldError("petitioner.name", f"is required for {request_type}"))
    if ticket.get("channel") == "电话" and call_count == 0:
        errors.append(FieldError("calls", "a phone ticket must link the call it came from"))
    return errors
