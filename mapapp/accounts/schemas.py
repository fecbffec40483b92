"""What the log-in endpoints answer, as /docs shows it."""

from typing import Literal

from pydantic import BaseModel

Role = Literal["admin", "triage", "manager", "staff"]


class UserRef(BaseModel):
    email: str
    role: Role


class LoggedIn(BaseModel):
    token: str  # for the API, as `Authorization: Bearer <token>`
    csrf_token: str  # for the pages: sent back as X-CSRF-Token with the session cookie
    user: UserRef


class Me(BaseModel):
    email: str
    role: Role
    office: str | None
    csrf_token: str | None = None  # the session's, for every tab: sent back as X-CSRF-Token with the cookie


class LoggedOut(BaseModel):
    status: Literal["logged out"]


class PasswordChanged(BaseModel):
    status: Literal["password changed"]
