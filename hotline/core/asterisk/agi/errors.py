"""Errors a FastAGI flow can meet."""

from __future__ import annotations


class AgiError(Exception):
    """Base of FastAGI errors."""


class AgiHangup(AgiError):
    """The caller hung up or Asterisk closed the session: a normal end of a flow, not a bug."""


class AgiCommandError(AgiError):
    """Asterisk refused a command (5xx) or it failed."""


class AgiTimeout(AgiError):
    """Asterisk did not answer a command in time."""
