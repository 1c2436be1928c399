"""Citizens' numbers are personal data: helpers to keep them out of logs."""

from __future__ import annotations


def mask_number(number: str) -> str:
    """Mask the middle of a phone number for logs: 13800138000 → 138****8000."""
    if len(number) <= 6:
        return "*" * len(number)
    keep = 3 if len(number) >= 10 else 2
    return f"{number[:keep]}{'*' * (len(number) - keep - 4)}{number[-4:]}"
