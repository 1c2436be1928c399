"""The bulk import of a department's entries: a CSV (UTF-8, a byte order mark allowed) or XLSX sheet with the
headers 标题, 问题 (several, separated by ；or a new line), 答复口径, 部门, 分类 (a code or a category's name),
区域, 关键词, 生效日期, 失效日期, 来源 (and optionally 复核日期, 电话播报). Checked as a whole: every bad
row is listed and nothing is imported, else all become drafts."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime
from typing import Any
from xml.etree import ElementTree

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from pydantic import ValidationError

from hotline.core.errors import BadRequest, Invalid
from knowledge.fields import EntryFields
from knowledge.service import Reach
from tickets.catalogue import Catalogue

MAX_ROWS = 5000
HEADERS = {"标题": "title", "问题": "questions", "答复口径": "answer", "部门": "department", "分类": "category",
           "区域": "region", "关键词": "keywords", "生效日期": "valid_from", "失效日期": "valid_until",
           "来源": "source", "复核日期": "review_by", "电话播报": "phone"}
FIELD_HEADERS = {v: k for k, v in HEADERS.items()}
REQUIRED = ("标题", "问题", "答复口径", "部门")
SPLIT_QUESTIONS = re.compile(r"[；;\n]+")
SPLIT_KEYWORDS = re.compile(r"[，,；;、\s]+")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportRefused(Invalid):
    """422 listing every bad row; nothing was imported."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(rows)} problem(s) in the file; nothing was imported", error_id="bad_rows")
        self.rows = rows

    def body(self) -> dict[str, Any]:
        return {**super().body(), "rows": self.rows}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def read_csv(raw: bytes) -> list[list[str]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("the CSV is not UTF-8 text", error_id="bad_file") from None
    try:
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    except csv.Error as exc:
        raise BadRequest(f"not a CSV this service reads ({exc})", error_id="bad_file") from None


def read_xlsx(raw: bytes) -> list[list[str]]:
    """The first sheet's rows as text (dates as ISO dates); 400 for anything that is not a workbook."""
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            return [[_cell(c) for c in row] for row in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, TypeError, AttributeError, IndexError,
            OSError, EOFError, ElementTree.ParseError) as exc:
        raise BadRequest(f"not an XLSX workbook ({type(exc).__name__})", error_id="bad_file") from None


def _category(value: str, catalogue: Catalogue) -> str | None:
    """A code, or the name of exactly one category (its last level, or its path "a / b / c")."""
    if not value or catalogue.get(value) is not None:
        return value
    named = [c for c in catalogue.all() if value in (c.name, c.label, "/".join(c.path))]
    return named[0].code if len(named) == 1 else None


def parse(table: list[list[str]], catalogue: Catalogue, reach: Reach) -> list[EntryFields]:
    """The rows as entries' content, or ImportRefused naming every problem (row numbers as in the file)."""
    rows = [r for r in table if any(c for c in r)]
    if not rows:
        raise ImportRefused([{"row": 1, "field": "", "message": "文件为空"}])
    head = [h.strip().lstrip("\ufeff") for h in rows[0]]
    missing = [h for h in REQUIRED if h not in head]
    if missing:
        raise ImportRefused([{"row": 1, "field": h, "message": "缺少此列"} for h in missing])
    if len(rows) - 1 > MAX_ROWS:
        raise ImportRefused([{"row": 1, "field": "", "message": f"一次最多导入 {MAX_ROWS} 条"}])
    problems: list[dict[str, Any]] = []
    entries: list[EntryFields] = []
    for number, row in enumerate(table, start=1):
        if number == 1 or not any(c for c in row):
            continue
        cells = {HEADERS[h]: (row[i] if i < len(row) else "") for i, h in enumerate(head) if h in HEADERS}
        found = [p for p in _row(cells, number, catalogue, reach, entries)]
        problems += found
    if problems:
        raise ImportRefused(problems)
    return entries


def _row(cells: dict[str, str], number: int, catalogue: Catalogue, reach: Reach,
         entries: list[EntryFields]) -> list[dict[str, Any]]:
    content: dict[str, Any] = {k: v for k, v in cells.items() if v != ""}
    content["questions"] = [q.strip() for q in SPLIT_QUESTIONS.split(cells.get("questions", "")) if q.strip()]
    content["keywords"] = [k for k in SPLIT_KEYWORDS.split(cells.get("keywords", "")) if k]
    if "phone" in content:
        content["phone"] = content["phone"] in ("是", "1", "true", "TRUE", "yes", "Y", "y")
    problems = []
    if "category" in content:
        code = _category(content["category"], catalogue)
        if code is None:
            problems.append({"row": number, "field": "分类", "message": "不是工单分类目录中的编码或名称"})
            content.pop("category")
        else:
            content["category"] = code
    if content.get("department") and not reach.covers(content["department"]):
        problems.append({"row": number, "field": "部门", "message": "只能导入本部门的知识"})
    try:
        entries.append(EntryFields.model_validate(content))
    except ValidationError as exc:
        for e in exc.errors():
            name = str(e["loc"][0]) if e["loc"] else ""
            problems.append({"row": number, "field": FIELD_HEADERS.get(name, name), "message": said(e)})
    return problems


def said(error: Any) -> str:
    """A validation error in the editors' words (pydantic's messages are English)."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing":
        return "必填"
    if kind in ("string_too_short", "too_short"):
        return "不能为空" if ctx.get("min_length") in (None, 1) else f"至少 {ctx['min_length']} 个"
    if kind == "string_too_long":
        return f"最多 {ctx.get('max_length')} 个字"
    if kind == "too_long":
        return f"最多 {ctx.get('max_length')} 项"
    if kind.startswith("date") or kind.startswith("datetime"):
        return "日期格式应为 YYYY-MM-DD（如 2026-07-01）"
    if kind == "value_error":
        return str(error.get("msg", "")).removeprefix("Value error, ")
    return f"格式不对（{error.get('msg', kind)}）"
