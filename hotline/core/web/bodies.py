"""Request bodies and queries as pydantic models, validated in one place; every error names its field."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from hotline.core.errors import BadRequest, Invalid, NotFound

M = TypeVar("M", bound=BaseModel)


_ASCII_DIGITS = re.compile(r"[0-9]+")
ID_MAX = 2**31 - 1  # ids are INTEGER columns: a larger number is no row, on PostgreSQL too (not an error)


def path_id(request: web.Request, name: str, what: str) -> int:
    """The numeric id `name` of the path: 400 `bad_param` unless ASCII digits (int() would also take '１２' or
    '٣'), 404 when no row can have it."""
    raw = request.match_info[name]
    if not _ASCII_DIGITS.fullmatch(raw):
        raise BadRequest(f"{what} id must be a number", error_id="bad_param")
    value = int(raw) if len(raw) <= len(str(ID_MAX)) else 0  # (int() of thousands of digits raises)
    if not 0 < value <= ID_MAX:
        raise NotFound(f"no {what} {raw}")
    return value


class Body(BaseModel):
    """Base of request bodies: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Query(BaseModel):
    """Base of query strings: every value arrives as text; unknown parameters are ignored."""

    model_config = ConfigDict(extra="ignore")


def field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [{"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]} for e in exc.errors()]


def _invalid(exc: ValidationError, error_id: str, status: int) -> Invalid:
    fields = field_errors(exc)
    return Invalid("; ".join(f"{f['field']}: {f['message']}" for f in fields), fields=fields, error_id=error_id,
                   status=status)


def too_large(limit: int) -> BadRequest:
    return BadRequest(f"the body is larger than {limit} bytes", error_id="body_too_large", status=413)


async def _raw(request: web.Request, limit: int | None) -> bytes:
    """The body's bytes, up to the app's `client_max_size` or `limit` (a route's own, larger one): 413
    beyond it."""
    if limit is None:
        try:
            return await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise too_large(request.client_max_size) from None
    if request.content_length is not None and request.content_length > limit:
        raise too_large(limit)
    raw = bytearray()
    while chunk := await request.content.read(64 * 1024):
        raw += chunk
        if len(raw) > limit:
            raise too_large(limit)
    return bytes(raw)


async def raw_body(request: web.Request, limit: int) -> bytes:
    """The body's bytes (audio, a file) up to the route's own `limit`: 413 beyond it."""
    return await _raw(request, limit)


async def text_body(request: web.Request, refusal: str, *, error_id: str = "bad_request",
                    limit: int | None = None) -> str:
    """The body as text in its declared charset; 400 (`refusal`) when it cannot be decoded, whether the
    bytes or the charset are unknown; 413 when larger than the app allows (or `limit`)."""
    raw = await _raw(request, limit)
    try:
        return raw.decode(request.charset or "utf-8")
    except (UnicodeDecodeError, LookupError):
        raise BadRequest(refusal, error_id=error_id) from None


async def json_body(request: web.Request, *, optional: bool = False) -> dict[str, Any]:
    """The body as a JSON object (400 `bad_json` otherwise, nesting too deep to read included); an absent
    body is {} when `optional`."""
    if optional and not request.can_read_body:
        return {}
    text = await text_body(request, "send a JSON object", error_id="bad_json")
    try:
        body = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise BadRequest("send a JSON object", error_id="bad_json") from None
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object", error_id="bad_json")
    return body


async def read_body(request: web.Request, model: type[M], *, optional: bool = False,
                    error_id: str = "bad_body", status: int = 422) -> M:
    """The body checked against `model`: 400 `bad_json` when not a JSON object, else `status` (422) naming
    each bad field."""
    raw = await json_body(request, optional=optional)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise _invalid(exc, error_id, status) from None


def read_query(query: Mapping[str, str], model: type[M], *, error_id: str = "bad_param") -> M:
    """The query string checked against `model`: 400 naming each bad parameter."""
    try:
        return model.model_validate(dict(query))
    except ValidationError as exc:
        fields = field_errors(exc)
        raise BadRequest("; ".join(f"{f['field']}: {f['message']}" for f in fields), fields=fields,
                         error_id=error_id) from None
