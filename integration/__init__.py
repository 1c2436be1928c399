"""Tickets and the case-system adapter (issue 7)."""
