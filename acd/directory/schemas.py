"""Bodies, queries and answers of the directory's routes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt, model_validator

from hotline.core.web.bodies import Body, Query

AGENT_ID = r"[0-9]{3,8}"
AgentId = Annotated[str, Field(pattern=f"^{AGENT_ID}$", description="the agent's number (工号), 3-8 digits: also "
                                                                   "their phone's SIP user")]
Name = Annotated[str, Field(min_length=1, max_length=32)]
TeamName = Annotated[str, Field(min_length=1, max_length=32, description="a team (班组)")]
SkillId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Level = Annotated[StrictInt, Field(ge=1, le=5)]
Skills = Annotated[dict[SkillId, Level], Field(min_length=1, max_length=20,
                                               description="skill → level 1-5 (skills of the dialplan file)")]
Seat = Literal["general", "expert", "sub_centre"]
Phone = Literal["sip", "webrtc"]


class NewAgent(Body):
    """An agent to add; their phone's SIP password is generated."""

    id: AgentId
    name: Name
    seat: Seat
    team: TeamName | None = None
    skills: Skills
    phone: Phone = Field("sip", description="sip: a desk phone or any SIP softphone; webrtc: the desk page's")
    active: StrictBool = True


class AgentPatch(Body):
    """The fields to change; `team: null` takes the agent out of their team."""

    name: Name | None = None
    seat: Seat | None = None
    team: TeamName | None = None
    skills: Skills | None = None
    phone: Phone | None = None
    active: StrictBool | None = None

    @model_validator(mode="after")
    def something(self) -> AgentPatch:
        if not self.model_fields_set:
            raise ValueError("give at least one of name, seat, team, skills, phone, active")
        nulls = sorted(f for f in self.model_fields_set - {"team"} if getattr(self, f) is None)
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class BulkAgents(Body):
    """Agents to add together: all of them, or none (every bad row is named)."""

    agents: Annotated[list[NewAgent], Field(min_length=1, max_length=1000)]


class NewTeam(Body):
    name: TeamName


class DirectoryQuery(Query):
    team: TeamName | None = None
    active: bool | None = None


class AgentOut(BaseModel):
    id: str
    name: str
    seat: Seat
    team: str | None
    skills: dict[str, int]
    phone: Phone
    active: bool
    created_at: str
    updated_at: str


class AgentsOut(BaseModel):
    agents: list[AgentOut]


class Added(BaseModel):
    added: int
    agents: list[AgentOut]


class PhoneSecret(BaseModel):
    agent: str
    username: str
    secret: str


class TeamOut(BaseModel):
    name: str
    agents: int
    created_at: str


class TeamsOut(BaseModel):
    teams: list[TeamOut]


class SkillOut(BaseModel):
    id: str
    label: str


class SkillsOut(BaseModel):
    skills: list[SkillOut]
