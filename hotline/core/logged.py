"""Work that must never break the caller's flow, yet never fails unseen.

`with logged(log, "writing the outcome of call %s", call_id): ...` runs the block; an `Exception` raised in it
is logged at WARNING with its traceback ("writing the outcome of call X failed; going on") and dropped.
Cancellation and other `BaseException`s pass through. Where an error is expected and harmless (closing a
socket the peer already closed), suppress that narrow type instead.
"""

from __future__ import annotations

import logging
from types import TracebackType


class logged:  # lower case: used like a function, as contextlib.suppress is
    """Log and drop an exception of the block; `doing` (%-formatted with `args`) says what was being done."""

    def __init__(self, logger: logging.Logger, doing: str, *args: object) -> None:
        self._logger, self._doing, self._args = logger, doing, args

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool:
        if kind is None or exc is None or not isinstance(exc, Exception):
            return False
        doing = self._doing % self._args if self._args else self._doing
        self._logger.warning("%s failed; going on", doing, exc_info=(kind, exc, tb))
        return True
