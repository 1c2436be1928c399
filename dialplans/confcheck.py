"""Check Asterisk .conf files (rendered or hand-edited) with pyst2's config parser."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

from asterisk.config import Config, ParseError

_DIRECTIVE = re.compile(r"^#(try)?include\s")


class _Config(Config):
    """pyst2's parser, reading the file without leaking its handle."""

    def load(self) -> None:
        with open(self.filename, encoding="utf-8") as f:  # Asterisk's #include lines are not pyst2's: comments
            self.raw_lines = [";" + line if _DIRECTIVE.match(line) else line for line in f]


def check_conf_file(path: Path) -> list[str]:
    """Problems in one .conf file as `file:line: message` (empty when it parses)."""
    try:
        config = _Config(str(path))
    except ParseError as exc:
        line, message = (*exc.args, "", "")[:2]
        return [f"{path}:{line}: {message}"]
    except (OSError, UnicodeDecodeError) as exc:
        return [f"{path}:0: cannot read: {exc}"]
    problems = []
    first_category = min((c.number for c in config.categories), default=None)
    for item in config.lines:
        is_setting = type(item).__name__ == "Item"
        if is_setting and (first_category is None or item.number < first_category):
            problems.append(f"{path}:{item.number}: setting '{item.name}' outside any [section]")
    return problems


def check_rendered(files: Mapping[str, str]) -> list[str]:
    """Parse rendered texts as files; names in messages are the config file names."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="hotline-confcheck-") as tmp:
        for name, text in files.items():
            path = Path(tmp) / name
            path.write_text(text)
            problems += [p.replace(str(path), name) for p in check_conf_file(path)]
    return problems
