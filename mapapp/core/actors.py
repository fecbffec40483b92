"""Who is acting, and the two answers to "you may not": every feature checks an Actor it is given.

In core so that layers, offices, admin and reports can check an actor without importing accounts
(which would tie every feature to log-in and sessions, and close an import cycle through offices).
"""

from dataclasses import dataclass

from mapapp.core.errors import DomainError


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    status = 401


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


@dataclass(frozen=True)
class Actor:
    """Who is acting: every staff service function is given one and checks it."""

    user_id: int
    email: str
    role: str
    office_id: int | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"
