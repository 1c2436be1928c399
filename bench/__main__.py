"""`python -m bench NAME` runs one benchmark; `python -m bench all` (or no name) runs them all; options such as
`--quick` (bench capacity) are read by the benchmark."""

from __future__ import annotations

import asyncio
import importlib
import sys

BENCHMARKS = ("agi", "ivr", "routing", "acd", "recordings", "revisit", "desk", "wallboard", "reports", "capacity")


def main(argv: list[str]) -> int:
    names = [a for a in argv if a != "all" and not a.startswith("--")] or list(BENCHMARKS)  # options: sys.argv
    for name in names:
        if name not in BENCHMARKS:
            print(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
            return 2
        module = importlib.import_module(f"bench.{name}")
        asyncio.run(module.run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
