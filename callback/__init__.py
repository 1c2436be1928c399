"""Revisit robot and callbacks (issue 8)."""
