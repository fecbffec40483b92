"""Users, passwords (argon2), log-in with throttling (never a lock-out), sessions, and who is acting."""

import hashlib
import hmac
import random
import secrets
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from mapapp.accounts.models import ROLES, LoginThrottle, PasswordReset, StaffSession, User
from mapapp.core.actors import Actor, Forbidden, NotAuthenticated
from mapapp.core.errors import Conflict, InvalidInput, NotFound
from mapapp.core.settings import get_settings
from mapapp.core.text import is_email
from mapapp.notify import service as outbox
from mapapp.ratelimit import RateLimited

HASHER = PasswordHasher()
SESSION_LIFETIME = timedelta(hours=12)
RESET_LIFETIME = timedelta(hours=24)
PASSWORD_MIN = 12


class InvalidEmail(InvalidInput):
    code = "invalid_email"


class InvalidResetToken(Forbidden):
    code = "invalid_reset_token"


def _check_email(email: str) -> str:
    email = email.strip().lower()
    if not is_email(email):
        raise InvalidEmail(f"{email!r} is not an e-mail address (like name@example.com)", field="email")
    return email


def _check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise InvalidInput(f"a password needs at least {PASSWORD_MIN} characters", field="password")


def _check_role(role: str, office_id: int | None) -> None:
    if role not in ROLES:
        raise InvalidInput(f"role must be one of: {', '.join(ROLES)}", field="role")
    if role in ("manager", "staff") and office_id is None:
        raise InvalidInput("office managers and staff need an office", field="office")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    session: Session, *, email: str, name: str, role: str, password: str, office_id: int | None = None
) -> User:
    """A staff account; office managers and staff belong to an office (the caller resolves its slug)."""
    email = _check_email(email)
    _check_role(role, office_id)
    _check_password(password)
    if not name.strip():
        raise InvalidInput("a name is needed", field="name")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"there is already an account for {email}")
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        office_id=office_id,
        password_hash=HASHER.hash(password),
        active=True,
    )
    session.add(user)
    session.flush()
    return user


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to check passwords against when there is no account: the same work, the same time."""
    return HASHER.hash(secrets.token_urlsafe(32))


def _throttle_key(kind: str, subject: str) -> str:
    digest = hmac.new(get_settings().secret_key.encode(), subject.encode(), hashlib.sha256).hexdigest()
    return f"{kind}:{digest[:48]}"


# Takes (and creates) the throttle row and its lock: concurrent attempts on one key wait for each other,
# so a burst of parallel guesses is counted one by one and cannot slip past the delay.
_THROTTLE_TAKE = text(
    """
    INSERT INTO login_throttles AS t (key) VALUES (:key)
    ON CONFLICT (key) DO UPDATE SET key = t.key
    RETURNING CASE WHEN t.blocked_until > clock_timestamp()
                   THEN ceil(extract(epoch FROM t.blocked_until - clock_timestamp())) END AS wait
    """
)
# A failure: counted (from 1 again when the last one is older than the window); from the free failures
# on, the key waits 1 s, 2 s, 4 s ... up to the cap before its next attempt is even checked.
_THROTTLE_FAIL = text(
    """
    UPDATE login_throttles t
    SET failures = n.f, last_failure_at = clock_timestamp(),
        blocked_until = CASE WHEN n.f >= :free THEN clock_timestamp()
                             + make_interval(secs => least(:cap, power(2, least(n.f - :free, 30)))) END
    FROM (SELECT key, CASE WHEN last_failure_at IS NULL OR last_failure_at < now() - make_interval(secs => :window)
                           THEN 1 ELSE failures + 1 END AS f
          FROM login_throttles WHERE key = :key) n
    WHERE t.key = n.key
    """
)
_THROTTLE_CLEANUP = text(
    """
    DELETE FROM login_throttles WHERE key IN (
        SELECT key FROM login_throttles
        WHERE (last_failure_at IS NULL OR last_failure_at < now() - make_interval(secs => :window))
          AND (blocked_until IS NULL OR blocked_until < now())
        LIMIT 500 FOR UPDATE SKIP LOCKED)
    """
)


def log_in(session: Session, *, email: str, password: str, client: str) -> tuple[str, str, Actor] | None:
    """Check the password: a session token, CSRF token and actor, or None for a wrong password.

    Failures are counted per (typed e-mail, client address) and per client address (the caller commits
    them); past the free failures each key waits a doubling delay. Nobody is locked out from elsewhere,
    and an e-mail without an account gets the same answers, after the same work, as one with an account.
    """
    settings = get_settings()
    typed = email.strip().lower()
    keys = (  # the address first, then the pair: always in this order, so two attempts never deadlock
        (_throttle_key("addr", client), settings.login_free_failures_per_address),
        (_throttle_key("acct", f"{typed}\x00{client}"), settings.login_free_failures),
    )
    for key, _ in keys:
        wait = session.execute(_THROTTLE_TAKE, {"key": key}).scalar_one()
        if wait is not None:
            raise RateLimited(f"too many failed log-ins; try again in {int(wait)} s", retry_after=max(1, int(wait)))
    user = session.scalar(select(User).where(User.email == typed))
    known = user is not None and user.active
    try:
        HASHER.verify(user.password_hash if known and user else _dummy_hash(), password)
        ok = known
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if random.random() < 0.01:  # housekeeping spread over requests, not security
        session.execute(_THROTTLE_CLEANUP, {"window": settings.login_failure_window_seconds})
    if not ok or user is None:
        for key, free in keys:
            session.execute(
                _THROTTLE_FAIL,
                {
                    "key": key,
                    "free": free,
                    "cap": settings.login_max_delay_seconds,
                    "window": settings.login_failure_window_seconds,
                },
            )
        return None
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == keys[1][0]))
    now = datetime.now(UTC)
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


def office_slug(session: Session, actor: Actor) -> str | None:
    """The slug of the actor's office, if they belong to one."""
    if actor.office_id is None:
        return None
    # Read through the users → offices foreign key: accounts sits below offices and does not import it.
    return session.scalar(text("SELECT slug FROM offices WHERE id = :id"), {"id": actor.office_id})


def log_out(session: Session, *, token: str) -> None:
    """End a session."""
    session.execute(delete(StaffSession).where(StaffSession.token_hash == _digest(token)))


# --- managing accounts (the admin desk and the CLI) -------------------------------------------------


def get_user_or_raise(session: Session, *, user_id: int) -> User:
    """The account with this id, or NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"there is no user {user_id}", user=user_id)
    return user


def update_user(
    session: Session,
    *,
    user_id: int,
    name: str | None = None,
    role: str | None = None,
    office_id: int | None = None,
    clear_office: bool = False,
    active: bool | None = None,
) -> User:
    """Change an account's name, role, office or whether it may log in; disabling ends its sessions."""
    user = get_user_or_raise(session, user_id=user_id)
    new_role = role if role is not None else user.role
    new_office = None if clear_office or new_role in ("admin", "triage") else (office_id or user.office_id)
    _check_role(new_role, new_office)
    if name is not None:
        if not name.strip():
            raise InvalidInput("a name is needed", field="name")
        user.name = name.strip()
    user.role, user.office_id = new_role, new_office
    if active is not None:
        user.active = active
    if user.active is False or role is not None or office_id is not None or clear_office:
        # What the account may do changed: its open sessions (which carry the old role) end now.
        session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
    session.flush()
    return user


def send_password_reset(session: Session, *, user_id: int) -> None:
    """E-mail a one-time link to choose a new password (valid a day; a new link replaces the last)."""
    user = get_user_or_raise(session, user_id=user_id)
    if not user.active:
        raise Conflict("the account is disabled; enable it before resetting its password")
    token = secrets.token_urlsafe(32)
    session.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id))
    session.add(
        PasswordReset(token_hash=_digest(token), user_id=user.id, expires_at=datetime.now(UTC) + RESET_LIFETIME)
    )
    link = f"{get_settings().public_base_url.rstrip('/')}/reset-password#token={token}"
    outbox.enqueue_email(
        session,
        to=user.email,
        subject="비밀번호 재설정 / Password reset",
        body=(
            f"{user.name}님, 아래 링크에서 새 비밀번호를 정하세요 (24시간 동안 한 번 쓸 수 있습니다).\n{link}\n\n"
            f"{user.name}, choose a new password at this link (it works once, for 24 hours):\n{link}\n\n"
            "요청하지 않았다면 이 메일을 무시하세요. / If you did not expect this, ignore this e-mail.\n"
        ),
    )
    session.flush()


def reset_password(session: Session, *, token: str, password: str) -> User:
    """Set a new password with a reset link's secret; the link is used up and every session ends."""
    reset = session.scalar(
        select(PasswordReset).where(
            PasswordReset.token_hash == _digest(token or ""), PasswordReset.expires_at > datetime.now(UTC)
        )
    )
    user = session.get(User, reset.user_id) if reset is not None else None
    if reset is None or user is None or not user.active:
        raise InvalidResetToken("the reset link is not valid or has expired; ask an administrator for a new one")
    _check_password(password)
    user.password_hash = HASHER.hash(password)
    session.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id))
    session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
    session.flush()
    return user
