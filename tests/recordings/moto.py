"""moto's standalone S3 server as a real subprocess on a free loopback port, for the S3 store's tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Moto:
    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


def start_moto(log: Path) -> Moto:
    """moto's S3 server on a free local port, once it answers HTTP."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)
    moto = Moto(process, url)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 15
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited ({process.returncode}): {log.read_text()[-2000:]}")
        try:
            with opener.open(f"{url}/moto-api/", timeout=1):
                return moto
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                moto.stop()
                raise RuntimeError(f"moto server did not answer on {url}: {log.read_text()[-2000:]}") from None
            time.sleep(0.05)
