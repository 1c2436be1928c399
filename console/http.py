"""Every route of the console, one table per page's API, gathered for the access checks (the app installs the
bound tables each plugin part returns)."""

from __future__ import annotations

from console.wallboard.http import table as wallboard
from hotline.core.web.routes import RouteTable

table = RouteTable("console", [*wallboard.routes])
