"""The bodies, queries and answers of the ticket routes (pydantic; the OpenAPI document is made from them).

The ticket form keeps its own checks (`tickets.form`: every bad field named, the catalogue, phone numbers);
`TicketIn` describes the same form for the document, and the routes also hold a form to it, so nothing is
accepted that the document refuses.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from pydantic.json_schema import SkipJsonSchema

from hotline.core.web.bodies import Body, Query
from integration.casesystem.outbox import State
from tickets.catalogue import CHANNELS, CONTENT_FIELDS, REQUEST_TYPES, URGENCIES
from tickets.form import CALL_ID

Channel = Literal["电话", "网站", "微信", "APP", "短信", "邮件", "来信", "网格", "其他"]
RequestType = Literal["咨询", "求助", "投诉", "举报", "建议", "表扬", "无效"]
Urgency = Literal["一般", "紧急", "非常紧急"]
Status = Literal["draft", "submitted", "received", "dispatched", "signed", "feedback", "closed", "overdue"]
assert all(get_args(t) == c for t, c in ((Channel, CHANNELS), (RequestType, REQUEST_TYPES), (Urgency, URGENCIES)))
CallId = Annotated[str, Field(pattern=CALL_ID.pattern)]


# Request bodies and queries


def _text(limit: int, description: str | None = None) -> Any:
    """A text field that may be left out but is never null (a draft changes only what is sent)."""
    return Field(None, max_length=limit, description=description)


def _content(key: str) -> Any:
    """A content field as the catalogue has it: its label and length."""
    label, limit = CONTENT_FIELDS[key]
    return _text(limit, label)


def _no_null_defaults(schema: dict[str, Any]) -> None:
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict) and "default" in prop and prop["default"] is None:
            del prop["default"]


class Partial(BaseModel):
    """A body of optional, non-null fields; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_no_null_defaults)


Omitted = SkipJsonSchema[None]  # a field left out; not in the document, which lists only what may be sent


class TicketContent(Partial):
    """What the petitioner said, field by field (Beijing draft App. C); required fields depend on the type."""

    description: str | Omitted = _content("description")
    occurred_at: str | Omitted = _content("occurred_at")
    location: str | Omitted = _content("location")
    subject: str | Omitted = _content("subject")
    prior_handling: str | Omitted = _content("prior_handling")
    current_state: str | Omitted = _content("current_state")
    demand: str | Omitted = _content("demand")
    reason: str | Omitted = _content("reason")


class PetitionerIn(Partial):
    name: str | Omitted = _text(64)
    phone: str | Omitted = _text(32, "a mobile (1xxxxxxxxxx) or landline (0xx-xxxxxxxx) number; empty clears it")
    address: str | Omitted = _text(200)
    confidential: StrictBool | Omitted = None
    revisit_consent: StrictBool | Omitted = None
    enterprise: StrictBool | Omitted = Field(None, description="an enterprise: revisited by a person")


class TicketIn(Partial):
    """A new draft, or the fields of a draft to change."""

    channel: Channel | Omitted = None
    request_type: RequestType | Omitted = None
    category: str | Omitted = _text(16, "a code from the category catalogue")
    urgency: Urgency | Omitted = None
    complex: StrictBool | Omitted = Field(None, description="a complex case: longer time limits")
    title: str | Omitted = _text(100)
    handling_unit: str | Omitted = _text(100)
    region: str | Omitted = _text(32, "a district (区县) of the centre's list; empty clears it")
    content: TicketContent | Omitted = None
    petitioner: PetitionerIn | Omitted = None
    calls: Annotated[list[CallId], Field(max_length=20, description="the calls the ticket came from")] | Omitted = None


assert list(TicketContent.model_fields) == list(CONTENT_FIELDS)


class LinkCall(Body):
    call_id: str = Field(description="a repeat call about the same issue")


class LegalHoldIn(Body):
    hold: StrictBool
    reason: Annotated[str, Field(max_length=200, description="required to hold")] = ""


class DutyCallIn(Body):
    phone: Annotated[str, Field(pattern=r"^[0-9]+$", description="the phone to ring first (default: the agent's)")] \
        | None = None


class OutboxQuery(Query):
    state: State = "pending"


# Answers


class PetitionerOut(BaseModel):
    name: str
    phone: str | None
    address: str
    confidential: bool
    revisit_consent: bool
    enterprise: bool


class TicketOut(BaseModel):
    """A ticket (工单): one issue of one petitioner."""

    id: int
    number: str
    status: Status
    channel: str
    request_type: str | None
    category: str | None
    category_label: str | None
    urgency: str
    complex: bool
    title: str
    content: dict[str, str]
    petitioner: PetitionerOut
    handling_unit: str
    region: str = Field(default="", description="the district (区县) it is about; empty: not recorded")
    created_by: str
    created_at: str
    updated_at: str
    submitted_at: str | None
    deadlines: dict[str, Any]
    case_number: str | None
    calls: list[str]


class CallDetail(BaseModel):
    call_id: str
    caller: str
    dialled: str
    agent: str | None
    started_at: str
    ended_at: str | None
    rating: int | None
    recordings: list[str]


class TicketDetail(TicketOut):
    """A ticket with its calls' agents, ratings and recordings."""

    call_details: list[CallDetail]


class TimelineLine(BaseModel):
    at: str
    kind: str
    status: str | None
    source: str
    detail: dict[str, Any]


class TicketRevisit(BaseModel):
    id: int
    reason: str
    status: str
    mode: str
    number: str


class Timeline(BaseModel):
    ticket: str
    status: Status
    timeline: list[TimelineLine]
    revisits: list[TicketRevisit]


class LegalHoldOut(BaseModel):
    ticket: str
    legal_hold: bool
    reason: str


class DutyCallStarted(BaseModel):
    ticket: str
    unit: str
    duty_number: str
    phone: str


class CallerCall(BaseModel):
    call_id: str
    started_at: str | None
    dialled: str
    agent: str | None
    outcome: str | None
    rating: int | None


class CallerTicket(BaseModel):
    id: int
    number: str
    status: Status
    title: str
    request_type: str | None
    created_at: str | None
    confidential: bool


class CallerHistory(BaseModel):
    number: str
    calls: list[CallerCall]
    tickets: list[CallerTicket]


class Backlog(BaseModel):
    pending: int
    dead: int


class OutboxEntry(BaseModel):
    id: int
    ticket_id: int
    ticket: str | None
    kind: str
    idempotency_key: str
    attempts: int
    last_error: str | None
    created_at: str
    next_attempt_at: str
    delivered_at: str | None


class Outbox(BaseModel):
    backlog: Backlog
    messages: list[OutboxEntry]


class Replayed(BaseModel):
    id: int
    replayed: bool


class CaseEventApplied(BaseModel):
    ticket: str
    status: str
