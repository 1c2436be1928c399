"""The KPI figures: additive counts (merged across days, lines, skills) and the rates and averages made from
them. Every formula is in `FORMULAS` (shown in the page on hover) and in docs/kpis.md."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

LEVELS = ("1", "2", "3", "4", "5")  # the dialplan's rating keys: 1 非常满意 … 5 非常不满意
SATISFIED = ("1", "2")  # 非常满意 and 满意
ANSWER_WITHIN_S = 15
_SEEDS = "seeds 003_3cce37af5afbd863.txt (DB 11/T 12345 热线服务与管理规范)"


@dataclass
class Figures:
    """Counts and sums for one slice of calls and of the rows around them (tickets, revisits, callbacks)."""

    offered: int = 0
    answered: int = 0
    self_served: int = 0
    queued: int = 0
    answered_15s: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    voice_messages: int = 0
    wait_n: int = 0
    wait_sum: float = 0.0
    talk_n: int = 0
    talk_sum: float = 0.0
    wrap_up_n: int = 0
    wrap_up_sum: float = 0.0
    rated: int = 0
    tickets: int = 0
    revisits_due: int = 0
    revisits_done: int = 0
    callbacks_requested: int = 0
    callbacks_done: int = 0
    callbacks_reached: int = 0
    satisfaction: Counter[str] = field(default_factory=Counter)
    waits: Counter[int] = field(default_factory=Counter)  # answered waits by whole second (rounded up)
    revisit_results: Counter[str] = field(default_factory=Counter)

    def add(self, other: Figures) -> Figures:
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if isinstance(mine, Counter):
                mine.update(theirs)
            else:
                setattr(self, f.name, mine + theirs)
        return self

    @classmethod
    def total(cls, parts: list[Figures]) -> Figures:
        out = cls()
        for part in parts:
            out.add(part)
        return out

    def kpis(self) -> dict[str, Any]:
        """The KPI object of the routes (rates 0..1 to 4 places, None when the denominator is 0)."""
        return {
            "offered": self.offered, "answered": self.answered, "self_served": self.self_served,
            "connection_rate": rate(self.answered + self.self_served, self.offered),
            "queued": self.queued, "answered_15s": self.answered_15s,
            "answer_rate_15s": rate(self.answered_15s, self.queued),
            "abandoned": self.abandoned, "short_abandoned": self.short_abandoned,
            "abandon_rate": rate(self.abandoned, self.queued),
            "abandon_rate_excl_short": rate(self.abandoned - self.short_abandoned,
                                            self.queued - self.short_abandoned),
            "voice_messages": self.voice_messages,
            "wait_avg_s": mean(self.wait_sum, self.wait_n), "wait_p95_s": p95(self.waits),
            "talk_avg_s": mean(self.talk_sum, self.talk_n), "wrap_up_avg_s": mean(self.wrap_up_sum, self.wrap_up_n),
            "rated": self.rated, "rating_coverage": rate(self.rated, self.answered),
            "satisfaction": {level: self.satisfaction[level] for level in LEVELS},
            "satisfaction_rate": rate(sum(self.satisfaction[k] for k in SATISFIED), self.rated),
            "revisits_due": self.revisits_due, "revisits_done": self.revisits_done,
            "revisit_coverage": rate(self.revisits_done, self.revisits_due),
            "revisit_results": dict(sorted(self.revisit_results.items())),
            "callbacks_requested": self.callbacks_requested, "callbacks_done": self.callbacks_done,
            "callbacks_reached": self.callbacks_reached, "tickets": self.tickets,
        }


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole > 0 else None


def mean(total: float, n: int) -> float | None:
    return round(total / n, 1) if n else None


def p95(waits: Counter[int]) -> int | None:
    """The smallest whole second within which 95 % of the answered callers were answered (waits rounded up)."""
    n = sum(waits.values())
    if not n:
        return None
    need, seen = math.ceil(0.95 * n), 0
    for second in sorted(waits):
        seen += waits[second]
        if seen >= need:
            return second
    return max(waits)


def _f(name: str, formula: str, unit: str, standard: str = _SEEDS) -> dict[str, str]:
    return {"name": name, "formula": formula, "standard": standard, "unit": unit}


FORMULAS: dict[str, dict[str, str]] = {
    "offered": _f("呼入量", "进入服务的呼入电话数：人工接听 + 自助服务办结 + 排队中放弃（不含本热线外呼、黑名单拒接、"
                  "语音留言、排队前挂机）", "次"),
    "connection_rate": _f("接通率", "（人工接听数 + 自助服务办结数）÷ 呼入量", "%",
                          _SEEDS + " 5.2.3.3：连续 24 小时内呼叫接通率应大于或等于 95%"),
    "answer_rate_15s": _f("15秒接通率", "排队后 15 秒内人工接听数 ÷ 排队来电数", "%",
                          _SEEDS + " 5.2.3.3：应在 15 秒之内接听；"
                          "seeds 000_f24879c5b4025827.txt：电话热线时应在 15 秒内接听"),
    "abandon_rate": _f("放弃率", "排队中放弃数 ÷ 排队来电数（另列短时放弃：等待少于阈值秒数即挂机）", "%"),
    "abandon_rate_excl_short": _f("放弃率（不含短时放弃）",
                                  "（排队中放弃数 − 短时放弃数）÷（排队来电数 − 短时放弃数）", "%"),
    "wait_avg_s": _f("平均等待时长", "人工接听来电的等待秒数（入队至坐席接听）之和 ÷ 人工接听数", "s"),
    "wait_p95_s": _f("等待时长 P95", "95% 的人工接听来电在此秒数内接听（等待秒数向上取整）", "s"),
    "talk_avg_s": _f("平均通话时长", "通话秒数（坐席接听至挂机）之和 ÷ 有通话时长的来电数", "s"),
    "wrap_up_avg_s": _f("平均话后处理时长", "话后处理秒数之和 ÷ 有话后处理的来电数", "s"),
    "occupancy": _f("坐席占用率", "（通话时长 + 话后处理时长）÷ 签入时长", "%"),
    "rating_coverage": _f("评价率", "已评价来电数 ÷ 人工接听数", "%",
                          _SEEDS + " 5.4.3：电话挂断前主动提示诉求人评价"),
    "satisfaction_rate": _f("满意率", "（非常满意 + 满意）÷ 已评价来电数", "%",
                            _SEEDS + " 5.4.2 五个评价等级；7.1.3.3 满意率"),
    "revisit_coverage": _f("回访率", "已完成回访的工单回访任务数 ÷ 应回访（办结、到期）任务数", "%",
                           _SEEDS + " 5.5.1：办理时限期满后，应全部或抽样联系诉求人进行回访"),
    "callbacks_requested": _f("回拨请求", "期间新增的回拨请求与语音留言数；已办结、已联系上分列", "次"),
    "tickets": _f("工单量", "期间提交的工单数（不含草稿）", "次",
                  _SEEDS + " 6.4.1.2 诉求总量、诉求类型、区域分布"),
}
