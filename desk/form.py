"""The ticket form's choices and checks as the page needs them (tickets.catalogue, tickets.form): request types,
urgencies, channels, content fields with their limits and which each type requires, the category tree for the
picker, handling units, the centre's districts (区县), and the Chinese name of every field (the API's errors
name fields by key)."""

from __future__ import annotations

from typing import Any

from dialplans.model import Dialplan
from tickets.catalogue import CHANNELS, CONTENT_FIELDS, REQUEST_TYPES, REQUIRED_CONTENT, URGENCIES, Catalogue

FIELD_LABELS = {
    "channel": "渠道", "request_type": "诉求类型", "category": "事项分类", "urgency": "紧急程度",
    "complex": "复杂事项", "title": "标题", "content": "诉求内容", "handling_unit": "承办单位", "region": "所属区县",
    "calls": "关联通话",
    "petitioner": "诉求人", "petitioner.name": "诉求人姓名", "petitioner.phone": "联系电话",
    "petitioner.address": "联系地址", "petitioner.confidential": "保密", "petitioner.revisit_consent": "同意回访",
    "petitioner.enterprise": "企业诉求",
    **{f"content.{key}": label for key, (label, _) in CONTENT_FIELDS.items()},
}
LIMITS = {"title": 100, "handling_unit": 100, "region": 32, "petitioner.name": 64, "petitioner.address": 200,
          "petitioner.phone": 32, **{f"content.{key}": limit for key, (_, limit) in CONTENT_FIELDS.items()}}
DEADLINE_LABELS = {"dispatch": "派单时限", "sign": "签收时限", "first_feedback": "首次反馈时限",
                   "feedback": "办结反馈时限"}


def ticket_form(plan: Dialplan, catalogue: Catalogue) -> dict[str, Any]:
    """What the page builds the ticket form from, so it checks what the API checks before sending."""
    return {
        "request_types": list(REQUEST_TYPES), "urgencies": list(URGENCIES), "channels": list(CHANNELS),
        "content_fields": [{"key": key, "label": label, "max": limit}
                           for key, (label, limit) in CONTENT_FIELDS.items()],
        "required_content": {kind: list(keys) for kind, keys in REQUIRED_CONTENT.items()},
        "name_required_for": ["求助", "投诉", "举报"],
        "categories": catalogue.tree(),
        "units": [u.name for u in plan.units],
        "regions": list(catalogue.regions),
        "field_labels": FIELD_LABELS, "limits": LIMITS, "deadline_labels": DEADLINE_LABELS,
        "phone_pattern": r"^(1[3-9]\d{9}|0\d{9,11})$",
    }
