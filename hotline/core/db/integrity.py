"""What an IntegrityError was, on SQLite and PostgreSQL alike: a duplicate key is told apart from a missing
value, a dangling foreign key or a failed check, so "already there" is never assumed for the others.

SQLite names the columns in its message (`UNIQUE constraint failed: t.a, t.b`); PostgreSQL (asyncpg) gives
an SQLSTATE and the table, column and key in fields of the error. `Violation` keeps only names, never the
values (the detail of a PostgreSQL error carries them), so it may be logged and shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

_SQLSTATES = {"23505": "unique", "23502": "not_null", "23503": "foreign_key", "23514": "check"}
_SQLITE = re.compile(r"^(UNIQUE|NOT NULL|FOREIGN KEY|CHECK) constraint failed(?::\s*(.*))?$")
_SQLITE_KINDS = {"UNIQUE": "unique", "NOT NULL": "not_null", "FOREIGN KEY": "foreign_key", "CHECK": "check"}
_PG_KEY = re.compile(r"^Key \((.*?)\)=\(")


@dataclass(frozen=True)
class Violation:
    kind: str  # unique | not_null | foreign_key | check | other
    table: str | None = None
    columns: tuple[str, ...] = ()
    constraint: str | None = None

    def describe(self) -> str:
        """For logs and error messages: names only."""
        what = {"unique": "a duplicate", "not_null": "a missing value", "foreign_key": "a reference to nothing",
                "check": "a failed check", "other": "an integrity error"}[self.kind]
        where = ", ".join(filter(None, (".".join(filter(None, (self.table, ", ".join(self.columns) or None))),
                                        self.constraint)))
        return f"{what} ({where})" if where else what


def _pg_error(exc: IntegrityError) -> object | None:
    """The asyncpg error behind SQLAlchemy's adapter, if any."""
    seen: BaseException | None = exc.orig
    while seen is not None:
        if isinstance(getattr(seen, "sqlstate", None), str) and hasattr(seen, "table_name"):
            return seen
        seen = seen.__cause__
    return None


def violation(exc: IntegrityError) -> Violation:
    pg = _pg_error(exc)
    if pg is not None:
        kind = _SQLSTATES.get(str(getattr(pg, "sqlstate", "")), "other")
        table, column = getattr(pg, "table_name", None), getattr(pg, "column_name", None)
        columns: tuple[str, ...] = (column,) if column else ()
        key = _PG_KEY.match(str(getattr(pg, "detail", "") or ""))
        if kind == "unique" and key:
            columns = tuple(c.strip().strip('"') for c in key.group(1).split(","))
        return Violation(kind, table, columns, getattr(pg, "constraint_name", None))
    found = _SQLITE.match(str(exc.orig).strip())
    if found is None:
        return Violation("other")
    kind, names = _SQLITE_KINDS[found.group(1)], (found.group(2) or "").strip()
    if kind == "check":
        return Violation(kind, constraint=names or None)
    qualified = [n.strip() for n in names.split(",") if n.strip()]
    tables = {n.partition(".")[0] for n in qualified if "." in n}
    return Violation(kind, tables.pop() if len(tables) == 1 else None,
                     tuple(n.partition(".")[2] or n for n in qualified))


def is_duplicate(exc: IntegrityError, table: str, *columns: str) -> bool:
    """The error is a unique (or primary) key violation on exactly `columns` of `table`."""
    found = violation(exc)
    return found.kind == "unique" and found.table == table and set(found.columns) == set(columns)
