"""`python -m hotline.app.probe [URL]`: exit 0 when a health URL answers 200 (containers' healthchecks).

Without a URL, the service's own `/api/health` on loopback, at the port and scheme its settings give.
"""

from __future__ import annotations

import ssl
import sys
import urllib.error
import urllib.request

from hotline.core.settings import CoreSettings


def service_health_url(settings: CoreSettings) -> str:
    scheme = "https" if settings.https_cert else "http"
    return f"{scheme}://127.0.0.1:{settings.ports.http}/api/health"


def probe(url: str, timeout_s: float = 4.0) -> bool:
    """True when `url` answers 200; a certificate is not checked (the probe asks its own container)."""
    context = ssl._create_unverified_context() if url.startswith("https:") else None
    try:
        with urllib.request.urlopen(url, timeout=timeout_s, context=context) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def main(argv: list[str]) -> int:
    url = argv[0] if argv else service_health_url(CoreSettings())
    return 0 if probe(url) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
