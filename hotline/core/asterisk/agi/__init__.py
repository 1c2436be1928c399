"""Our asyncio FastAGI server (panoramisk's spins on EOF and breaks on query strings)."""

from hotline.core.asterisk.agi.call import AgiCall
from hotline.core.asterisk.agi.errors import AgiCommandError, AgiError, AgiHangup, AgiTimeout
from hotline.core.asterisk.agi.server import ERROR_VAR, STATUS_VAR, AgiServer, AgiStats, Router, UnknownRoute

__all__ = ["ERROR_VAR", "STATUS_VAR", "AgiCall", "AgiCommandError", "AgiError", "AgiHangup", "AgiServer",
           "AgiStats", "AgiTimeout", "Router", "UnknownRoute"]
