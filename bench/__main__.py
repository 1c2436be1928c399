"""`python -m bench NAME` runs one benchmark; `python -m bench all` (or no name, `make bench`) runs every
registered one in its own subprocess and writes bench/results/report.{json,md} and charts (bench/runner.py)."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import sys

# The registry: every benchmark, in the order `all` runs them. A name whose module is not in the tree yet is
# reported as absent by `all`.
BENCHMARKS = ("agi", "ivr", "routing", "acd", "recordings", "revisit", "desk", "wallboard", "reports", "kb",
              "capacity")


def main(argv: list[str]) -> int:
    names = [a for a in argv if a != "all" and not a.startswith("--")]  # options are the benchmark's (sys.argv)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark {unknown[0]!r}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    if len(names) != 1:
        from bench.runner import run_all
        return run_all(names or BENCHMARKS)
    if importlib.util.find_spec(f"bench.{names[0]}") is None:
        print(f"benchmark {names[0]!r} is registered but bench/{names[0]}.py is not in this tree", file=sys.stderr)
        return 2
    asyncio.run(importlib.import_module(f"bench.{names[0]}").run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
