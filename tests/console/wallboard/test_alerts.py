"""The wallboard's alerts and their thresholds (console.wallboard.alerts)."""

from __future__ import annotations

from console.settings import WallboardSettings
from console.wallboard.alerts import agent_alerts, backlog_alerts, health_alerts, ordered, queue_alerts
from hotline.core.web.health import PartHealth

S = WallboardSettings(sl_target=0.8, wait_alert_s=60, pause_alert_s=900, recordings_backlog=50, outbox_backlog=20,
                      callback_overdue_min=30, sl_min_offered=3, figures_every_s=5)


def row(sl: float = 1.0, decided: int = 10, longest: float = 0, waiting: int = 0) -> dict[str, object]:
    return {"line": "12345", "name": "12345政务服务便民热线", "sl_15s_30min": sl, "decided_30min": decided,
            "longest_wait_s": longest, "waiting": waiting}


def test_service_level_under_target_warns_then_is_critical() -> None:
    assert queue_alerts([row(sl=0.8)], "line", S) == []
    warning = queue_alerts([row(sl=0.7)], "line", S)
    assert [(a.kind, a.level, a.subject) for a in warning] == [("service_level", "warning", "line:12345")]
    assert "近30分钟15秒接通率 70%，低于目标 80%" in warning[0].text
    assert queue_alerts([row(sl=0.5)], "line", S)[0].level == "critical"
    assert queue_alerts([row(sl=0.0, decided=2)], "line", S) == []  # too few callers to judge


def test_a_long_wait_is_an_alert_of_its_line() -> None:
    assert queue_alerts([row(longest=60, waiting=1)], "line", S) == []
    alert = queue_alerts([row(longest=75, waiting=2)], "line", S)[0]
    assert (alert.kind, alert.level) == ("long_wait", "warning") and "等待 75 秒" in alert.text
    assert queue_alerts([row(longest=130, waiting=1)], "line", S)[0].level == "critical"


def test_an_agent_paused_too_long() -> None:
    agents = [{"agent": "8001", "name": "王芳", "state": "paused", "since_s": 1000, "reason": "培训"},
              {"agent": "8002", "name": "李强", "state": "paused", "since_s": 100, "reason": ""},
              {"agent": "8003", "name": "赵敏", "state": "on_call", "since_s": 5000, "reason": ""}]
    alerts = agent_alerts(agents, S)
    assert [(a.subject, a.level) for a in alerts] == [("agent:8001", "warning")]
    assert alerts[0].text == "坐席 8001 王芳 示忙已 17 分钟（培训）"


def test_backlogs_and_parts_down() -> None:
    assert backlog_alerts({"waiting": 10, "failing": 0, "dead": 0}, {"pending": 3, "dead": 0}, S) == []
    got = backlog_alerts({"waiting": 120, "failing": 1, "dead": 2}, {"pending": 30, "dead": 1}, S)
    assert [(a.kind, a.level) for a in got] == [("recordings", "critical"), ("recordings", "critical"),
                                                ("case_outbox", "critical"), ("case_outbox", "warning")]
    down = health_alerts({"redis": PartHealth(True, "PONG"), "ami": PartHealth(False, "disconnected")})
    assert [(a.kind, a.subject, a.text) for a in down] == [("part_down", "part:ami", "AMI 连接异常：disconnected")]
    assert [a.level for a in ordered([*got[3:], *down])] == ["critical", "warning"]
