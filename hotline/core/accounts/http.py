"""The accounts' routes: signing in and out (`/api/session`) and managing users (`/api/users`). Admins manage
everyone; a supervisor the agent accounts of their own team (a supervisor with no team: every agent)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from hotline.core.accounts.sessions import Session
from hotline.core.accounts.signin import CURRENT, SignIn, session_body
from hotline.core.accounts.users import NewUser, UserView
from hotline.core.errors import Conflict, Invalid, NotFound
from hotline.core.web.bodies import Body, path_id, read_body
from hotline.core.web.policy import Grant, Scope, guarded
from hotline.core.web.routes import RouteTable
from hotline.core.web.sockets import SOCKETS
from hotline.core.web.tokens import ROLES, Actor

SIGN_IN = web.AppKey("sign_in", SignIn)
table = RouteTable("accounts")


class Credentials(Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class Who(BaseModel):
    id: int
    username: str
    name: str
    role: str
    agent_id: str | None
    team: str | None


class SessionInfo(BaseModel):
    user: Who
    csrf_token: str
    must_change_password: bool


class PasswordChange(Body):
    old: str = Field(min_length=1, max_length=256)
    new: str = Field(min_length=1, max_length=256)


class UserCreate(Body):
    username: str = Field(min_length=1, max_length=64)
    role: str = Field(description=f"one of {', '.join(ROLES)}")
    name: str = Field("", max_length=64)
    agent_id: str | None = Field(None, pattern=r"^[0-9A-Za-z_-]{1,32}$")
    team: str | None = Field(None, min_length=1, max_length=32)


class UserInfo(Who):
    disabled: bool
    must_change_password: bool
    disabled_at: str | None
    created_at: str
    password_changed_at: str


class UserList(BaseModel):
    users: list[UserInfo]


class WithPassword(BaseModel):
    user: UserInfo
    password: str = Field(description="the one-time password, shown this once; changed at first sign-in")


def _actor(request: web.Request, grant: Grant) -> Actor:
    return Actor(grant.who.name, grant.role, request.remote)


# --- the session ---


@table.post("/api/session", summary="sign in with user name and password: the session cookie and CSRF token",
            body=Credentials, response=SessionInfo, public=True, errors=(401, 403, 423, 429))
async def sign_in(request: web.Request) -> web.Response:
    given = await read_body(request, Credentials)
    return await request.app[SIGN_IN].log_in(request, given.username, given.password)


def _session_user(request: web.Request, grant: Grant) -> tuple[int, Session]:
    """The signed-in user's id and session; 404 for a token (it has no session)."""
    session = request.get(CURRENT)
    if grant.who.user_id is None or session is None:
        raise NotFound("this request is not signed in with a session (API tokens have none)", error_id="no_session")
    return grant.who.user_id, session


@table.get("/api/session", summary="who is signed in, and the session's CSRF token", response=SessionInfo,
           errors=(404,))
@guarded("session.read", resource="session")
async def current(request: web.Request, grant: Grant) -> web.Response:
    user_id, session = _session_user(request, grant)
    user = await request.app[SIGN_IN].users.get(user_id)
    if user is None:
        raise NotFound("no such user", error_id="no_session")
    return web.json_response(session_body(user, session))


@table.delete("/api/session", summary="sign out: this session ends (its live sockets close), its cookie is "
              "cleared", status=204, errors=(404,))
@guarded("session.end", resource="session")
async def sign_out(request: web.Request, grant: Grant) -> web.Response:
    user_id, session = _session_user(request, grant)
    sign_in = request.app[SIGN_IN]
    await sign_in.store.end(session.key, user_id)
    await request.app[SOCKETS].close([grant.who.key])
    return sign_in.signed_out(request)


@table.post("/api/session/everywhere", summary="sign out everywhere: every session of this user ends, their "
            "sockets close", status=204, errors=(404,))
@guarded("session.everywhere", resource="session")
async def sign_out_everywhere(request: web.Request, grant: Grant) -> web.Response:
    user_id, _ = _session_user(request, grant)
    sign_in = request.app[SIGN_IN]
    await sign_in.users.sign_out_everywhere(user_id, by=_actor(request, grant))
    await sign_in.end_sessions(request, user_id)
    return sign_in.signed_out(request)


@table.post("/api/session/password", summary="change one's own password (at least 10 characters, not the user "
            "name, not a common one); the user's other sessions end", body=PasswordChange, status=204,
            errors=(404,))
@guarded("session.password", resource="session")
async def change_password(request: web.Request, grant: Grant) -> web.Response:
    user_id, session = _session_user(request, grant)
    asked = await read_body(request, PasswordChange)
    sign_in = request.app[SIGN_IN]
    changed = await sign_in.users.change_password(user_id, asked.old, asked.new, by=_actor(request, grant))
    if changed is None:
        await sign_in.lockout.failed(grant.who.name)  # a wrong old password counts like a wrong sign-in
        raise Invalid("当前密码不正确", error_id="wrong_password")
    await sign_in.store.regenerate(session.key, changed.generation)
    await sign_in.end_sessions(request, user_id, but=session.key)
    return web.Response(status=204)


# --- users ---


def reaches(grant: Grant, user: UserView) -> bool:
    """Whether the grant covers this user: everyone for admins (and auditors reading); for a supervisor the
    agents of their team (the agent's team as the access checks know it, else the account's), every agent
    without a team."""
    if grant.scope is Scope.ALL:
        return True
    if grant.scope is Scope.OWN:
        return user.id == grant.who.user_id
    team = (grant.teams.of(user.agent_id) if user.agent_id else None) or user.team
    return user.role == "agent" and (grant.who.group is None or team == grant.who.group)


async def _user_in_reach(request: web.Request, grant: Grant) -> UserView:
    user_id = path_id(request, "user_id", "user")
    user = await request.app[SIGN_IN].users.get(user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    grant.note(username=user.username)
    grant.require(reaches(grant, user), "a supervisor manages the agent accounts of their own team only")
    return user


@table.get("/api/users", summary="user accounts (a supervisor: their team's agents)", response=UserList)
@guarded("users.list", resource="users")
async def list_users(request: web.Request, grant: Grant) -> web.Response:
    users = [u.to_json() for u in await request.app[SIGN_IN].users.list() if reaches(grant, u)]
    return web.json_response({"users": users})


@table.post("/api/users", summary="create a user account; the one-time password is in the answer, shown once, "
            "and must be changed at first sign-in", body=UserCreate, response=WithPassword, status=201,
            errors=(409,))
@guarded("users.create", resource="users")
async def create_user(request: web.Request, grant: Grant) -> web.Response:
    asked = await read_body(request, UserCreate)
    team = asked.team
    if grant.scope is Scope.TEAM:
        grant.require(asked.role == "agent", "a supervisor creates agent accounts only")
        team = team or grant.who.group
        grant.require(grant.who.group is None or team == grant.who.group,
                      "a supervisor creates agent accounts of their own team only")
    user, password = await request.app[SIGN_IN].users.create(
        NewUser(asked.username, asked.role, asked.name, asked.agent_id, team), by=_actor(request, grant))
    assert password is not None
    grant.note(user=user.id, username=user.username, user_role=user.role)
    return web.json_response({"user": user.to_json(), "password": password}, status=201)


@table.get("/api/users/{user_id}", summary="one user account", response=UserInfo)
@guarded("users.read", resource="users/{user_id}")
async def get_user(request: web.Request, grant: Grant) -> web.Response:
    return web.json_response((await _user_in_reach(request, grant)).to_json())


@table.post("/api/users/{user_id}/disable", summary="disable a user: their sessions end at once", response=UserInfo,
            errors=(409,))
@guarded("users.disable", resource="users/{user_id}")
async def disable_user(request: web.Request, grant: Grant) -> web.Response:
    user = await _user_in_reach(request, grant)
    if user.id == grant.who.user_id:
        raise Conflict("you cannot disable your own account", error_id="cannot_disable_self")
    sign_in = request.app[SIGN_IN]
    disabled = await sign_in.users.disable(user.id, by=_actor(request, grant))
    await sign_in.end_sessions(request, user.id)
    return web.json_response(disabled.to_json())


@table.post("/api/users/{user_id}/enable", summary="enable a disabled user again (and lift a lockout)",
            response=UserInfo, errors=(409,))
@guarded("users.enable", resource="users/{user_id}")
async def enable_user(request: web.Request, grant: Grant) -> web.Response:
    user = await _user_in_reach(request, grant)
    sign_in = request.app[SIGN_IN]
    enabled = await sign_in.users.enable(user.id, by=_actor(request, grant))
    await sign_in.lockout.lift(user.username)
    return web.json_response(enabled.to_json())


@table.post("/api/users/{user_id}/reset-password", summary="a new one-time password (shown once, changed at the "
            "next sign-in); the user's sessions end, a lockout is lifted", response=WithPassword)
@guarded("users.reset_password", resource="users/{user_id}")
async def reset_password(request: web.Request, grant: Grant) -> web.Response:
    user = await _user_in_reach(request, grant)
    sign_in = request.app[SIGN_IN]
    reset, password = await sign_in.users.reset_password(user.id, by=_actor(request, grant))
    await sign_in.end_sessions(request, user.id)
    await sign_in.lockout.lift(user.username)
    return web.json_response({"user": reset.to_json(), "password": password})
