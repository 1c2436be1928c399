"""The wallboard's alerts: what a supervisor must look at now, each with a level and a Chinese text.

Service level under target (per line and skill, over the last 30 minutes, once enough callers were decided),
a caller waiting longer than the limit (per line and skill), an agent paused too long, recordings or the
case-system outbox backed up or dead, a part of the hotline down (its health check). `critical` when it is
twice as bad as the limit (or lost: dead letters, a part down), else `warning`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from console.settings import WallboardSettings
from hotline.core.web.health import PartHealth

PART_NAMES = {"asterisk": "Asterisk", "ami": "AMI 连接", "agi": "AGI 服务", "redis": "Redis", "db": "数据库",
              "acd_router": "路由", "directory_phones": "坐席话机同步", "recordings": "录音处理",
              "case_system": "工单系统对接", "revisit_planner": "回访计划", "revisit_dialer": "回访外呼"}


@dataclass(frozen=True)
class Alert:
    kind: str  # service_level | long_wait | long_pause | recordings | case_outbox | part_down
    level: str  # warning | critical
    text: str
    subject: str  # line:12345 | skill:general | agent:8001 | recordings | case_outbox | part:<name>

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "level": self.level, "text": self.text, "subject": self.subject}


def _level(value: float, limit: float) -> str:
    return "critical" if value >= 2 * limit else "warning"


def _pct(rate: float) -> str:
    return f"{round(rate * 100)}%"


def queue_alerts(rows: Iterable[Mapping[str, Any]], kind: str, s: WallboardSettings) -> list[Alert]:
    """Service level and waits of lines (`kind` line) or skills (`kind` skill), as the snapshot shows them."""
    out: list[Alert] = []
    for row in rows:
        key = str(row[kind])
        label = f"{row.get('name') or key}" + (" 热线" if kind == "line" else " 技能组")
        decided = int(row.get("decided_30min", 0))
        sl = float(row["sl_15s_30min"])
        if decided >= s.sl_min_offered and sl < s.sl_target:
            level = "critical" if sl < s.sl_target - 0.2 else "warning"
            out.append(Alert("service_level", level, f"{label}近30分钟15秒接通率 {_pct(sl)}，低于目标 "
                             f"{_pct(s.sl_target)}", f"{kind}:{key}"))
        longest = float(row.get("longest_wait_s") or 0)
        if longest > s.wait_alert_s:
            out.append(Alert("long_wait", _level(longest, s.wait_alert_s), f"{label}有来电等待 {round(longest)} 秒"
                             f"（超过 {round(s.wait_alert_s)} 秒），排队 {row.get('waiting', 0)} 人", f"{kind}:{key}"))
    return out


def agent_alerts(agents: Iterable[Mapping[str, Any]], s: WallboardSettings) -> list[Alert]:
    """Agents paused longer than the limit (the agents shown: a team supervisor's own team)."""
    out = []
    for a in agents:
        since = float(a.get("since_s") or 0)
        if a.get("state") == "paused" and since > s.pause_alert_s:
            why = f"（{a['reason']}）" if a.get("reason") else ""
            out.append(Alert("long_pause", _level(since, s.pause_alert_s), f"坐席 {a['agent']} {a.get('name') or ''} "
                             f"示忙已 {round(since / 60)} 分钟{why}", f"agent:{a['agent']}"))
    return out


def backlog_alerts(recordings: Mapping[str, int] | None, outbox: Mapping[str, int] | None,
                   s: WallboardSettings) -> list[Alert]:
    """Recordings not stored (or given up), case-system messages not delivered (or dead)."""
    out = []
    if recordings is not None:
        if recordings.get("dead", 0):
            out.append(Alert("recordings", "critical", f"录音处理失败 {recordings['dead']} 条，需人工处理",
                             "recordings"))
        waiting = recordings.get("waiting", 0)
        if waiting > s.recordings_backlog:
            out.append(Alert("recordings", _level(waiting, s.recordings_backlog),
                             f"录音积压 {waiting} 条待处理（上限 {s.recordings_backlog}）", "recordings"))
    if outbox is not None:
        if outbox.get("dead", 0):
            out.append(Alert("case_outbox", "critical", f"工单推送失败 {outbox['dead']} 条（死信），请重发",
                             "case_outbox"))
        pending = outbox.get("pending", 0)
        if pending > s.outbox_backlog:
            out.append(Alert("case_outbox", _level(pending, s.outbox_backlog),
                             f"工单推送积压 {pending} 条（上限 {s.outbox_backlog}）", "case_outbox"))
    return out


def health_alerts(parts: Mapping[str, PartHealth]) -> list[Alert]:
    """Every part whose health check fails."""
    return [Alert("part_down", "critical", f"{PART_NAMES.get(name, name)}异常：{part.detail}"[:200], f"part:{name}")
            for name, part in sorted(parts.items()) if not part.ok]


def ordered(alerts: Iterable[Alert]) -> list[Alert]:
    """Critical first, then by kind, as the board lists them."""
    return sorted(alerts, key=lambda a: (a.level != "critical", a.kind, a.subject))
