"""Fixtures shared by the whole suite: the Asterisk root, Redis and PostgreSQL servers.

Each area adds its fixtures under its own section below; keep sections apart.
"""

from __future__ import annotations

# --- section: asterisk (owner: hotline/asterisk) ---

# --- section: redis / postgres (owner: hotline/embedded) ---
