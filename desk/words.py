"""The Chinese an agent reads for the hotline's codes: caller flags, ticket statuses, call outcomes."""

from __future__ import annotations

FLAGS = {"vip": "VIP", "elderly": "老年人", "watch": "重点关注", "repeat_caller": "重复来电", "emergency": "紧急"}
TICKET_STATUSES = {"draft": "草稿", "submitted": "已提交", "received": "已受理", "dispatched": "已派发",
                   "signed": "已签收", "feedback": "已反馈", "closed": "已办结", "overdue": "已超期"}
OUTCOMES = {"connected": "已接通", "ended": "已结束", "queued": "排队中", "abandoned": "放弃",
            "abandoned_in_queue": "排队放弃", "blocked": "拒绝服务", "callback_requested": "预约回电",
            "voice_message": "留言", "silent_caller": "无声来电", "failsafe": "故障保护"}
