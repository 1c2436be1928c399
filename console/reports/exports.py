"""Reports as files: CSV (UTF-8 with a BOM, so Excel reads the Chinese) or XLSX (openpyxl; Chinese headers,
numbers as numbers, rates as percentages; the monthly report one sheet per part)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook

HEADERS = {
    "period": "期间", "from": "起", "to": "止", "key": "键", "label": "名称", "agent": "工号", "name": "姓名",
    "team": "班组", "agents": "坐席数", "offered": "呼入量", "answered": "人工接听", "self_served": "自助办结",
    "connection_rate": "接通率", "queued": "排队来电", "answered_15s": "15秒内接听", "answer_rate_15s": "15秒接通率",
    "abandoned": "放弃", "short_abandoned": "短时放弃", "abandon_rate": "放弃率",
    "abandon_rate_excl_short": "放弃率(不含短时)", "voice_messages": "语音留言", "wait_avg_s": "平均等待(秒)",
    "wait_p95_s": "等待P95(秒)", "talk_avg_s": "平均通话(秒)", "wrap_up_avg_s": "平均话后处理(秒)",
    "signed_in_s": "签入时长(秒)", "busy_s": "通话及话后(秒)", "occupancy": "占用率", "rated": "已评价",
    "rating_coverage": "评价率", "satisfaction_rate": "满意率", "sat_1": "非常满意", "sat_2": "满意",
    "sat_3": "基本满意", "sat_4": "不满意", "sat_5": "非常不满意", "revisits_due": "应回访",
    "revisits_done": "已回访", "revisit_coverage": "回访率", "callbacks_requested": "回拨请求",
    "callbacks_done": "回拨办结", "callbacks_reached": "回拨联系上", "tickets": "工单量",
}
RATES = {"connection_rate", "answer_rate_15s", "abandon_rate", "abandon_rate_excl_short", "occupancy",
         "rating_coverage", "satisfaction_rate", "revisit_coverage"}
SKIP = {"satisfaction", "revisit_results", "formulas"}
Sheet = tuple[str, list[dict[str, Any]]]


def flat(row: dict[str, Any]) -> dict[str, Any]:
    """A report row with the satisfaction levels as columns and nested objects left out."""
    out = {k: v for k, v in row.items() if k not in SKIP and not isinstance(v, dict | list)}
    for level, n in (row.get("satisfaction") or {}).items():
        out[f"sat_{level}"] = n
    return out


def sheets(report: str, data: dict[str, Any]) -> list[Sheet]:
    """The tables a report is made of, each with its sheet name."""
    if report == "kpis":
        total = {"period": "合计", "from": data["from"], "to": data["to"], **data["totals"]}
        compare = [{"period": "上期", **data["previous"]}, {"period": "去年同期", **data["last_year"]}]
        return [("指标", [flat(r) for r in [*data["periods"], total, *compare]])]
    if report == "monthly":
        summary = [{"period": data["month"], **data["totals"]}, {"period": "上月", **data["previous"]},
                   {"period": "去年同月", **data["last_year"]}]
        parts = [("总体", summary), ("每日", data["daily"]), ("热线号码", data["lines"]),
                 ("诉求类型", data["request_types"]), ("问题分类", data["categories"]), ("班组", data["teams"])]
        return [(name, [flat(r) for r in rows]) for name, rows in parts]
    return [({"volumes": "话务量", "agents": "坐席", "teams": "班组"}[report], [flat(r) for r in data["rows"]])]


def _columns(rows: Iterable[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def to_csv(tables: list[Sheet]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for i, (name, rows) in enumerate(tables):
        if len(tables) > 1:
            if i:
                writer.writerow([])
            writer.writerow([name])
        columns = _columns(rows)
        writer.writerow([HEADERS.get(c, c) for c in columns])
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(tables: list[Sheet]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for name, rows in tables:
        sheet = book.create_sheet(name)
        columns = _columns(rows)
        sheet.append([HEADERS.get(c, c) for c in columns])
        for row in rows:
            sheet.append([row.get(c) for c in columns])
        for index, column in enumerate(columns, start=1):
            if column in RATES:
                for cell in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell[0].number_format = "0.00%"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_file(report: str, fmt: str, data: dict[str, Any]) -> tuple[str, str, bytes]:
    """(file name, content type, bytes)."""
    tables = sheets(report, data)
    stem = f"report-{report}-{data.get('month') or data.get('from')}-{data.get('to', '')}".rstrip("-")
    if fmt == "csv":
        return f"{stem}.csv", "text/csv", to_csv(tables)
    return (f"{stem}.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", to_xlsx(tables))
