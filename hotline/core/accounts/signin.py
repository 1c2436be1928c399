"""Signing people in and keeping them signed in: the password check with lockout and the address throttle,
the session cookie, and each cookie request's checks (session alive, user still enabled and of the same
generation, CSRF token on unsafe methods, the websocket's Origin, the must-change-password gate).
Every sign-in, failure, lockout and refusal is audited; a password never is."""

from __future__ import annotations

import hmac
import math
from collections.abc import Collection
from typing import Any

from aiohttp import web

from hotline.core.accounts.lockout import Lockout
from hotline.core.accounts.origins import over_https, trusted_origin
from hotline.core.accounts.sessions import Session, SessionStore
from hotline.core.accounts.settings import AccountSettings
from hotline.core.accounts.users import Users, UserView, normal
from hotline.core.web.audit import AUDIT
from hotline.core.web.auth import SESSION_COOKIE, THROTTLE, failed, throttled
from hotline.core.web.errors import error
from hotline.core.web.sockets import SOCKETS
from hotline.core.web.tokens import Principal

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "X-CSRF-Token"
CURRENT = web.RequestKey("session", Session)  # the session of a cookie request, for the session routes
# what a user who must change their password may still do: see the session, change it, sign out
GATE_OPEN = frozenset({("GET", "/api/session"), ("DELETE", "/api/session"), ("POST", "/api/session/password"),
                       ("POST", "/api/session/everywhere")})


def session_body(user: UserView, session: Session) -> dict[str, Any]:
    return {"user": user.brief(), "csrf_token": session.csrf, "must_change_password": user.must_change_password}


class SignIn:
    """The accounts' side of the web app (`SessionAuth` for the authentication middleware)."""

    def __init__(self, users: Users, store: SessionStore, lockout: Lockout, settings: AccountSettings) -> None:
        self.users, self.store, self.lockout, self.settings = users, store, lockout, settings

    async def _audit(self, request: web.Request, action: str, *, actor: str, role: str, resource: str,
                     allowed: bool, **detail: object) -> None:
        await request.app[AUDIT].record(actor=actor[:64], role=role, action=action, resource=resource,
                                        allowed=allowed, remote=request.remote, detail=detail)

    async def log_in(self, request: web.Request, username: str, password: str) -> web.Response:
        """POST /api/session: 200 with the session body and cookie; 401 `login_failed` for an unknown name and a
        wrong password alike; 423 while the name is locked; 403 `account_disabled` after a correct password."""
        remote, name = request.remote or "?", normal(username)[:64]
        if wait := request.app[THROTTLE].blocked_for(remote):
            return throttled(wait)
        if request.headers.get("Origin") and not trusted_origin(request, self.settings):
            await self._audit(request, "accounts.origin_refused", actor=name, role="none", resource="session",
                              allowed=False, origin=request.headers["Origin"][:200])
            return error(403, "origin_refused", "sign in from the hotline's own pages")
        if wait := await self.lockout.locked_for(name):
            await self._audit(request, "accounts.login_locked", actor=name, role="none", resource="session",
                              allowed=False, retry_after_s=math.ceil(wait))
            return _locked(wait)
        user = await self.users.sign_in(name, password)
        if user is None:
            locks = await self.lockout.failed(name)
            await self._audit(request, "accounts.login_failed", actor=name, role="none", resource="session",
                              allowed=False)
            if locks:
                await self._audit(request, "accounts.locked", actor=name, role="none", resource="session",
                                  allowed=False, failures=self.lockout.after, lock_s=self.lockout.lock_s)
            return await failed(request, error(401, "login_failed", "用户名或密码错误"))
        resource = f"users/{user.id}"
        if user.disabled:
            await self._audit(request, "accounts.login_disabled", actor=name, role=user.role, resource=resource,
                              allowed=False)
            return error(403, "account_disabled", "该账号已停用，请联系管理员")
        await self.lockout.succeeded(name)
        if earlier := request.cookies.get(SESSION_COOKIE):
            await self.store.forget(earlier)  # someone else's (or one's own) session on this browser ends
        opened = await self.store.open(user.id, user.generation)
        await self._audit(request, "accounts.login", actor=name, role=user.role, resource=resource, allowed=True,
                          session=opened.session.key[:12])
        response = web.json_response(session_body(user, opened.session))
        response.set_cookie(SESSION_COOKIE, opened.id, path="/", httponly=True, samesite="Strict",
                            secure=over_https(request), max_age=math.ceil(self.store.lifetime_s))
        return response

    def signed_out(self, request: web.Request) -> web.Response:
        """204 with the cookie cleared."""
        return self._clear(request, web.Response(status=204))

    @staticmethod
    def _clear(request: web.Request, response: web.Response) -> web.Response:
        response.del_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Strict", secure=over_https(request))
        return response

    async def end_sessions(self, request: web.Request, user_id: int, *, but: str | None = None) -> None:
        """End every session of a user (but one) and close their sockets here; other processes close theirs
        on their next sweep."""
        keys = await self.store.end_all(user_id, but=but)
        await request.app[SOCKETS].close([f"session:{k}" for k in keys])

    async def principal(self, request: web.Request, session_id: str) -> Principal | web.Response:
        session = await self.store.find(session_id)
        user = await self.users.get(session.user_id) if session is not None else None
        if session is None or user is None or user.disabled or user.generation != session.generation:
            if session is not None:
                await self.store.end(session.key, session.user_id)
            return self._clear(request, error(401, "session_expired", "登录已失效，请重新登录"))
        who = Principal(0, user.username, user.role, user.agent_id, user.team, session=session.key, user_id=user.id)
        resource = request.path.removeprefix("/api/")[:200]
        if request.method in UNSAFE and not hmac.compare_digest(
                request.headers.get(CSRF_HEADER, "").encode(), session.csrf.encode()):
            await self._audit(request, "accounts.csrf_failed", actor=who.name, role=who.role, resource=resource,
                              allowed=False, method=request.method)
            return error(403, "csrf_failed", f"send the session's CSRF token in {CSRF_HEADER}")
        if request.headers.get("Upgrade", "").lower() == "websocket" and not trusted_origin(request, self.settings):
            await self._audit(request, "accounts.origin_refused", actor=who.name, role=who.role, resource=resource,
                              allowed=False, origin=request.headers.get("Origin", "")[:200])
            return error(403, "origin_refused", "a websocket opens only from the hotline's own pages")
        canonical = request.match_info.route.resource.canonical if request.match_info.route.resource else ""
        if user.must_change_password and (request.method, canonical) not in GATE_OPEN:
            await self._audit(request, "accounts.password_change_required", actor=who.name, role=who.role,
                              resource=resource, allowed=False)
            return error(403, "password_change_required", "请先修改密码")
        request[CURRENT] = session
        return who

    async def live(self, keys: Collection[str]) -> set[str]:
        """Which of these session keys still sign someone in: the session holds and its user is enabled and of
        the session's generation (a user disabled or signed out everywhere from another process is caught)."""
        held = await self.store.peek(keys)
        generations = await self.users.generations({user for user, _ in held.values()})
        return {k for k, (user, generation) in held.items() if generations.get(user) == generation}


def _locked(seconds: float) -> web.Response:
    response = error(423, "account_locked", f"密码错误次数过多，账号已锁定，请 {math.ceil(seconds / 60)} 分钟后再试")
    response.headers["Retry-After"] = str(math.ceil(seconds))
    return response
