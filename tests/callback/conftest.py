"""The ACD's store on a real redis-server, for the dialer's inbound pressure."""

from tests.acd.conftest import store

__all__ = ["store"]
