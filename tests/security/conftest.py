"""Real-stack security tests place citizens' calls from the simulated world like the end-to-end ones; each
module starts its own `stack`."""

from tests.e2e.conftest import world_caller

__all__ = ["world_caller"]
