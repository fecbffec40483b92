"""Users, passwords (argon2), log-in with lockout, sessions, and who is acting."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mapapp.accounts.models import ROLES, StaffSession, User
from mapapp.core.errors import Conflict, DomainError, InvalidInput
from mapapp.offices import service as offices

HASHER = PasswordHasher()
MAX_FAILURES, LOCKOUT = 5, timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    status = 401


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class AccountLocked(DomainError):
    code = "account_locked"
    status = 429


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


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    session: Session, *, email: str, name: str, role: str, password: str, office_slug: str | None = None
) -> User:
    """A staff account; office managers and staff belong to an office."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of: {', '.join(ROLES)}", field="role")
    if len(password) < 12:
        raise InvalidInput("a password needs at least 12 characters", field="password")
    if role in ("manager", "staff") and not office_slug:
        raise InvalidInput("office managers and staff need an office", field="office")
    email = email.strip().lower()
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"there is already an account for {email}")
    office_id = offices.get_office_or_raise(session, slug=office_slug).id if office_slug else None
    user = User(
        email=email,
        name=name,
        role=role,
        office_id=office_id,
        password_hash=HASHER.hash(password),
        active=True,
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    return user


def log_in(session: Session, *, email: str, password: str) -> tuple[str, str, Actor] | None:
    """Check the password: a session token, CSRF token and actor, or None for a wrong password.

    Wrong passwords are counted (the caller commits the count); after five the account waits 15 minutes.
    """
    user = session.scalar(select(User).where(User.email == email.strip().lower()).with_for_update())
    now = datetime.now(UTC)
    if user is None or not user.active:
        HASHER.hash(password)  # same cost whether or not the account exists
        return None
    if user.locked_until and user.locked_until > now:
        raise AccountLocked(
            "too many failed log-ins; try again later", retry_after=int((user.locked_until - now).seconds)
        )
    try:
        HASHER.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until, user.failed_logins = now + LOCKOUT, 0
        return None
    user.failed_logins, user.locked_until = 0, None
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    session.add(
        StaffSession(token_hash=_digest(token), user_id=user.id, csrf_token=csrf, expires_at=now + SESSION_LIFETIME)
    )
    session.flush()
    return token, csrf, Actor(user.id, user.email, user.role, user.office_id)


def actor_for_token(session: Session, token: str | None) -> tuple[Actor, str]:
    """The actor of a session token (and the session's CSRF token), or NotAuthenticated."""
    if not token:
        raise NotAuthenticated("log in first")
    row = session.execute(
        select(User, StaffSession.csrf_token)
        .join(StaffSession, StaffSession.user_id == User.id)
        .where(
            StaffSession.token_hash == _digest(token),
            StaffSession.expires_at > datetime.now(UTC),
            User.active.is_(True),
        )
    ).first()
    if row is None:
        raise NotAuthenticated("the session has ended; log in again")
    user, csrf = row
    return Actor(user.id, user.email, user.role, user.office_id), csrf


def log_out(session: Session, *, token: str) -> None:
    """End a session."""
    session.execute(delete(StaffSession).where(StaffSession.token_hash == _digest(token)))
