"""Domain errors that carry their HTTP status and a stable error id; one middleware turns them into JSON."""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """A refusal a caller of the API can act on: `status` and `error_id` are part of the contract."""

    status: ClassVar[int] = 400
    error_id: ClassVar[str] = "bad_request"

    def __init__(self, message: str, *, fields: list[dict[str, Any]] | None = None, error_id: str | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields
        self.id = error_id or self.error_id
        self.code = status or self.status

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"id": self.id, "message": self.message}
        if self.fields is not None:
            error["fields"] = self.fields
        return {"error": error}


class BadRequest(DomainError):
    """400: the request cannot be read (not JSON, a bad parameter)."""

    status, error_id = 400, "bad_request"


class Forbidden(DomainError):
    """403: the access table, or the object's owner, says no."""

    status, error_id = 403, "forbidden"


class NotFound(DomainError):
    """404: no such object (or 410 with `status=`, gone for good)."""

    status, error_id = 404, "not_found"


class Conflict(DomainError):
    """409: the object's state does not allow it now (a finished campaign, a submitted ticket)."""

    status, error_id = 409, "conflict"


class Invalid(DomainError):
    """422: well formed but refused; `fields` names each bad field."""

    status, error_id = 422, "invalid"
