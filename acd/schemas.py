"""The bodies, queries and answers of the ACD's routes (pydantic; the OpenAPI document is made from them)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, Self, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from acd.router import SPY_OPTIONS
from dialplans.model import LINKAGE_NUMBERS
from hotline.core.web.bodies import Body, Query

SpyMode = Literal["listen", "whisper", "barge"]
Linkage = Literal["110", "119", "120", "122"]
assert set(get_args(SpyMode)) == set(SPY_OPTIONS) and set(get_args(Linkage)) == set(LINKAGE_NUMBERS)


# Request bodies and queries


class StateChange(Body):
    state: Literal["ready", "paused", "signed_out"]
    reason: Annotated[str, Field(max_length=200, description="why the agent pauses (shown to supervisors)")] = ""


class WrapUpExtension(Body):
    extend_s: Annotated[float, Field(ge=1, le=600, strict=True, description="more seconds of after-call work")]


class SpyRequest(Body):
    mode: SpyMode = "listen"
    phone: Annotated[str, Field(pattern=r"^[0-9]{1,20}$", description="the supervisor's own phone, which rings")]


class TransferRequest(Body):
    """Exactly one destination: a skill or sub-centre, or an emergency linkage number."""

    skill: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    linkage: Linkage | None = None

    @model_validator(mode="after")
    def one_destination(self) -> Self:
        if (self.skill is None) == (self.linkage is None):
            raise ValueError('send {"skill": "<skill id>"} or {"linkage": "110"}')
        return self


class SecondParty(Body):
    """Exactly one party: a seat inside the centre or a number outside."""

    agent: Annotated[str | None, Field(min_length=1, max_length=32, description="an expert or sub-centre seat")] = None
    number: Annotated[str | None, Field(pattern=r"^[0-9]{3,20}$", description="a department outside")] = None

    @model_validator(mode="after")
    def one_party(self) -> Self:
        if (self.agent is None) == (self.number is None):
            raise ValueError('send {"agent": "<expert seat>"} or {"number": "<outside number>"}')
        return self


class StatsQuery(Query):
    day: Annotated[date | None, Field(description="YYYY-MM-DD, China time; today when absent")] = None


# Responses


class AgentOut(BaseModel):
    """An agent as the ACD keeps them: the state, a pause reason, skill levels (`lvl:<skill>`) and the like."""

    model_config = ConfigDict(extra="allow")
    agent: str
    state: str
    reason: str | None = None


class AgentList(BaseModel):
    agents: list[AgentOut]


class StateChanged(BaseModel):
    agent: str
    state: str


class WrapUpLeft(BaseModel):
    agent: str
    state: Literal["wrap_up"]
    left_s: float


class Waiting(BaseModel):
    waiting: list[dict[str, str]] = Field(description="callers waiting, in routing order")


class SkillStats(BaseModel):
    offered: int
    answered: int
    answered_15s: int
    abandoned: int
    deflected: int = Field(description="left the queue for a callback or a voice message")
    sl_15s: float = Field(description="answered within 15 s, of the callers who wanted an agent")
    abandon_rate: float
    wait_avg_s: float


class ConnectionRateOut(BaseModel):
    """呼叫接通率 of the 24 hours ending now (GB/T 003 5.2.3.3, target ≥ 0.95): see acd.connection."""

    since: str
    until: str
    asked: int = Field(description="inbound calls that asked for an agent (not deflected, not still waiting)")
    answered: int = Field(description="of those, the calls an agent answered")
    rate: float = Field(description="answered ÷ asked; 1.0 when nobody asked")
    target: float


class CallbackFigures(BaseModel):
    """People calling back, one kind or all, on the day: items received, called back (dialled by an agent),
    reached, closed (reached, wrong number or attempts used up) and the success rate reached ÷ closed."""

    received: int
    called_back: int
    reached: int
    closed: int
    success_rate: float | None = Field(description="reached ÷ closed; null when nothing was closed")


class Stats(BaseModel):
    day: str
    skills: dict[str, SkillStats]
    connection_24h: ConnectionRateOut
    callbacks: Annotated[dict[str, CallbackFigures] | None, Field(
        description="by kind (callback_request, voice_message) and `all`; present when the callback domain "
                    "is loaded")] = None


class SpyRinging(BaseModel):
    agent: str
    phone: str
    mode: SpyMode
    ringing: bool


class EmergencyFlag(Body):
    note: Annotated[str, Field(max_length=200, description="why: what the emergency is")] = ""


class EmergencyFlagged(BaseModel):
    call_id: str
    flagged_until: str


class HandedOver(BaseModel):
    call_id: str
    handed_over: bool


class Transferred(BaseModel):
    call_id: str
    skill: str | None
    linkage: Linkage | None
    transferred: bool


class ThreeWayRinging(BaseModel):
    call_id: str
    third: str
    status: Literal["ringing"]


class ConsultRinging(BaseModel):
    call_id: str
    consult: str
    status: Literal["ringing"]


class ConsultCompleted(BaseModel):
    call_id: str
    transferred_to: str


class ConsultCancelled(BaseModel):
    call_id: str
    back_with: Literal["agent"]


class AgentLeft(BaseModel):
    call_id: str
    agent_left: str
