"""Delivery of one outbox message to the case system over HTTP (signed, with an idempotency key)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from integration.casesystem.mapping import CaseMapping
from integration.casesystem.signing import sign


class DeliveryFailed(Exception):
    """The case system did not take the message; `retry` says whether trying again can help."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True)
class Delivered:
    case_number: str | None
    status: int


class CaseSystemClient:
    """POSTs tickets to the case system; 5xx, 408, 429, timeouts and refused connections are retryable."""

    def __init__(self, base_url: str, secret: str, mapping: CaseMapping, timeout_s: float = 10.0) -> None:
        self.base_url, self._secret, self.mapping = base_url.rstrip("/"), secret, mapping
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def deliver(self, idempotency_key: str, payload: dict[str, Any],
                      kind: str = "ticket.submitted") -> Delivered:
        endpoint, mapped = self.mapping.route(kind, payload)
        body = json.dumps(mapped, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key,
                   **sign(self._secret, body)}
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.post(self.base_url + endpoint, data=body,
                                          headers=headers) as resp:
                text = await resp.text()
                if resp.status >= 500 or resp.status in (408, 429):
                    raise DeliveryFailed(f"case system answered {resp.status}: {text[:200]}", retry=True)
                if resp.status >= 400:
                    raise DeliveryFailed(f"case system refused ({resp.status}): {text[:200]}", retry=False)
                try:
                    reply = json.loads(text) if text else {}
                except json.JSONDecodeError:
                    reply = {}
                return Delivered(self.mapping.case_number(reply), resp.status)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise DeliveryFailed(f"case system unreachable: {type(exc).__name__} {exc}", retry=True) from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
