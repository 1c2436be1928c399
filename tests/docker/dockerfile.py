"""A small reader of docker/'s Dockerfiles and compose files for the static checks (no Docker daemon here)."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
COMPOSE_FILES = (DOCKER / "compose.yml", DOCKER / "compose.cluster.yml")


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY …
    args: str
    line: int

    def exec_form(self) -> list[str]:
        """CMD/HEALTHCHECK arguments as a list: the JSON exec form, else the shell form split into words."""
        text = self.args.split(" CMD ", 1)[1] if self.keyword == "HEALTHCHECK" else self.args
        text = text.strip()
        return [str(a) for a in json.loads(text)] if text.startswith("[") else shlex.split(text)


@dataclass
class Stage:
    name: str
    base: str  # an image reference, or the name of an earlier stage
    instructions: list[Instruction] = field(default_factory=list)

    def last(self, keyword: str) -> Instruction | None:
        found = [i for i in self.instructions if i.keyword == keyword]
        return found[-1] if found else None


def instructions(path: Path) -> list[Instruction]:
    """Instructions with continuation lines joined; comments and parser directives dropped."""
    result: list[Instruction] = []
    pending, start = "", 0
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        text = (pending + line).strip()
        pending = ""
        keyword, _, args = text.partition(" ")
        result.append(Instruction(keyword.upper(), args.strip(), start))
    return result


def stages(path: Path) -> dict[str, Stage]:
    """The build stages by name (an unnamed stage by its index)."""
    found: dict[str, Stage] = {}
    current: Stage | None = None
    for ins in instructions(path):
        if ins.keyword == "FROM":
            words = ins.args.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else str(len(found))
            current = found[name] = Stage(name, words[0])
        elif current is not None:
            current.instructions.append(ins)
    return found


def effective(all_stages: dict[str, Stage], name: str, keyword: str) -> Instruction | None:
    """The instruction a stage's image ends up with, inherited from the stage it is built FROM."""
    stage: Stage | None = all_stages[name]
    while stage is not None:
        if (found := stage.last(keyword)) is not None:
            return found
        stage = all_stages.get(stage.base)
    return None


def compose(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def argv(command: list[str] | str) -> list[list[str]]:
    """The programs a command runs: `sh -c "a && exec b"` is taken apart into a and b."""
    words = shlex.split(command) if isinstance(command, str) else list(command)
    if len(words) >= 3 and words[0] in ("sh", "bash") and words[1] == "-c":
        parts = re.split(r"&&|;", words[2])
        return [w[1:] if w[:1] == ["exec"] else w for w in (shlex.split(p) for p in parts) if w]
    return [words]
