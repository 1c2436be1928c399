"""Load and validate the dialplan file; every error names file, line and the fix.

YAML is composed into nodes first so each value keeps its line (`dialplans.checker`); validation collects ALL
errors, of each section (`dialplans.sections`) then across sections (`dialplans.crosscheck`), before refusing
the file.
"""

from __future__ import annotations

import logging
from pathlib import Path

import yaml

from dialplans.checker import Checker, DialplanError, DialplanInvalid, plain
from dialplans.crosscheck import cross_check
from dialplans.model import Dialplan
from dialplans.sections import REQUIRED_KEYS, TOP_KEYS, build

log = logging.getLogger(__name__)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's: fast enough to check as an engineer types

__all__ = ["DialplanError", "DialplanInvalid", "check_dialplan", "load_dialplan", "load_dialplan_text"]


def check_dialplan(path: Path) -> list[DialplanError]:
    """All errors in the file (empty when it is good)."""
    try:
        load_dialplan(path)
    except DialplanInvalid as exc:
        return exc.errors
    return []


def load_dialplan(path: Path) -> Dialplan:
    """Parse and validate; raise DialplanInvalid listing every error."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DialplanInvalid([DialplanError(name, 0, f"cannot read the file: {exc.strerror}",
                                             "check the path")]) from None
    return load_dialplan_text(text, name)


def load_dialplan_text(text: str, name: str) -> Dialplan:
    """Parse and validate the file's text as typed (`name` is the file errors name); raise DialplanInvalid."""
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise DialplanInvalid([DialplanError(name, (mark.line + 1) if mark else 0, f"YAML syntax: {exc.problem}",
                                             "check indentation, colons and quotes on this line",
                                             (mark.column + 1) if mark else 0)]) from None
    except yaml.YAMLError as exc:  # e.g. a character YAML does not allow, without a mark
        raise DialplanInvalid([DialplanError(name, 0, f"YAML: {exc}", "remove the character")]) from None
    if root is None:
        raise DialplanInvalid([DialplanError(name, 1, "the file is empty", "start from dialplans/hotline.yaml")])
    try:
        tree = plain(root)
    except yaml.MarkedYAMLError as exc:  # a value YAML cannot construct: a bad tag
        mark = exc.problem_mark or exc.context_mark
        raise DialplanInvalid([DialplanError(name, (mark.line + 1) if mark else 0, f"YAML value: {exc.problem}",
                                             "write the value as plain text, a number or a date",
                                             (mark.column + 1) if mark else 0)]) from None
    except (ValueError, TypeError, RecursionError) as exc:  # a date like 2027-13-45, an alias of itself
        raise DialplanInvalid([DialplanError(name, 0, f"YAML value: {exc}",
                                             "check the dates (YYYY-MM-DD) and the anchors (&, *)")]) from None
    c = Checker(name)
    top = c.mapping(tree, "the file", TOP_KEYS, REQUIRED_KEYS)
    try:
        plan = build(c, top)
        if all(key in top for key in REQUIRED_KEYS):  # (a missing section is an error already)
            cross_check(c, plan, top)
    except Exception as exc:  # a shape the checks did not foresee: still a problem to show, never a crash
        log.exception("the dialplan checks stopped at an unforeseen shape")
        c.err(0, f"the checks stopped here: {type(exc).__name__} {exc}",
              "compare this part with dialplans/hotline.yaml")
        raise DialplanInvalid(sorted(c.errors, key=lambda e: e.line)) from None
    if c.errors:
        raise DialplanInvalid(sorted(c.errors, key=lambda e: e.line))
    return plan
