"""Page tests on the real stack place citizens' calls from the simulated world; each module starts its own `stack`."""

from tests.e2e.conftest import world_caller

__all__ = ["world_caller"]
