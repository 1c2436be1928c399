"""Control characters: what never goes into a line of the AMI or FastAGI protocols or an Asterisk config.

CR and LF end a protocol line or a config line (a value carrying one could smuggle in another AMI action,
AGI command or dialplan line); NUL, escape, the C1 controls and the Unicode line separators have no business
in a number, a name or a prompt either.
"""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def has_control(text: str) -> bool:
    """Whether `text` has a control character."""
    return CONTROL.search(text) is not None
