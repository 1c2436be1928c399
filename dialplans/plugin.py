"""The dialplan file: checked, rendered into Asterisk's configs and applied (`hotline dialplan …`)."""

from __future__ import annotations

from dialplans.commands import register
from hotline.core.plugin import Plugin

plugin = Plugin("dialplans", commands=[register])
